// `npm run bench -- --recorders [--seconds 15] [--rounds 2] [--publishers 10]`: what each browser's
// recording path costs the server, side by side in one run. One server process and one nginx-rtmp;
// the paths take turns (round-robin, the order reversed every other round so drift in the shared
// machine's load is spread), each step N publishers of that path's fixture at real time. The figure
// is the steady state's server CPU (Node + ffmpeg, from /proc) per media-second per broadcast, pooled
// over the rounds, and its ratio to the WebCodecs AAC path's.
import { loadavg } from 'node:os';
import { startRtmpServer } from '../test/helpers/rtmp-server.js';
import { firstSeconds, makeFixture, type Fixture, type FixtureCodec } from './fixtures.js';
import { describeStep, table } from './report.js';
import { startServerProcess } from './server-control.js';
import { mean, round } from './stats.js';
import { runStep, type StepResult } from './step.js';

/** One browser's way of recording, and what the server does with it. */
export interface RecorderPath {
  label: string;
  codec: FixtureCodec;
  sends: string;
  server: string;
  /** Re-encodes the video: ~0.5 core per broadcast, so only a few run at once. */
  transcodes?: boolean;
  /** Milliseconds of media per chunk: the client's default for that recorder. */
  timesliceMs: number;
}

export const RECORDER_PATHS: readonly RecorderPath[] = [
  { label: 'WebCodecs, AAC', codec: 'webcodecs-aac', sends: 'Matroska H.264 + AAC', server: 'copies both', timesliceMs: 150 },
  {
    label: 'WebCodecs, AAC, 100 ms chunks',
    codec: 'webcodecs-aac',
    sends: 'Matroska H.264 + AAC',
    server: 'copies both',
    timesliceMs: 100,
  },
  {
    label: 'WebCodecs, AAC, 200 ms chunks',
    codec: 'webcodecs-aac',
    sends: 'Matroska H.264 + AAC',
    server: 'copies both',
    timesliceMs: 200,
  },
  { label: 'Chromium MediaRecorder', codec: 'h264', sends: 'Matroska H.264 + Opus', server: 'copies H.264, Opus → AAC', timesliceMs: 200 },
  {
    label: 'WebCodecs, Opus',
    codec: 'webcodecs-opus',
    sends: 'Matroska H.264 + Opus',
    server: 'copies H.264, Opus → AAC',
    timesliceMs: 150,
  },
  {
    label: 'Firefox MediaRecorder',
    codec: 'vp8',
    sends: 'WebM VP8 + Opus',
    server: 'VP8 → H.264 (x264 veryfast), Opus → AAC',
    transcodes: true,
    timesliceMs: 200,
  },
  { label: 'Safari MediaRecorder', codec: 'h264-aac', sends: 'fMP4 H.264 + AAC', server: 'copies both', timesliceMs: 200 },
];

/** Transcoding broadcasts at once: each takes about half a core of the 2. */
const TRANSCODE_PUBLISHERS = 2;

/** One path's figures, pooled over the rounds. */
export interface RecorderResult extends RecorderPath {
  publishers: number;
  /**
   * Server CPU-seconds per media-second per broadcast, steady state: Node, ffmpeg, both; pooled over
   * the rounds that kept real time (a failed broadcast would lower the mean), all rounds if none did.
   */
  node: number;
  ffmpeg: number;
  total: number;
  /** `total` over the WebCodecs AAC path's. */
  ratio: number;
  /** Every round kept real time (slowest publisher, acks) and every recording was complete. */
  kept: boolean;
  completeRecordings: boolean;
  slowest: number;
  machineBusyPercent: number[];
  /** 1-minute load average at the end of each of this path's steps. */
  load: number[];
  /** Rounds that kept real time (pooled into the CPU figures; all rounds are when none did). */
  keptRounds: number;
  /** Each round's errors (failed broadcasts), for the JSON. */
  errors: string[][];
}

export interface RecordersOptions {
  seconds: number;
  rounds: number;
  publishers: number;
  log(line: string): void;
}

