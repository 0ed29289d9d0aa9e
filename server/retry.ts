// The one backoff policy for reconnecting a destination that dropped a broadcast.

/** The longest wait between two reconnections. */
const MAX_RETRY_DELAY_MS = 10_000;

/** How long to wait before reconnection number `attempt` (from 1): `firstDelayMs`, doubled each time, at most 10 s. */
export function retryDelay(firstDelayMs: number, attempt: number): number {
  return Math.min(firstDelayMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
}
