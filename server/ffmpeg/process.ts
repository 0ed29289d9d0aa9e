// One ffmpeg process: media in on stdin, FLV out (to a destination, a file, or stdout for the
// fan-out), progress on fd 3, log on stderr. It knows nothing of sockets, hooks or broadcasts.
import { execa } from 'execa';
import type { Readable, Writable } from 'node:stream';
import { BroadcastError, type BroadcastStats, type ErrorPayload } from '../../client/protocol.js';
import { createRedactor, redactDestination, redactRtmpUrls } from '../destination.js';
import { ffmpegEnvironment } from './environment.js';
import { mapFfmpegExit } from './exit.js';
import { LogLines } from './log-lines.js';
import { createProgressParser } from './progress.js';
import { nextSpawnTurn } from './spawn-turns.js';

/** How an ffmpeg ended: no error for a clean stop. */
export interface ProcessOutcome {
  error?: ErrorPayload;
}

export interface FfmpegProcessOptions {
  ffmpegPath: string;
  args: readonly string[];
  /** Where this ffmpeg writes: an RTMP destination (its key is kept out of every log line), or a local file. */
  destination: URL | string;
  /** Pipe ffmpeg's stdout (FLV for the fan-out) to {@link FfmpegProcess.output}; ignored by default. */
  pipeOutput?: boolean;
  /** After stdin closes, how long ffmpeg may take to flush before it gets SIGTERM. */
  stopTimeoutMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  killTimeoutMs: number;
  /** This ffmpeg takes over a broadcast another one began (so media before its first byte was real). */
  continues?: boolean;
  onStats(stats: BroadcastStats): void;
  /** Each line ffmpeg logs, already redacted. */
  onOutput(line: string): void;
}

/** What a broadcast needs of its ffmpeg; a fake one stands in for it in unit tests. */
export interface MediaProcess {
  /** The destination with its stream key hidden, or the file's path. */
  readonly destination: string;
  /** Resolves once ffmpeg has exited, with the error that ended it if any. */
  readonly ended: Promise<ProcessOutcome>;
  readonly stats: BroadcastStats | undefined;
  readonly published: boolean;
  readonly stopRequested: boolean;
  readonly pid: number | undefined;
  readonly output: Readable | undefined;
  /** Bytes written but not yet read by ffmpeg. */
  readonly buffered: number;
  write(chunk: Uint8Array, done: (error?: ErrorPayload) => void): void;
  stop(reason?: ErrorPayload): Promise<ProcessOutcome>;
}

const DETAIL_LINES = 5;

