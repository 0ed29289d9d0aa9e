// Cuts ffmpeg's fragmented MP4 into what a MediaRecorder that records MP4 sends (Chrome on Windows
// and macOS, Safari): the first chunk carries ftyp + moov and the first fragment, every other chunk
// one moof + mdat. Reads each fragment's video samples (tfdt, trun) so output packets can be traced
// back to the chunk that carried them, as bench/matroska.ts does for Matroska.
import type { ChunkedRecording, RecordedChunk, VideoFrame } from './matroska.js';

interface Box {
  type: string;
  start: number;
  dataStart: number;
  end: number;
}

function* boxes(data: Buffer, start: number, end: number): Generator<Box> {
  let at = start;
  while (at + 8 <= end) {
    let size = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    let dataStart = at + 8;
    if (size === 1) {
      size = Number(data.readBigUInt64BE(at + 8));
      dataStart = at + 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < dataStart - at || at + size > end) throw new Error(`MP4 box ${type} at ${at} overruns its parent`);
    yield { type, start: at, dataStart, end: at + size };
    at += size;
  }
}

const child = (data: Buffer, parent: Box, type: string) => [...boxes(data, parent.dataStart, parent.end)].find((box) => box.type === type);

/** Track ids of the video tracks in moov (handler 'vide') and every track's timescale. */
function readTracks(data: Buffer, moov: Box): { video: Set<number>; timescale: Map<number, number> } {
  const video = new Set<number>();
  const timescale = new Map<number, number>();
  for (const trak of boxes(data, moov.dataStart, moov.end)) {
    if (trak.type !== 'trak') continue;
    const tkhd = child(data, trak, 'tkhd');
    const mdia = child(data, trak, 'mdia');
    const mdhd = mdia && child(data, mdia, 'mdhd');
    const hdlr = mdia && child(data, mdia, 'hdlr');
    if (!tkhd || !mdhd || !hdlr) throw new Error('a trak without tkhd, mdhd or hdlr');
    const id = data.readUInt32BE(tkhd.dataStart + (data[tkhd.dataStart] === 1 ? 20 : 12));
    timescale.set(id, data.readUInt32BE(mdhd.dataStart + (data[mdhd.dataStart] === 1 ? 20 : 12)));
    if (data.toString('latin1', hdlr.dataStart + 8, hdlr.dataStart + 12) === 'vide') video.add(id);
  }
  return { video, timescale };
}

const SAMPLE_IS_NON_SYNC = 0x10000;

/** The video frames of one moof: decode times from tfdt plus durations, keyframes from sample flags. */
function fragmentFrames(data: Buffer, moof: Box, tracks: ReturnType<typeof readTracks>): VideoFrame[] {
  const frames: VideoFrame[] = [];
  for (const traf of boxes(data, moof.dataStart, moof.end)) {
    if (traf.type !== 'traf') continue;
    const tfhd = child(data, traf, 'tfhd');
    const tfdt = child(data, traf, 'tfdt');
    if (!tfhd || !tfdt) throw new Error('a traf without tfhd or tfdt');
    const id = data.readUInt32BE(tfhd.dataStart + 4);
    if (!tracks.video.has(id)) continue;
    const scale = tracks.timescale.get(id)!;
    const tfhdFlags = data.readUIntBE(tfhd.dataStart + 1, 3);
    let at = tfhd.dataStart + 8;
    if (tfhdFlags & 0x1) at += 8;
    if (tfhdFlags & 0x2) at += 4;
    const defaultDuration = tfhdFlags & 0x8 ? data.readUInt32BE(at) : 0;
    if (tfhdFlags & 0x8) at += 4;
    if (tfhdFlags & 0x10) at += 4;
    const defaultFlags = tfhdFlags & 0x20 ? data.readUInt32BE(at) : 0;
    let time = data[tfdt.dataStart] === 1 ? Number(data.readBigUInt64BE(tfdt.dataStart + 4)) : data.readUInt32BE(tfdt.dataStart + 4);
    for (const trun of boxes(data, traf.dataStart, traf.end)) {
      if (trun.type !== 'trun') continue;
      const flags = data.readUIntBE(trun.dataStart + 1, 3);
      const count = data.readUInt32BE(trun.dataStart + 4);
      let field = trun.dataStart + 8 + (flags & 0x1 ? 4 : 0);
      const firstFlags = flags & 0x4 ? data.readUInt32BE(field) : undefined;
      if (flags & 0x4) field += 4;
      for (let i = 0; i < count; i++) {
        const duration = flags & 0x100 ? data.readUInt32BE(field) : defaultDuration;
        if (flags & 0x100) field += 4;
        if (flags & 0x200) field += 4;
        const sampleFlags = flags & 0x400 ? data.readUInt32BE(field) : i === 0 && firstFlags !== undefined ? firstFlags : defaultFlags;
        if (flags & 0x400) field += 4;
        const offset = flags & 0x800 ? data.readInt32BE(field) : 0;
        if (flags & 0x800) field += 4;
        frames.push({ ptsMs: Math.round(((time + offset) * 1000) / scale), keyframe: (sampleFlags & SAMPLE_IS_NON_SYNC) === 0 });
        time += duration;
      }
    }
  }
  return frames;
}

/** Cuts fragmented MP4 (ftyp, moov, then moof + mdat pairs) into one chunk per fragment. */
export function chunkFragmentedMp4(mp4: Buffer): ChunkedRecording {
  const top = [...boxes(mp4, 0, mp4.length)];
  const moov = top.find((box) => box.type === 'moov');
  if (!moov) throw new Error('not fragmented MP4: no moov');
  const tracks = readTracks(mp4, moov);
  if (tracks.video.size === 0) throw new Error('the MP4 has no video track');

  const fragments: { data: Buffer; frames: VideoFrame[] }[] = [];
  let pending: Buffer[] = [];
  let frames: VideoFrame[] = [];
  for (const box of top) {
    // A live recorder writes no index: mfra (and sidx) exist only in files written for seeking.
    if (box.type === 'mfra' || box.type === 'sidx') continue;
    pending.push(mp4.subarray(box.start, box.end));
    if (box.type === 'moof') frames = fragmentFrames(mp4, box, tracks);
    if (box.type === 'mdat') {
      fragments.push({ data: Buffer.concat(pending), frames });
      pending = [];
      frames = [];
    }
  }
  if (fragments.length === 0) throw new Error('the MP4 has no fragment');

  const videoFrames = fragments.flatMap((fragment) => fragment.frames).sort((a, b) => a.ptsMs - b.ptsMs);
  const frameMs = videoFrames.length > 1 ? (videoFrames.at(-1)!.ptsMs - videoFrames[0]!.ptsMs) / (videoFrames.length - 1) : 0;
  const startOf = (fragment: { frames: VideoFrame[] }) => Math.min(...fragment.frames.map((frame) => frame.ptsMs));
  const chunks = fragments.map(
    (fragment, index): RecordedChunk => ({
      data: fragment.data,
      startMs: startOf(fragment),
      endMs: fragments[index + 1] ? startOf(fragments[index + 1]!) : Math.round(videoFrames.at(-1)!.ptsMs + frameMs),
      videoFrames: fragment.frames.length,
    }),
  );
  return { chunks, videoFrames };
}
