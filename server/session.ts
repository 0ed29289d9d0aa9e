// One broadcast's ffmpeg: chunks in on stdin, FLV out to the destination, progress on fd 3,
// log on stderr. It knows nothing of sockets or hooks; BroadcastServer wires those.
import { execa } from 'execa';
import type { Readable, Writable } from 'node:stream';
import { BroadcastError, ERRORS, type BroadcastStats, type DestinationStatus, type ErrorPayload, type VideoMode } from '../client/protocol.js';
import { createRedactor, redactDestination, redactRtmpUrls } from './destination.js';
import { ffmpegEnvironment } from './ffmpeg/environment.js';
import { mapFfmpegExit } from './ffmpeg/exit.js';
import { createProgressParser } from './ffmpeg/progress.js';

/** Where a broadcast is in its life. */
export type SessionState = 'live' | 'reconnecting' | 'stopping' | 'ended';

/** What `sessions()` reports about one broadcast. Holds no stream key. */
export interface SessionInfo {
  sessionId: string;
  remoteAddress: string;
  /** When the broadcast started, in milliseconds since the epoch. */
  startedAt: number;
  state: SessionState;
  /** The (first) destination with its stream key hidden: `rtmp://host/app/***`. */
  destination: string;
  /** Every destination of the broadcast, in the order given, with its own state and reconnections. */
  destinations: DestinationStatus[];
  /** The file the broadcast is recorded to, when the operator records it. */
  recording?: string;
  video: VideoMode;
  /** Media bytes received from the client so far. */
  bytesIn: number;
  /** The latest progress report from ffmpeg, if one came yet. */
  stats: BroadcastStats | undefined;
  /** The ffmpeg process id. */
  pid: number | undefined;
}

/** How the ffmpeg of a session ended: no error for a clean stop. */
export interface SessionOutcome {
  error?: ErrorPayload;
}

export interface SessionOptions {
  id: string;
  remoteAddress: string;
  ffmpegPath: string;
  args: readonly string[];
  /** Where this ffmpeg writes: an RTMP destination (its key is kept out of every log line), or a local file. */
  destination: URL | string;
  video: VideoMode;
  /** Pipe ffmpeg's stdout (FLV for the fan-out) to {@link Session.output}; ignored by default. */
  pipeOutput?: boolean;
  /** After stdin closes, how long ffmpeg may take to flush before it gets SIGTERM. */
  stopTimeoutMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  killTimeoutMs: number;
  /** No chunk for this long ends the broadcast with IDLE_TIMEOUT (Infinity: never). */
  idleTimeoutMs: number;
  /** Most bytes waiting for ffmpeg to read them; a client that ignores acks past this ends with BUFFER_FULL. */
  maxBufferedBytes: number;
  /** A broadcast longer than this ends with MAX_DURATION (Infinity: no limit). */
  maxDurationMs: number;
  /** When a restarted ffmpeg continues a broadcast: its start time and the bytes it had received. */
  continues?: { startedAt: number; bytesIn: number };
  onStats(stats: BroadcastStats): void;
  /** Each line ffmpeg logs, already redacted. */
  onOutput(line: string): void;
}

const LOG_TAIL_LINES = 20;
const DETAIL_LINES = 5;

