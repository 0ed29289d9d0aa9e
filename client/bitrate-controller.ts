// Adaptive bitrate, the decisions only: from the acknowledgements of sent chunks (their round trip
// and size) and what waits to be acknowledged, the video bitrate (and frame rate) the encoder
// should aim for so the upload keeps up. Pure and clock-free: the caller passes the time in.

/** What a BitrateController works between. */
export interface BitrateControllerOptions {
  /** The configured video bitrate: the target never goes above it, and climbs back to it. */
  maxBitsPerSecond: number;
  /** The floor: below it the frame rate is lowered instead. */
  minBitsPerSecond: number;
  /** What else shares the upload (the audio), subtracted from the measured throughput. */
  otherBitsPerSecond: number;
  /**
   * How long a new target takes to show in what is sent (Firefox's H.264 encoder: a new encoder at
   * the next keyframe, up to 2 s on, whose frames come out ~1.5 s late). No lower target comes
   * before it could show: the queue grows meanwhile whatever the target. Default 0.
   */
  effectMs?: number;
}

/** Which frames are encoded: every one (1), every other (2), every fourth (4). */
export type FrameDivisor = 1 | 2 | 4;

/** What the encoder should aim for. */
export interface BitrateTarget {
  videoBitsPerSecond: number;
  /** 1: every frame; 2, then 4: fewer frames, at the floor or with an encoder far above its target, and still congested. */
  frameDivisor: FrameDivisor;
}

/** How the upload looks at one moment. */
export interface UploadSample {
  /** Milliseconds, any origin (the same for every call). */
  now: number;
  /** Bytes sent or waiting to be sent and not yet acknowledged. */
  unackedBytes: number;
}

/** Decisions at most this often. */
export const TICK_MS = 500;
/** Throughput is measured over the acknowledgements of this long. */
const RATE_WINDOW_MS = 2_000;
/** The lowest round trip is remembered this long (the network's own delay, without queueing). */
const BASE_RTT_WINDOW_MS = 30_000;
/** Outstanding bytes and no acknowledgement for longer than this: the link stalls (chunks go every timeslice, 200 ms by default). */
const STALL_MS = 1_000;
/**
 * A queue that lasts no longer than the largest recent chunk takes to go through (a keyframe:
 * 100-140 KB from Firefox's encoder on a busy 720p picture, most of a second at 1.2 Mb/s) is that
 * chunk's, not congestion: the delay judged is the lowest of that long, up to this.
 */
const MAX_BURST_MS = 1_500;
/** Queueing beyond this (in time of the measured throughput) means the upload does not keep up. */
const CONGESTED_DELAY_MS = 400;
/** Below this the upload keeps up with room to spare, and the bitrate may climb. */
const CLEAR_DELAY_MS = 150;
/** After a decrease, another comes no sooner (its effect takes a moment to show). */
const DECREASE_HOLD_MS = 1_000;
/** After a decrease, climbing waits this long. */
const INCREASE_HOLD_MS = 2_000;
/** Each decision while clear raises the target by this factor (about +20 % a second). */
const INCREASE_FACTOR = 1.1;
/** Clear this long without a break, the climb speeds up to this factor (the link got faster), except near the last congestion. */
const CLEAR_STREAK_MS = 6_000;
const FAST_INCREASE_FACTOR = 1.2;
/** Near the video bitrate that got through at the last congestion (85 % to 110 % of it), the climb slows to this factor. */
const CAUTIOUS_FACTOR = 1.03;
/**
 * One decrease keeps at least this share of the target. Throughput is measured from the
 * acknowledgements, and a large chunk still on its way says nothing yet: Firefox's encoder hands
 * out ~1.3 s of frames at once after its first keyframe, and 1.5 s into a 1.2 Mb/s cap only audio
 * chunks had been acknowledged (40 kb/s "measured"), which sent the target to the floor at once.
 */
const MIN_DECREASE_KEEPS = 0.4;
/** Queued media is drained within about this long once the target is lowered. */
const DRAIN_MS = 8_000;
/** The queue shrinks when what waits now is under 95 % of what waited this long ago. */
const SHRINK_WINDOW_MS = 2_000;
/**
 * After the frames were cut, they are cut again no sooner than this: what the encoder makes must be
 * measured after the change, and Firefox's H.264 encoder hands its frames out ~1.5 s late.
 */
const FEWER_FRAMES_HOLD_MS = 4_000;
/**
 * Frames come back (each step doubles the video's rate) once the upload has been clear this long;
 * twice as long (up to MAX_MORE_FRAMES_HOLD_MS) each time they had to be cut again soon after.
 */
const MORE_FRAMES_HOLD_MS = 2_000;
const MAX_MORE_FRAMES_HOLD_MS = 32_000;
/** Frames cut within this long of coming back: they came back too soon. */
const TOO_SOON_MS = 10_000;

/**
 * Lowers the target when acknowledgements say the network cannot keep up (queueing delay: the
 * latest round trips above the lowest of the last 30 s, and no lower at any moment of the time the
 * largest recent chunk takes to go through; or no acknowledgement for over a second), to below the
 * measured throughput so the queue drains; raises it back while the latest round trips are clear.
 */
