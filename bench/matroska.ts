// Turns ffmpeg's Matroska into what Chromium's MediaRecorder sends (unknown-size Segment and
// Clusters, no SeekHead, Cues or Tags) and cuts it into chunks, one Cluster each, remembering the
// media time every chunk covers so output packets can be traced back to the chunk that carried them.

export const ID = {
  ebml: 0x1a45dfa3,
  segment: 0x18538067,
  info: 0x1549a966,
  timestampScale: 0x2ad7b1,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackNumber: 0xd7,
  trackType: 0x83,
  cluster: 0x1f43b675,
  clusterTimestamp: 0xe7,
  simpleBlock: 0xa3,
  blockGroup: 0xa0,
  block: 0xa1,
} as const;
// Written by ffmpeg for a seekable file, never by a live MediaRecorder.
export const DROPPED = new Set([0x114d9b74 /* SeekHead */, 0xec /* Void */, 0x1c53bb6b /* Cues */, 0x1254c367 /* Tags */]);
export const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const TRACK_TYPE_VIDEO = 1;
const MILLISECOND_SCALE = 1_000_000;

/** One video frame of the recording. */
export interface VideoFrame {
  /** Presentation time in milliseconds. */
  ptsMs: number;
  keyframe: boolean;
}

/** One message a publisher sends: one timeslice of media. */
export interface RecordedChunk {
  data: Buffer;
  /** Media time the chunk starts at (its Cluster's timestamp), in milliseconds. */
  startMs: number;
  /** Media time the next chunk starts at, in milliseconds. */
  endMs: number;
  videoFrames: number;
}

/** A recording cut into chunks. */
export interface ChunkedRecording {
  chunks: RecordedChunk[];
  videoFrames: VideoFrame[];
}

export interface Element {
  id: number;
  /** Where the element's header starts. */
  start: number;
  /** Where its size field starts (the end of its ID). */
  sizeStart: number;
  dataStart: number;
  /** Payload end; the buffer's end for an unknown size. */
  end: number;
}

function vintLength(first: number, max: number, at: number): number {
  for (let length = 1; length <= max; length++) if (first & (0x80 >> (length - 1))) return length;
  throw new Error(`invalid EBML variable-size integer at byte ${at}`);
}

export function readVint(buf: Buffer, at: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } {
  const length = vintLength(buf[at]!, 8, at);
  let value = keepMarker ? buf[at]! : buf[at]! & (0xff >> length);
  let unknown = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + buf[at + i]!;
    unknown &&= buf[at + i] === 0xff;
  }
  return { value, length, unknown: unknown && !keepMarker };
}

export function readElement(buf: Buffer, start: number, parentEnd: number): Element {
  const id = readVint(buf, start, true);
  const size = readVint(buf, start + id.length, false);
  const dataStart = start + id.length + size.length;
  return { id: id.value, start, sizeStart: start + id.length, dataStart, end: size.unknown ? parentEnd : dataStart + size.value };
}

export function* children(buf: Buffer, parent: { dataStart: number; end: number }): Generator<Element> {
  for (let at = parent.dataStart; at < parent.end; ) {
    const element = readElement(buf, at, parent.end);
    yield element;
    at = element.end;
  }
}

export function readUint(buf: Buffer, element: Element): number {
  let value = 0;
  for (let i = element.dataStart; i < element.end; i++) value = value * 256 + buf[i]!;
  return value;
}

export function videoTrackNumber(buf: Buffer, tracks: Element): number {
  for (const entry of children(buf, tracks)) {
    if (entry.id !== ID.trackEntry) continue;
    let number: number | undefined;
    let type: number | undefined;
    for (const field of children(buf, entry)) {
      if (field.id === ID.trackNumber) number = readUint(buf, field);
      if (field.id === ID.trackType) type = readUint(buf, field);
    }
    if (type === TRACK_TYPE_VIDEO && number !== undefined) return number;
  }
  throw new Error('the recording has no video track');
}

