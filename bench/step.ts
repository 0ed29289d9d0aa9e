// One measurement: N publishers stream a fixture at real-time pace through the server process to
// nginx at once, while the server's Node process, its ffmpeg children, nginx and the publishers
// are sampled from /proc; then the recordings are checked against what was sent.
import { rm } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { probe } from '../test/helpers/probe.js';
import type { RtmpServer } from '../test/helpers/rtmp-server.js';
import type { Fixture } from './fixtures.js';
import { childrenOf, readStat } from './proc.js';
import { now, Publisher, type PublisherTrace } from './publisher.js';
import { measureDelay, startReader, type DelayReport } from './reader.js';
import { readRecording } from './recording.js';
import { type CpuPerBroadcast, type CpuSnapshot, cpuBetween, Sampler } from './sampler.js';
import type { ServerProcess } from './server-control.js';
import { mean, percentile, round, spread, sum, type Spread } from './stats.js';

export type { CpuPerBroadcast } from './sampler.js';

export interface StepOptions {
  /** What is being measured, e.g. 'passthrough' or 'transcode'. */
  label: string;
  server: ServerProcess;
  rtmp: RtmpServer;
  fixture: Fixture;
  publishers: number;
  /** Stream names are `${streamPrefix}-${i}`: unique per step, so recordings never mix. */
  streamPrefix: string;
  /**
   * Time between two publishers' starts. Default 100 ms (all started within 4 s at most); far
   * apart, each start is timed on its own.
   */
  startGapMs?: number;
}

/** Everything measured in one step. */
export interface StepResult {
  label: string;
  mode: 'copy' | 'transcode';
  publishers: number;
  timesliceMs: number;
  mediaSecondsPerBroadcast: number;
  /** First start sent to last chunk acknowledged. */
  wallSeconds: number;
  realtime: {
    /** Media sent / wall time from recording start to the last ack; 1 = real time. Worst publisher. */
    minRatio: number;
    medianRatio: number;
    /** Chunk sent → acknowledged (written into ffmpeg's stdin), in the steady state. */
    steadyAckMs: Spread;
    /** Acks that came after the next chunk was due, in % of chunks: in the steady state, and before it (start-ups). */
    lateAckPercent: { steady: number; startUp: number };
    /** Chunk due → sent: above 0 when the in-flight window (or the publishers' own loop) held it back. */
    sendLagMs: Spread;
    kept: boolean;
    /** Why real time was not kept. */
    misses: string[];
  };
  errors: string[];
  /** Over the whole step, start-ups included. */
  cpu: CpuPerBroadcast;
  /** In the steady state: what a long broadcast costs. */
  steadyCpu: CpuPerBroadcast | undefined;
  /** When the steady state began: this long after the first start (the last start + SETTLE_MS). */
  steadyAfterMs: number;
  /** First chunk sent → nginx's on_publish for the stream. */
  startLatencyMs: Spread;
  /** Every publisher's start latency, to pool over repeated runs (not written to results.json). */
  startLatencySamples: number[];
  /** start emitted → its ack (validation, hooks, ffmpeg spawned). */
  startAckMs: Spread;
  /**
   * Each start's timeline, in ms from its `start` emitted: the server received it, called spawn,
   * spawn returned (`spawnSyncMs`: how long that blocked the server's event loop), the ack came
   * back, the first chunk went out, reached ffmpeg's stdin, and nginx had the publish (live).
   */
  startTimeline: Record<
    'received' | 'spawnCalled' | 'spawnReturned' | 'acked' | 'firstChunkSent' | 'firstWrite' | 'live' | 'spawnSyncMs',
    Spread
  >;
  /** The first `start` emitted → the last stream live at nginx, in ms. */
  allLiveMs: number;
  /** Every publisher's socket.io connection (websocket handshake included), all opened at once before the step: the longest. */
  connectMs: number;
  /** All spawns' synchronous parts together: how long starting ffmpegs blocked the server's event loop. */
  spawnSyncTotalMs: number;
  delay: DelayReport | undefined;
  memory: {
    serverRssMb: { before: number; peak: number };
    /** Server heap after a full GC while every broadcast is live, minus before, per broadcast. */
    heapPerBroadcastKb: number;
    /** Server heap after a full GC once every broadcast has ended, minus before, per broadcast. */
    heapRetainedPerBroadcastKb: number;
    /** Server heap after the step and a full GC: growth from step to step would be a leak. */
    heapAfterMb: number;
    ffmpegRssMb: number;
    /** Pages only that ffmpeg holds: the memory one more broadcast really costs. */
    ffmpegPrivateMb: number;
  };
  loopDelayMs: { server: { p99: number; max: number }; publishers: { p99: number; max: number } };
  completeness: {
    recordings: number;
    /** Worst recording's video frames vs sent, in % (negative = frames missing). */
    worstFramesPercent: number;
    worstVideoSecondsPercent: number;
    worstAudioSecondsPercent: number;
    within2Percent: boolean;
    /** Frames the first recording decodes to (probe with countFrames), vs frames sent. */
    decodedFrames: number | undefined;
    sentFrames: number;
  };
}