export class BitrateController {
  readonly #options: BitrateControllerOptions;
  #target: BitrateTarget;
  /** Acknowledgements of the last BASE_RTT_WINDOW_MS (the throughput counts those of the last RATE_WINDOW_MS). */
  #acks: { at: number; rttMs: number; bytes: number }[] = [];
  #firstAckAt: number | undefined;
  #lastDecision = -Infinity;
  #lastDecrease = -Infinity;
  #congestedAtFloorSince: number | undefined;
  #lastFewerFrames = -Infinity;
  #lastMoreFrames = -Infinity;
  #moreFramesHoldMs = MORE_FRAMES_HOLD_MS;
  /** Since when the upload has been clear without a break. */
  #clearSince: number | undefined;
  /** What waited unacknowledged at each decision of the last moments: whether the queue shrinks. */
  #queue: { at: number; bytes: number }[] = [];
  /** The video bitrate that got through when congestion was last seen: climbing near it goes slowly. */
  #ceiling = Infinity;

  /** After a decrease, another comes no sooner than this: DECREASE_HOLD_MS, or longer where a new target shows later. */
  readonly #decreaseHoldMs: number;

  constructor(options: BitrateControllerOptions) {
    this.#options = options;
    this.#decreaseHoldMs = Math.max(DECREASE_HOLD_MS, options.effectMs ?? 0);
    this.#target = { videoBitsPerSecond: options.maxBitsPerSecond, frameDivisor: 1 };
  }

  get target(): BitrateTarget {
    return this.#target;
  }

