// Load shedding: a start is admitted only while the server has measured headroom, and spawns are
// paced. Past capacity new starts get SERVER_BUSY (with a retry hint) and the live broadcasts keep
// real time, instead of every broadcast falling behind together.
//
// Why these signals, and why this way:
// - Only signals that mean the SERVER is short count. (1) The event loop's delay: our own process
//   cannot read chunks or send acks in time. (2) ffmpegs behind their input: media waits in OUR
//   pipe to an ffmpeg (its stdin backlog) across two samples, i.e. ffmpeg does not read what is
//   already here. A slow browser makes ffmpeg's `speed` drop below 1 with an empty pipe on our
//   side, so `speed` alone is not used, and an empty pipe never counts; a backlog on an idle CPU
//   is slow destinations, so (2) counts only with the CPU over 85 % of `maxCpu`. (3) The machine's
//   CPU (busy share of every core over the sample, from the kernel's counters, /proc/stat on
//   Linux) over `maxCpu`: no core is left for another ffmpeg, whoever uses them. Event-loop delay
//   alone tripped too late in the bench (at 70–96 live with the CPUs at 100 % for seconds, and
//   the broadcasts admitted first had lost real time by then).
// - Sustained evidence: a sample is taken every 500 ms; the server is out of headroom only when
//   3 in 4 samples over the last `sustainMs` (default 2 s) show pressure. One GC pause, one
//   spawn, one busy second does not refuse anyone.
// - A floor: while fewer than `minStreams` broadcasts are live or starting nothing waits and
//   nothing is refused, whatever the signals say (CI runs a handful of broadcasts on a loaded
//   2-core machine and must never see SERVER_BUSY).
// - Paced starts: spawning ffmpeg is a start's costliest moment, and a new broadcast's load shows
//   in the signals only once it runs. At most `concurrentStarts` starts are in flight, each holding
//   its turn until its broadcast has run `settleMs` (or failed); the rest queue for at most
//   `maxWaitMs`. A start still without headroom (or without a turn) when its wait ends is refused
//   with SERVER_BUSY. So a herd of 150 does not spawn at once, and overshoot past capacity is
//   bounded by what is admitted during one `sustainMs`.
import { cpus } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { BroadcastError } from '../client/protocol.js';
import type { Logger } from './logger.js';

/** The `loadShedding` server option: admission by measured headroom. */
export interface LoadSheddingOptions {
  /** Never wait or refuse while fewer broadcasts than this are live or starting. Default 10. */
  minStreams?: number;
  /** How long the pressure must last (3 samples in 4) before starts are held and refused. Default 2 000 ms. */
  sustainMs?: number;
  /** Mean event-loop delay over a sample that counts as pressure on its own. Default 100 ms. */
  maxEventLoopDelayMs?: number;
  /** Machine CPU busy share (0–1) that counts as pressure (85 % of it, with ffmpegs behind their input). Default 0.9. */
  maxCpu?: number;
  /** Share (0–1) of the live broadcasts whose ffmpeg must be behind its input (its pipe backlog over 256 KiB twice in a row). Default 0.1. */
  minBehindShare?: number;
  /** Starts that may spawn at once; each holds its turn until its broadcast has run `settleMs`. Default 3. */
  concurrentStarts?: number;
  /** How long a started broadcast holds its turn, so its load shows before the next start. Default 500 ms. */
  settleMs?: number;
  /** Longest a start waits for a turn and for headroom before SERVER_BUSY. Default 5 000 ms. */
  maxWaitMs?: number;
}

export const LOAD_SHEDDING_DEFAULTS: Required<LoadSheddingOptions> = {
  minStreams: 10,
  sustainMs: 2_000,
  maxEventLoopDelayMs: 100,
  maxCpu: 0.9,
  minBehindShare: 0.1,
  concurrentStarts: 3,
  settleMs: 500,
  maxWaitMs: 5_000,
};

/** How often the signals are sampled. */
export const SAMPLE_MS = 500;
/** A pipe to ffmpeg holding this much across two samples means that ffmpeg is behind its input. */
export const BEHIND_BYTES = 256 * 1024;

/** One sample of the signals. */
export interface Sample {
  /** Mean event-loop delay since the last sample, ms. */
  loopDelayMs: number;
  /** Busy share of the machine's CPUs since the last sample, 0–1. */
  cpuBusy: number;
  /** Live broadcasts. */
  live: number;
  /** Live broadcasts whose ffmpeg is behind its input. */
  behind: number;
}

