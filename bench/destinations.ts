// `npm run bench -- --destinations [--quick]`: what several destinations (and a recording) cost a
// broadcast. The real BroadcastServer in this process with a real nginx-rtmp, broadcasts fed at
// real time; ffmpeg's CPU is what its exited processes used (cutime + cstime of this process, which
// reaps them), Node's is this whole process (server and simulated browsers together). Beside it,
// the design we did not take: one ffmpeg with the `tee` muxer, fed the same media.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { io as connect } from 'socket.io-client';
import { BroadcastServer } from '../server/index.js';
import { buildFfmpegArgs } from '../server/ffmpeg/args.js';
import { makeFixture, splitChunks } from '../test/helpers/fixtures.js';
import { startRtmpServer, type RtmpServer } from '../test/helpers/rtmp-server.js';
import type { ClientSocket } from '../test/helpers/stack.js';
import { TICKS_PER_SECOND } from './proc.js';
import { table } from './report.js';

const MIME = 'video/x-matroska;codecs=avc1,opus';
/** Broadcasts at once in each variant, so one figure averages a few. */
const BROADCASTS = 2;
/** Chunks per media-second, as a 250 ms timeslice makes. */
const CHUNKS_PER_SECOND = 4;

/** One variant's cost. */
export interface DestinationsResult {
  label: string;
  design: 'direct' | 'fan-out' | 'tee';
  destinations: number;
  recording: boolean;
  /** ffmpeg processes per broadcast. */
  processes: number;
  /** ffmpeg CPU-seconds per media-second per broadcast. */
  ffmpegCpu: number;
  /** This process's CPU-seconds per media-second per broadcast (server and publishers; for tee, only the feeding). */
  nodeCpu: number;
}

