// The media the simulated publishers send, made with ffmpeg: what Chromium's MediaRecorder gives
// at 720p30 and 2.5 Mb/s. Encoded once per length and cached in the system temp dir (delete
// rtmp-broadcaster-bench/ there to regenerate); cut into timeslices at every run.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chunkLiveMatroska, type RecordedChunk, type VideoFrame } from './matroska.js';
import { chunkWebCodecsMatroska } from './matroska-webcodecs.js';
import { chunkFragmentedMp4 } from './mp4.js';

const run = promisify(execFile);

/**
 * What the browser records: H.264 + Opus in Matroska (Chromium: the video goes out untouched, the
 * audio becomes AAC), VP8 + Opus in WebM (Firefox: transcoded), H.264 + AAC in fragmented MP4
 * (Chrome on Windows and macOS, Safari: both copied). The Opus is mono, as Chromium records a
 * microphone opened with getUserMedia's defaults (echo cancellation on: `channelCount` 1, checked
 * in Chromium 156); `h264-stereo` is the same with stereo Opus (a stereo source with the audio
 * processing turned off), the costlier case for the AAC encoder. `webcodecs-aac` and
 * `webcodecs-opus` are what the WebCodecs recorder sends (client/recorder/matroska-writer.ts): the
 * same H.264 and mono audio, AAC-LC 128 kb/s 48 kHz (ffmpeg's own AAC encoder, which the WASM
 * encoder is) or the Opus of `h264`, in Matroska with a Cluster per keyframe and a chunk per timeslice.
 */
export type FixtureCodec = 'h264' | 'h264-stereo' | 'vp8' | 'h264-aac' | 'webcodecs-aac' | 'webcodecs-opus';

const AAC_CODECS: readonly FixtureCodec[] = ['h264-aac', 'webcodecs-aac'];

/** A recording cut the way a MediaRecorder with a timeslice delivers it. */
export interface Fixture {
  codec: FixtureCodec;
  /** What the publisher's start request says, as Chromium names it. */
  mimeType: string;
  timesliceMs: number;
  chunks: RecordedChunk[];
  videoFrames: VideoFrame[];
  /** Media span the chunks cover, in milliseconds. */
  durationMs: number;
  bytes: number;
  /** Whole-stream bitrate (video + audio + container), in bits per second. */
  bitsPerSecond: number;
}

export const CACHE_DIR = join(tmpdir(), 'rtmp-broadcaster-bench');
const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const KEYFRAME_SECONDS = 2;

// Not a sine: AAC's CPU cost and its errors depend on the signal. Two voices with vibrato and
// tremolo, a gated high tone and pink noise, different on each channel, like music under speech.
const AUDIO_GRAPH = [
  // The vibrato is phase modulation (±110 Hz around 440 Hz at 0.3 Hz): a frequency term
  // multiplied by t instead would sweep ever wider (past 20 kHz by 100 s) and turn the voice into
  // wideband chirps, a different and ever harder signal the longer the recording.
  "aevalsrc=exprs='0.3*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.5*t))+0.15*sin(2*PI*440*t+(110/0.3)*sin(2*PI*0.3*t))" +
    "|0.3*sin(2*PI*277*t)*(0.6+0.4*sin(2*PI*0.7*t))+0.12*sin(2*PI*1320*t)*lt(mod(t\\,0.5)\\,0.15)':s=48000:c=stereo[tones]",
  // Seeded: AAC's SNR on this signal moves by several dB from one noise realization to another.
  'anoisesrc=c=pink:a=0.06:r=48000:seed=20240601,aformat=channel_layouts=stereo[noise]',
  '[tones][noise]amix=inputs=2:normalize=0[audio]',
].join(';');

function encoderArgs(codec: FixtureCodec): string[] {
  const gop = String(FPS * KEYFRAME_SECONDS);
  const rate = ['-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '1250k', '-g', gop, '-keyint_min', gop];
  // Constrained baseline, as Chromium's OpenH264 path records; VP8 as Chromium's libvpx does, in realtime mode.
  const video =
    codec !== 'vp8'
      ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-sc_threshold', '0', ...rate]
      : ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '16', '-threads', '2', ...rate];
  const audio = AAC_CODECS.includes(codec) ? ['-c:a', 'aac', '-b:a', '128k'] : ['-c:a', 'libopus', '-b:a', '128k'];
  // The music-like stereo mixed down for a microphone's mono; kept stereo for Safari's AAC and h264-stereo.
  const channels = codec === 'h264-aac' || codec === 'h264-stereo' ? '2' : '1';
  return [...video, '-pix_fmt', 'yuv420p', ...audio, '-ac', channels, '-ar', '48000'];
}

