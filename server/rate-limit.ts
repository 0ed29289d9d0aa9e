// Counts events per key over a sliding minute, to refuse a remote address that connects too often.
import type { IncomingMessage } from 'node:http';

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

type AllowRequest = (req: IncomingMessage, callback: (error: string | null | undefined, allowed: boolean) => void) => void;

/**
 * engine.io's `allowRequest` for every new connection, before it joins the broadcast namespace:
 * `maxConnectionsPerMinute` there tells a page `RATE_LIMITED`, but a client that never joins would
 * not meet it. So every connection is counted here too, and refused outright past twice the limit
 * (at least the limit + 10): an honest page never gets that far, it is told RATE_LIMITED first and stops. An operator's own
 * `allowRequest` (socket.io options) runs after.
 */
export function connectionGate(maxPerMinute: number, own?: AllowRequest): AllowRequest | undefined {
  if (maxPerMinute === Infinity) return own;
  const limiter = new RateLimiter(Math.max(maxPerMinute * 2, maxPerMinute + 10));
  return (req, callback) => {
    if (!limiter.take(req.socket.remoteAddress ?? '')) return callback('Too many connection attempts from this address.', false);
    if (own) own(req, callback);
    else callback(null, true);
  };
}