/** CPU-seconds used by this process's exited, reaped children (fields 16 and 17 of /proc/self/stat). */
function childrenCpuSeconds(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Writes chunks at real time, each after the previous one was taken. */
async function paced(chunks: readonly Buffer[], write: (chunk: Buffer) => Promise<unknown>): Promise<void> {
  const began = performance.now();
  for (const [index, chunk] of chunks.entries()) {
    const due = began + (index * 1000) / CHUNKS_PER_SECOND - performance.now();
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
    await write(chunk);
  }
}

async function measure(run: () => Promise<void>, seconds: number): Promise<{ ffmpegCpu: number; nodeCpu: number }> {
  const children = childrenCpuSeconds();
  const own = ownCpuSeconds();
  await run();
  const per = (value: number) => Math.round((value / (seconds * BROADCASTS)) * 10_000) / 10_000;
  return { ffmpegCpu: per(childrenCpuSeconds() - children), nodeCpu: per(ownCpuSeconds() - own) };
}

/** BROADCASTS broadcasts through the real server, each to `destinations` streams on nginx. */
async function throughServer(
  rtmp: RtmpServer,
  chunks: readonly Buffer[],
  destinations: number,
  record: string | undefined,
  tag: string,
): Promise<void> {
  const http = createServer();
  const server = new BroadcastServer(http, { allowedDestinations: [rtmp.url('')], logger: false, ...(record ? { record } : {}) });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  try {
    await Promise.all(
      Array.from({ length: BROADCASTS }, async (_, b) => {
        const socket: ClientSocket = connect(origin, { transports: ['websocket'], forceNew: true, reconnection: false });
        try {
          const rtmpUrl = Array.from({ length: destinations }, (_, d) => rtmp.url(`${tag}-${b}-${d}`));
          const answer = await socket.timeout(20_000).emitWithAck('start', { mimeType: MIME, rtmpUrl });
          if (!answer.ok) throw new Error(`start refused: ${answer.error.message}`);
          await paced(chunks, (chunk) => socket.timeout(20_000).emitWithAck('data', chunk));
          await socket.timeout(20_000).emitWithAck('stop');
        } finally {
          socket.disconnect();
        }
      }),
    );
  } finally {
    await server.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
}

/** The same broadcasts through one ffmpeg per broadcast with the tee muxer (not what the server does). */
async function throughTee(rtmp: RtmpServer, chunks: readonly Buffer[], destinations: number, tag: string): Promise<void> {
  const base = buildFfmpegArgs({
    inputFormat: 'matroska',
    video: 'copy',
    destination: 'pipe',
    videoBitsPerSecond: 2_500_000,
    audioBitsPerSecond: 128_000,
    audioSampleRate: 44_100,
    framerate: 30,
    destinationTimeoutMs: 10_000,
  });
  // The argv ends with `-f flv -flvflags no_duration_filesize pipe:1`: the tee replaces that output.
  const output = base.lastIndexOf('-f');
  await Promise.all(
    Array.from({ length: BROADCASTS }, async (_, b) => {
      const slaves = Array.from(
        { length: destinations },
        (_, d) => `[f=flv:flvflags=no_duration_filesize:onfail=ignore]${rtmp.url(`${tag}-${b}-${d}`)}`,
      );
      const ffmpeg = execa('ffmpeg', [...base.slice(0, output), '-f', 'tee', slaves.join('|')], {
        stdio: ['pipe', 'ignore', 'ignore', 'ignore'],
        reject: false,
      });
      await paced(chunks, (chunk) => new Promise((resolve) => ffmpeg.stdin!.write(chunk, resolve)));
      ffmpeg.stdin!.end();
      await ffmpeg;
    }),
  );
}

/** Runs every variant once and returns their costs. */
export async function runDestinationsBench(options: { seconds: number; log(line: string): void }): Promise<DestinationsResult[]> {
  const { seconds, log } = options;
  const media = await makeFixture('h264-opus', { seconds });
  const chunks = splitChunks(media, Math.ceil(media.length / (seconds * CHUNKS_PER_SECOND)));
  const rtmp = await startRtmpServer();
  const recordings = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-bench-recordings-'));
  const results: DestinationsResult[] = [];
  try {
    const variants: Omit<DestinationsResult, 'ffmpegCpu' | 'nodeCpu'>[] = [
      { label: '1 destination (direct)', design: 'direct', destinations: 1, recording: false, processes: 1 },
      { label: '1 destination + recording', design: 'fan-out', destinations: 1, recording: true, processes: 3 },
      { label: '2 destinations', design: 'fan-out', destinations: 2, recording: false, processes: 3 },
      { label: '4 destinations', design: 'fan-out', destinations: 4, recording: false, processes: 5 },
      { label: '2 destinations, tee (not used)', design: 'tee', destinations: 2, recording: false, processes: 1 },
      { label: '4 destinations, tee (not used)', design: 'tee', destinations: 4, recording: false, processes: 1 },
    ];
    for (const [index, variant] of variants.entries()) {
      const tag = `dest${index}`;
      const record = variant.recording ? join(recordings, tag) : undefined;
      const run =
        variant.design === 'tee'
          ? () => throughTee(rtmp, chunks, variant.destinations, tag)
          : () => throughServer(rtmp, chunks, variant.destinations, record, tag);
      const cost = await measure(run, seconds);
      results.push({ ...variant, ...cost });
      log(`${variant.label}: ffmpeg ${percent(cost.ffmpegCpu)}, Node ${percent(cost.nodeCpu)} of a core per broadcast`);
    }
  } finally {
    await rtmp.close();
    await rm(recordings, { recursive: true, force: true });
  }
  return results;
}

function percent(cpu: number): string {
  return `${Math.round(cpu * 1000) / 10}%`;
}

/** The table README "Performance" shows. */
export function destinationsTable(results: readonly DestinationsResult[]): string {
  return table(
    ['Outputs per broadcast', 'ffmpeg processes', 'ffmpeg CPU', 'Node CPU (server + publishers)'],
    results.map((result) => [
      result.label,
      result.processes,
      percent(result.ffmpegCpu),
      result.design === 'tee' ? '–' : percent(result.nodeCpu),
    ]),
  );
}
