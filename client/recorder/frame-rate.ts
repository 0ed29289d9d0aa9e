// The frame rate an H.264 encoder is told. Its constant-bitrate control spends `bitrate / framerate`
// bits on each frame, so a source that delivers fewer frames than the hint (a camera in low light,
// a tab short of CPU, a canvas) comes out under the bitrate asked for: 27 fps against a hint of
// 30 gave 2.2 Mb/s for 2.5 in Chromium. The meter counts the frames that reach the encoder and
// says when the hint should change.

/** How long a measurement runs, in microseconds of frame time. */
const WINDOW_US = 1_000_000;
/** A hint this far from the measured rate (a share of it) is corrected. */
const TOLERANCE = 0.1;

export class FrameRateMeter {
  #from: number | undefined;
  #frames = 0;

  /**
   * Counts a frame given to the encoder (its timestamp, µs). Returns the frame rate the encoder
   * should be told, from a third of `ceiling` to `ceiling`, once a 1-s window of frames says `hint` is more than 10 %
   * off; undefined otherwise.
   */
  frame(timestampUs: number, hint: number, ceiling: number): number | undefined {
    if (this.#from === undefined || timestampUs < this.#from) {
      this.#from = timestampUs;
      this.#frames = 0;
      return undefined;
    }
    this.#frames++;
    const elapsed = timestampUs - this.#from;
    if (elapsed < WINDOW_US) return undefined;
    // Never under a third of the ceiling: a source that stalls (a still screen share sends a frame
    // a second) would otherwise have the next frames, once it moves again, each take a second's bits.
    const measured = Math.min(ceiling, Math.max(ceiling / 3, (this.#frames * 1_000_000) / elapsed));
    this.#from = timestampUs;
    this.#frames = 0;
    return Math.abs(measured - hint) > measured * TOLERANCE ? Math.round(measured * 10) / 10 : undefined;
  }

  /** Starts a new measurement (the frames' rate changed on purpose, e.g. every other one dropped). */
  reset(): void {
    this.#from = undefined;
  }
}
