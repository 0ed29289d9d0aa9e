// `npm run bench -- --shed [--publishers 150] [--seconds 40]`: load shedding under a herd. Offers
// 150 passthrough publishers (the ramp's H.264 + Opus fixture) at once to a server with its default
// `loadShedding`; a refused publisher retries after the server's `retryAfterMs` hint while the offer
// window (the first half of the media length) is open, as a client with backoff would. Reports how
// many were admitted, how many were finally refused and with which codes, and whether every
// admitted broadcast kept real time (media sent ÷ wall time from its recording's start to its last
// ack ≥ 0.98, as the ramp counts it). How it works: bench/README.md.
import { cpus, loadavg } from 'node:os';
import { startRtmpServer } from '../test/helpers/rtmp-server.js';
import { firstSeconds, makeFixture, type Fixture } from './fixtures.js';
import { now, Publisher, type PublisherTrace } from './publisher.js';
import type { LoadSheddingOptions } from '../server/headroom.js';
import { startServerProcess } from './server-control.js';

const REALTIME_MIN_RATIO = 0.98;

/** Media sent ÷ wall time from when its recording began to its last ack (the ramp's measure). */
function realtimeOf(trace: PublisherTrace, fixture: Fixture): number {
  const lastAck = trace.ackAt[fixture.chunks.length - 1];
  if (lastAck === undefined || trace.dueAt.length === 0) return 0;
  const began = trace.dueAt[0]! - (fixture.chunks[0]!.endMs - fixture.chunks[0]!.startMs);
  return fixture.durationMs / (lastAck - began);
}

export interface ShedResult {
  offered: number;
  admitted: number;
  admittedFirstTry: number;
  attempts: number;
  /** Publishers still refused when the offer window closed, by the code of their last refusal. */
  refused: Record<string, number>;
  /** Admitted broadcasts that failed after their start (an error ack or `ended` with an error). */
  failedAfterStart: string[];
  keptRealTime: number;
  slowestRatio: number;
  peakLive: number;
  loadAverageBefore: number[];
  /** Each admitted broadcast's real-time ratio, in the order they were admitted (0: failed). */
  ratiosInAdmissionOrder: number[];
  /** The server's load-shedding log lines (out of headroom / back), with their signals. */
  sheddingLog: string[];
}

export async function runShedBench(options: {
  publishers: number;
  seconds: number;
  /** The server's `loadShedding` options (its defaults for the rest). */
  shedding?: LoadSheddingOptions;
  log: (line: string) => void;
}): Promise<ShedResult> {
  const { publishers, seconds, shedding = {}, log } = options;
  const loadAverageBefore = loadavg().map((each) => Math.round(each * 100) / 100);
  log(
    `shed: ${publishers} publishers at once, ${seconds} s each, loadShedding ${JSON.stringify(shedding)}, ${cpus().length} CPUs, load average ${loadAverageBefore.join(' ')}`,
  );
  const fixture = firstSeconds(await makeFixture('h264', seconds, 250), seconds);
  const rtmp = await startRtmpServer();
  const server = await startServerProcess({ allowedPrefix: rtmp.url(''), loadShedding: shedding });
  const { origin } = server;
  const windowEnds = now() + (seconds * 1000) / 2;
  let attempts = 0;
  let peakLive = 0;
  const sampler = setInterval(() => {
    void server.sample().then((sample) => (peakLive = Math.max(peakLive, sample.sessions)));
  }, 1000);
  const outcomes: { trace: PublisherTrace; firstTry: boolean }[] = [];
  const lastRefusal: (string | undefined)[] = [];
  const sheddingLog: string[] = [];
  try {
    const offer = async (index: number): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        const stream = `shed-${index}-${attempt}`;
        const publisher = new Publisher(origin, fixture, stream, rtmp.url(stream));
        attempts++;
        try {
          // A connection that times out (a machine too loaded to accept it) is a refusal too, retried like one.
          const connected = await publisher.connect().then(
            () => true,
            () => false,
          );
          if (connected) await publisher.publish();
          const refusal = connected ? publisher.trace.refusal : { code: 'CONNECT_FAILED', message: 'no connection', retryAfterMs: 2_000 };
          if (!refusal) {
            await publisher.stop();
            outcomes.push({ trace: publisher.trace, firstTry: attempt === 0 });
            lastRefusal[index] = undefined;
            return;
          }
          lastRefusal[index] = refusal.code;
          const retryAt = now() + (refusal.retryAfterMs ?? 2_000);
          if (refusal.code !== 'SERVER_BUSY' || retryAt > windowEnds) return;
          await new Promise((resolve) => setTimeout(resolve, retryAt - now()));
        } finally {
          publisher.close();
        }
      }
    };
    await Promise.all(Array.from({ length: publishers }, (_, index) => offer(index)));
  } finally {
    clearInterval(sampler);
    sheddingLog.push(...server.logs.filter((line) => line.message.startsWith('load shedding')).map((line) => line.message));
    await server.close();
    await rtmp.close();
  }
  const refused: Record<string, number> = {};
  for (const code of lastRefusal) if (code) refused[code] = (refused[code] ?? 0) + 1;
  const ratios = outcomes.map(({ trace }) => (trace.error ? 0 : realtimeOf(trace, fixture)));
  const result: ShedResult = {
    offered: publishers,
    admitted: outcomes.length,
    admittedFirstTry: outcomes.filter((each) => each.firstTry).length,
    attempts,
    refused,
    failedAfterStart: outcomes.flatMap(({ trace }) => (trace.error ? [`${trace.stream}: ${trace.error}`] : [])),
    keptRealTime: ratios.filter((ratio) => ratio >= REALTIME_MIN_RATIO).length,
    slowestRatio: Math.round(Math.min(...ratios, Infinity) * 1000) / 1000,
    peakLive,
    loadAverageBefore,
    ratiosInAdmissionOrder: [...outcomes]
      .sort((a, b) => a.trace.startAckAt - b.trace.startAckAt)
      .map(({ trace }) => Math.round((trace.error ? 0 : realtimeOf(trace, fixture)) * 100) / 100),
    sheddingLog,
  };
  return result;
}