/** Share of `maxCpu` over which ffmpegs behind their input count as pressure. */
const BEHIND_CPU_SHARE = 0.85;

/** Whether one sample shows the server short of headroom (the floor is checked apart). */
export function underPressure(sample: Sample, options: Required<LoadSheddingOptions>): boolean {
  if (sample.loopDelayMs >= options.maxEventLoopDelayMs || sample.cpuBusy >= options.maxCpu) return true;
  const behind = sample.live > 0 && sample.behind >= Math.max(1, Math.ceil(sample.live * options.minBehindShare));
  return behind && sample.cpuBusy >= options.maxCpu * BEHIND_CPU_SHARE;
}

/** Out of headroom: the last `sustainMs` of samples is complete and 3 in 4 of them show pressure. */
export function outOfHeadroom(recent: readonly boolean[], options: Required<LoadSheddingOptions>): boolean {
  const needed = Math.max(1, Math.round(options.sustainMs / SAMPLE_MS));
  if (recent.length < needed) return false;
  const window = recent.slice(-needed);
  return window.filter(Boolean).length >= Math.ceil(window.length * 0.75);
}

/** Checks and fills in the `loadShedding` option; undefined when it is off. */
export function resolveLoadShedding(value: unknown): Required<LoadSheddingOptions> | undefined {
  if (value === false) return undefined;
  if (value === undefined || value === true) return { ...LOAD_SHEDDING_DEFAULTS };
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`Expected \`loadShedding\` to be false or an object, got \`${String(value)}\``);
  }
  const resolved = { ...LOAD_SHEDDING_DEFAULTS };
  for (const [key, given] of Object.entries(value)) {
    if (!Object.hasOwn(LOAD_SHEDDING_DEFAULTS, key)) throw new TypeError(`Unknown \`loadShedding\` option \`${key}\``);
    const share = key === 'maxCpu' || key === 'minBehindShare';
    if (typeof given !== 'number' || !Number.isFinite(given) || given < 0 || (share && given > 1)) {
      throw new TypeError(
        `Expected \`loadShedding.${key}\` to be a ${share ? 'share from 0 to 1' : 'non-negative number'}, got \`${String(given)}\``,
      );
    }
    resolved[key as keyof LoadSheddingOptions] = given;
  }
  resolved.concurrentStarts = Math.max(1, Math.floor(resolved.concurrentStarts));
  return resolved;
}

/** Where the samples come from; the tests give their own. */
export type SignalSource = (live: readonly { buffered: number }[]) => Omit<Sample, 'live'>;

/** Testing seam: replaces the machine's signals for every server created afterwards (undefined restores them). */
export const headroomTesting: { source: (() => SignalSource) | undefined } = { source: undefined };

