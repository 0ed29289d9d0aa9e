// Is `-aac_coder fast` good enough? Encodes two minutes of the bench's Opus audio the way the
// server does (Opus → AAC 128k 44.1 kHz in the recording's channels, FLV), with ffmpeg's default
// coder (twoloop) and with `fast`, and compares the CPU it took and how far each result is from
// the decoded Opus, over the whole and once the encoder has settled (the second minute): `fast`
// starts well and loses ~10 dB after about half a minute, which a 12-s excerpt would not show.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeAudioRecording, type AudioMaterial } from './fixtures.js';
import { percentile, round } from './stats.js';

const run = promisify(execFile);
const SAMPLE_RATE = 44_100;
/** AAC priming plus resampler delay is a few thousand samples at most. */
const MAX_LAG = 4096;

export interface AacCoderResult {
  coder: 'twoloop' | 'fast';
  /** Median over the repeats of ffmpeg's own utime + stime (-benchmark), per media second. */
  cpuSecondsPerMediaSecond: number;
  maxRssMb: number;
  /** AAC payload bitrate actually produced, in kb/s. */
  audioKbps: number;
  /** Against the Opus decoded and resampled the same way: signal / (signal − encoded), in dB. */
  snrDb: number;
  /** The same over the second half only, once the encoder's rate control has settled. */
  settledSnrDb: number;
}

export interface AacExperiment {
  /** What the audio is. */
  material: AudioMaterial;
  /** The recording's (and so the AAC's) channels. */
  channels: number;
  mediaSeconds: number;
  repeats: number;
  results: AacCoderResult[];
  /** fast's CPU as a fraction of twoloop's. */
  cpuRatio: number;
  /** fast's SNR minus twoloop's, in dB, over the whole and over the second half. */
  snrDeltaDb: number;
  settledSnrDeltaDb: number;
}

/** The server's argv for one broadcast's audio, writing to a file instead of RTMP. */
function serverLikeArgs(input: string, output: string, coder: AacCoderResult['coder']): string[] {
  return [
    '-hide_banner', '-nostats', '-benchmark', '-y',
    '-probesize', '32', '-analyzeduration', '0', '-f', 'matroska', '-i', input,
    '-map', '0:a:0',
    '-c:a', 'aac', ...(coder === 'fast' ? ['-aac_coder', 'fast'] : []),
    '-b:a', '128000', '-ar', String(SAMPLE_RATE), '-af', 'aformat=channel_layouts=mono|stereo',
    '-f', 'flv', output,
  ];
}

async function encode(input: string, output: string, coder: AacCoderResult['coder']): Promise<{ cpu: number; maxRssKb: number }> {
  // -benchmark logs "bench: utime=0.505s stime=0.009s rtime=0.515s" and "bench: maxrss=53920kB" at
  // the info level, on stderr: CPU of the processing loop, without process start-up.
  const { stderr } = await run('ffmpeg', serverLikeArgs(input, output, coder));
  const seconds = (name: string) => Number(new RegExp(`${name}=([\\d.]+)s`).exec(stderr)?.[1]);
  return { cpu: seconds('utime') + seconds('stime'), maxRssKb: Number(/maxrss=(\d+)kB/.exec(stderr)?.[1]) };
}

/** First audio stream of `file`, decoded to interleaved float at 44.1 kHz in `channels` channels. */
async function decodePcm(file: string, channels: number): Promise<Float32Array> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-map', '0:a:0', '-ar', String(SAMPLE_RATE), '-ac', String(channels), '-f', 'f32le', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 1 << 30 },
  );
  const copy = new Uint8Array(stdout).buffer;
  return new Float32Array(copy);
}

async function audioKbps(file: string, seconds: number): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'packet=size', '-of', 'csv=p=0', file], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const bytes = stdout.split('\n').reduce((total, line) => total + (Number(line) || 0), 0);
  return round((bytes * 8) / seconds / 1000, 1);
}

/** The lag (in frames) of `encoded` behind `reference` that best lines them up, by cross-correlation. */
function bestLag(reference: Float32Array, encoded: Float32Array, channels: number): number {
  const frames = Math.min(reference.length, encoded.length) / channels;
  const from = Math.floor(frames / 2);
  const length = Math.min(SAMPLE_RATE / 2, frames - from - MAX_LAG);
  let best = 0;
  let bestScore = -Infinity;
  for (let lag = -MAX_LAG; lag <= MAX_LAG; lag++) {
    let score = 0;
    for (let i = from; i < from + length; i++) {
      const j = i + lag;
      for (let channel = 0; channel < channels; channel++) score += reference[channels * i + channel]! * encoded[channels * j + channel]!;
    }
    if (score > bestScore) {
      bestScore = score;
      best = lag;
    }
  }
  return best;
}

/** SNR of `encoded` against `reference` once aligned, leaving out half a second at each end (from `fromFraction` of the way in). */
function snrDb(reference: Float32Array, encoded: Float32Array, channels: number, fromFraction = 0): number {
  const lag = bestLag(reference, encoded, channels);
  const margin = SAMPLE_RATE / 2;
  const frames = Math.min(reference.length / channels, encoded.length / channels - lag);
  let signal = 0;
  let noise = 0;
  for (let i = Math.max(margin, Math.floor(frames * fromFraction)); i < frames - margin; i++) {
    for (let channel = 0; channel < channels; channel++) {
      const ref = reference[channels * i + channel]!;
      const error = ref - encoded[channels * (i + lag) + channel]!;
      signal += ref * ref;
      noise += error * error;
    }
  }
  return round(10 * Math.log10(signal / noise), 2);
}

/** Runs the experiment on `seconds` of `channels`-channel Opus of `material`, writing its files in `dir`. */
export async function runAacExperiment(channels: 1 | 2, seconds: number, dir: string, repeats: number, material: AudioMaterial = 'music'): Promise<AacExperiment> {
  const input = await makeAudioRecording(channels, seconds, material);
  const mediaSeconds = seconds;
  const coders = ['twoloop', 'fast'] as const;
  const runs = new Map<string, { cpu: number; maxRssKb: number }[]>(coders.map((coder) => [coder, []]));
  // Alternate the coders so a burst of noise on the machine hits both alike.
  for (let round = 0; round < repeats; round++) {
    for (const coder of coders) runs.get(coder)!.push(await encode(input, join(dir, `aac-${coder}.flv`), coder));
  }
  const reference = await decodePcm(input, channels);
  const results: AacCoderResult[] = [];
  for (const coder of coders) {
    const output = join(dir, `aac-${coder}.flv`);
    const measured = runs.get(coder)!;
    const encoded = await decodePcm(output, channels);
    results.push({
      coder,
      cpuSecondsPerMediaSecond: round(percentile(measured.map((m) => m.cpu), 50) / mediaSeconds, 4),
      maxRssMb: round(Math.max(...measured.map((m) => m.maxRssKb)) / 1024, 1),
      audioKbps: await audioKbps(output, mediaSeconds),
      snrDb: snrDb(reference, encoded, channels),
      settledSnrDb: snrDb(reference, encoded, channels, 0.5),
    });
  }
  const [twoloop, fast] = results as [AacCoderResult, AacCoderResult];
  return {
    material,
    channels,
    mediaSeconds,
    repeats,
    results,
    cpuRatio: round(fast.cpuSecondsPerMediaSecond / twoloop.cpuSecondsPerMediaSecond, 3),
    snrDeltaDb: round(fast.snrDb - twoloop.snrDb, 2),
    settledSnrDeltaDb: round(fast.settledSnrDb - twoloop.settledSnrDb, 2),
  };
}
