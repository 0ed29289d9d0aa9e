// Waiting for the operator's code (a hook) without waiting forever: a time limit, and a signal
// that gives up at once (the client left, the server is closing). The code itself cannot be
// stopped; only the server stops waiting for it.

/** How a time limit reads in a message: "10 s", "0.5 s". */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * Settles as `work` does, unless `signal` aborts first (rejects with its reason) or `timeoutMs`
 * passes first (rejects with what `late` returns).
 */
export function settleWithin<T>(
  work: PromiseLike<T> | T,
  options: { timeoutMs: number; late: () => Error; signal?: AbortSignal | undefined },
): Promise<T> {
  const { timeoutMs, late, signal } = options;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const abort = () => settle(() => reject(signal?.reason));
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => settle(() => reject(late())), timeoutMs) : undefined;
    const settle = (then: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      then();
    };
    signal?.addEventListener('abort', abort, { once: true });
    Promise.resolve(work).then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
