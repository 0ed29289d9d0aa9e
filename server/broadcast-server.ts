// Attaches socket.io to the operator's http(s) server: admits connections (origin, rate limit),
// admits broadcasts (limits, start hook, admission gate), starts one Broadcast each, lists them,
// and closes them all.
import { EventEmitter } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server as SocketIOServer } from 'socket.io';
import { BroadcastError, type ClientToServerEvents, type ErrorPayload, type ServerToClientEvents } from '../client/protocol.js';
import type { Broadcast } from './broadcast.js';
import type { SessionInfo, StopSummary } from './session-info.js';
import { Connection, type ConnectionContext, type ConnectionHost } from './connection.js';
import { parseMimeType } from './ffmpeg/args.js';
import { probeFfmpeg, type FfmpegCapabilities } from './ffmpeg/capabilities.js';
import { Headroom } from './headroom.js';
import { launchBroadcast } from './launch.js';
import type { BroadcastServerEvents } from './server-events.js';
import { broadcastParser } from './output-budget.js';
import { StreamSlots } from './stream-slots.js';
import { recordingPath, runHook, runStartHook, type BroadcastSocket, type ErrorContext, type HookContext } from './hooks.js';
import { createLogger, type Logger } from './logger.js';
import { resolveSettings, type BroadcastServerOptions, type Settings } from './options.js';
import { corsOrigin, isAllowedOrigin, originsFromCors, type AllowedOrigins } from './origin.js';
import { connectionGate, RateLimiter } from './rate-limit.js';
import { chooseDestinations, planStart } from './start-plan.js';
import { redactDestination } from './destination.js';
import { validateStartRequest } from './validate.js';

export type { BroadcastServerEvents, ConnectionInfo } from './server-events.js';
export type { BroadcastServerOptions } from './options.js';
export type { DestinationRef, StopSummary } from './session-info.js';
export type { BroadcastHooks, BroadcastSocket, ErrorContext, HookContext, RecordOption, StartOverrides } from './hooks.js';

/** Turns browser media arriving over socket.io into RTMP broadcasts, one ffmpeg each. */
export class BroadcastServer extends EventEmitter<BroadcastServerEvents> {
  /** The socket.io server, for operators who add middleware or namespaces of their own. */
  readonly io: SocketIOServer<ClientToServerEvents, ServerToClientEvents>;
  readonly #options: BroadcastServerOptions;
  readonly #settings: Settings;
  readonly #log: Logger;
  readonly #broadcasts = new Map<string, Broadcast>();
  readonly #slots: StreamSlots;
  readonly #headroom: Headroom | undefined;
  /** Starts in flight, each with what gives it up; close() waits for them. */
  readonly #starting = new Map<Promise<Broadcast>, AbortController>();
  #closing: Promise<void> | undefined;
  /** End reports under way, so close() can wait for them. */
  readonly #ending = new Set<Promise<unknown>>();
  readonly #connectionLimiter: RateLimiter | undefined;
  readonly #allowedOrigins: AllowedOrigins | undefined;
  /** What the ffmpeg binary accepts, asked on the first start and kept. */
  #ffmpeg: Promise<FfmpegCapabilities | undefined> | undefined;
  readonly #host: ConnectionHost;

