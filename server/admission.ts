// The one hook the core offers for running several processes: a gate every broadcast passes before
// its ffmpeg starts, shared by the processes (rtmp-broadcaster/redis, rtmp-broadcaster/cluster).

/** What a gate learns about a broadcast about to start. Holds no stream key. */
export interface AdmissionRequest {
  sessionId: string;
  remoteAddress: string;
  /** The destination with its stream key hidden: `rtmp://host/app/***`; several are separated by spaces. */
  destination: string;
  /** Milliseconds since the epoch. */
  requestedAt: number;
}

/**
 * Takes a slot before each broadcast's ffmpeg starts and gives it back once the broadcast ended.
 * The server's own `maxStreams` and `maxStreamsPerAddress` are checked first.
 */
export interface Admission {
  /** Takes a slot, or throws to refuse the broadcast (a `BroadcastError` keeps its code, e.g. TOO_MANY_STREAMS; anything else is INTERNAL). */
  acquire(request: AdmissionRequest): Promise<void> | void;
  /** Gives the slot back: the broadcast ended (its ffmpeg exited) or never started. Errors are logged, never thrown at a client. */
  release(sessionId: string): Promise<void> | void;
}

/** Throws a TypeError at construction for an `admission` option that is not a gate. */
export function checkAdmission(admission: unknown): void {
  const gate = admission as Partial<Admission> | undefined;
  if (gate !== undefined && (typeof gate?.acquire !== 'function' || typeof gate.release !== 'function')) {
    throw new TypeError('Expected `admission` to be an object with `acquire` and `release` functions');
  }
}
