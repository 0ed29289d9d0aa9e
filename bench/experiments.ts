// The variants measured beside the baseline: ffmpeg flags the server does not use (added by
// bench/ffmpeg-wrapper.ts) and a shorter timeslice. Each runs once per round, rounds interleaved,
// and the rounds are pooled, so a burst of load on the machine does not decide a comparison.
import type { ExtraFlags } from './ffmpeg-wrapper.js';
import type { Transport } from './publisher.js';
import { mean, round, spread, type Spread } from './stats.js';
import type { StepResult } from './step.js';

export interface Variant {
  label: string;
  timesliceMs: 100 | 200 | 250;
  flags: ExtraFlags;
  transport?: Transport;
}

export const VARIANTS: Variant[] = [
  { label: 'baseline (250 ms)', timesliceMs: 250, flags: {} },
  { label: 'timeslice 200 ms', timesliceMs: 200, flags: {} },
  { label: 'timeslice 100 ms', timesliceMs: 100, flags: {} },
  { label: 'in: -fflags nobuffer', timesliceMs: 250, flags: { input: ['-fflags', 'nobuffer'] } },
  { label: 'in: -avioflags direct', timesliceMs: 250, flags: { input: ['-avioflags', 'direct'] } },
  { label: 'out: -flush_packets 1', timesliceMs: 250, flags: { output: ['-flush_packets', '1'] } },
  // Lets the muxer write a video packet once the next packet is queued, instead of holding it
  // until an AAC packet at least as late arrives (see bench/README.md, "Why frames wait").
  { label: 'out: -max_interleave_delta 1', timesliceMs: 250, flags: { output: ['-max_interleave_delta', '1'] } },
  { label: 'out: -aac_coder fast', timesliceMs: 250, flags: { output: ['-aac_coder', 'fast'] } },
  // What a browser falls back to where websockets are blocked: Engine.IO sends binary as base64 there.
  { label: 'socket.io long-polling', timesliceMs: 250, flags: {}, transport: 'polling' },
];

/** One variant over every round. */
export interface VariantSummary {
  label: string;
  publishers: number;
  rounds: number;
  startLatencyMs: Spread;
  chunkToViewerMs: Spread;
  captureToViewerMs: Spread;
  heldPercent: number;
  /** Steady-state CPU per media-second per broadcast, mean over the rounds. */
  serverNode: number;
  ffmpeg: number;
  /** Every round kept real time and every recording was within 2 %. */
  ok: boolean;
  /** Why a round was not ok. */
  misses: string[];
}

/** Pools the rounds of each variant (steps are matched by label). */
export function summarizeVariants(steps: StepResult[]): VariantSummary[] {
  return VARIANTS.flatMap((variant) => {
    const runs = steps.filter((step) => step.label === variant.label);
    if (runs.length === 0) return [];
    const delays = runs.flatMap((step) => (step.delay ? [step.delay] : []));
    const chunkToViewer = delays.flatMap((delay) => delay.samples.chunkToViewerMs);
    const held = chunkToViewer.filter((ms) => ms > variant.timesliceMs / 2).length;
    const cpu = runs.map((step) => step.steadyCpu ?? step.cpu);
    return [
      {
        label: variant.label,
        publishers: runs[0]!.publishers,
        rounds: runs.length,
        startLatencyMs: spread(runs.flatMap((step) => step.startLatencySamples)),
        chunkToViewerMs: spread(chunkToViewer),
        captureToViewerMs: spread(delays.flatMap((delay) => delay.samples.captureToViewerMs)),
        heldPercent: round((held / Math.max(1, chunkToViewer.length)) * 100, 1),
        serverNode: round(mean(cpu.map((c) => c.serverNode)), 4),
        ffmpeg: round(mean(cpu.map((c) => c.ffmpeg)), 4),
        ok: runs.every((step) => step.realtime.kept),
        misses: [...new Set(runs.flatMap((step) => step.realtime.misses))],
      },
    ];
  });
}
