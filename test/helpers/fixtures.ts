// Media a browser's MediaRecorder would send, made at test time with ffmpeg so
// the repository carries no binary fixtures. Cached on disk, shared by the test files (each its
// own process): the same few fixtures were made again by each of ~30 files.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { access, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The kinds of input a test can feed the server. */
export type FixtureKind = 'h264-opus' | 'vp8-opus' | 'h264-noaudio' | 'garbage';

/** Shape of a generated fixture; every field has a default. */
export interface FixtureOptions {
  seconds?: number;
  width?: number;
  height?: number;
  fps?: number;
  /** Opus channels: 2 (default) or 1, as Chromium and Firefox record a microphone by default. */
  audioChannels?: 1 | 2;
}

/** Bump when the fixtures change other than through ffmpeg's arguments (liveStyle, say). */
const FORMAT = 1;
const cache = new Map<string, Promise<string>>();

/** The shared cache folder, made once per process. */
const dir = (() => {
  let made: string | undefined;
  return (): string => {
    if (made) return made;
    made = join(tmpdir(), 'rtmp-broadcaster-fixtures');
    mkdirSync(made, { recursive: true });
    return made;
  };
})();

// Deterministic so a failure with garbage input reproduces byte for byte.
function garbage(bytes: number, seed = 0x5eed): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let s = seed >>> 0;
  for (let i = 0; i < bytes; i++) {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

function ffmpegArgs(kind: Exclude<FixtureKind, 'garbage'>, o: Required<FixtureOptions>, out: string): string[] {
  const gop = String(Math.round(o.fps * 2)); // MediaRecorder-like keyframe every 2 s
  const video = ['-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`];
  const audio = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
  const opus = ['-c:a', 'libopus', '-ac', String(o.audioChannels), '-ar', '48000', '-b:a', '96k'];
  // Constrained baseline is what Chromium's OpenH264 path produces.
  const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p'];
  const vp8 = ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-pix_fmt', 'yuv420p'];
  const common = ['-g', gop, '-keyint_min', gop, '-b:v', '2500k', '-t', String(o.seconds)];
  // Time-bounded clusters as a browser makes, not ffmpeg's live default of one per 32 KiB.
  const live = ['-live', '1', '-cluster_time_limit', '1000', '-cluster_size_limit', String(64 << 20), '-y', out];
  switch (kind) {
    case 'h264-opus':
      return [...video, ...audio, ...h264, ...common, ...opus, '-f', 'matroska', ...live];
    case 'vp8-opus':
      return [...video, ...audio, ...vp8, ...common, ...opus, '-f', 'webm', ...live];
    case 'h264-noaudio':
      return [...video, ...h264, ...common, '-f', 'matroska', ...live];
  }
}

const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
// Elements a live MediaRecorder stream never carries: they need a seekable
// output (ffmpeg still writes them for a file).
const DROPPED = new Set([0x114d9b74 /* SeekHead */, 0xec /* Void */, 0x1c53bb6b /* Cues */, 0x1254c367 /* Tags */]);
const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

interface Element {
  id: number;
  start: number;
  idEnd: number;
  dataStart: number;
  /** -1 for unknown size */
  size: number;
}

function vintLength(first: number, max: number, at: number): number {
  for (let len = 1; len <= max; len++) if (first & (0x80 >> (len - 1))) return len;
  throw new Error(`invalid EBML vint at ${at}`);
}

function readElement(buf: Buffer, start: number): Element {
  const idLen = vintLength(buf[start]!, 4, start);
  const id = buf.readUIntBE(start, idLen);
  const sizeAt = start + idLen;
  const sizeLen = vintLength(buf[sizeAt]!, 8, sizeAt);
  let size = buf[sizeAt]! & (0xff >> sizeLen);
  let allOnes = size === 0xff >> sizeLen;
  for (let i = 1; i < sizeLen; i++) {
    const b = buf[sizeAt + i]!;
    size = size * 256 + b;
    allOnes &&= b === 0xff;
  }
  return { id, start, idEnd: sizeAt, dataStart: sizeAt + sizeLen, size: allOnes ? -1 : size };
}

// Rewrites ffmpeg's Matroska into the layout Chromium's MediaRecorder (libwebm
// in live mode) emits: unknown-size Segment and Clusters, no SeekHead, Cues or
// Tags. Demuxers must then find cluster ends by the next Cluster ID, as they
// must with a real browser stream.
function liveStyle(mkv: Buffer): Buffer {
  const head = readElement(mkv, 0);
  if (head.id !== EBML_HEADER) throw new Error('ffmpeg output does not start with an EBML header');
  const seg = readElement(mkv, head.dataStart + head.size);
  if (seg.id !== SEGMENT) throw new Error('no Segment after the EBML header');
  const out: Buffer[] = [mkv.subarray(0, seg.start), mkv.subarray(seg.start, seg.idEnd), UNKNOWN_SIZE];
  const end = seg.size === -1 ? mkv.length : seg.dataStart + seg.size;
  for (let pos = seg.dataStart; pos < end; ) {
    const el = readElement(mkv, pos);
    if (el.size === -1) throw new Error(`unexpected unknown-size element 0x${el.id.toString(16)} at ${pos}`);
    const elEnd = el.dataStart + el.size;
    if (el.id === CLUSTER) out.push(mkv.subarray(el.start, el.idEnd), UNKNOWN_SIZE, mkv.subarray(el.dataStart, elEnd));
    else if (!DROPPED.has(el.id)) out.push(mkv.subarray(el.start, elEnd));
    pos = elEnd;
  }
  return Buffer.concat(out);
}

/**
 * The fixture's file in the shared cache, made if no test file made it before. Named by a hash of
 * everything that makes it (ffmpeg's arguments, FORMAT), so a change makes a new one; written under
 * a name of this process's own and renamed into place, so a reader never sees half a file.
 */
async function generate(kind: Exclude<FixtureKind, 'garbage'>, o: Required<FixtureOptions>): Promise<string> {
  const name = `${kind}-${o.seconds}s-${o.width}x${o.height}-${o.fps}fps-${o.audioChannels}ch`;
  const hash = createHash('sha256')
    .update(JSON.stringify([FORMAT, ffmpegArgs(kind, o, 'out')]))
    .digest('hex')
    .slice(0, 12);
  const file = join(dir(), `${name}-${hash}.mkv`);
  if (
    await access(file).then(
      () => true,
      () => false,
    )
  )
    return file;
  const raw = join(dir(), `${name}-${hash}.${process.pid}.ffmpeg.mkv`);
  try {
    await run('ffmpeg', ['-hide_banner', '-v', 'error', ...ffmpegArgs(kind, o, raw)]);
    await writeFile(`${file}.${process.pid}.part`, liveStyle(await readFile(raw)));
    await rename(`${file}.${process.pid}.part`, file);
  } finally {
    await rm(raw, { force: true });
    await rm(`${file}.${process.pid}.part`, { force: true });
  }
  return file;
}

/** Returns a fresh Buffer of `kind` media (generated once per option set, see generate()). 'garbage' is ~100 KB of seeded random bytes. */
export async function makeFixture(kind: FixtureKind, opts: FixtureOptions = {}): Promise<Buffer> {
  if (kind === 'garbage') return garbage(100 * 1024);
  const o: Required<FixtureOptions> = {
    seconds: opts.seconds ?? 5,
    width: opts.width ?? 1280,
    height: opts.height ?? 720,
    fps: opts.fps ?? 30,
    audioChannels: opts.audioChannels ?? 2,
  };
  const key = JSON.stringify([kind, o]);
  let file = cache.get(key);
  if (!file) {
    file = generate(kind, o);
    cache.set(key, file);
    // A failed generation must not poison later calls.
    file.catch(() => cache.delete(key));
  }
  return readFile(await file);
}

/** Splits a buffer into chunks of about `bytes` each (as a MediaRecorder timeslice would), without copying (subarray). */
export function splitChunks(buf: Buffer, bytes: number): Buffer[] {
  if (!(bytes >= 1)) throw new RangeError(`chunk size must be >= 1, got ${bytes}`);
  const size = Math.floor(bytes);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  return chunks;
}
