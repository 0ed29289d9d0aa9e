// Notices a client that stopped sending media, without re-arming a timer for every chunk.

/** Calls `onIdle` once no {@link IdleTimer.touch} came for `timeoutMs`. */
export class IdleTimer {
  readonly #timeoutMs: number;
  readonly #onIdle: () => void;
  /** When the last chunk came (performance.now()); the timer reads it when it fires. */
  #lastTouch = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #cancelled = false;

  constructor(timeoutMs: number, onIdle: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onIdle = onIdle;
    this.#timer = setTimeout(() => this.#check(), timeoutMs);
  }

  /** A chunk came. */
  touch(): void {
    this.#lastTouch = performance.now();
  }

  cancel(): void {
    this.#cancelled = true;
    clearTimeout(this.#timer);
  }

  /** Fires if nothing came for the timeout; otherwise waits for what is left of it after the last chunk. */
  #check(): void {
    const left = this.#timeoutMs - (performance.now() - this.#lastTouch);
    if (left > 0) {
      this.#timer = setTimeout(() => this.#check(), left);
      return;
    }
    // Timers run before the loop reads its sockets: when the server was busy past the timeout (a
    // herd of ffmpeg spawns), a chunk may be waiting unread. Decide once pending input is read.
    const lastTouch = this.#lastTouch;
    setImmediate(() => {
      if (this.#cancelled) return;
      if (this.#lastTouch !== lastTouch) return this.#check();
      this.#onIdle();
    });
  }
}
