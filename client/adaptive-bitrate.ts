// Adaptive bitrate, wired: feeds a BitrateController the acknowledgements of sent chunks and, every
// tick, what waits unacknowledged, and sets the recorder's video bitrate (and frame rate) to its
// target. Only recorders that can change bitrate mid-stream follow it (WebCodecs; not MediaRecorder).
import { BitrateController, TICK_MS } from './bitrate-controller.js';
import type { StreamRecorder } from './recorder/create.js';

/** The options adaptive bitrate reads. */
export interface AdaptiveBitrateOptions {
  adaptiveBitrate: boolean;
  videoBitsPerSecond: number;
  minVideoBitsPerSecond: number;
  audioBitsPerSecond: number;
}

/** One client's adaptive bitrate, started with each broadcast's recorder and stopped at its end. */
export class AdaptiveBitrate {
  #controller: BitrateController | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The video bitrate the encoder is asked for; undefined before the first broadcast. */
  #target: number | undefined;

  /** For the client's stats: the video bitrate the encoder is asked for now. */
  get stats(): { targetVideoBitsPerSecond?: number } {
    return this.#target === undefined ? {} : { targetVideoBitsPerSecond: this.#target };
  }

  /** The server acknowledged a chunk of `bytes`, `rttMs` after it was sent. */
  readonly acknowledged = (rttMs: number, bytes: number): void => {
    this.#controller?.acknowledged(performance.now(), rttMs, bytes);
  };

  /**
   * Follows the upload with `recorder`, from `options.videoBitsPerSecond`, until {@link stop}: `sender` says what waits to be
   * acknowledged; while `held` (the connection is down) nothing is decided.
   */
  start(options: AdaptiveBitrateOptions, recorder: StreamRecorder, sender: { readonly unackedBytes: number }, held: () => boolean): void {
    this.stop();
    const { adaptiveBitrate, videoBitsPerSecond, minVideoBitsPerSecond, audioBitsPerSecond } = options;
    this.#target = videoBitsPerSecond;
    if (!adaptiveBitrate || !recorder.setVideoBitrate) return;
    const controller = new BitrateController({
      maxBitsPerSecond: videoBitsPerSecond,
      minBitsPerSecond: Math.min(minVideoBitsPerSecond, videoBitsPerSecond),
      otherBitsPerSecond: audioBitsPerSecond,
      effectMs: recorder.bitrateEffectMs ?? 0,
    });
    this.#controller = controller;
    this.#timer = setInterval(() => {
      if (held()) return;
      const next = controller.update({ now: performance.now(), unackedBytes: sender.unackedBytes });
      if (!next) return;
      recorder.setVideoBitrate?.(next.videoBitsPerSecond, next.frameDivisor);
      this.#target = next.videoBitsPerSecond;
    }, TICK_MS);
  }

  /** Stops following; the next broadcast starts again from the configured bitrate. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#controller = undefined;
  }
}
