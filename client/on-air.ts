// The server's word that a destination took the broadcast (the `on-air` message, or the stats of a
// server that predates it): what `start()` waits for before the broadcast is live.
import type { BroadcastError, BroadcastStats } from './protocol.js';

/** The server's word that a destination took the broadcast, awaited by `start()`. */
export interface OnAir {
  promise: Promise<void>;
  resolve(): void;
  reject(error: BroadcastError): void;
  /** Recording runs and the broadcast waits only for this. */
  waiting: boolean;
}

export function onAirSignal(): OnAir {
  let settle!: Pick<OnAir, 'resolve' | 'reject'>;
  const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Nobody awaits it when the broadcast fails before recording starts.
  promise.catch(() => {});
  return { promise, ...settle, waiting: false };
}

/** Whether stats from a server without the `on-air` message show a destination publishing. */
export function showsOnAir(stats: BroadcastStats): boolean {
  return stats.destinations ? stats.destinations.some((each) => each.state === 'live') : stats.durationMs > 0;
}
