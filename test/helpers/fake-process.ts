// A stand-in for one ffmpeg process, for unit tests of what drives one (no process is spawned).
import type { BroadcastStats, ErrorPayload } from '../../client/protocol.js';
import type { MediaProcess, ProcessOutcome } from '../../server/ffmpeg/process.js';

/** Stands in for ffmpeg: keeps what it is written, exits when stopped or when told to. */
export class FakeProcess implements MediaProcess {
  readonly pid = 4242;
  readonly output = undefined;
  readonly written: Uint8Array[] = [];
  readonly ended: Promise<ProcessOutcome>;
  stats: BroadcastStats | undefined;
  stopRequested = false;
  buffered = 0;
  #exit!: (outcome: ProcessOutcome) => void;
  #exited = false;

  constructor(
    readonly request: { continues?: boolean; onStats(stats: BroadcastStats): void },
    readonly destination = 'rtmp://ingest.example/live/***',
  ) {
    this.ended = new Promise((resolve) => (this.#exit = resolve));
  }

  get published(): boolean {
    return (this.stats?.durationMs ?? 0) > 0;
  }

  write(chunk: Uint8Array, done: (error?: ErrorPayload) => void): void {
    if (this.#exited) {
      // As ffmpeg's stdin after it died: the chunk is answered with the reason its exit gives.
      void this.ended.then((outcome) => done(outcome.error ?? { code: 'FFMPEG_EXITED', message: 'ffmpeg exited' }));
      return;
    }
    this.written.push(chunk);
    done();
  }

  stop(reason?: ErrorPayload): Promise<ProcessOutcome> {
    this.stopRequested = true;
    this.exit(reason ? { error: reason } : {});
    return this.ended;
  }

  exit(outcome: ProcessOutcome): void {
    this.#exited = true;
    this.#exit(outcome);
  }

  /** A progress report: `durationMs` of media written to the destination. */
  progress(durationMs: number): void {
    this.stats = { durationMs, frames: durationMs / 33, fps: 30, kbps: 2500, speed: 1 };
    this.request.onStats(this.stats);
  }
}
