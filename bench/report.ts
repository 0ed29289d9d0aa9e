// Plain-text tables of the results, for the terminal and for pasting into issues.
import { loadavg } from 'node:os';
import type { CpuPerBroadcast, StepResult } from './step.js';

type Cell = string | number | undefined;

/** Left-aligned first column, right-aligned numbers, a rule under the header. */
export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((row) => row.map((cell) => (cell === undefined || Number.isNaN(cell) ? '–' : String(cell))));
  const widths = headers.map((header, i) => Math.max(header.length, ...text.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...text.map(line)].join('\n');
}

/** CPU-seconds per media-second as "% of one core" (0.034 → 3.4). */
const core = (cpuSecondsPerSecond: number) => Math.round(cpuSecondsPerSecond * 1000) / 10;
const pair = (a: number, b: number) => `${Number.isNaN(a) ? '–' : a}/${Number.isNaN(b) ? '–' : b}`;

function realtimeCell(step: StepResult): string {
  return step.realtime.kept ? 'yes' : `NO (${step.realtime.misses.join('; ')})`;
}

function completeCell(step: StepResult): string {
  return `${step.completeness.within2Percent ? 'ok' : 'NO'} ${step.completeness.worstFramesPercent}%`;
}

/** Steady-state CPU when measured, else over the whole step. */
const steadyOr = (step: StepResult) => step.steadyCpu ?? step.cpu;

/** Whether real time held, and how long things took. */
export function realtimeTable(steps: StepResult[]): string {
  return table(
    [
      'step',
      'N',
      'slowest x',
      'steady ack p50/p95 ms',
      'late acks % steady/start',
      'send lag p95 ms',
      'start p50/p95 ms',
      'chunk→viewer p50/p95 ms',
      'held %',
      'complete',
      'real time',
    ],
    steps.map((s) => [
      s.label,
      s.publishers,
      s.realtime.minRatio,
      pair(s.realtime.steadyAckMs.p50, s.realtime.steadyAckMs.p95),
      pair(s.realtime.lateAckPercent.steady, s.realtime.lateAckPercent.startUp),
      s.realtime.sendLagMs.p95,
      pair(s.startLatencyMs.p50, s.startLatencyMs.p95),
      s.delay ? pair(s.delay.chunkToViewerMs.p50, s.delay.chunkToViewerMs.p95) : undefined,
      s.delay?.heldPercent,
      completeCell(s),
      realtimeCell(s),
    ]),
  );
}

/** Steady-state CPU, and in brackets over the whole step with start-ups. */
function cpuCell(s: StepResult, part: Exclude<keyof CpuPerBroadcast, 'machineBusyPercent'>): string {
  return s.steadyCpu ? `${core(s.steadyCpu[part])} (${core(s.cpu[part])})` : `(${core(s.cpu[part])})`;
}

/** How busy the machine was, and (in brackets) how much of that was not the bench's processes. */
function machineCell(cpu: CpuPerBroadcast): string {
  return `${cpu.machineBusyPercent} (${Math.round((cpu.machineBusyPercent - cpu.measuredPercent) * 10) / 10})`;
}

/** Where the CPU and memory go, per broadcast (steady state; in brackets, the whole step). */
export function resourceTable(steps: StepResult[]): string {
  return table(
    [
      'step',
      'N',
      'Node %core/bc',
      'ffmpeg %core/bc',
      'nginx %core/bc',
      'publishers %core/bc',
      'machine busy % (others)',
      'loop p99 ms srv/pub',
      'srv RSS MB',
      'heap KB/bc live/kept',
      'heap after MB',
      'ffmpeg RSS/private MB',
    ],
    steps.map((s) => [
      s.label,
      s.publishers,
      cpuCell(s, 'serverNode'),
      cpuCell(s, 'ffmpeg'),
      cpuCell(s, 'nginx'),
      cpuCell(s, 'publishers'),
      machineCell(s.steadyCpu ?? s.cpu),
      pair(s.loopDelayMs.server.p99, s.loopDelayMs.publishers.p99),
      s.memory.serverRssMb.peak,
      pair(s.memory.heapPerBroadcastKb, s.memory.heapRetainedPerBroadcastKb),
      s.memory.heapAfterMb,
      pair(s.memory.ffmpegRssMb, s.memory.ffmpegPrivateMb),
    ]),
  );
}

