// One broadcast's life, from its start to its end reported once: chunk numbers, the client's socket
// (replaced on resume), the media gate, the idle and duration timers, and its outputs: one ffmpeg
// publishing itself (replaced when the destination drops it), or one feeding a fan-out of copy-only ffmpegs.
import { EventEmitter } from 'node:events';
import { BroadcastError, type BroadcastStats, type DestinationStatus, type ErrorPayload, type VideoMode } from '../client/protocol.js';
import { ChunkOrder } from './chunk-order.js';
import { isToken, newResumeToken } from './resume-token.js';
import { toBroadcastError } from './errors.js';
import type { FanOut } from './fanout.js';
import type { MediaProcess } from './ffmpeg/process.js';
import type { BroadcastSocket, HookContext } from './hooks.js';
import { askForNewRecording, MediaGate } from './restart-point.js';
import { retryDelay } from './retry.js';
import type { BroadcastEvents, BroadcastOptions } from './broadcast-options.js';
import type { DestinationRef, SessionInfo, StopSummary } from './session-info.js';
import { IdleTimer } from './idle-timer.js';

/**
 * The one state machine of a broadcast: live → stopping → ended (asked to stop, or its ffmpeg exited);
 * live → reconnecting (its destination dropped it; no ffmpeg) → restoring (a new ffmpeg, not yet publishing) → live.
 */
type Phase = 'live' | 'reconnecting' | 'restoring' | 'stopping' | 'ended';

/** One broadcast from start to end. Create with {@link Broadcast.start}. */
export class Broadcast extends EventEmitter<BroadcastEvents> {
  readonly id: string;
  readonly resumeToken = newResumeToken();
  readonly startedAt = Date.now();
  readonly video: VideoMode;
  readonly recording: string | undefined;
  /** Resolves with the error that ended the broadcast (none for a clean stop) once its end is reported. */
  readonly done: Promise<ErrorPayload | undefined>;
  context: HookContext;
  readonly #options: BroadcastOptions;
  readonly #gate: MediaGate;
  #phase: Phase = 'live';
  #process!: MediaProcess;
  #socket: BroadcastSocket | undefined;
  #bytesIn = 0;
  readonly #order = new ChunkOrder();
  #retries = 0;
  /** A destination took the broadcast and the client was told (`on-air`, once). */
  #onAir = false;
  #disconnected = false;
  /** Why the server is ending the broadcast (an idle client, a full buffer…), while ffmpeg flushes. */
  #endReason: ErrorPayload | undefined;
  #idle: IdleTimer | undefined;
  #durationTimer: NodeJS.Timeout | undefined;
  #detachTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Per ffmpeg, settles once its exit has been handled (the broadcast reconnecting or ended). */
  readonly #exits = new WeakMap<MediaProcess, Promise<void>>();
  #settle!: (error: ErrorPayload | undefined) => void;

  /** Starts the broadcast's ffmpeg; rejects (with its outputs ended) when it cannot run. */
  static async start(options: BroadcastOptions): Promise<Broadcast> {
    const broadcast = new Broadcast(options);
    try {
      broadcast.#process = await broadcast.#spawn(false);
    } catch (caught) {
      await options.fanOut?.end();
      throw caught;
    }
    broadcast.#begin();
    return broadcast;
  }

