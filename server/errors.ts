// Turning whatever was thrown into the server's one error form, BroadcastError.
import { BroadcastError, ERRORS, isErrorCode, type ErrorCode } from '../client/protocol.js';

/** A BroadcastError keeps its code; anything else becomes `fallback` with the thrown message. */
export function toBroadcastError(caught: unknown, fallback: ErrorCode): BroadcastError {
  if (caught instanceof BroadcastError) return caught;
  // A BroadcastError from another copy of this package (a hook importing its own) keeps its code too.
  if (caught instanceof Error && caught.name === 'BroadcastError' && isErrorCode((caught as { code?: unknown }).code)) {
    return BroadcastError.from(caught as Error & { code: unknown });
  }
  const underneath = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
  const message = fallback === 'INTERNAL' ? ERRORS.INTERNAL : caught instanceof Error && caught.message ? caught.message : ERRORS[fallback];
  return new BroadcastError(fallback, message, underneath);
}

/** The message of whatever was thrown, for logs. */
export function describe(caught: unknown): string {
  return caught instanceof Error ? caught.message : String(caught);
}