/** The real signals: event-loop delay, machine CPU, and ffmpeg pipes over BEHIND_BYTES twice in a row. */
export function machineSignals(): SignalSource & { stop(): void } {
  const delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let cpu = cpuTimes();
  let over = new WeakSet<object>();
  const source = (live: readonly { buffered: number }[]) => {
    const now = cpuTimes();
    const total = now.total - cpu.total;
    const cpuBusy = total > 0 ? (now.busy - cpu.busy) / total : 0;
    cpu = now;
    const loopDelayMs = Number.isFinite(delay.mean) ? delay.mean / 1e6 : 0;
    delay.reset();
    const nextOver = new WeakSet<object>();
    let behind = 0;
    for (const broadcast of live) {
      if (broadcast.buffered < BEHIND_BYTES) continue;
      if (over.has(broadcast)) behind++;
      nextOver.add(broadcast);
    }
    over = nextOver;
    return { loopDelayMs, cpuBusy, behind };
  };
  return Object.assign(source, { stop: () => delay.disable() });
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/** Paces starts and refuses them with SERVER_BUSY while the server is out of headroom. */
export class Headroom {
  readonly #options: Required<LoadSheddingOptions>;
  readonly #live: () => readonly { buffered: number }[];
  readonly #source: SignalSource;
  readonly #stopSource: (() => void) | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #log: Logger | undefined;
  /** Whether the last sample left the server out of headroom, for logging the changes only. */
  #wasBusy = false;
  #recent: boolean[] = [];
  #sampledAt = performance.now();
  #turns = 0;
  #starting = 0;
  readonly #waiting = new Set<() => void>();

  /** A Headroom for the `loadShedding` option, or undefined when it is off. */
  static create(option: unknown, live: () => readonly { buffered: number }[], log?: Logger): Headroom | undefined {
    const options = resolveLoadShedding(option);
    return options && new Headroom(options, live, log);
  }

  constructor(options: Required<LoadSheddingOptions>, live: () => readonly { buffered: number }[], log?: Logger) {
    this.#options = options;
    this.#live = live;
    this.#log = log;
    const machine = headroomTesting.source ? undefined : machineSignals();
    this.#source = headroomTesting.source?.() ?? machine!;
    this.#stopSource = machine?.stop;
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS).unref();
  }

  /** Whether the server is out of headroom now (sustained pressure, past the floor). */
  get busy(): boolean {
    return !this.#floor() && outOfHeadroom(this.#recent, this.#options);
  }

  /**
   * Waits for a turn to start and for headroom; throws SERVER_BUSY when neither came within
   * `maxWaitMs`, or the signal's reason when it aborts. Call the returned function once the
   * broadcast runs (`true`: it holds its turn `settleMs` more) or failed (`false`).
   */
  async admit(signal: AbortSignal): Promise<(started: boolean) => void> {
    this.#starting++;
    const deadline = Date.now() + this.#options.maxWaitMs;
    try {
      while (!this.#floor() && (outOfHeadroom(this.#recent, this.#options) || this.#turns >= this.#options.concurrentStarts)) {
        const left = deadline - Date.now();
        if (left <= 0) throw this.#refusal();
        await this.#wait(Math.min(left, SAMPLE_MS), signal);
      }
    } catch (caught) {
      this.#starting--;
      throw caught;
    }
    this.#turns++;
    let done = false;
    return (started) => {
      if (done) return;
      done = true;
      this.#starting--;
      const free = () => {
        this.#turns--;
        this.#wake();
      };
      if (started && this.#options.settleMs > 0) setTimeout(free, this.#options.settleMs).unref();
      else free();
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#stopSource?.();
    this.#wake();
  }

  /** At or under the floor (this start counted) nothing waits: a handful of broadcasts is never paced or refused. */
  #floor(): boolean {
    return this.#live().length + this.#starting <= this.#options.minStreams;
  }

  #refusal(): BroadcastError {
    const retryAfterMs = Math.max(this.#options.sustainMs, 1_000) * (1 + Math.random());
    return new BroadcastError('SERVER_BUSY', undefined, undefined, Math.round(retryAfterMs));
  }

  #sample(): void {
    // A loop blocked for seconds fires the timer late, and a second tick right after it sees an
    // almost empty histogram (seen in the bench: 1 184 ms, then 0): the lateness is delay too, and
    // a tick too soon after the last one is no sample.
    const elapsed = performance.now() - this.#sampledAt;
    if (elapsed < SAMPLE_MS / 2) return;
    this.#sampledAt = performance.now();
    const live = this.#live();
    const signals = this.#source(live);
    const sample = { ...signals, loopDelayMs: Math.max(signals.loopDelayMs, elapsed - SAMPLE_MS), live: live.length };
    this.#recent.push(underPressure(sample, this.#options));
    const keep = Math.max(1, Math.round(this.#options.sustainMs / SAMPLE_MS));
    if (this.#recent.length > keep) this.#recent = this.#recent.slice(-keep);
    const busy = this.busy;
    if (busy !== this.#wasBusy) {
      const fields = {
        loopDelayMs: Math.round(sample.loopDelayMs),
        cpuBusy: Math.round(sample.cpuBusy * 100) / 100,
        behind: sample.behind,
        live: sample.live,
      };
      if (busy) this.#log?.warn('load shedding: out of headroom, new starts wait then get SERVER_BUSY', fields);
      else this.#log?.info('load shedding: headroom is back', fields);
    }
    this.#wasBusy = busy;
    this.#wake();
  }

  #wait(ms: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiting.delete(done);
        signal.removeEventListener('abort', aborted);
      };
      const done = () => {
        cleanup();
        resolve();
      };
      const aborted = () => {
        cleanup();
        reject(signal.reason);
      };
      const timer = setTimeout(done, ms);
      this.#waiting.add(done);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiting]) waiter();
  }
}