/** ffmpeg with media on stdin, its log on stderr and `-progress` on fd 3; nothing buffered in memory. */
function spawnFfmpeg(options: FfmpegProcessOptions) {
  return execa(options.ffmpegPath, options.args, {
    stdio: ['pipe', options.pipeOutput ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    forceKillAfterDelay: options.killTimeoutMs,
    // Only what ffmpeg needs: no BROADCAST_TOKEN or other secret of the server's environment.
    env: ffmpegEnvironment(),
    extendEnv: false,
  });
}

type Subprocess = ReturnType<typeof spawnFfmpeg>;

/** One running ffmpeg. Create with {@link FfmpegProcess.start}. */
export class FfmpegProcess implements MediaProcess {
  readonly destination: string;
  readonly ended: Promise<ProcessOutcome>;
  stats: BroadcastStats | undefined;

  readonly #subprocess: Subprocess;
  readonly #stdin: Writable;
  readonly #options: FfmpegProcessOptions;
  readonly #log: LogLines;
  #bytesWritten = 0;
  #exited = false;
  #stopTimer: NodeJS.Timeout | undefined;
  #stopRequested = false;
  #endError: ErrorPayload | undefined;

  /** Spawns ffmpeg; rejects with FFMPEG_NOT_FOUND when the binary cannot be started. */
  static async start(options: FfmpegProcessOptions): Promise<FfmpegProcess> {
    await nextSpawnTurn();
    const subprocess = spawnFfmpeg(options);
    const spawned = new Promise<undefined>((resolve) => subprocess.once('spawn', () => resolve(undefined)));
    const failedEarly = await Promise.race([spawned, subprocess]);
    if (failedEarly) {
      const error =
        mapFfmpegExit({
          exitCode: failedEarly.exitCode,
          signal: failedEarly.signal,
          spawnErrorCode: (failedEarly as { code?: string }).code,
          stopRequested: false,
          ffmpegPath: options.ffmpegPath,
          logTail: [],
        }) ?? new BroadcastError('FFMPEG_EXITED', 'ffmpeg exited before it started.').toJSON();
      throw new BroadcastError(error.code, error.message);
    }
    return new FfmpegProcess(options, subprocess);
  }

  private constructor(options: FfmpegProcessOptions, subprocess: Subprocess) {
    this.#options = options;
    this.#subprocess = subprocess;
    this.destination = typeof options.destination === 'string' ? options.destination : redactDestination(options.destination);
    this.#stdin = subprocess.stdin as Writable;
    // A write to a dead ffmpeg fails its callback; without a listener the same EPIPE would crash.
    this.#stdin.on('error', () => {});
    const parse = createProgressParser((stats) => {
      this.stats = stats;
      options.onStats(stats);
    });
    (subprocess.stdio[3] as Readable).on('data', parse);
    const redact = typeof options.destination === 'string' ? redactRtmpUrls : createRedactor(options.destination);
    this.#log = new LogLines(subprocess.stderr as Readable, redact, options.onOutput);
    this.ended = subprocess.then((result) => this.#onExit(result));
  }

  /** Whether the server asked this ffmpeg to end (so its exit is no surprise). */
  get stopRequested(): boolean {
    return this.#stopRequested;
  }

  /** Whether ffmpeg has written media to the destination (a progress report said so). */
  get published(): boolean {
    return (this.stats?.durationMs ?? 0) > 0;
  }

  get pid(): number | undefined {
    return this.#subprocess.pid;
  }

  /** ffmpeg's stdout, when {@link FfmpegProcessOptions.pipeOutput} asked for it. */
  get output(): Readable | undefined {
    return this.#subprocess.stdout ?? undefined;
  }

  get buffered(): number {
    return this.#stdin.writableLength;
  }

  /** Bytes handed to ffmpeg's stdin so far (those still {@link buffered} included). */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Hands one chunk to ffmpeg; `done` runs once the bytes left our buffer for ffmpeg's stdin. */
  write(chunk: Uint8Array, done: (error?: ErrorPayload) => void): void {
    if (this.#stopRequested) {
      // The reason the server is ending it, when it has one: the client hears it before `ended`.
      done(this.#endError ?? new BroadcastError('NOT_STARTED', 'The broadcast is ending and takes no more media.').toJSON());
      return;
    }
    if (this.#exited || !this.#stdin.writable) {
      // ffmpeg ended on its own (a destination that timed out…) and its exit is being read: the
      // client hears why, not NOT_STARTED ahead of the `ended` message that will say it.
      void this.ended.then((outcome) => done(outcome.error ?? new BroadcastError('FFMPEG_EXITED').toJSON()));
      return;
    }
    this.#bytesWritten += chunk.byteLength;
    this.#stdin.write(chunk, (error) => {
      if (!error) return done();
      // ffmpeg died: answer with the reason its exit gives, not the bare broken pipe.
      void this.ended.then((outcome) => done(outcome.error ?? new BroadcastError('FFMPEG_EXITED').toJSON()));
    });
  }

  /**
   * Ends ffmpeg gracefully: stdin closes so it flushes FLV and exits; if it has not exited within
   * the stop timeout it gets SIGTERM, then SIGKILL. `reason` is the error that made the server end
   * it (an idle client), if any: it becomes the outcome's error.
   */
  stop(reason?: ErrorPayload): Promise<ProcessOutcome> {
    if (!this.#stopRequested && !this.#exited) {
      this.#stopRequested = true;
      this.#endError = reason;
      this.#stdin.end();
      this.#stopTimer = setTimeout(() => this.#subprocess.kill('SIGTERM'), this.#options.stopTimeoutMs);
    }
    return this.ended;
  }

  #onExit(result: { exitCode?: number; signal?: string }): ProcessOutcome {
    this.#exited = true;
    clearTimeout(this.#stopTimer);
    const logTail = this.#log.tail;
    const exit = mapFfmpegExit({
      exitCode: result.exitCode,
      signal: result.signal,
      stopRequested: this.#stopRequested,
      ffmpegPath: this.#options.ffmpegPath,
      logTail,
    });
    // Stopped before ffmpeg could read a stream: with no media, or only the start of the
    // recording's header (a browser stopped at once), ffmpeg complains about the input's end,
    // which is neither bad media nor a failure of ours.
    const noMedia = this.#bytesWritten === 0 && !this.#options.continues;
    const stoppedUnread = this.#stopRequested && (noMedia || (!this.published && exit?.code === 'INVALID_MEDIA'));
    // ffmpeg reads a pipe that ends only when the server closes it: an exit of its own, even a
    // clean one, ended it unasked, and its log says why.
    const unasked =
      !this.#stopRequested && exit === undefined
        ? new BroadcastError('FFMPEG_EXITED', 'ffmpeg ended the broadcast on its own, before it was asked to stop.').toJSON()
        : undefined;
    const error = this.#endError ?? (stoppedUnread ? undefined : (exit ?? unasked));
    if (!error) return {};
    // What ffmpeg said last is the detail an operator (or, if allowed, the client) needs.
    // (Fields by name: a BroadcastError's message is not an own enumerable property to spread.)
    const { code, message } = error;
    if (logTail.length && !this.#endError) return { error: { code, message, detail: logTail.slice(-DETAIL_LINES).join('\n') } };
    return { error: 'detail' in error && error.detail !== undefined ? { code, message, detail: error.detail } : { code, message } };
  }
}