  constructor(httpServer: HttpServer | HttpsServer, options: BroadcastServerOptions = {}) {
    super();
    this.#options = options;
    this.#settings = resolveSettings(options);
    this.#log = createLogger(options.logger, options.logLevel);
    this.#slots = new StreamSlots(this.#settings.maxStreams, this.#settings.maxStreamsPerAddress);
    this.#headroom = Headroom.create(options.loadShedding, () => [...this.#broadcasts.values()], this.#log);
    // An operator who set only `cors.origin` meant those pages to connect over WebSocket too.
    this.#allowedOrigins = options.allowedOrigins ?? originsFromCors(options.cors as { origin?: unknown } | undefined);
    this.#connectionLimiter =
      this.#settings.maxConnectionsPerMinute === Infinity ? undefined : new RateLimiter(this.#settings.maxConnectionsPerMinute);
    this.io = new SocketIOServer(httpServer, {
      // A chunk slightly over the limit must reach us so we can answer CHUNK_TOO_LARGE instead of
      // socket.io silently dropping the connection.
      maxHttpBufferSize: this.#settings.maxChunkBytes + 1024 * 1024,
      perMessageDeflate: false,
      // One binary attachment per message (a chunk): socket.io would hold up to ten of a message that never completes.
      parser: broadcastParser,
      ...(options.cors ? { cors: options.cors } : options.allowedOrigins ? { cors: { origin: corsOrigin(options.allowedOrigins) } } : {}),
      ...options.socketio,
      allowRequest: connectionGate(this.#settings.maxConnectionsPerMinute, options.socketio?.allowRequest),
    });
    this.#host = {
      log: this.#log,
      maxChunkBytes: this.#settings.maxChunkBytes,
      resumeWindowMs: () => (this.#closing ? 0 : this.#settings.resumeWindowMs),
      start: (sessionId, raw, base) => this.#start(sessionId, raw, base),
      find: (sessionId) => this.#broadcasts.get(sessionId),
      reportError: (context, error, repeated) => this.#reportError(context, error, repeated),
      forClient: (error) => this.#forClient(error),
    };
    this.io.use((socket, next) => next(this.#admit(socket)));
    this.io.on('connection', (socket) => {
      this.emit('connection', { connectionId: socket.id, remoteAddress: socket.handshake.address, connectedAt: Date.now() });
      new Connection(socket, this.#host);
    });
  }

  /** Status of every live broadcast. */
  sessions(): SessionInfo[] {
    return [...this.#broadcasts.values()].map((broadcast) => broadcast.info());
  }

  /** Status of one broadcast, or undefined once it has ended. */
  session(sessionId: string): SessionInfo | undefined {
    return this.#broadcasts.get(sessionId)?.info();
  }

  /**
   * Refuses new broadcasts, ends every live one gracefully (FLV flushed; its client is told
   * `SERVER_SHUTDOWN`) and resolves once every ffmpeg has exited; then disconnects every client
   * and refuses new connections. The http server stays yours to close.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Starts in flight are given up where they wait (a hook), or come to an end first.
      const refused = new BroadcastError('SERVER_SHUTDOWN', 'The server is shutting down and takes no new broadcasts.');
      for (const abort of this.#starting.values()) abort.abort(refused);
      await Promise.allSettled([...this.#starting.keys()]);
      this.#headroom?.stop();
      const shutdown = new BroadcastError('SERVER_SHUTDOWN').toJSON();
      await Promise.all([...this.#broadcasts.values()].map((broadcast) => broadcast.stop(shutdown)));
      // Let every end report (ended message, stop hook) finish before the sockets go.
      await Promise.all([...this.#ending]);
      // Only this process's clients: with a cluster or Redis adapter, io.disconnectSockets() reaches every process's.
      this.io.local.disconnectSockets(true);
    })();
    return this.#closing;
  }

  /** Refuses a connection during shutdown, from a page on a foreign origin, or over the rate limit. */
  #admit(socket: BroadcastSocket): Error | undefined {
    const refusal = (error: BroadcastError): Error => {
      const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
      this.#reportError({ socket, auth, remoteAddress: socket.handshake.address }, error);
      // socket.io hands `data` to the client's connect_error, so the client sees the code.
      return Object.assign(new Error(error.message), { data: error.toJSON() });
    };
    if (this.#closing) return refusal(new BroadcastError('SERVER_SHUTDOWN', 'The broadcast server is shutting down.'));
    if (!isAllowedOrigin(socket.request, this.#allowedOrigins)) {
      const origin = String(socket.request.headers.origin).slice(0, 200);
      return refusal(new BroadcastError('ORIGIN_NOT_ALLOWED', `Pages on ${origin} are not allowed to use this broadcast server.`));
    }
    if (this.#connectionLimiter && !this.#connectionLimiter.take(socket.handshake.address)) {
      return refusal(new BroadcastError('RATE_LIMITED'));
    }
    return undefined;
  }

  /** Validates, asks the start hook, picks the destinations, passes admission, and starts the broadcast; close() waits for it. */
  #start(sessionId: string, raw: unknown, base: ConnectionContext): Promise<Broadcast> {
    if (this.#closing)
      return Promise.reject(new BroadcastError('SERVER_SHUTDOWN', 'The server is shutting down and takes no new broadcasts.'));
    // Given up at once when the client leaves or the server closes: a hung hook holds no slot then.
    const abort = new AbortController();
    const left = () => abort.abort(new BroadcastError('DISCONNECTED', 'The client left before its broadcast started.'));
    base.socket.once('disconnect', left);
    const starting = this.#launch(sessionId, raw, base, abort.signal);
    this.#starting.set(starting, abort);
    return starting.finally(() => {
      base.socket.off('disconnect', left);
      this.#starting.delete(starting);
    });
  }

  async #launch(sessionId: string, raw: unknown, base: ConnectionContext, signal: AbortSignal): Promise<Broadcast> {
    const request = validateStartRequest(raw);
    const media = parseMimeType(request.mimeType);
    if (!media) {
      throw new BroadcastError(
        'INVALID_REQUEST',
        `The recorder type \`${request.mimeType.slice(0, 100)}\` is not supported: send WebM, Matroska or fragmented MP4.`,
      );
    }
    const { remoteAddress } = base;
    this.#slots.reserve(
      sessionId,
      remoteAddress,
      [...this.#broadcasts.values()].map((broadcast) => broadcast.context.remoteAddress),
    );
    const { admission } = this.#options;
    let admitted = false;
    let paced: ((started: boolean) => void) | undefined;
    try {
      const context: HookContext = { sessionId, ...base, request };
      const limits = { timeoutMs: this.#settings.hookTimeoutMs, signal };
      const overrides = await runStartHook(this.#log, this.#options.hooks?.start, context, limits);
      const destinations = this.#chooseDestinations(context, overrides);
      const recording = await recordingPath(this.#log, this.#options.record, context, overrides, limits);
      paced = await this.#headroom?.admit(signal);
      signal.throwIfAborted();
      await admission?.acquire({
        sessionId,
        remoteAddress,
        destination: destinations.map(redactDestination).join(' '),
        requestedAt: Date.now(),
      });
      admitted = admission !== undefined;
      signal.throwIfAborted();
      const settings = this.#settings;
      const tls = {
        tlsVerify: this.#options.tlsVerify !== false,
        ...(this.#options.tlsCaFile ? { tlsCaFile: this.#options.tlsCaFile } : {}),
      };
      const capabilities = await this.#ffmpegCapabilities();
      const plan = planStart({ request, media, overrides, destinations, recording, settings, tls, capabilities });
      const broadcast = await launchBroadcast({
        context,
        media,
        plan,
        destinations,
        recording,
        settings,
        sendFfmpegOutput: this.#options.sendFfmpegOutput === true,
        log: this.#log,
        closing: () => this.#closing !== undefined,
        forClient: (error) => this.#forClient(error),
        report: (ended, summary) => this.#reportEnd(ended, summary),
      });
      this.#broadcasts.set(sessionId, broadcast);
      broadcast.on('stats', (stats) => this.emit('stats', sessionId, stats));
      broadcast.on('output', (line) => {
        this.#log.debug('ffmpeg', { sessionId, line });
        this.emit('ffmpeg-output', sessionId, line);
      });
      broadcast.on('destination-lost', (...lost) => this.emit('destination-lost', sessionId, ...lost));
      broadcast.on('destination-restored', (...restored) => this.emit('destination-restored', sessionId, ...restored));
      const info = broadcast.info();
      this.#log.info('broadcast started', {
        sessionId,
        remoteAddress,
        destinations: info.destinations.map((each) => each.destination),
        ...(recording === undefined ? {} : { recording }),
        video: media.video,
        // 'copy' where the browser sent AAC; absent where the server encodes AAC from Opus.
        ...(media.audio ? { audio: media.audio } : {}),
        pid: info.pid,
      });
      this.emit('session-start', info);
      paced?.(true);
      return broadcast;
    } catch (caught) {
      paced?.(false);
      if (admitted) this.#release(sessionId);
      throw caught;
    } finally {
      this.#slots.release(sessionId);
    }
  }

  /** The destinations of this broadcast; a start hook's that cannot be used is the operator's bug, logged. */
  #chooseDestinations(context: HookContext, overrides: Parameters<typeof chooseDestinations>[1]): URL[] {
    try {
      return chooseDestinations(context.request, overrides, this.#settings.maxDestinations, this.#options.allowedDestinations);
    } catch (caught) {
      if (caught instanceof BroadcastError && caught.code === 'INTERNAL')
        this.#log.error('the start hook returned an unusable rtmpUrl', { error: caught.detail });
      throw caught;
    }
  }

  /** Probes the ffmpeg binary once; again on the next start while it cannot be run, so installing it later works. */
  #ffmpegCapabilities(): Promise<FfmpegCapabilities | undefined> {
    this.#ffmpeg ??= probeFfmpeg(this.#settings.ffmpegPath).then((found) => {
      if (found) this.#log.info('using ffmpeg', { path: this.#settings.ffmpegPath, ...found });
      else this.#ffmpeg = undefined;
      return found;
    });
    return this.#ffmpeg;
  }

  /** Tells the hooks and listeners that a broadcast ended, and gives its admission slot back; close() waits for both. */
  #reportEnd(broadcast: Broadcast, summary: StopSummary): Promise<void> {
    const { id: sessionId, context } = broadcast;
    this.#broadcasts.delete(sessionId);
    const { error } = summary;
    if (error) this.#reportError(context, BroadcastError.from(error));
    this.#log.info('broadcast ended', { sessionId, reason: summary.reason, code: error?.code, bytesIn: summary.bytesIn });
    this.emit('session-end', broadcast.info(), summary);
    const reported = this.#track(
      runHook(this.#log, 'stop', () => this.#options.hooks?.stop?.(context, summary), this.#settings.hookTimeoutMs),
    );
    if (this.#options.admission) this.#release(sessionId);
    return reported;
  }

  /** Gives a broadcast's slot back to the admission gate; close() waits for it. */
  #release(sessionId: string): void {
    void this.#track(runHook(this.#log, 'admission release', () => this.#options.admission?.release(sessionId)));
  }

  /** Keeps an end report in the set close() waits for, while it runs. */
  #track(report: Promise<void>): Promise<void> {
    this.#ending.add(report);
    void report.finally(() => this.#ending.delete(report));
    return report;
  }

  /** What a client may see of an error: its `detail` only when the operator shares details. */
  #forClient(error: ErrorPayload): ErrorPayload {
    if (this.#options.sendErrorDetails || error.detail === undefined) return error;
    const { detail: _, ...shared } = error;
    return shared;
  }

  /** Every error a client is told about reaches the log, the `error` listeners and the error hook. */
  #reportError(context: ErrorContext, error: BroadcastError, repeated = false): void {
    const about = { sessionId: context.sessionId, remoteAddress: context.remoteAddress };
    this.#log[repeated ? 'debug' : 'warn'](error.message, { code: error.code, ...about });
    if (this.listenerCount('error') > 0) this.emit('error', error, about);
    void runHook(this.#log, 'error', () => this.#options.hooks?.error?.(context, error), this.#settings.hookTimeoutMs);
  }
}