/** Video frames of one Cluster; a Block's 16-bit timestamp is relative to its Cluster's. */
function clusterFrames(buf: Buffer, cluster: Element, videoTrack: number): { timestamp: number; frames: VideoFrame[] } {
  let timestamp = 0;
  const frames: VideoFrame[] = [];
  const addBlock = (block: Element, keyframeFlag: boolean | undefined) => {
    const track = readVint(buf, block.dataStart, false);
    if (track.value !== videoTrack) return;
    const relative = buf.readInt16BE(block.dataStart + track.length);
    const flags = buf[block.dataStart + track.length + 2]!;
    frames.push({ ptsMs: timestamp + relative, keyframe: keyframeFlag ?? (flags & 0x80) !== 0 });
  };
  for (const element of children(buf, cluster)) {
    if (element.id === ID.clusterTimestamp) timestamp = readUint(buf, element);
    else if (element.id === ID.simpleBlock) addBlock(element, undefined);
    else if (element.id === ID.blockGroup) {
      // A Block in a BlockGroup is a keyframe unless a ReferenceBlock says otherwise; video
      // from ffmpeg and browsers comes as SimpleBlocks, so treating it as one is enough here.
      for (const inner of children(buf, element)) if (inner.id === ID.block) addBlock(inner, true);
    }
  }
  return { timestamp, frames };
}

/**
 * Rewrites `mkv` (ffmpeg's output) in Chromium's live layout and cuts it into one chunk per
 * Cluster; the first chunk also carries the EBML header, Info and Tracks, as a browser's does.
 */
export function chunkLiveMatroska(mkv: Buffer): ChunkedRecording {
  const header = readElement(mkv, 0, mkv.length);
  if (header.id !== ID.ebml) throw new Error('not Matroska: no EBML header');
  const segment = readElement(mkv, header.end, mkv.length);
  if (segment.id !== ID.segment) throw new Error('no Segment after the EBML header');

  let pending: Buffer[] = [mkv.subarray(0, segment.sizeStart), UNKNOWN_SIZE];
  const clusters: { data: Buffer; timestamp: number; frames: VideoFrame[] }[] = [];
  let videoTrack: number | undefined;
  for (const element of children(mkv, segment)) {
    if (element.id === ID.cluster) {
      if (videoTrack === undefined) throw new Error('a Cluster comes before the Tracks');
      const { timestamp, frames } = clusterFrames(mkv, element, videoTrack);
      pending.push(mkv.subarray(element.start, element.sizeStart), UNKNOWN_SIZE, mkv.subarray(element.dataStart, element.end));
      clusters.push({ data: Buffer.concat(pending), timestamp, frames });
      pending = [];
      continue;
    }
    if (DROPPED.has(element.id)) continue;
    if (element.id === ID.tracks) videoTrack = videoTrackNumber(mkv, element);
    if (element.id === ID.info) {
      for (const field of children(mkv, element)) {
        if (field.id === ID.timestampScale && readUint(mkv, field) !== MILLISECOND_SCALE) {
          throw new Error('the recording does not count time in milliseconds');
        }
      }
    }
    // Only headers come before the first Cluster; anything after the last one is dropped.
    if (clusters.length === 0) pending.push(mkv.subarray(element.start, element.end));
  }
  if (clusters.length === 0) throw new Error('the recording has no Cluster');

  const videoFrames = clusters.flatMap((cluster) => cluster.frames).sort((a, b) => a.ptsMs - b.ptsMs);
  const frameMs = videoFrames.length > 1 ? (videoFrames.at(-1)!.ptsMs - videoFrames[0]!.ptsMs) / (videoFrames.length - 1) : 0;
  const chunks = clusters.map(
    (cluster, index): RecordedChunk => ({
      data: cluster.data,
      startMs: cluster.timestamp,
      endMs: clusters[index + 1]?.timestamp ?? Math.round(videoFrames.at(-1)!.ptsMs + frameMs),
      videoFrames: cluster.frames.length,
    }),
  );
  return { chunks, videoFrames };
}