  /** A chunk of `bytes` was acknowledged `rttMs` after it was sent. */
  acknowledged(now: number, rttMs: number, bytes: number): void {
    this.#acks.push({ at: now, rttMs, bytes });
    this.#firstAckAt ??= now;
    const oldest = now - BASE_RTT_WINDOW_MS;
    while (this.#acks.length > 0 && this.#acks[0]!.at < oldest) this.#acks.shift();
  }

  /** Decides, at most every TICK_MS; returns the new target when it changed. */
  update(sample: UploadSample): BitrateTarget | undefined {
    const { now } = sample;
    // Timers fire a little early or late: a tick 480 ms after the last still counts.
    if (now - this.#lastDecision < TICK_MS * 0.8) return undefined;
    this.#lastDecision = now;
    this.#queue.push({ at: now, bytes: sample.unackedBytes });
    while (this.#queue.length > 0 && this.#queue[0]!.at < now - SHRINK_WINDOW_MS * 2) this.#queue.shift();
    const delay = this.#queueDelayMs(sample);
    if (delay === undefined) return undefined;
    const previous = this.#target;
    // Clear: the latest round trips say so (a keyframe's passage is no congestion, but no time to climb either).
    if (delay.latestMs < CLEAR_DELAY_MS) this.#clearSince ??= now;
    else this.#clearSince = undefined;
    if (delay.ms > CONGESTED_DELAY_MS) this.#decrease(now, delay.rate, sample.unackedBytes);
    else {
      this.#congestedAtFloorSince = undefined;
      if (delay.latestMs < CLEAR_DELAY_MS && now - this.#lastDecrease >= INCREASE_HOLD_MS) this.#increase(now);
    }
    const next = this.#target;
    return next.videoBitsPerSecond === previous.videoBitsPerSecond && next.frameDivisor === previous.frameDivisor ? undefined : next;
  }

  /**
   * The queueing delay (`ms`: the lowest of the time the largest recent chunk takes to go through;
   * `latestMs`: the latest round trips') and the throughput, once acknowledgements tell.
   */
  #queueDelayMs({ now, unackedBytes }: UploadSample): { ms: number; latestMs: number; rate: number } | undefined {
    const last = this.#acks.at(-1);
    // Nothing acknowledged yet: nothing to say.
    if (!last || this.#firstAckAt === undefined) return undefined;
    const baseRtt = Math.min(...this.#acks.map((ack) => ack.rttMs));
    const latest = this.#acks.slice(-3);
    const from = now - RATE_WINDOW_MS;
    const span = Math.max(TICK_MS, Math.min(RATE_WINDOW_MS, now - this.#firstAckAt));
    let bytes = 0;
    let largest = 0;
    for (const ack of this.#acks) {
      if (ack.at < from) continue;
      bytes += ack.bytes;
      largest = Math.max(largest, ack.bytes);
    }
    const rate = (bytes * 8 * 1_000) / span;
    // The latest round trips, unless the queue was gone at some moment of the time the largest chunk takes to go through.
    const latestRtt = latest.reduce((sum, ack) => sum + ack.rttMs, 0) / latest.length;
    const burstMs = rate > 0 ? Math.min(MAX_BURST_MS, (largest * 8 * 1_000) / rate) : 0;
    let rtt = latestRtt;
    for (const ack of this.#acks) if (ack.at >= now - burstMs) rtt = Math.min(rtt, ack.rttMs);
    // Bytes outstanding and no acknowledgement for long: the link stalled, and the latest round trips do not show it yet.
    const stalled = unackedBytes > 0 ? now - last.at - STALL_MS : 0;
    return { ms: Math.max(rtt - baseRtt, stalled), latestMs: Math.max(latestRtt - baseRtt, stalled), rate };
  }

  #decrease(now: number, rate: number, unackedBytes: number): void {
    const { minBitsPerSecond, otherBitsPerSecond } = this.#options;
    const current = this.#target.videoBitsPerSecond;
    // Already below what gets through, the queue drains: wait for it rather than go lower.
    const before = this.#queue.filter((entry) => entry.at <= now - SHRINK_WINDOW_MS).at(-1);
    const shrinking = before !== undefined && unackedBytes < before.bytes * 0.95;
    // What the recorder made meanwhile: acknowledged, plus what the queue grew by. An encoder well
    // above its target (a busy picture at a low bitrate) gets no lower by a lower target: fewer frames then.
    const acked = this.#acks.reduce((sum, ack) => (before && ack.at > before.at ? sum + ack.bytes : sum), 0);
    const made = before ? ((acked + unackedBytes - before.bytes) * 8 * 1_000) / (now - before.at) : 0;
    const overshoots = made > (current + otherBitsPerSecond) * 1.3;
    const { frameDivisor } = this.#target;
    const mayCutFrames = frameDivisor < 4 && now - this.#lastFewerFrames >= FEWER_FRAMES_HOLD_MS;
    if (mayCutFrames && overshoots && !shrinking && now - this.#lastDecrease >= this.#decreaseHoldMs) {
      this.#lastDecrease = now;
      this.#fewerFrames(now, current);
      return;
    }
    if (current <= minBitsPerSecond) {
      // At the floor and still congested, the queue not shrinking for a while: fewer frames.
      if (shrinking) this.#congestedAtFloorSince = undefined;
      else this.#congestedAtFloorSince ??= now;
      if (mayCutFrames && this.#congestedAtFloorSince !== undefined && now - this.#congestedAtFloorSince >= this.#decreaseHoldMs) {
        this.#fewerFrames(now, minBitsPerSecond);
      }
      return;
    }
    if (now - this.#lastDecrease < this.#decreaseHoldMs || (shrinking && now - this.#lastDecrease < INCREASE_HOLD_MS * 2)) return;
    // The first decrease of a congestion episode says where the link ends: what got through.
    if (now - this.#lastDecrease > INCREASE_HOLD_MS * 2 + TICK_MS)
      this.#ceiling = rate > 0 ? Math.min(current, rate - otherBitsPerSecond) : current;
    this.#lastDecrease = now;
    // Below what gets through, by enough to drain what waits in about DRAIN_MS.
    // (At most 30 % of the throughput goes to draining: the picture should not collapse for it.)
    const drain = Math.min(rate * 0.3, (unackedBytes * 8 * 1_000) / DRAIN_MS);
    const fits = rate > 0 ? rate * 0.95 - otherBitsPerSecond - drain : current * 0.7;
    const next = Math.max(minBitsPerSecond, current * MIN_DECREASE_KEEPS, Math.min(current * 0.9, fits));
    this.#target = { videoBitsPerSecond: Math.round(next), frameDivisor: this.#target.frameDivisor };
  }

  /** Every other frame, or every fourth if that was every other already. */
  #fewerFrames(now: number, videoBitsPerSecond: number): void {
    this.#lastFewerFrames = now;
    this.#moreFramesHoldMs =
      now - this.#lastMoreFrames < TOO_SOON_MS ? Math.min(MAX_MORE_FRAMES_HOLD_MS, this.#moreFramesHoldMs * 2) : MORE_FRAMES_HOLD_MS;
    this.#target = { videoBitsPerSecond, frameDivisor: this.#target.frameDivisor === 1 ? 2 : 4 };
  }

  #increase(now: number): void {
    const { maxBitsPerSecond } = this.#options;
    const { videoBitsPerSecond, frameDivisor } = this.#target;
    // Every frame again first (a step a decision), then a higher bitrate.
    if (frameDivisor > 1) {
      if (now - (this.#clearSince ?? now) < this.#moreFramesHoldMs) return;
      this.#lastMoreFrames = now;
      this.#clearSince = now;
      this.#target = { videoBitsPerSecond, frameDivisor: frameDivisor === 4 ? 2 : 1 };
      return;
    }
    if (videoBitsPerSecond >= maxBitsPerSecond) return;
    const near = videoBitsPerSecond >= this.#ceiling * 0.85 && videoBitsPerSecond < this.#ceiling * 1.1;
    const fast = now - (this.#clearSince ?? now) >= CLEAR_STREAK_MS;
    const next = Math.round(videoBitsPerSecond * (near ? CAUTIOUS_FACTOR : fast ? FAST_INCREASE_FACTOR : INCREASE_FACTOR));
    this.#target = { videoBitsPerSecond: Math.min(maxBitsPerSecond, next), frameDivisor: 1 };
  }
}