/** Runs every path `rounds` times, alternating, and pools each path's steady CPU. */
export async function runRecordersBench(options: RecordersOptions): Promise<RecorderResult[]> {
  const { seconds, rounds, publishers, log } = options;
  // Each fixture is cut at its recorder's default timeslice.
  const fixtures = new Map<string, Fixture>();
  const keyOf = (path: RecorderPath) => `${path.codec}@${path.timesliceMs}`;
  const fixtureOf = (path: RecorderPath) => fixtures.get(keyOf(path))!;
  for (const path of RECORDER_PATHS) {
    if (!fixtures.has(keyOf(path))) fixtures.set(keyOf(path), await makeFixture(path.codec, seconds, path.timesliceMs));
  }
  for (const [key, f] of fixtures) {
    log(`fixture ${key} ms: ${f.chunks.length} chunks over ${f.durationMs / 1000} s, ${Math.round(f.bitsPerSecond / 1000)} kb/s`);
  }
  const rtmp = await startRtmpServer();
  // No loop-delay probe: its wake-ups every 10 ms would be counted as the paths' cost.
  const server = await startServerProcess({ allowedPrefix: rtmp.url(''), monitorLoopDelay: false });
  const steps = new Map<string, { step: StepResult; load: number }[]>(RECORDER_PATHS.map((path) => [path.label, []]));
  try {
    log(`server process pid ${server.pid}; nginx-rtmp on port ${rtmp.port}`);
    let count = 0;
    const warmUpFixture = firstSeconds(fixtureOf(RECORDER_PATHS.find((path) => path.codec === 'h264')!), 2);
    await runStep({ label: 'warm-up', server, rtmp, fixture: warmUpFixture, publishers: 2, streamPrefix: `rec${count++}` });
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? RECORDER_PATHS : [...RECORDER_PATHS].reverse();
      for (const path of order) {
        const n = path.transcodes ? Math.min(publishers, TRANSCODE_PUBLISHERS) : publishers;
        const fixture = fixtureOf(path);
        const step = await runStep({ label: path.label, server, rtmp, fixture, publishers: n, streamPrefix: `rec${count++}` });
        const load = round2(loadavg()[0]!);
        steps.get(path.label)!.push({ step, load });
        log(`round ${round + 1}: ${describeStep(step)}`);
      }
    }
  } finally {
    await server.close().catch(() => {});
    await rtmp.close().catch(() => {});
  }

  const pooled = RECORDER_PATHS.map((path) => {
    const runs = steps.get(path.label)!;
    const cpu = runs.map(({ step }) => step.steadyCpu ?? step.cpu);
    const keptRuns = runs.filter(({ step }) => step.realtime.kept);
    const pooledCpu = (keptRuns.length > 0 ? keptRuns : runs).map(({ step }) => step.steadyCpu ?? step.cpu);
    const node = round(mean(pooledCpu.map((c) => c.serverNode)), 4);
    const ffmpeg = round(mean(pooledCpu.map((c) => c.ffmpeg)), 4);
    return {
      ...path,
      publishers: runs[0]!.step.publishers,
      node,
      ffmpeg,
      total: round(node + ffmpeg, 4),
      kept: runs.every(({ step }) => step.realtime.kept),
      completeRecordings: runs.every(({ step }) => step.completeness.within2Percent),
      slowest: Math.min(...runs.map(({ step }) => step.realtime.minRatio)),
      machineBusyPercent: cpu.map((c) => c.machineBusyPercent),
      load: runs.map(({ load }) => load),
      keptRounds: keptRuns.length,
      errors: runs.map(({ step }) => step.errors.slice(0, 5)),
    };
  });
  const base = pooled.find((result) => result.codec === 'webcodecs-aac')!.total;
  return pooled.map((result) => ({ ...result, ratio: round(result.total / base, 1) }));
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** The side-by-side table: CPU-s per media-second per broadcast and the ratio to WebCodecs AAC. */
export function recordersTable(results: readonly RecorderResult[]): string {
  return table(
    ['path', 'sends', 'server does', 'N', 'Node', 'ffmpeg', 'CPU-s/media-s', '× WC AAC', 'rounds kept', 'complete', 'busy %', 'load'],
    results.map((r) => [
      r.label,
      r.sends,
      r.server,
      r.publishers,
      r.node.toFixed(4),
      r.ffmpeg.toFixed(4),
      r.total.toFixed(4),
      r.ratio,
      `${r.keptRounds}/${r.load.length}${r.kept ? '' : `, slowest ${r.slowest}x`}`,
      r.completeRecordings ? 'yes' : 'NO',
      r.machineBusyPercent.join('/'),
      r.load.join('/'),
    ]),
  );
}