const REALTIME_MIN_RATIO = 0.98;
/**
 * The steady state begins this long after the last start: new ffmpegs launch (~0.1 CPU-second
 * each), read the chunks that queued meanwhile and catch up, slowing the others; that start-up
 * load is reported apart (start latency, start-up late acks).
 */
const SETTLE_MS = 3000;
const DEFAULT_START_GAP_MS = 100;
const MAX_START_SPREAD_MS = 4000;
/** Shortest steady state worth measuring CPU over. */
const MIN_STEADY_MS = 2000;
const STOP_TIMEOUT_MS = 60_000;
const RECORDING_TIMEOUT_MS = 30_000;

/** Resolves `fallback` if `promise` has not settled after `ms`, without keeping the process alive. */
function withTimeout<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => (timer = setTimeout(resolve, ms, fallback)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function realtimeOf(trace: PublisherTrace, fixture: Fixture): number {
  const { chunks } = fixture;
  const lastAck = trace.ackAt[chunks.length - 1];
  if (lastAck === undefined || trace.dueAt.length === 0) return 0;
  const began = trace.dueAt[0]! - (chunks[0]!.endMs - chunks[0]!.startMs);
  return fixture.durationMs / (lastAck - began);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await task(items[index]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

/** Runs one step and measures it. Starts are spread out, as users do not all click at once. */
export async function runStep(options: StepOptions): Promise<StepResult> {
  const { server, rtmp, fixture, publishers: count } = options;
  const timeslice = fixture.timesliceMs;
  const mediaMs = fixture.durationMs;
  const streams = Array.from({ length: count }, (_, i) => `${options.streamPrefix}-${i}`);
  const before = await server.sample({ gc: true });
  const serverRssBefore = readStat(server.pid)?.rssBytes ?? NaN;
  const publishers = streams.map((stream) => new Publisher(server.origin, fixture, stream, rtmp.url(stream)));
  const connecting = now();
  await Promise.all(publishers.map((publisher) => publisher.connect()));
  const connectMs = round(now() - connecting, 0);

  // The viewer subscribes before the publish so nginx relays the stream to it from the first packet.
  const reader = startReader(rtmp.url(streams[0]!));
  await new Promise((resolve) => setTimeout(resolve, 300));

  // nginx runs as a child of this process (startRtmpServer spawns it with master_process off).
  const sampler = new Sampler(server.pid, childrenOf(process.pid, 'nginx')[0]?.pid);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  await server.sample();
  const first = sampler.snapshot(false);
  const spreadMs = Math.min(MAX_START_SPREAD_MS, (options.startGapMs ?? DEFAULT_START_GAP_MS) * (count - 1));
  const steadyAfterMs = spreadMs + SETTLE_MS;
  const steadyFrom = first.at + steadyAfterMs;
  let steadySnapshot: CpuSnapshot | undefined;
  const steadyTimer =
    mediaMs - steadyAfterMs >= MIN_STEADY_MS ? setTimeout(() => (steadySnapshot = sampler.snapshot(false)), steadyAfterMs) : undefined;
  const publishing = Promise.all(
    publishers.map(async (publisher, i) => {
      await new Promise((resolve) => setTimeout(resolve, (spreadMs * i) / count));
      await publisher.publish().catch((error: Error) => {
        publisher.trace.error ??= `publish: ${error.message}`;
      });
    }),
  );
  const outcome = await withTimeout(publishing, mediaMs * 3 + spreadMs + 30_000, 'timeout' as const);

  // Every chunk is in (or the step gave up): read CPU before stop makes the ffmpegs exit.
  clearTimeout(steadyTimer);
  const last = sampler.snapshot(true);
  sampler.stop();
  const during = await server.sample({ gc: true });
  loopDelay.disable();

  await Promise.all(
    publishers.map(async (publisher) => {
      const stopped = await withTimeout(publisher.stop(), STOP_TIMEOUT_MS, 'timeout' as const).catch((error: Error) => error.message);
      if (stopped) publisher.trace.error ??= `stop: ${stopped}`;
    }),
  );
  for (const publisher of publishers) publisher.close();
  await reader.stop();

  const traces = publishers.map((publisher) => publisher.trace);
  if (outcome === 'timeout') for (const trace of traces) trace.error ??= 'the step timed out';
  const errors = traces.filter((trace) => trace.error).map((trace) => `${trace.stream}: ${trace.error}`);

  // Completeness: every recording vs what was sent.
  const sentFrames = fixture.videoFrames.length;
  const sentSeconds = mediaMs / 1000;
  const published = new Set(rtmp.events.filter((e) => e.call === 'publish').map((e) => e.name));
  const recorded = await mapLimit(streams, 3, async (stream) => {
    // A stream that never went out has no recording to wait for.
    if (!published.has(stream)) return undefined;
    try {
      const file = await rtmp.recording(stream, RECORDING_TIMEOUT_MS);
      const contents = await readRecording(file);
      const decoded = stream === streams[0] ? (await probe(file, { countFrames: true })).video.frames : undefined;
      await rm(file, { force: true });
      return { ...contents, decoded };
    } catch {
      return undefined;
    }
  });
  const found = recorded.filter((r) => r !== undefined);
  const worst = (values: number[]) => values.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
  const percentOff = (value: number, expected: number) => round(((value - expected) / expected) * 100, 2);
  const framesOff = worst(found.map((r) => percentOff(r.videoFrames, sentFrames)));
  const videoOff = worst(found.map((r) => percentOff(r.videoSeconds, sentSeconds)));
  const audioOff = worst(found.map((r) => percentOff(r.audioSeconds, sentSeconds)));
  const after = await server.sample({ gc: true });

  // Real time: did each publisher deliver its media in (about) its own duration, each ack before the next chunk was due?
  const ratios = traces.map((trace) => realtimeOf(trace, fixture));
  const acks = traces.flatMap((t) =>
    t.sentAt.map((sent, i) => {
      const ackAt = t.ackAt[i] ?? Infinity;
      const nextDue = t.dueAt[i + 1] ?? t.dueAt[i]! + timeslice;
      return { ms: ackAt - sent, late: ackAt > nextDue, steady: t.dueAt[i]! >= steadyFrom };
    }),
  );
  const lateShare = (list: typeof acks) => round((list.filter((a) => a.late).length / Math.max(1, list.length)) * 100, 2);
  const steadyAcks = acks.filter((a) => a.steady);
  const sendLag = traces.flatMap((t) => t.sentAt.map((sent, i) => sent - t.dueAt[i]!));
  const minRatio = round(Math.min(...ratios), 3);
  const steadyAckP95 = percentile(
    steadyAcks.map((a) => a.ms),
    95,
  );
  const misses: string[] = [];
  if (errors.length) misses.push(`${errors.length} broadcast(s) failed`);
  if (minRatio < REALTIME_MIN_RATIO) misses.push(`slowest publisher at ${minRatio}x real time`);
  if (steadyAckP95 > timeslice) misses.push(`steady p95 ack ${Math.round(steadyAckP95)} ms > timeslice`);
  if (found.length < count) misses.push(`${count - found.length} recording(s) missing`);
  const within2Percent = found.length === count && [framesOff, videoOff].every((off) => Math.abs(off) <= 2);
  if (!within2Percent && found.length === count) misses.push('a recording is more than 2 % short');

  const publishEvents = new Map(rtmp.events.filter((e) => e.call === 'publish').map((e) => [e.name, e.at]));
  const startLatency = traces
    .filter((trace) => trace.sentAt[0] !== undefined && publishEvents.has(trace.stream))
    .map((trace) => publishEvents.get(trace.stream)! - trace.sentAt[0]!);
  const ffmpegSeen = [...sampler.ffmpeg.values()];
  const timeline = traces.map((trace) => {
    const server = during.starts[trace.stream] ?? {};
    const from = (at: number | undefined) => (at === undefined ? NaN : at - trace.startSentAt);
    return {
      received: from(server.receivedAt),
      spawnCalled: from(server.spawnCalledAt),
      spawnReturned: from(server.spawnReturnedAt),
      acked: from(trace.startAckAt),
      firstChunkSent: from(trace.sentAt[0]),
      firstWrite: from(server.firstWriteAt),
      live: from(publishEvents.get(trace.stream)),
      spawnSyncMs: (server.spawnReturnedAt ?? NaN) - (server.spawnCalledAt ?? NaN),
    };
  });
  const timelineSpread = (key: keyof (typeof timeline)[number]) => spread(timeline.map((t) => t[key]).filter(Number.isFinite), 1);

  return {
    label: options.label,
    mode: fixture.codec === 'vp8' ? 'transcode' : 'copy',
    publishers: count,
    timesliceMs: timeslice,
    mediaSecondsPerBroadcast: round(sentSeconds, 2),
    wallSeconds: round((last.at - first.at) / 1000, 2),
    realtime: {
      minRatio,
      medianRatio: round(percentile(ratios, 50), 3),
      steadyAckMs: spread(steadyAcks.map((a) => a.ms).filter(Number.isFinite), 1),
      lateAckPercent: { steady: lateShare(steadyAcks), startUp: lateShare(acks.filter((a) => !a.steady)) },
      sendLagMs: spread(sendLag, 1),
      kept: misses.length === 0,
      misses,
    },
    errors: errors.slice(0, 5),
    cpu: cpuBetween(first, last, sentSeconds * count),
    // In the steady state every broadcast streams one media-second per wall-second.
    steadyCpu: steadySnapshot && cpuBetween(steadySnapshot, last, ((last.at - steadySnapshot.at) / 1000) * count),
    steadyAfterMs,
    startLatencyMs: spread(startLatency),
    startLatencySamples: startLatency,
    startAckMs: spread(traces.map((t) => t.startAckAt - t.startSentAt).filter(Number.isFinite)),
    startTimeline: {
      received: timelineSpread('received'),
      spawnCalled: timelineSpread('spawnCalled'),
      spawnReturned: timelineSpread('spawnReturned'),
      acked: timelineSpread('acked'),
      firstChunkSent: timelineSpread('firstChunkSent'),
      firstWrite: timelineSpread('firstWrite'),
      live: timelineSpread('live'),
      spawnSyncMs: timelineSpread('spawnSyncMs'),
    },
    connectMs,
    spawnSyncTotalMs: round(sum(timeline.map((t) => t.spawnSyncMs).filter(Number.isFinite)), 0),
    allLiveMs: round(Math.max(...traces.map((t) => publishEvents.get(t.stream) ?? NaN)) - Math.min(...traces.map((t) => t.startSentAt)), 0),
    delay: measureDelay(reader.packets, fixture, traces[0]!, steadyFrom),
    memory: {
      serverRssMb: { before: mb(serverRssBefore), peak: mb(sampler.serverPeakRss) },
      heapPerBroadcastKb: round((during.memory.heapUsed - before.memory.heapUsed) / count / 1024, 1),
      heapRetainedPerBroadcastKb: round((after.memory.heapUsed - before.memory.heapUsed) / count / 1024, 1),
      heapAfterMb: mb(after.memory.heapUsed),
      ffmpegRssMb: mb(mean(ffmpegSeen.map((seen) => seen.rssBytes))),
      ffmpegPrivateMb: mb(mean(ffmpegSeen.flatMap((seen) => (seen.privateBytes === undefined ? [] : [seen.privateBytes])))),
    },
    loopDelayMs: {
      server: { p99: during.loopDelayMs.p99, max: during.loopDelayMs.max },
      publishers: { p99: round(loopDelay.percentile(99) / 1e6, 1), max: round(loopDelay.max / 1e6, 1) },
    },
    completeness: {
      recordings: found.length,
      worstFramesPercent: framesOff,
      worstVideoSecondsPercent: videoOff,
      worstAudioSecondsPercent: audioOff,
      within2Percent,
      decodedFrames: recorded[0]?.decoded,
      sentFrames,
    },
  };
}