/** Passthrough and transcode at the same N, steady state. */
export function modeTable(pairs: { publishers: number; copy: StepResult; transcode: StepResult }[]): string {
  return table(
    ['N', 'passthrough Node+ffmpeg %core/bc', 'transcode Node+ffmpeg %core/bc', 'transcode / passthrough', 'transcode real time'],
    pairs.map(({ publishers, copy, transcode }) => {
      const [c, t] = [steadyOr(copy), steadyOr(transcode)];
      return [
        publishers,
        `${core(c.serverNode)}+${core(c.ffmpeg)}`,
        `${core(t.serverNode)}+${core(t.ffmpeg)}`,
        `${cpuRatio(copy, transcode)}x`,
        realtimeCell(transcode),
      ];
    }),
  );
}

/** Transcode's Node+ffmpeg CPU per broadcast over passthrough's (steady state). */
export function cpuRatio(copy: StepResult, transcode: StepResult): number {
  const [c, t] = [steadyOr(copy), steadyOr(transcode)];
  return Math.round(((t.serverNode + t.ffmpeg) / (c.serverNode + c.ffmpeg)) * 10) / 10;
}

/** One line per step for the log: real time, CPU per broadcast, machine load, completeness, latency. */
export function describeStep(step: StepResult): string {
  const core = (value: number) => `${Math.round(value * 1000) / 10}%`;
  const cpu = step.steadyCpu ?? step.cpu;
  const delay = step.delay ? `${step.delay.chunkToViewerMs.p50}/${step.delay.chunkToViewerMs.p95} ms` : '–';
  return (
    `${step.label} N=${step.publishers}: ${step.realtime.kept ? 'real time' : `LOST real time (${step.realtime.misses.join('; ')})`}, ` +
    `slowest ${step.realtime.minRatio}x, Node ${core(cpu.serverNode)} + ffmpeg ${core(cpu.ffmpeg)} of a core per broadcast, ` +
    `machine ${cpu.machineBusyPercent}% busy (load ${loadavg()[0]!.toFixed(2)}), ` +
    `recordings ${step.completeness.within2Percent ? 'complete' : 'INCOMPLETE'}, start p50 ${step.startLatencyMs.p50} ms, delay p50/p95 ${delay}`
  );
}

/** Where the CPU went in `step` (steady state), as shares of the whole machine. */
export function cpuShares(step: StepResult, cores: number): string {
  const cpu = step.steadyCpu ?? step.cpu;
  // In the steady state every broadcast streams one media-second per wall-second.
  const share = (perBroadcast: number) => `${Math.round(((perBroadcast * step.publishers) / cores) * 1000) / 10}%`;
  return (
    `server Node ${share(cpu.serverNode)}, ffmpeg ${share(cpu.ffmpeg)}, nginx ${share(cpu.nginx)}, ` +
    `publishers ${share(cpu.publishers)} of ${cores} cores; the machine was ${cpu.machineBusyPercent}% busy, ` +
    `${Math.round((cpu.machineBusyPercent - cpu.measuredPercent) * 10) / 10} points of it other processes`
  );
}

/**
 * Broadcasts the cores could carry at 100 % at the steady per-broadcast cost of `step`: with
 * everything on this machine (server, ffmpeg, nginx, publishers), and with the server alone.
 * Less noisy than the ramp on a shared machine, but optimistic: nothing runs well at 100 %.
 */
export function projectedCapacity(step: StepResult, cores: number): { fromStep: number; allOnThisMachine: number; serverOnly: number } {
  const cpu = step.steadyCpu ?? step.cpu;
  return {
    fromStep: step.publishers,
    allOnThisMachine: Math.floor(cores / (cpu.serverNode + cpu.ffmpeg + cpu.nginx + cpu.publishers)),
    serverOnly: Math.floor(cores / (cpu.serverNode + cpu.ffmpeg)),
  };
}