/** Encodes `seconds` of 720p30 test pattern and the music-like audio, once; returns the cached file. */
async function encode(codec: FixtureCodec, seconds: number): Promise<string> {
  const args = [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${FPS}`,
    '-filter_complex',
    AUDIO_GRAPH,
    '-map',
    '0:v',
    '-map',
    '[audio]',
    '-t',
    String(seconds),
    ...encoderArgs(codec),
  ];
  return cachedMatroska(`${AAC_CODECS.includes(codec) ? codec : `${codec}-opus`}-${WIDTH}x${HEIGHT}p${FPS}-${seconds}s`, '.mkv', args);
}

/** Runs ffmpeg with `args` into Matroska once; the file is named by `name` and its arguments, so a changed recipe never reuses an old file. */
async function cachedMatroska(name: string, extension: string, args: string[]): Promise<string> {
  const recipe = createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 8);
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = join(CACHE_DIR, `${name}-${recipe}${extension}`);
  if (existsSync(file)) return file;
  const partial = `${file}.part`;
  await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', ...args, '-f', 'matroska', partial]);
  await rename(partial, file);
  return file;
}

/**
 * Remuxes (no re-encode) into live Matroska/WebM with a Cluster every `timesliceMs`, so one
 * Cluster is one MediaRecorder timeslice, and cuts it into those chunks.
 */
async function chunk(file: string, codec: FixtureCodec, timesliceMs: number): Promise<Pick<Fixture, 'chunks' | 'videoFrames'>> {
  if (codec === 'h264-aac') {
    // A fragment every timeslice, wherever it falls (an MP4 MediaRecorder does not wait for keyframes).
    const { stdout } = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-v',
        'error',
        '-i',
        file,
        '-c',
        'copy',
        '-f',
        'mp4',
        '-movflags',
        'empty_moov+default_base_moof',
        '-frag_duration',
        String(timesliceMs * 1000),
        'pipe:1',
      ],
      { encoding: 'buffer', maxBuffer: 1 << 30 },
    );
    return chunkFragmentedMp4(stdout);
  }
  if (codec === 'webcodecs-aac' || codec === 'webcodecs-opus') {
    // A Cluster at each keyframe and nowhere else (ffmpeg opens one at a keyframe once 4 KiB are in
    // the open Cluster, and at the limits, set out of reach); chunkWebCodecsMatroska cuts the timeslices.
    const { stdout } = await run(
      'ffmpeg',
      ['-hide_banner', '-v', 'error', '-i', file, '-c', 'copy', '-f', 'matroska', '-live', '1'].concat([
        '-cluster_time_limit',
        String(3_600_000),
        '-cluster_size_limit',
        String(64 << 20),
        'pipe:1',
      ]),
      { encoding: 'buffer', maxBuffer: 1 << 30 },
    );
    return chunkWebCodecsMatroska(stdout, timesliceMs);
  }
  const { stdout } = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-v',
      'error',
      '-i',
      file,
      '-c',
      'copy',
      '-f',
      codec === 'vp8' ? 'webm' : 'matroska',
      '-live',
      '1',
      '-cluster_time_limit',
      String(timesliceMs),
      '-cluster_size_limit',
      String(64 << 20),
      'pipe:1',
    ],
    { encoding: 'buffer', maxBuffer: 1 << 30 },
  );
  return chunkLiveMatroska(stdout);
}

/** What each browser's start request says, as it names its recording. */
const MIME_TYPES: Record<FixtureCodec, string> = {
  h264: 'video/x-matroska;codecs=avc1.42C01F,opus',
  'h264-stereo': 'video/x-matroska;codecs=avc1.42C01F,opus',
  vp8: 'video/webm;codecs=vp8,opus',
  'h264-aac': 'video/mp4;codecs=avc1.42C01F,mp4a.40.2',
  // As WebCodecsRecorder names it: no profile in the codec string.
  'webcodecs-aac': 'video/x-matroska;codecs=avc1,mp4a.40.2',
  'webcodecs-opus': 'video/x-matroska;codecs=avc1,opus',
};

/** The fixture for `codec`, `seconds` long, cut into `timesliceMs` chunks. */
export async function makeFixture(codec: FixtureCodec, seconds: number, timesliceMs: number): Promise<Fixture> {
  // The WebCodecs Opus path sends the MediaRecorder fixture's own encoding, laid out differently.
  const file = await encode(codec === 'webcodecs-opus' ? 'h264' : codec, seconds);
  const { chunks, videoFrames } = await chunk(file, codec, timesliceMs);
  const durationMs = chunks.at(-1)!.endMs - chunks[0]!.startMs;
  const bytes = chunks.reduce((sum, c) => sum + c.data.byteLength, 0);
  return {
    codec,
    mimeType: MIME_TYPES[codec],
    timesliceMs,
    chunks,
    videoFrames,
    durationMs,
    bytes,
    bitsPerSecond: Math.round((bytes * 8 * 1000) / durationMs),
  };
}

/** The chunks of `fixture` that end by `seconds`: a shorter broadcast from the same recording. */
export function firstSeconds(fixture: Fixture, seconds: number): Fixture {
  const chunks = fixture.chunks.filter((chunk) => chunk.endMs - fixture.chunks[0]!.startMs <= seconds * 1000 + 50);
  const endMs = chunks.at(-1)!.endMs;
  const bytes = chunks.reduce((sum, c) => sum + c.data.byteLength, 0);
  const durationMs = endMs - chunks[0]!.startMs;
  return {
    ...fixture,
    chunks,
    videoFrames: fixture.videoFrames.filter((frame) => frame.ptsMs < endMs),
    durationMs,
    bytes,
    bitsPerSecond: Math.round((bytes * 8 * 1000) / durationMs),
  };
}