/** ffmpeg with media on stdin, its log on stderr and `-progress` on fd 3; nothing buffered in memory. */
function spawnFfmpeg(options: SessionOptions) {
  return execa(options.ffmpegPath, options.args, {
    stdio: ['pipe', options.pipeOutput ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    forceKillAfterDelay: options.killTimeoutMs,
    env: ffmpegEnvironment(),
    extendEnv: false,
  });
}

type FfmpegProcess = ReturnType<typeof spawnFfmpeg>;

// Spawning blocks the event loop until the child has exec'd (libuv forks, then waits): a few ms
// alone, tens of ms while other ffmpegs crowd the CPUs. Starts that arrive together would spawn
// back to back in one turn of the loop (seen: 1.9 s blocked while 140 broadcasts started), and
// every live broadcast's chunks and acks would wait behind them. One spawn per turn of the loop
// lets the sockets be read between spawns.
let spawnTurns: Promise<void> = Promise.resolve();
/** Resolves when this caller may spawn: one spawn per turn of the event loop, in call order. Exported for tests. */
export function nextSpawnTurn(): Promise<void> {
  const turn = spawnTurns.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  spawnTurns = turn;
  return turn;
}

/** One running ffmpeg for one broadcast. Create with {@link Session.start}. */
export class Session {
  readonly id: string;
  readonly remoteAddress: string;
  readonly video: VideoMode;
  readonly destination: string;
  readonly startedAt: number;
  /** Resolves once ffmpeg has exited, with the error that ended the broadcast if any. */
  readonly ended: Promise<SessionOutcome>;
  bytesIn = 0;
  stats: BroadcastStats | undefined;
  state: SessionState = 'live';

  readonly #process: FfmpegProcess;
  readonly #stdin: Writable;
  readonly #options: SessionOptions;
  readonly #logTail: string[] = [];
  #idleTimer: NodeJS.Timeout | undefined;
  /** When the last chunk came (performance.now()); the idle timer reads it when it fires instead of being re-armed for every chunk. */
  #lastChunkAt = performance.now();
  readonly #durationTimer: NodeJS.Timeout | undefined;
  #stopTimer: NodeJS.Timeout | undefined;
  #stopRequested = false;
  #endError: ErrorPayload | undefined;

  /** Spawns ffmpeg; rejects with FFMPEG_NOT_FOUND when the binary cannot be started. */
  static async start(options: SessionOptions): Promise<Session> {
    await nextSpawnTurn();
    const subprocess = spawnFfmpeg(options);
    const spawned = new Promise<undefined>((resolve) => subprocess.once('spawn', () => resolve(undefined)));
    const failedEarly = await Promise.race([spawned, subprocess]);
    if (failedEarly) {
      const error = mapFfmpegExit({
        exitCode: failedEarly.exitCode,
        signal: failedEarly.signal,
        spawnErrorCode: (failedEarly as { code?: string }).code,
        stopRequested: false,
        ffmpegPath: options.ffmpegPath,
        logTail: [],
      }) ?? { code: 'FFMPEG_EXITED', message: 'ffmpeg exited before it started.' };
      throw new BroadcastError(error.code, error.message);
    }
    return new Session(options, subprocess);
  }

  private constructor(options: SessionOptions, subprocess: FfmpegProcess) {
    this.#options = options;
    this.#process = subprocess;
    this.id = options.id;
    this.remoteAddress = options.remoteAddress;
    this.video = options.video;
    this.destination = typeof options.destination === 'string' ? options.destination : redactDestination(options.destination);
    this.startedAt = options.continues?.startedAt ?? Date.now();
    this.bytesIn = options.continues?.bytesIn ?? 0;
    this.#stdin = subprocess.stdin as Writable;
    // A write to a dead ffmpeg fails its callback; without a listener the same EPIPE would crash.
    this.#stdin.on('error', () => {});
    if (Number.isFinite(options.idleTimeoutMs)) this.#idleTimer = setTimeout(() => this.#onIdleTimer(), options.idleTimeoutMs);
    if (Number.isFinite(options.maxDurationMs)) {
      const seconds = Math.round(options.maxDurationMs / 1000);
      const limit = seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
      const message = `The broadcast reached the longest duration the server allows (${limit}).`;
      this.#durationTimer = setTimeout(() => void this.stop({ code: 'MAX_DURATION', message }), options.maxDurationMs);
    }

    const parse = createProgressParser((stats) => {
      this.stats = stats;
      options.onStats(stats);
    });
    (subprocess.stdio[3] as Readable).on('data', parse);
    this.#readLog(subprocess.stderr as Readable, typeof options.destination === 'string' ? redactRtmpUrls : createRedactor(options.destination));
    this.ended = subprocess.then((result) => this.#onExit(result));
  }

  /** Whether the server asked this ffmpeg to end (so its exit is no surprise). */
  get stopRequested(): boolean {
    return this.#stopRequested;
  }

  /** Why the server is ending this broadcast (an idle client, a full buffer…), while ffmpeg flushes; undefined for a plain stop. */
  get endReason(): ErrorPayload | undefined {
    return this.#endError;
  }

  /** Whether ffmpeg has written media to the destination (a progress report said so). */
  get published(): boolean {
    return (this.stats?.durationMs ?? 0) > 0;
  }

  /** The ffmpeg process id. */
  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** ffmpeg's stdout, when {@link SessionOptions.pipeOutput} asked for it. */
  get output(): Readable | undefined {
    return this.#process.stdout ?? undefined;
  }

  /** Hands one chunk to ffmpeg; `done` runs once the bytes left our buffer for ffmpeg's stdin. */
  write(chunk: Uint8Array, done: (error?: ErrorPayload) => void): void {
    if (this.state !== 'live' || !this.#stdin.writable) {
      // The reason the server is ending it, when it has one: the client hears it before `ended`.
      done(this.#endError ?? { code: 'NOT_STARTED', message: 'The broadcast is ending and takes no more media.' });
      return;
    }
    if (this.#stdin.writableLength + chunk.byteLength > this.#options.maxBufferedBytes) {
      // Only a client that ignores the acks (or an ffmpeg that stalls) gets here: end, do not grow.
      const error: ErrorPayload = { code: 'BUFFER_FULL', message: ERRORS.BUFFER_FULL };
      void this.stop(error);
      done(error);
      return;
    }
    this.#lastChunkAt = performance.now();
    this.bytesIn += chunk.byteLength;
    this.#stdin.write(chunk, (error) => {
      if (!error) return done();
      // ffmpeg died: answer with the reason its exit gives, not the bare broken pipe.
      void this.ended.then((outcome) => done(outcome.error ?? { code: 'FFMPEG_EXITED', message: ERRORS.FFMPEG_EXITED }));
    });
  }

  /**
   * Ends the broadcast gracefully: stdin closes so ffmpeg flushes FLV and exits; if it has not
   * exited within the stop timeout it gets SIGTERM, then SIGKILL. `reason` is the error that made
   * the server end it (an idle client), if any.
   */
  stop(reason?: ErrorPayload): Promise<SessionOutcome> {
    if (this.state === 'live') {
      this.state = 'stopping';
      this.#stopRequested = true;
      this.#endError = reason;
      clearTimeout(this.#idleTimer);
      clearTimeout(this.#durationTimer);
      this.#stdin.end();
      this.#stopTimer = setTimeout(() => this.#process.kill('SIGTERM'), this.#options.stopTimeoutMs);
    }
    return this.ended;
  }

  /** What `sessions()` shows. */
  info(): SessionInfo {
    return {
      sessionId: this.id,
      remoteAddress: this.remoteAddress,
      startedAt: this.startedAt,
      state: this.state,
      destination: this.destination,
      destinations: [{ destination: this.destination, state: this.published ? 'live' : 'connecting', retries: 0, durationMs: this.stats?.durationMs ?? 0 }],
      video: this.video,
      bytesIn: this.bytesIn,
      stats: this.stats,
      pid: this.pid,
    };
  }

  /** Ends the broadcast if no chunk came for the idle timeout; otherwise waits for what is left of it after the last chunk. */
  #onIdleTimer(): void {
    const left = this.#options.idleTimeoutMs - (performance.now() - this.#lastChunkAt);
    if (left > 0) {
      this.#idleTimer = setTimeout(() => this.#onIdleTimer(), left);
      return;
    }
    // Timers run before the loop reads its sockets: when the server was busy past the timeout (a
    // herd of ffmpeg spawns), a chunk may be waiting unread. Decide once pending input is read.
    const lastChunkAt = this.#lastChunkAt;
    setImmediate(() => {
      if (this.state !== 'live') return;
      if (this.#lastChunkAt !== lastChunkAt) return this.#onIdleTimer();
      const seconds = Math.round(this.#options.idleTimeoutMs / 1000);
      void this.stop({ code: 'IDLE_TIMEOUT', message: `No media arrived for ${seconds} s, so the broadcast was ended.` });
    });
  }

  #onExit(result: { exitCode?: number; signal?: string }): SessionOutcome {
    this.state = 'ended';
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#durationTimer);
    clearTimeout(this.#stopTimer);
    const exit = mapFfmpegExit({
      exitCode: result.exitCode,
      signal: result.signal,
      stopRequested: this.#stopRequested,
      ffmpegPath: this.#options.ffmpegPath,
      logTail: this.#logTail,
    });
    // Stopped before ffmpeg could read a stream: with no media, or only the start of the
    // recording's header (a browser stopped at once), ffmpeg complains about the input's end,
    // which is neither bad media nor a failure of ours.
    const stoppedUnread = this.#stopRequested && (this.bytesIn === 0 || (!this.published && exit?.code === 'INVALID_MEDIA'));
    // ffmpeg reads a pipe that ends only when the server closes it: an exit of its own, even a
    // clean one, ended the broadcast unasked, and its log says why.
    const unasked: ErrorPayload | undefined =
      !this.#stopRequested && exit === undefined ? { code: 'FFMPEG_EXITED', message: 'ffmpeg ended the broadcast on its own, before it was asked to stop.' } : undefined;
    const error = this.#endError ?? (stoppedUnread ? undefined : (exit ?? unasked));
    if (!error) return {};
    // What ffmpeg said last is the detail an operator (or, if allowed, the client) needs.
    return { error: this.#logTail.length && !this.#endError ? { ...error, detail: this.#logTail.slice(-DETAIL_LINES).join('\n') } : error };
  }

  #readLog(stderr: Readable, redact: (text: string) => string): void {
    const take = (raw: string) => {
      if (!raw.trim()) return;
      const line = redact(raw);
      this.#logTail.push(line);
      if (this.#logTail.length > LOG_TAIL_LINES) this.#logTail.shift();
      this.#options.onOutput(line);
    };
    let partial = '';
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => {
      const lines = (partial + text).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      lines.forEach(take);
    });
    stderr.on('end', () => take(partial));
  }
}
