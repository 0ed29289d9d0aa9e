// Cuts ffmpeg's Matroska into what the WebCodecs recorder sends (client/recorder/matroska-writer.ts
// and webcodecs.ts): unknown-size Segment and Clusters, no SeekHead, Cues or Tags, each Cluster
// opening on a video keyframe (one every 2 s), and one chunk per timeslice cut between
// SimpleBlocks wherever the timeslice ends, so a Cluster spans ten 200-ms chunks. ffmpeg is asked
// for Clusters on keyframes only (bench/fixtures.ts); this rewrites and cuts them.
import {
  type ChunkedRecording,
  children,
  DROPPED,
  type Element,
  ID,
  readElement,
  readUint,
  readVint,
  type RecordedChunk,
  UNKNOWN_SIZE,
  type VideoFrame,
  videoTrackNumber,
} from './matroska.js';

/** The Block inside a SimpleBlock or BlockGroup element, and whether it is flagged a keyframe. */
function blockOf(mkv: Buffer, element: Element): { block: Element; keyframe: boolean } | undefined {
  if (element.id === ID.simpleBlock) {
    const track = readVint(mkv, element.dataStart, false);
    return { block: element, keyframe: (mkv[element.dataStart + track.length + 2]! & 0x80) !== 0 };
  }
  if (element.id !== ID.blockGroup) return undefined;
  for (const inner of children(mkv, element)) if (inner.id === ID.block) return { block: inner, keyframe: true };
  return undefined;
}

/**
 * Rewrites `mkv` (ffmpeg's output, a Cluster at every keyframe) in the WebCodecs recorder's live
 * layout and cuts it every `timesliceMs` of media, before the first video block at or past each
 * boundary (audio the encoder handed out a little ahead stays with the chunk before, as it would
 * in the browser). The first chunk carries the EBML header, Info and Tracks.
 */
export function chunkWebCodecsMatroska(mkv: Buffer, timesliceMs: number): ChunkedRecording {
  const header = readElement(mkv, 0, mkv.length);
  if (header.id !== ID.ebml) throw new Error('not Matroska: no EBML header');
  const segment = readElement(mkv, header.end, mkv.length);
  if (segment.id !== ID.segment) throw new Error('no Segment after the EBML header');

  const cuts: { data: Buffer; startMs: number; endMs: number; frames: VideoFrame[] }[] = [];
  let pending: Buffer[] = [mkv.subarray(0, segment.sizeStart), UNKNOWN_SIZE];
  let frames: VideoFrame[] = [];
  let startMs: number | undefined;
  /** Media time the open chunk's timeslice ends at. */
  let boundary: number | undefined;
  let clusters = 0;
  let videoTrack: number | undefined;
  const cut = (endMs: number) => {
    cuts.push({ data: Buffer.concat(pending), startMs: startMs!, endMs, frames });
    pending = [];
    frames = [];
    startMs = endMs;
  };

  for (const element of children(mkv, segment)) {
    if (element.id === ID.cluster) {
      if (videoTrack === undefined) throw new Error('a Cluster comes before the Tracks');
      // The Cluster's ID, unknown size and Timecode go out with its first block.
      let head: Buffer[] | undefined = [mkv.subarray(element.start, element.sizeStart), UNKNOWN_SIZE];
      let timestamp = 0;
      for (const inner of children(mkv, element)) {
        const found = blockOf(mkv, inner);
        if (!found) {
          if (inner.id === ID.clusterTimestamp) timestamp = readUint(mkv, inner);
          (head ?? pending).push(mkv.subarray(inner.start, inner.end));
          continue;
        }
        const track = readVint(mkv, found.block.dataStart, false);
        const ms = timestamp + mkv.readInt16BE(found.block.dataStart + track.length);
        startMs ??= timestamp;
        boundary ??= timestamp + timesliceMs;
        if (track.value === videoTrack) {
          if (ms >= boundary) {
            while (ms >= boundary + timesliceMs) boundary += timesliceMs;
            cut(boundary);
            boundary += timesliceMs;
          }
          frames.push({ ptsMs: ms, keyframe: found.keyframe });
        }
        if (head) pending.push(...head);
        head = undefined;
        pending.push(mkv.subarray(inner.start, inner.end));
      }
      if (head) pending.push(...head);
      clusters++;
      continue;
    }
    if (DROPPED.has(element.id)) continue;
    if (element.id === ID.tracks) videoTrack = videoTrackNumber(mkv, element);
    // Only headers come before the first Cluster; anything after the last one is dropped.
    if (clusters === 0) pending.push(mkv.subarray(element.start, element.end));
  }
  if (clusters === 0 || startMs === undefined) throw new Error('the recording has no Cluster');

  const allFrames = [...cuts.flatMap((c) => c.frames), ...frames].sort((a, b) => a.ptsMs - b.ptsMs);
  const frameMs = allFrames.length > 1 ? (allFrames.at(-1)!.ptsMs - allFrames[0]!.ptsMs) / (allFrames.length - 1) : 0;
  if (pending.length > 0) cut(Math.round(allFrames.at(-1)!.ptsMs + frameMs));
  const chunks = cuts.map((c): RecordedChunk => ({ data: c.data, startMs: c.startMs, endMs: c.endMs, videoFrames: c.frames.length }));
  return { chunks, videoFrames: allFrames };
}
