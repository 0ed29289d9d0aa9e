// Counts events per key over a sliding minute, to refuse a remote address that connects too often.

/** A per-key counter of events in the last `windowMs`; memory is bounded by the keys seen in that window. */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #hits = new Map<string, number[]>();

  constructor(limit: number, windowMs = 60_000) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Records one event for `key`; false when it is over the limit (the refused event is not counted). */
  take(key: string, now = Date.now()): boolean {
    const since = now - this.#windowMs;
    const recent = (this.#hits.get(key) ?? []).filter((at) => at > since);
    if (recent.length >= this.#limit) {
      this.#hits.set(key, recent);
      return false;
    }
    recent.push(now);
    this.#hits.set(key, recent);
    if (this.#hits.size > 10_000) this.#prune(since);
    return true;
  }

  #prune(since: number): void {
    for (const [key, hits] of this.#hits) {
      if (hits.every((at) => at <= since)) this.#hits.delete(key);
    }
  }
}