  private constructor(options: BroadcastOptions) {
    super();
    this.#options = options;
    this.context = options.context;
    this.id = options.context.sessionId;
    this.#socket = options.context.socket;
    this.video = options.video;
    this.recording = options.recording;
    this.#gate = new MediaGate(options.inputFormat);
    this.done = new Promise((resolve) => (this.#settle = resolve));
  }

  /** The client's current connection; undefined while it is away within the resume window. */
  get socket(): BroadcastSocket | undefined {
    return this.#socket;
  }

  get lastSeq(): number {
    return this.#order.lastSeq;
  }

  /** Whether the broadcast has not ended yet (it may be stopping). */
  get running(): boolean {
    return this.#phase !== 'ended';
  }

  /** Whether it takes media (and a resuming client): not once it is stopping. */
  get accepting(): boolean {
    return this.#phase !== 'stopping' && this.#phase !== 'ended';
  }

  /** Why the server is ending the broadcast, while it stops; undefined for a plain stop. */
  get endReason(): ErrorPayload | undefined {
    return this.#endReason;
  }

  /** The ffmpeg process id. */
  get pid(): number | undefined {
    return this.#process.pid;
  }
  /** Media bytes waiting in the pipe to its ffmpeg (what ffmpeg has not read yet). */
  get buffered(): number {
    return this.#process.buffered;
  }

  /** Compares a resume token in constant time. */
  hasToken(token: string): boolean {
    return isToken(this.resumeToken, token);
  }

  /**
   * Takes the client's next chunk (numbered `seq`, when the client numbers them); `done` answers
   * it once ffmpeg has it. Throws INVALID_REQUEST for a chunk out of order, or numbered unlike the first.
   */
  write(chunk: Uint8Array, seq: number | undefined, done: (error?: ErrorPayload) => void): void {
    // A resend after a resume: ffmpeg already has it, and must get it exactly once.
    if (!this.#order.accept(seq)) return done();
    this.#idle?.touch();
    const media = this.#phase === 'reconnecting' ? undefined : this.#gate.pass(chunk);
    if (media === undefined || media.byteLength === 0) return done();
    if (this.#process.buffered + media.byteLength > this.#options.maxBufferedBytes) {
      // Only a client that ignores the acks (or an ffmpeg that stalls) gets here: end, do not grow.
      const error = new BroadcastError('BUFFER_FULL').toJSON();
      void this.stop(error);
      return done(error);
    }
    this.#bytesIn += media.byteLength;
    const process = this.#process;
    process.write(media, (error) => {
      if (!error) return done();
      // ffmpeg died under this chunk. Once its exit is handled, a destination being reconnected
      // keeps the broadcast going (the new ffmpeg starts at a restart point, not at this chunk):
      // the chunk counts as taken. Answering with the exit's error would end a broadcast that lives on.
      const exit = this.#exits.get(process);
      if (!exit) return done(error);
      void exit.then(() => done(this.#phase === 'ended' ? error : undefined));
    });
  }

  /**
   * Ends the broadcast gracefully (its ffmpeg flushes) and resolves once the end has been
   * reported, with the error that ended it. `reason` is why the server ends it, if not asked by the client.
   */
  stop(reason?: ErrorPayload): Promise<ErrorPayload | undefined> {
    if (this.#phase === 'reconnecting') {
      this.#finish(reason);
    } else if (this.#phase === 'live' || this.#phase === 'restoring') {
      this.#phase = 'stopping';
      this.#endReason = reason;
      void this.#process.stop(reason);
    }
    return this.done;
  }

  /** Ends a broadcast whose client left (before its start was answered, or with no resume window). */
  abandon(): Promise<ErrorPayload | undefined> {
    this.#disconnected = true;
    return this.stop();
  }

  /** The client's connection dropped: the broadcast waits `windowMs` for it to resume, then ends. */
  detach(socket: BroadcastSocket, windowMs: number): void {
    if (this.#socket !== socket || !this.accepting) return;
    this.#socket = undefined;
    if (windowMs === 0) {
      this.#options.log.info('client disconnected, ending its broadcast', { sessionId: this.id });
      void this.abandon();
      return;
    }
    this.#options.log.info('client disconnected, waiting for it to resume', { sessionId: this.id, resumeWindowMs: windowMs });
    this.#detachTimer = setTimeout(() => {
      if (this.#socket) return;
      this.#disconnected = true;
      const seconds = Math.round(windowMs / 1000);
      void this.stop(
        new BroadcastError('DISCONNECTED', `The client did not come back within ${seconds} s of losing its connection.`).toJSON(),
      );
    }, windowMs);
  }

  /** The client resumed on a new connection; the old one, if still open, is closed. */
  attach(socket: BroadcastSocket, remoteAddress: string): void {
    const previous = this.#socket;
    clearTimeout(this.#detachTimer);
    this.#socket = socket;
    this.context = { ...this.context, socket, remoteAddress };
    // The old connection may not have noticed the drop yet; the client knows better.
    if (previous && previous !== socket) previous.disconnect(true);
  }

  /** What `sessions()` shows. */
  info(): SessionInfo {
    const process = this.#process;
    const phase = this.#phase;
    return {
      sessionId: this.id,
      remoteAddress: this.context.remoteAddress,
      startedAt: this.startedAt,
      state: phase === 'restoring' ? 'reconnecting' : phase,
      destination: process.destination,
      destinations: this.destinations(),
      video: this.video,
      bytesIn: this.#bytesIn,
      stats: process.stats,
      pid: process.pid,
      ...(this.recording === undefined ? {} : { recording: this.recording }),
    };
  }

  /** Each destination's state: the fan-out's, or the one destination of a broadcast whose ffmpeg publishes itself. */
  destinations(): DestinationStatus[] {
    if (this.#options.fanOut) return this.#options.fanOut.destinations();
    const process = this.#process;
    const phase = this.#phase;
    const state =
      phase === 'ended'
        ? 'ended'
        : phase === 'reconnecting' || phase === 'restoring'
          ? 'reconnecting'
          : process.published
            ? 'live'
            : 'connecting';
    return [{ destination: process.destination, state, retries: this.#retries, durationMs: process.stats?.durationMs ?? 0 }];
  }

  #spawn(continues: boolean): Promise<MediaProcess> {
    return this.#options.spawn({ continues, onStats: (stats) => this.#onStats(stats), onOutput: (line) => this.#onOutput(line) });
  }

  /** The first ffmpeg runs: start the timers, feed the outputs, watch its exit. */
  #begin(): void {
    const { idleTimeoutMs, maxDurationMs, fanOut } = this.#options;
    if (Number.isFinite(idleTimeoutMs)) {
      const message = `No media arrived for ${Math.round(idleTimeoutMs / 1000)} s, so the broadcast was ended.`;
      this.#idle = new IdleTimer(idleTimeoutMs, () => {
        if (this.accepting) void this.stop(new BroadcastError('IDLE_TIMEOUT', message).toJSON());
      });
    }
    if (Number.isFinite(maxDurationMs)) {
      const seconds = Math.round(maxDurationMs / 1000);
      const limit = seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
      const message = `The broadcast reached the longest duration the server allows (${limit}).`;
      this.#durationTimer = setTimeout(() => void this.stop(new BroadcastError('MAX_DURATION', message).toJSON()), maxDurationMs);
    }
    if (fanOut) this.#wireFanOut(fanOut);
    this.#watch(this.#process);
  }

  /** When this ffmpeg exits: with a fan-out, once every output has flushed (the recording included). */
  #watch(process: MediaProcess): void {
    const exit = process.ended.then(async ({ error }) => {
      if (process === this.#process && (this.#phase === 'live' || this.#phase === 'restoring')) this.#phase = 'stopping';
      await this.#options.fanOut?.end();
      this.#onExit(process, error);
    });
    this.#exits.set(process, exit);
  }

  #onStats(stats: BroadcastStats): void {
    if (this.#phase === 'restoring' && stats.durationMs > 0) {
      this.#phase = 'live';
      this.#options.log.info('reconnected to the destination', { sessionId: this.id, attempt: this.#retries, pid: this.#process.pid });
      this.#destinationRestored({ index: 0, destination: this.#process.destination }, this.#retries);
    }
    const withDestinations = { ...stats, destinations: this.destinations() };
    if (!this.#onAir && withDestinations.destinations.some((each) => each.state === 'live')) {
      this.#onAir = true;
      this.#socket?.emit('on-air', { destinations: withDestinations.destinations });
    }
    this.#socket?.emit('stats', withDestinations);
    this.emit('stats', withDestinations);
  }

  #onOutput(line: string): void {
    this.emit('output', line);
    if (this.#options.sendFfmpegOutput) this.#socket?.emit('ffmpeg-output', line);
  }

  /** ffmpeg exited: reconnect a destination that dropped a live broadcast, or report the end. */
  #onExit(process: MediaProcess, error: ErrorPayload | undefined): void {
    if (process !== this.#process || this.#phase === 'ended') return;
    const { destinationRetries, fanOut } = this.#options;
    const retry =
      error?.code === 'DESTINATION_UNREACHABLE' &&
      // With a fan-out, this ffmpeg writes to a pipe: its destinations are reconnected one by one.
      !fanOut &&
      !process.stopRequested &&
      // A destination that never took the broadcast is wrong, not dropped: no point retrying it.
      (process.published || this.#retries > 0) &&
      this.#gate.canRestart(this.#socket !== undefined) &&
      this.#retries < destinationRetries &&
      !this.#options.closing();
    if (!retry) {
      this.#finish(error);
      return;
    }
    this.#phase = 'reconnecting';
    this.#retries++;
    const retryInMs = retryDelay(this.#options.destinationRetryDelayMs, this.#retries);
    this.#options.log.warn('the destination dropped the broadcast; reconnecting', {
      sessionId: this.id,
      attempt: this.#retries,
      retryInMs,
      code: error.code,
    });
    this.#destinationLost(
      { index: 0, destination: process.destination },
      { attempt: this.#retries, retryInMs, error, remaining: 0, retrying: true },
    );
    this.#retryTimer = setTimeout(() => void this.#reconnect(), retryInMs);
  }

  /**
   * Starts a new ffmpeg for a broadcast whose destination dropped it. It must start at a keyframe:
   * the client is asked to restart its recording (Firefox makes no keyframe after the first). A
   * client that cannot, or does not answer in time, is waited for at the next Cluster of its
   * recording that opens on a keyframe, fed after the recording's header (Chromium starts every
   * Cluster on one).
   */
  async #reconnect(): Promise<void> {
    let next: MediaProcess;
    try {
      next = await this.#spawn(true);
    } catch (caught) {
      if (this.#phase === 'reconnecting') this.#finish(toBroadcastError(caught, 'INTERNAL').toJSON());
      return;
    }
    if (this.#phase !== 'reconnecting') {
      void next.stop();
      return;
    }
    this.#process = next;
    this.#phase = 'restoring';
    const socket = this.#socket;
    const declined = () => {
      if (!this.#gate.mp4) return this.#gate.restart('recording-or-cluster');
      const message =
        'The destination dropped the broadcast, and the client could not restart its recording, which MP4 media must start from.';
      void this.stop(new BroadcastError('DESTINATION_UNREACHABLE', message).toJSON());
    };
    const current = () => this.#phase === 'restoring' && this.#process === next;
    if (socket) askForNewRecording(this.#gate, (answer) => socket.emit('restart-recording', answer), { current, declined });
    else declined();
    this.#watch(next);
  }

  /** Feeds the outputs from the broadcast's ffmpeg; tells the client and listeners what each destination does. */
  #wireFanOut(fanOut: FanOut): void {
    fanOut.attach(this.#process.output!);
    fanOut.on('lost', (output, error, retryInMs, retrying) => {
      const lost = { attempt: output.retries, retryInMs, error, remaining: fanOut.remaining, retrying };
      this.#destinationLost({ index: output.index, destination: output.label }, lost);
    });
    fanOut.on('restored', (output) => this.#destinationRestored({ index: output.index, destination: output.label }, output.retries));
    fanOut.on('all-failed', (error) => void this.stop(error));
  }

  /** Tells the client and listeners that a destination dropped the broadcast. */
  #destinationLost(
    destination: DestinationRef,
    lost: { attempt: number; retryInMs: number; error: ErrorPayload; remaining: number; retrying: boolean },
  ): void {
    const { attempt, retryInMs, error, remaining, retrying } = lost;
    const maxAttempts = this.#options.destinationRetries;
    this.#socket?.emit('destination-lost', {
      attempt,
      maxAttempts,
      retryInMs,
      error: this.#options.forClient(error),
      ...destination,
      remaining,
      retrying,
    });
    this.emit('destination-lost', attempt, retryInMs, error, { ...destination, retrying });
  }

  /** Tells the client and listeners that a destination takes the broadcast again. */
  #destinationRestored(destination: DestinationRef, attempt: number): void {
    this.#socket?.emit('destination-restored', { attempt, ...destination });
    this.emit('destination-restored', attempt, destination);
  }

  /** Tells the client that the broadcast ended and has it reported; once per broadcast. */
  #finish(error: ErrorPayload | undefined): void {
    if (this.#phase === 'ended') return;
    this.#phase = 'ended';
    this.#idle?.cancel();
    for (const timer of [this.#durationTimer, this.#detachTimer, this.#retryTimer]) clearTimeout(timer);
    const summary: StopSummary = {
      reason: this.#disconnected ? 'disconnected' : error ? 'error' : 'stopped',
      durationMs: Date.now() - this.startedAt,
      bytesIn: this.#bytesIn,
      destination: this.#process.destination,
      destinations: this.destinations(),
      ...(this.recording === undefined ? {} : { recording: this.recording }),
      ...(error ? { error } : {}),
    };
    this.#socket?.emit('ended', error ? { reason: 'error', error: this.#options.forClient(error) } : { reason: 'stopped' });
    void this.#options.report(this, summary).then(() => this.#settle(error));
  }
}
