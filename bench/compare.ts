// Side-by-side comparisons where what changes is the server process itself (for the herd, its
// ffmpeg binary): each side gets its own server process, the sides run in turns (round 1: A, B;
// round 2: A, B; …) on the same fixture and publisher count, and the rounds are pooled, so a burst
// of load on the machine hits both sides.
import type { RtmpServer } from '../test/helpers/rtmp-server.js';
import type { Fixture } from './fixtures.js';
import { table } from './report.js';
import { startServerProcess, type ServerConfig, type ServerProcess } from './server-control.js';
import { mean, round, spread, type Spread } from './stats.js';
import { runStep, type StepResult } from './step.js';

export interface Side {
  label: string;
  /** How this side's server process differs (the allow-list is added). */
  config: Omit<ServerConfig, 'allowedPrefix'>;
}

export interface Comparison {
  /** What is compared, e.g. 'herd of 100 starts within 1 s'. */
  title: string;
  publishers: number;
  rounds: number;
  /** Time between two publishers' starts. */
  startGapMs: number;
  sides: Side[];
}

export interface SideSummary {
  label: string;
  publishers: number;
  rounds: number;
  /** First chunk sent → nginx's on_publish: the destination has it. */
  startLatencyMs: Spread;
  /** Steady-state CPU per media-second per broadcast (whole step when there is no steady state), mean over rounds. */
  serverNode: number;
  ffmpeg: number;
  /** Every round kept real time and every recording was within 2 %. */
  ok: boolean;
  misses: string[];
}

export interface ComparisonResult {
  title: string;
  sides: SideSummary[];
  steps: StepResult[];
}

const steady = (step: StepResult) => step.steadyCpu ?? step.cpu;

/** Runs `comparison` with `fixture`, one server process per side (each warmed up first). */
export async function runComparison(
  comparison: Comparison,
  fixture: Fixture,
  rtmp: RtmpServer,
  warmUp: (server: ServerProcess) => Promise<unknown>,
  streamPrefix: string,
  log: (line: string) => void,
): Promise<ComparisonResult> {
  const servers: ServerProcess[] = [];
  try {
    for (const side of comparison.sides) {
      const server = await startServerProcess({ allowedPrefix: rtmp.url(''), ...side.config });
      servers.push(server);
      await warmUp(server);
    }
    const steps: StepResult[] = [];
    let count = 0;
    for (let round = 0; round < comparison.rounds; round++) {
      for (const [i, side] of comparison.sides.entries()) {
        const step = await runStep({
          label: side.label,
          server: servers[i]!,
          rtmp,
          fixture,
          publishers: comparison.publishers,
          streamPrefix: `${streamPrefix}${count++}`,
          startGapMs: comparison.startGapMs,
        });
        const cpu = steady(step);
        const t = step.startTimeline;
        log(
          `${comparison.title} / ${side.label}: start ack p95 ${step.startAckMs.p95} ms, first packet p50/p95/max ` +
            `${step.startLatencyMs.p50}/${step.startLatencyMs.p95}/${step.startLatencyMs.max} ms, ` +
            `Node ${round1(cpu.serverNode)} + ffmpeg ${round1(cpu.ffmpeg)} %core/bc, ${step.realtime.kept ? 'real time' : 'LOST real time'}\n` +
            `  ms from each start, p50/max: received ${pair(t.received)}, spawn called ${pair(t.spawnCalled)}, returned ${pair(t.spawnReturned)}, ` +
            `acked ${pair(t.acked)}, first chunk sent ${pair(t.firstChunkSent)}, at ffmpeg ${pair(t.firstWrite)}, live ${pair(t.live)}; ` +
            `spawn blocked the loop ${pair(t.spawnSyncMs)} ms each (${step.spawnSyncTotalMs} ms in all); ` +
            `all live ${step.allLiveMs} ms after the first start; server loop delay p99/max ${step.loopDelayMs.server.p99}/${step.loopDelayMs.server.max} ms; ` +
            `${step.publishers} socket.io connections opened at once took ${step.connectMs} ms` +
            (step.errors.length ? `\n  failed, e.g. ${step.errors.slice(0, 2).join(' | ')}` : ''),
        );
        steps.push(step);
      }
    }
    const sides = comparison.sides.map((side): SideSummary => {
      const runs = steps.filter((step) => step.label === side.label);
      return {
        label: side.label,
        publishers: comparison.publishers,
        rounds: runs.length,
        startLatencyMs: spread(runs.flatMap((step) => step.startLatencySamples)),
        serverNode: round(mean(runs.map((step) => steady(step).serverNode)), 4),
        ffmpeg: round(mean(runs.map((step) => steady(step).ffmpeg)), 4),
        ok: runs.every((step) => step.realtime.kept && step.completeness.within2Percent),
        misses: [
          ...new Set(
            runs.flatMap((step) => [...step.realtime.misses, ...(step.completeness.within2Percent ? [] : ['a recording was incomplete'])]),
          ),
        ],
      };
    });
    return { title: comparison.title, sides, steps };
  } finally {
    await Promise.all(servers.map((server) => server.close().catch(() => {})));
  }
}

const round1 = (perBroadcast: number) => Math.round(perBroadcast * 1000) / 10;
const pair = (s: Spread) => `${s.p50}/${s.max}`;
const triple = (s: Spread) => `${s.p50 ?? '–'}/${s.p95 ?? '–'}/${s.max ?? '–'}`;

/** One row per side; the last column is each side's Node+ffmpeg CPU over the first side's. */
export function comparisonTable(result: ComparisonResult): string {
  const base = result.sides[0]!;
  return table(
    ['side', 'N×rounds', 'first packet p50/p95/max ms', 'Node %core/bc', 'ffmpeg %core/bc', 'Node+ffmpeg vs first', 'real time & complete'],
    result.sides.map((side) => [
      side.label,
      `${side.publishers}×${side.rounds}`,
      triple(side.startLatencyMs),
      round1(side.serverNode),
      round1(side.ffmpeg),
      `${Math.round(((side.serverNode + side.ffmpeg) / (base.serverNode + base.ffmpeg)) * 100) / 100}x`,
      side.ok ? 'yes' : `NO (${side.misses.join('; ')})`,
    ]),
  );
}
