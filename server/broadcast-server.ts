// Attaches socket.io to the operator's http(s) server and runs one Session per broadcasting socket:
// validates every message, runs the hooks, enforces limits, and reports the end exactly once.
import { EventEmitter } from 'node:events';
import { access, mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server as SocketIOServer, type ServerOptions, type Socket } from 'socket.io';
import {
  AAC_SAMPLE_RATES,
  BroadcastError,
  ERRORS,
  isErrorCode,
  type Ack,
  type BroadcastStats,
  type ClientToServerEvents,
  type DestinationStatus,
  type ErrorCode,
  type ErrorPayload,
  type ResumeAck,
  type ServerToClientEvents,
  type StartAck,
  type StartRequest,
  type VideoMode,
} from '../client/protocol.js';
import { checkAdmission, type Admission } from './admission.js';
import { corsOrigin, isAllowedOrigin, originsFromCors, type AllowedOrigins } from './origin.js';
import { RateLimiter } from './rate-limit.js';
import { isAllowedDestination, parseDestination, redactDestination, type AllowedDestinations } from './destination.js';
import { FanOut } from './fanout.js';
import { AAC_CODERS, AUDIO_CHANNELS, buildFfmpegArgs, parseMimeType, pusherArgs, recorderArgs, type AacCoder, type AudioChannels } from './ffmpeg/args.js';
import { probeFfmpeg, type FfmpegCapabilities } from './ffmpeg/capabilities.js';
import { locateFfmpeg } from './ffmpeg/locate.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { findCluster, MatroskaHeader, startsRecording } from './matroska.js';
import { startsMp4Recording } from './mp4.js';
import { Session, type SessionInfo } from './session.js';
import { validateStartRequest } from './validate.js';

export type BroadcastSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** What every hook learns about the broadcast it runs for. */
export interface HookContext {
  sessionId: string;
  socket: BroadcastSocket;
  /** The socket.io handshake `auth` object the client connected with (tokens go here). */
  auth: Record<string, unknown>;
  remoteAddress: string;
  /** The validated start request. */
  request: StartRequest;
}

/** The error hook's context: errors can happen before a broadcast exists (data before start). */
export type ErrorContext = Omit<HookContext, 'sessionId' | 'request'> & {
  sessionId?: string;
  request?: StartRequest;
};

/** What the start hook may change. The server choosing the destination is the secure default. */
export interface StartOverrides {
  /** The destination, or several (at most `maxDestinations`); trusted, so the allow-list does not apply. */
  rtmpUrl?: string | string[];
  /** Record the broadcast to this absolute path (.mp4, .mkv or .flv), or `false` for no recording; overrides the `record` option. */
  record?: string | false;
  videoBitsPerSecond?: number;
  audioBitsPerSecond?: number;
  framerate?: number;
  audioSampleRate?: number;
  /** AAC channels for this broadcast: 'source', 1 or 2; overrides the `audioChannels` option. */
  audioChannels?: AudioChannels;
}

/** A socket.io connection, as the `connection` event reports it. */
export interface ConnectionInfo {
  /** The socket.io socket id. */
  connectionId: string;
  remoteAddress: string;
  /** Milliseconds since the epoch. */
  connectedAt: number;
}

/** How a broadcast ended, as the stop hook and `session-end` see it. */
export interface StopSummary {
  reason: 'stopped' | 'error' | 'disconnected';
  durationMs: number;
  bytesIn: number;
  /** The (first) destination with its stream key hidden. */
  destination: string;
  /** Every destination, stream keys hidden, and how each ended. */
  destinations: DestinationStatus[];
  /** The file the broadcast was recorded to, when it was. */
  recording?: string;
  error?: ErrorPayload;
}

/** Which destination of a broadcast a `destination-lost` / `destination-restored` event is about. */
export interface DestinationRef {
  /** Its place in the broadcast's list of destinations, from 0. */
  index: number;
  /** The destination with its stream key hidden. */
  destination: string;
}

/** Where to record a broadcast: a directory (files named `<sessionId>.mp4`), or a function returning an absolute path (or undefined for none). */
export type RecordOption = string | ((context: HookContext) => string | undefined | Promise<string | undefined>);

export interface BroadcastHooks {
  /** Runs before each broadcast; throw to refuse (a BroadcastError keeps its code, anything else is UNAUTHORIZED). */
  start?(context: HookContext): StartOverrides | void | Promise<StartOverrides | void>;
  /** Runs after every broadcast, whatever ended it. */
  stop?(context: HookContext, summary: StopSummary): void | Promise<void>;
  /** Runs on every error a client is told about. */
  error?(context: ErrorContext, error: BroadcastError): void | Promise<void>;
}

export interface BroadcastServerOptions {
  /** Destinations a client may ask for: URL prefixes, patterns or a predicate. Absent: only the start hook sets the destination. */
  allowedDestinations?: AllowedDestinations;
  /** Most destinations one broadcast may go to at once (client list or start hook's); more is refused with INVALID_REQUEST. Default 4. */
  maxDestinations?: number;
  /** Also record every broadcast to a local file the operator chooses (never the client): a directory, or a function of the hook context returning an absolute .mp4/.mkv/.flv path. Default: no recording. */
  record?: RecordOption;
  /** Start, stop and error hooks. */
  hooks?: BroadcastHooks;
  /** Most broadcasts (ffmpeg processes) at once; the next start gets TOO_MANY_STREAMS. Default: no limit. */
  maxStreams?: number;
  /** Most broadcasts at once from one remote address. Default: no limit. */
  maxStreamsPerAddress?: number;
  /** A gate shared by several processes (a cluster-wide `maxStreams`): asked after the local limits and the start hook, before ffmpeg starts; released once the broadcast ended. See rtmp-broadcaster/redis and rtmp-broadcaster/cluster. */
  admission?: Admission;
  /** Most connections one remote address may open per minute; more get RATE_LIMITED. Default: no limit. */
  maxConnectionsPerMinute?: number;
  /** Pages on other origins allowed to connect (the server's own origin always may). Default: none. */
  allowedOrigins?: AllowedOrigins;
  /** A broadcast longer than this ends with MAX_DURATION. Default: no limit. */
  maxDurationMs?: number;
  /** Largest media chunk accepted, in bytes. Default 8 MiB. */
  maxChunkBytes?: number;
  /** Most media bytes a broadcast may have waiting for ffmpeg (a client ignoring acks); past it the broadcast ends with BUFFER_FULL. Default 32 MiB. */
  maxBufferedBytes?: number;
  /** No chunk for this long ends a broadcast with IDLE_TIMEOUT. Default 15 000 ms. */
  idleTimeoutMs?: number;
  /** After a client's connection drops, how long its broadcast (and ffmpeg) waits for it to `resume`; 0 ends it at once. Default 10 000 ms. */
  resumeWindowMs?: number;
  /** How long ffmpeg may take to flush after its input ends before it is terminated. Default 5 000 ms. */
  stopTimeoutMs?: number;
  /** After SIGTERM, how long before SIGKILL. Default 2 000 ms. */
  killTimeoutMs?: number;
  /** A destination that stops answering for this long ends the broadcast. Default 10 000 ms. */
  destinationTimeoutMs?: number;
  /** Check the certificate of rtmps destinations (ffmpeg's `-tls_verify 1`); turn off only for testing. Default true. */
  tlsVerify?: boolean;
  /** PEM file of the CAs rtmps destinations' certificates must chain to. Default: the system's CAs. */
  tlsCaFile?: string;
  /** How many times a broadcast whose destination dropped it (after it went live) is reconnected by a new ffmpeg before it ends with DESTINATION_UNREACHABLE. Default 3; 0 never. */
  destinationRetries?: number;
  /** Wait before the first reconnection to a dropped destination, doubled for each next one (at most 10 s). Default 1 000 ms. */
  destinationRetryDelayMs?: number;
  /** AAC sample rate of the output when the client asks for none. Default 44 100. */
  audioSampleRate?: number;
  /** ffmpeg's AAC coder for Opus audio: 'twoloop' (its default, best fidelity) or 'fast' (about half the CPU; its SNR is from 0.5 to 9 dB lower with the material, measured by `npm run bench -- --aac-coder`). AAC from the browser is copied either way. Default 'twoloop'. */
  aacCoder?: AacCoder;
  /** AAC channels for Opus audio: 'source' keeps the recording's (Chromium records a microphone as mono by default; mono costs the encoder about 0.6 times stereo's CPU), 1 or 2 forces mono or stereo (for an ingest that wants stereo). AAC from the browser is copied either way. Default 'source'. */
  audioChannels?: AudioChannels;
  /** Forward each ffmpeg log line (redacted) to the broadcasting client as `ffmpeg-output`. Default false. */
  sendFfmpegOutput?: boolean;
  /** Add what lay underneath an error (ffmpeg's last log lines, a hook's own error) as `detail` in what clients receive. Default false. */
  sendErrorDetails?: boolean;
  /** ffmpeg binary. Default: the FFMPEG_PATH environment variable, else `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** socket.io CORS settings for HTTP long-polling. Default: derived from `allowedOrigins`; never `*` unless asked. */
  cors?: ServerOptions['cors'];
  /** Other socket.io server options, applied last. */
  socketio?: Partial<ServerOptions>;
  /** Where the server logs: any object with debug/info/warn/error, or false for silence. Default: console. */
  logger?: Partial<Logger> | false;
  /** Lowest level logged. Default 'info'. */
  logLevel?: LogLevel | 'silent';
}

/**
 * One broadcast from start to end. Its ffmpeg (`session`) is replaced when the destination drops
 * it and it reconnects; its client's socket is replaced when the client resumes after a drop.
 */
interface Link {
  id: string;
  state: 'live' | 'reconnecting' | 'ended';
  session: Session;
  /** The client's current connection; undefined while it is away within the resume window. */
  socket: BroadcastSocket | undefined;
  context: HookContext;
  resumeToken: string;
  /** The last chunk sequence number accepted; -1 before any. */
  lastSeq: number;
  /** With several destinations or a recording: the outputs fed from this broadcast's ffmpeg. */
  fanOut: FanOut | undefined;
  /** The file the broadcast is recorded to. */
  recording: string | undefined;
  /** The recording's Matroska header, replayed to a new ffmpeg after the destination dropped. */
  header: MatroskaHeader;
  /** Fragmented MP4 has no header cache: a new ffmpeg starts only on a new recording. */
  mp4: boolean;
  /**
   * Where a new ffmpeg (after the destination dropped) may start: only at a new recording, which
   * the client was asked for; or there or at the next Cluster of this one. Media before is skipped.
   */
  restartAt: 'new-recording' | 'recording-or-cluster' | undefined;
  /** A new ffmpeg runs after the destination dropped the broadcast, and has not published yet. */
  restoring: boolean;
  /** A destination took the broadcast, and the client was told (`on-air`). */
  onAir: boolean;
  retries: number;
  disconnected: boolean;
  /** Starts another ffmpeg for this broadcast, continuing the current one's counters. */
  respawn(): Promise<Session>;
  detachTimer?: NodeJS.Timeout;
  retryTimer?: NodeJS.Timeout;
  /** Resolves with the error that ended the broadcast (none for a clean stop) once its end is reported. */
  done: Promise<ErrorPayload | undefined>;
  settle(error: ErrorPayload | undefined): void;
}

/** Events of a BroadcastServer, for metrics and logs that sit beside the core. */
export interface BroadcastServerEvents {
  connection: [connection: ConnectionInfo];
  'session-start': [info: SessionInfo];
  /** A destination dropped a live broadcast; a new ffmpeg will reconnect in `retryInMs` (or never, when `retrying` is false: others go on). */
  'destination-lost': [sessionId: string, attempt: number, retryInMs: number, error: ErrorPayload, destination: DestinationRef & { retrying: boolean }];
  /** A new ffmpeg is publishing the broadcast to that destination again. */
  'destination-restored': [sessionId: string, attempt: number, destination: DestinationRef];
  'session-end': [info: SessionInfo, summary: StopSummary];
  stats: [sessionId: string, stats: BroadcastStats];
  'ffmpeg-output': [sessionId: string, line: string];
  error: [error: BroadcastError, context: { sessionId?: string; remoteAddress: string }];
}

/** The answer to every chunk that went well: one object, encoded anew by socket.io for each ack. */
const OK: Ack = Object.freeze({ ok: true });
const ignore = () => {};

/** How long a client may take to say it restarts its recording for a reconnected destination. */
const RESTART_ANSWER_MS = 1_000;

const DEFAULTS = {
  maxChunkBytes: 8 * 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  idleTimeoutMs: 15_000,
  resumeWindowMs: 10_000,
  stopTimeoutMs: 5_000,
  killTimeoutMs: 2_000,
  destinationTimeoutMs: 10_000,
  destinationRetryDelayMs: 1_000,
  audioSampleRate: 44_100,
  maxDestinations: 4,
  videoBitsPerSecond: 2_500_000,
  audioBitsPerSecond: 128_000,
  framerate: 30,
};


type Resolved = Required<Pick<BroadcastServerOptions, keyof typeof DEFAULTS & keyof BroadcastServerOptions>> & {
  destinationRetries: number;
  maxStreams: number;
  maxStreamsPerAddress: number;
  maxConnectionsPerMinute: number;
  maxDurationMs: number;
  ffmpegPath: string;
  aacCoder: AacCoder;
  audioChannels: AudioChannels;
};

/** Turns browser media arriving over socket.io into RTMP broadcasts, one ffmpeg each. */
export class BroadcastServer extends EventEmitter<BroadcastServerEvents> {
  /** The socket.io server, for operators who add middleware or namespaces of their own. */
  readonly io: SocketIOServer<ClientToServerEvents, ServerToClientEvents>;
  readonly #options: BroadcastServerOptions;
  readonly #settings: Resolved;
  readonly #log: Logger;
  readonly #links = new Map<string, Link>();
  /** Starts admitted but not yet running (session id → remote address), so concurrent starts cannot overshoot the limits. */
  readonly #reserved = new Map<string, string>();
  #closing: Promise<void> | undefined;
  /** End reports under way, so close() can wait for them. */
  readonly #ending = new Set<Promise<unknown>>();
  readonly #connectionLimiter: RateLimiter | undefined;
  readonly #allowedOrigins: AllowedOrigins | undefined;
  /** What the ffmpeg binary accepts, asked on the first start and kept. */
  #ffmpeg: Promise<FfmpegCapabilities | undefined> | undefined;

  constructor(httpServer: HttpServer | HttpsServer, options: BroadcastServerOptions = {}) {
    super();
    this.#options = options;
    this.#settings = resolveSettings(options);
    this.#log = createLogger(options.logger, options.logLevel);
    // An operator who set only `cors.origin` meant those pages to connect over WebSocket too.
    this.#allowedOrigins = options.allowedOrigins ?? originsFromCors(options.cors as { origin?: unknown } | undefined);
    this.#connectionLimiter = this.#settings.maxConnectionsPerMinute === Infinity ? undefined : new RateLimiter(this.#settings.maxConnectionsPerMinute);
    this.io = new SocketIOServer(httpServer, {
      // A chunk slightly over the limit must reach us so we can answer CHUNK_TOO_LARGE instead of
      // socket.io silently dropping the connection.
      maxHttpBufferSize: this.#settings.maxChunkBytes + 1024 * 1024,
      perMessageDeflate: false,
      ...(options.cors ? { cors: options.cors } : options.allowedOrigins ? { cors: { origin: corsOrigin(options.allowedOrigins) } } : {}),
      ...options.socketio,
    });
    this.io.use((socket, next) => next(this.#admit(socket)));
    this.io.on('connection', (socket) => this.#onConnection(socket));
  }

  /** Status of every live broadcast. */
  sessions(): SessionInfo[] {
    return [...this.#links.values()].map(info);
  }

  /** Status of one broadcast, or undefined once it has ended. */
  session(sessionId: string): SessionInfo | undefined {
    const link = this.#links.get(sessionId);
    return link && info(link);
  }

  /**
   * Refuses new broadcasts, ends every live one gracefully (FLV flushed; its client is told
   * `SERVER_SHUTDOWN`) and resolves once every ffmpeg has exited; then disconnects every client and refuses new connections. The http
   * server stays yours to close.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const shutdown = new BroadcastError('SERVER_SHUTDOWN').toJSON();
      await Promise.all([...this.#links.values()].map((link) => this.#end(link, shutdown)));
      // Let every end report (ended message, stop hook) finish before the sockets go.
      await Promise.all([...this.#ending]);
      // Only this process's clients: with a cluster or Redis adapter, io.disconnectSockets() reaches every process's.
      this.io.local.disconnectSockets(true);
    })();
    return this.#closing;
  }

  /** Refuses a connection during shutdown, from a page on a foreign origin, or over the rate limit. */
  #admit(socket: BroadcastSocket): Error | undefined {
    const refusal = (error: BroadcastError, remoteAddress = socket.handshake.address): Error => {
      this.#log.warn(error.message, { code: error.code, remoteAddress });
      if (this.listenerCount('error') > 0) this.emit('error', error, { remoteAddress });
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

  #onConnection(socket: BroadcastSocket): void {
    const remoteAddress = socket.handshake.address;
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    const base = { socket, auth, remoteAddress };
    let link: Link | undefined;
    let starting = false;
    const running = () => starting || (link !== undefined && link.state !== 'ended');

    const fail = (error: BroadcastError, extra: Partial<ErrorContext> = {}): ErrorPayload => {
      this.#reportError({ ...base, ...extra }, error);
      return this.#forClient(error.toJSON());
    };
    this.emit('connection', { connectionId: socket.id, remoteAddress, connectedAt: Date.now() });

    socket.on('start', async (raw, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (running()) {
        reply({ ok: false, error: fail(new BroadcastError('ALREADY_STARTED'), { sessionId: link?.id }) });
        return;
      }
      starting = true;
      const sessionId = randomUUID();
      try {
        const started = await this.#start(socket, sessionId, raw, base);
        if (socket.disconnected) {
          // The client left while its start was in flight: nobody will ever send it media.
          started.disconnected = true;
          void this.#end(started);
          return;
        }
        link = started;
        reply({ ok: true, sessionId, video: link.session.video, resumeToken: link.resumeToken } satisfies StartAck);
      } catch (caught) {
        const error = toBroadcastError(caught, 'INTERNAL');
        if (error.code === 'INTERNAL') this.#log.error('start failed unexpectedly', { sessionId, error: describe(caught) });
        reply({ ok: false, error: fail(error, { sessionId }) });
      } finally {
        starting = false;
      }
    });

    socket.on('data', (chunk: unknown, second?: unknown, third?: unknown) => {
      const ack = typeof third === 'function' ? third : second;
      const reply: (response: Ack) => void = typeof ack === 'function' ? (ack as (response: Ack) => void) : ignore;
      const meta = typeof second === 'object' && second !== null ? (second as { seq?: unknown }) : undefined;
      const context = link?.context;
      if (!link || link.state === 'ended' || (link.state === 'live' && link.session.state !== 'live')) {
        // Ending for a reason of the server's (full buffer, every destination gone…) while ffmpeg
        // flushes: that reason, not NOT_STARTED, is what the client must hear first.
        const ending = link?.state === 'live' ? link.session.endReason : undefined;
        reply({ ok: false, error: ending ? this.#forClient(ending) : fail(new BroadcastError('NOT_STARTED'), { sessionId: link?.id }) });
        return;
      }
      if (!(chunk instanceof Uint8Array)) {
        reply({ ok: false, error: fail(new BroadcastError('INVALID_REQUEST', 'A media chunk must be binary.'), context) });
        return;
      }
      if (chunk.byteLength > this.#settings.maxChunkBytes) {
        const message = `A media chunk of ${chunk.byteLength} bytes is over the limit of ${this.#settings.maxChunkBytes} bytes.`;
        reply({ ok: false, error: fail(new BroadcastError('CHUNK_TOO_LARGE', message), context) });
        return;
      }
      if (meta) {
        const { seq } = meta;
        if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
          reply({ ok: false, error: fail(new BroadcastError('INVALID_REQUEST', '`seq` must be a whole number from 0.'), context) });
          return;
        }
        // A resend after a resume: ffmpeg already has it, and must get it exactly once.
        if (seq <= link.lastSeq) return reply(OK);
        if (seq !== link.lastSeq + 1) {
          const message = `Chunk ${seq} arrived after chunk ${link.lastSeq}: chunks must come in order.`;
          reply({ ok: false, error: fail(new BroadcastError('INVALID_REQUEST', message), context) });
          return;
        }
        link.lastSeq = seq;
      }
      const media = this.#mediaFor(link, chunk);
      if (media === undefined || media.byteLength === 0) {
        reply(OK);
        return;
      }
      link.session.write(media, (error) => reply(error ? { ok: false, error: this.#forClient(error) } : OK));
    });

    socket.on('stop', async (ack) => {
      const reply: (response: Ack) => void = typeof ack === 'function' ? ack : () => {};
      if (!link || link.state === 'ended') {
        reply({ ok: false, error: fail(new BroadcastError('NOT_STARTED'), { sessionId: link?.id }) });
        return;
      }
      this.#log.info('the client asked to stop', { sessionId: link.id, lastSeq: link.lastSeq });
      const error = await this.#end(link);
      reply(error ? { ok: false, error: this.#forClient(error) } : { ok: true });
    });

    socket.on('resume', (raw, ack) => {
      const reply: (response: ResumeAck) => void = typeof ack === 'function' ? ack : () => {};
      if (running()) {
        reply({ ok: false, error: fail(new BroadcastError('ALREADY_STARTED'), { sessionId: link?.id }) });
        return;
      }
      const request = raw as Partial<Record<'sessionId' | 'resumeToken', unknown>> | null;
      const sessionId = typeof request?.sessionId === 'string' ? request.sessionId : '';
      const token = typeof request?.resumeToken === 'string' ? request.resumeToken : '';
      const found = this.#links.get(sessionId);
      // One answer for a wrong token and an unknown session, so neither can be probed.
      if (!found || found.state === 'ended' || found.session.state === 'stopping' || !sameSecret(found.resumeToken, token)) {
        reply({ ok: false, error: fail(new BroadcastError('NOT_STARTED', 'There is no broadcast to resume: it ended, or the token is wrong.')) });
        return;
      }
      const previous = found.socket;
      clearTimeout(found.detachTimer);
      found.socket = socket;
      found.context = { ...found.context, socket, remoteAddress };
      // The old connection may not have noticed the drop yet; the client knows better.
      if (previous && previous !== socket) previous.disconnect(true);
      link = found;
      this.#log.info('client resumed its broadcast', { sessionId, remoteAddress, lastSeq: found.lastSeq });
      reply({ ok: true, sessionId, video: found.session.video, lastSeq: found.lastSeq });
    });

    socket.on('disconnect', () => {
      const away = link;
      if (!away || away.socket !== socket || away.state === 'ended' || away.session.state === 'stopping') return;
      away.socket = undefined;
      const windowMs = this.#closing ? 0 : this.#settings.resumeWindowMs;
      if (windowMs === 0) {
        this.#log.info('client disconnected, ending its broadcast', { sessionId: away.id });
        away.disconnected = true;
        void this.#end(away);
        return;
      }
      this.#log.info('client disconnected, waiting for it to resume', { sessionId: away.id, resumeWindowMs: windowMs });
      away.detachTimer = setTimeout(() => {
        if (away.socket) return;
        away.disconnected = true;
        const seconds = Math.round(windowMs / 1000);
        void this.#end(away, { code: 'DISCONNECTED', message: `The client did not come back within ${seconds} s of losing its connection.` });
      }, windowMs);
    });
  }

  /**
   * What of a chunk goes to ffmpeg: all of it normally; nothing while the destination is being
   * reconnected; after a reconnection, nothing until a start point (see `restartAt`): a new
   * recording, as it is, or the next Cluster behind the cached header. The first chunks of a
   * recording also teach the link its header.
   */
  #mediaFor(link: Link, chunk: Uint8Array): Uint8Array | undefined {
    if (link.state === 'reconnecting') return undefined;
    if (link.restartAt) {
      // The client restarted its recording: the chunk carries its own header and opens on a keyframe.
      if (link.mp4 ? startsMp4Recording(chunk) : startsRecording(chunk)) {
        link.restartAt = undefined;
        link.header = new MatroskaHeader();
        link.header.observe(chunk);
        return chunk;
      }
      const at = link.restartAt === 'recording-or-cluster' ? findCluster(chunk) : -1;
      if (at < 0) return undefined;
      link.restartAt = undefined;
      return Buffer.concat([link.header.bytes!, chunk.subarray(at)]);
    }
    if (!link.mp4) link.header.observe(chunk);
    return chunk;
  }

  /**
   * Ends a broadcast gracefully (its ffmpeg flushes) and resolves once the end has been reported,
   * with the error that ended it. `reason` is why the server ends it, if not asked by the client.
   */
  #end(link: Link, reason?: ErrorPayload): Promise<ErrorPayload | undefined> {
    if (link.state === 'reconnecting') {
      clearTimeout(link.retryTimer);
      this.#finish(link, reason);
    } else if (link.state === 'live') {
      void link.session.stop(reason);
    }
    return link.done;
  }

  /** ffmpeg exited: reconnect a destination that dropped a live broadcast, or report the end. */
  #onExit(link: Link, session: Session, error: ErrorPayload | undefined): void {
    if (link.session !== session || link.state === 'ended') return;
    const retry =
      error?.code === 'DESTINATION_UNREACHABLE' &&
      // With a fan-out, this ffmpeg writes to a pipe: its destinations are reconnected one by one.
      !link.fanOut &&
      !session.stopRequested &&
      // A destination that never took the broadcast is wrong, not dropped: no point retrying it.
      (session.published || link.retries > 0) &&
      // A restart point: the Matroska header (and a later Cluster), or a new recording of the client.
      (link.header.bytes !== undefined || (link.mp4 && link.socket !== undefined)) &&
      link.retries < this.#settings.destinationRetries &&
      !this.#closing;
    if (!retry) {
      this.#finish(link, error);
      return;
    }
    link.state = 'reconnecting';
    link.retries++;
    const retryInMs = Math.min(this.#settings.destinationRetryDelayMs * 2 ** (link.retries - 1), 10_000);
    this.#log.warn('the destination dropped the broadcast; reconnecting', { sessionId: link.id, attempt: link.retries, retryInMs, code: error.code });
    this.#destinationLost(link, { index: 0, destination: session.destination }, { attempt: link.retries, retryInMs, error, remaining: 0, retrying: true });
    link.retryTimer = setTimeout(() => void this.#reconnect(link), retryInMs);
  }

  /**
   * Starts a new ffmpeg for a broadcast whose destination dropped it. It must start at a keyframe:
   * the client is asked to restart its recording (Firefox makes no keyframe after the first); a
   * client that does not answer within a second is waited for at the next Cluster of its
   * recording, fed after the recording's header (Chromium starts every Cluster on a keyframe).
   */
  async #reconnect(link: Link): Promise<void> {
    let next: Session;
    try {
      next = await link.respawn();
    } catch (caught) {
      if (link.state === 'reconnecting') this.#finish(link, toBroadcastError(caught, 'INTERNAL').toJSON());
      return;
    }
    if (link.state !== 'reconnecting') {
      void next.stop();
      return;
    }
    link.session = next;
    link.state = 'live';
    link.restoring = true;
    link.restartAt = link.socket ? 'new-recording' : 'recording-or-cluster';
    const declined = () => {
      if (!link.mp4) {
        link.restartAt = 'recording-or-cluster';
        return;
      }
      const message = 'The destination dropped the broadcast, and the client could not restart its recording, which MP4 media must start from.';
      void this.#end(link, { code: 'DESTINATION_UNREACHABLE', message });
    };
    if (!link.socket) declined();
    link.socket?.timeout(RESTART_ANSWER_MS).emit('restart-recording', (error: Error | null, answer?: { ok?: unknown }) => {
      if (link.session === next && link.restartAt === 'new-recording' && (error || answer?.ok !== true)) declined();
    });
    void next.ended.then(({ error }) => this.#onExit(link, next, error));
  }

  /** The new ffmpeg of a broadcast whose destination dropped it publishes again. */
  #restored(link: Link): void {
    link.restoring = false;
    this.#log.info('reconnected to the destination', { sessionId: link.id, attempt: link.retries, pid: link.session.pid });
    this.#destinationRestored(link, { index: 0, destination: link.session.destination }, link.retries);
  }

  /** Tells the client and listeners that a destination dropped the broadcast. */
  #destinationLost(
    link: Link,
    destination: DestinationRef,
    lost: { attempt: number; retryInMs: number; error: ErrorPayload; remaining: number; retrying: boolean },
  ): void {
    const { attempt, retryInMs, error, remaining, retrying } = lost;
    const maxAttempts = this.#settings.destinationRetries;
    link.socket?.emit('destination-lost', { attempt, maxAttempts, retryInMs, error: this.#forClient(error), ...destination, remaining, retrying });
    this.emit('destination-lost', link.id, attempt, retryInMs, error, { ...destination, retrying });
  }

  /** Tells the client and listeners that a destination takes the broadcast again. */
  #destinationRestored(link: Link, destination: DestinationRef, attempt: number): void {
    link.socket?.emit('destination-restored', { attempt, ...destination });
    this.emit('destination-restored', link.id, attempt, destination);
  }

  /** Validates, asks the start hook, picks the destination, and spawns ffmpeg. */
  async #start(
    socket: BroadcastSocket,
    sessionId: string,
    raw: unknown,
    base: Omit<HookContext, 'sessionId' | 'request'>,
  ): Promise<Link> {
    if (this.#closing) throw new BroadcastError('SERVER_SHUTDOWN', 'The server is shutting down and takes no new broadcasts.');
    const request = validateStartRequest(raw);
    const media = parseMimeType(request.mimeType);
    if (!media) {
      throw new BroadcastError('INVALID_REQUEST', `The recorder type \`${request.mimeType.slice(0, 100)}\` is not supported: send WebM, Matroska or fragmented MP4.`);
    }
    if (this.#links.size + this.#reserved.size >= this.#settings.maxStreams) {
      throw new BroadcastError('TOO_MANY_STREAMS');
    }
    const addresses = [...this.#reserved.values(), ...[...this.#links.values()].map((link) => link.context.remoteAddress)];
    const fromAddress = addresses.filter((address) => address === base.remoteAddress).length;
    if (fromAddress >= this.#settings.maxStreamsPerAddress) {
      throw new BroadcastError('TOO_MANY_STREAMS', `This address already runs ${fromAddress} broadcast(s), as many as the server allows.`);
    }
    this.#reserved.set(sessionId, base.remoteAddress);
    let admitted = false;
    try {
      const context: HookContext = { sessionId, ...base, request };
      const overrides = await this.#runStartHook(context);
      const destinations = this.#chooseDestinations(request, overrides);
      const recording = await this.#recordingPath(context, overrides);
      if (socket.disconnected) throw new BroadcastError('DISCONNECTED', 'The client left before its broadcast started.');
      await this.#options.admission?.acquire({ sessionId, remoteAddress: base.remoteAddress, destination: destinations.map(redactDestination).join(' '), requestedAt: Date.now() });
      admitted = this.#options.admission !== undefined;
      const settings = { ...request, ...pickDefined(overrides) };
      const video: VideoMode = media.video;
      const ffmpeg = await this.#ffmpegCapabilities();
      // Unknown when ffmpeg cannot run at all; Session.start then reports FFMPEG_NOT_FOUND.
      const statsPeriod = ffmpeg?.statsPeriod ?? true;
      const tls = { tlsVerify: this.#options.tlsVerify !== false, ...(this.#options.tlsCaFile ? { tlsCaFile: this.#options.tlsCaFile } : {}) };
      // One destination and no recording: ffmpeg publishes itself, one process. Otherwise it
      // writes FLV once to a pipe, and a copy-only ffmpeg per output takes it from there.
      const fanned = destinations.length > 1 || recording !== undefined;
      const args = buildFfmpegArgs({
        inputFormat: media.inputFormat,
        ...(media.audio ? { audio: media.audio } : {}),
        video,
        destination: fanned ? 'pipe' : destinations[0]!,
        videoBitsPerSecond: settings.videoBitsPerSecond ?? DEFAULTS.videoBitsPerSecond,
        audioBitsPerSecond: settings.audioBitsPerSecond ?? DEFAULTS.audioBitsPerSecond,
        framerate: settings.framerate ?? DEFAULTS.framerate,
        audioSampleRate: settings.audioSampleRate ?? this.#settings.audioSampleRate,
        aacCoder: this.#settings.aacCoder,
        audioChannels: overrides.audioChannels ?? this.#settings.audioChannels,
        destinationTimeoutMs: this.#settings.destinationTimeoutMs,
        statsPeriod,
        fpsMode: ffmpeg?.fpsMode ?? true,
        ...tls,
      });
      const spawn = (continues?: Session) =>
        Session.start({
          id: sessionId,
          remoteAddress: base.remoteAddress,
          ffmpegPath: this.#settings.ffmpegPath,
          destination: destinations[0]!,
          pipeOutput: fanned,
          video,
          args,
          stopTimeoutMs: this.#settings.stopTimeoutMs,
          killTimeoutMs: this.#settings.killTimeoutMs,
          idleTimeoutMs: this.#settings.idleTimeoutMs,
          maxBufferedBytes: this.#settings.maxBufferedBytes,
          // A reconnected ffmpeg gets what is left of the broadcast's maximum duration.
          maxDurationMs: this.#settings.maxDurationMs - (continues ? Date.now() - continues.startedAt : 0),
          ...(continues ? { continues: { startedAt: continues.startedAt, bytesIn: continues.bytesIn } } : {}),
          onStats: (stats) => {
            if (link.restoring && stats.durationMs > 0) this.#restored(link);
            const withDestinations = { ...stats, destinations: destinationsOf(link) };
            if (!link.onAir && withDestinations.destinations.some((each) => each.state === 'live')) {
              link.onAir = true;
              link.socket?.emit('on-air', { destinations: withDestinations.destinations });
            }
            link.socket?.emit('stats', withDestinations);
            this.emit('stats', sessionId, withDestinations);
          },
          onOutput: (line) => {
            this.#log.debug('ffmpeg', { sessionId, line });
            this.emit('ffmpeg-output', sessionId, line);
            if (this.#options.sendFfmpegOutput) link.socket?.emit('ffmpeg-output', line);
          },
        });
      const fanOut = fanned
        ? await FanOut.start({
            sessionId,
            remoteAddress: base.remoteAddress,
            ffmpegPath: this.#settings.ffmpegPath,
            video,
            targets: [
              ...destinations.map((url) => ({ kind: 'destination' as const, url })),
              ...(recording === undefined ? [] : [{ kind: 'recording' as const, path: recording }]),
            ],
            args: (target) =>
              target.kind === 'destination'
                ? pusherArgs({ destination: target.url, destinationTimeoutMs: this.#settings.destinationTimeoutMs, statsPeriod, ...tls })
                : recorderArgs({ path: target.path, statsPeriod }),
            retries: this.#settings.destinationRetries,
            retryDelayMs: this.#settings.destinationRetryDelayMs,
            stopTimeoutMs: this.#settings.stopTimeoutMs,
            killTimeoutMs: this.#settings.killTimeoutMs,
            maxBufferedBytes: this.#settings.maxBufferedBytes,
          })
        : undefined;
      let first: Session;
      try {
        first = await spawn();
      } catch (caught) {
        await fanOut?.end();
        throw caught;
      }
      let settle!: (error: ErrorPayload | undefined) => void;
      const done = new Promise<ErrorPayload | undefined>((resolve) => (settle = resolve));
      const link: Link = {
        id: sessionId,
        state: 'live',
        session: first,
        socket,
        context,
        resumeToken: randomBytes(24).toString('base64url'),
        lastSeq: -1,
        fanOut,
        recording,
        header: new MatroskaHeader(),
        mp4: media.inputFormat === 'mp4',
        restartAt: undefined,
        restoring: false,
        onAir: false,
        retries: 0,
        disconnected: false,
        respawn: () => spawn(link.session),
        done,
        settle,
      };
      this.#links.set(sessionId, link);
      const { session } = link;
      if (fanOut) this.#wireFanOut(link, fanOut, session);
      this.#log.info('broadcast started', {
        sessionId,
        remoteAddress: base.remoteAddress,
        destinations: destinationsOf(link).map((each) => each.destination),
        ...(recording === undefined ? {} : { recording }),
        video,
        pid: session.pid,
      });
      this.emit('session-start', info(link));
      // With a fan-out the end is reported once every output has flushed, the recording included.
      void session.ended.then(async ({ error }) => {
        await fanOut?.end();
        this.#onExit(link, session, error);
      });
      return link;
    } catch (caught) {
      if (admitted) this.#release(sessionId);
      throw caught;
    } finally {
      this.#reserved.delete(sessionId);
    }
  }

  /** Feeds the outputs from the broadcast's ffmpeg and tells the client and listeners what each destination does. */
  #wireFanOut(link: Link, fanOut: FanOut, session: Session): void {
    const sessionId = link.id;
    fanOut.attach(session.output!);
    fanOut.on('output', (label, line) => this.#log.debug('ffmpeg', { sessionId, output: label, line }));
    fanOut.on('lost', (output, error, retryInMs, retrying) => {
      const destination = { index: output.index, destination: output.label };
      const fields = { sessionId, ...destination, attempt: output.retries, retryInMs, code: error.code };
      if (retrying) this.#log.warn('a destination dropped the broadcast; reconnecting it', fields);
      else this.#log.warn('giving up on a destination', { ...fields, message: error.message });
      this.#destinationLost(link, destination, { attempt: output.retries, retryInMs, error, remaining: fanOut.remaining, retrying });
    });
    fanOut.on('restored', (output) => {
      const destination = { index: output.index, destination: output.label };
      this.#log.info('reconnected to a destination', { sessionId, ...destination, attempt: output.retries });
      this.#destinationRestored(link, destination, output.retries);
    });
    fanOut.on('all-failed', (error) => void session.stop(error));
    fanOut.on('recording-failed', (error) => {
      this.#log.error('the recording failed; the broadcast goes on', { sessionId, recording: link.recording, code: error.code, message: error.message });
    });
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

  async #runStartHook(context: HookContext): Promise<StartOverrides> {
    const hook = this.#options.hooks?.start;
    if (!hook) return {};
    let result: StartOverrides | void;
    try {
      result = await hook(context);
    } catch (caught) {
      throw toBroadcastError(caught, 'UNAUTHORIZED');
    }
    if (result === undefined || result === null) return {};
    if (typeof result !== 'object') {
      this.#log.error('the start hook returned something that is not an object', { type: typeof result });
      throw new BroadcastError('INTERNAL', ERRORS.INTERNAL, 'The start hook returned something that is not an object.');
    }
    const rate = result.audioSampleRate;
    if (rate !== undefined && !AAC_SAMPLE_RATES.includes(rate as (typeof AAC_SAMPLE_RATES)[number])) {
      this.#log.error('the start hook returned an unusable audioSampleRate', { audioSampleRate: rate });
      throw new BroadcastError('INTERNAL', ERRORS.INTERNAL, `The start hook returned audioSampleRate ${String(rate)}, which AAC cannot carry.`);
    }
    const channels = result.audioChannels;
    if (channels !== undefined && !AUDIO_CHANNELS.includes(channels)) {
      this.#log.error('the start hook returned unusable audioChannels', { audioChannels: String(channels) });
      throw new BroadcastError('INTERNAL', ERRORS.INTERNAL, `The start hook returned audioChannels ${String(channels)}; it must be ${AUDIO_CHANNELS.join(', ')}.`);
    }
    return result;
  }

  /** The start hook's destinations are trusted; a client's are used only if the allow-list admits every one. */
  #chooseDestinations(request: StartRequest, overrides: StartOverrides): URL[] {
    const max = this.#settings.maxDestinations;
    if (overrides.rtmpUrl !== undefined) {
      try {
        const urls = [overrides.rtmpUrl].flat().map((url) => parseDestination(url));
        if (urls.length === 0 || urls.length > max) throw new Error(`${urls.length} destinations, and maxDestinations is ${max}.`);
        if (hasDuplicate(urls)) throw new Error('The same destination is listed twice.');
        return urls;
      } catch (caught) {
        this.#log.error('the start hook returned an unusable rtmpUrl', { error: describe(caught) });
        throw new BroadcastError('INTERNAL', 'The server chose a destination it cannot use.', describe(caught));
      }
    }
    if (request.rtmpUrl === undefined) {
      throw new BroadcastError('INVALID_REQUEST', 'No destination: the request has no `rtmpUrl` and the server set none.');
    }
    const listed = [request.rtmpUrl].flat();
    if (listed.length > max) {
      throw new BroadcastError('INVALID_REQUEST', `A broadcast may go to at most ${max} destination(s) on this server; the request lists ${listed.length}.`);
    }
    const urls = listed.map((url) => parseDestination(url));
    for (const url of urls) {
      if (!isAllowedDestination(url, this.#options.allowedDestinations)) {
        throw new BroadcastError('DESTINATION_NOT_ALLOWED', `The server does not allow broadcasting to ${redactDestination(url)}.`);
      }
    }
    if (hasDuplicate(urls)) throw new BroadcastError('INVALID_REQUEST', 'The same destination is listed twice in `rtmpUrl`.');
    return urls;
  }

  /** Where the operator records this broadcast, if anywhere; the client has no say. */
  async #recordingPath(context: HookContext, overrides: StartOverrides): Promise<string | undefined> {
    const option = this.#options.record;
    let path: unknown;
    try {
      if (overrides.record !== undefined) path = overrides.record === false ? undefined : overrides.record;
      else if (typeof option === 'string') path = join(option, `${context.sessionId}.mp4`);
      else if (typeof option === 'function') path = await option(context);
      if (path === undefined) return undefined;
      if (typeof path !== 'string' || !isAbsolute(path)) throw new Error(`A recording path must be an absolute path, got ${String(path)}.`);
      recorderArgs({ path });
      await mkdir(dirname(path), { recursive: true });
    } catch (caught) {
      this.#log.error('the recording path is unusable', { error: describe(caught) });
      throw new BroadcastError('INTERNAL', ERRORS.INTERNAL, describe(caught));
    }
    const exists = await access(path).then(
      () => true,
      () => false,
    );
    if (exists) {
      this.#log.error('the recording file already exists; refusing to overwrite it', { recording: path });
      throw new BroadcastError('INTERNAL', ERRORS.INTERNAL, 'The recording file already exists.');
    }
    return path;
  }

  /** Tells the client, the hooks and listeners that a broadcast ended; once per broadcast. */
  #finish(link: Link, error: ErrorPayload | undefined): void {
    if (link.state === 'ended') return;
    link.state = 'ended';
    this.#links.delete(link.id);
    clearTimeout(link.detachTimer);
    clearTimeout(link.retryTimer);
    const { session, context } = link;
    const reason = link.disconnected ? 'disconnected' : error ? 'error' : 'stopped';
    const summary: StopSummary = {
      reason,
      durationMs: Date.now() - session.startedAt,
      bytesIn: session.bytesIn,
      destination: session.destination,
      destinations: destinationsOf(link),
      ...(link.recording === undefined ? {} : { recording: link.recording }),
      ...(error ? { error } : {}),
    };
    link.socket?.emit('ended', error ? { reason: 'error', error: this.#forClient(error) } : { reason: 'stopped' });
    if (error) this.#reportError(context, BroadcastError.from(error));
    this.#log.info('broadcast ended', { sessionId: link.id, reason, code: error?.code, bytesIn: session.bytesIn });
    this.emit('session-end', info(link), summary);
    const reported = this.#runHook('stop', () => this.#options.hooks?.stop?.(context, summary)).then(() => link.settle(error));
    this.#ending.add(reported);
    void reported.finally(() => this.#ending.delete(reported));
    if (this.#options.admission) this.#release(link.id);
  }

  /** Gives a broadcast's slot back to the admission gate; close() waits for it. */
  #release(sessionId: string): void {
    const released = this.#runHook('admission release', () => this.#options.admission?.release(sessionId));
    this.#ending.add(released);
    void released.finally(() => this.#ending.delete(released));
  }

  /** What a client may see of an error: its `detail` only when the operator shares details. */
  #forClient(error: ErrorPayload): ErrorPayload {
    if (this.#options.sendErrorDetails || error.detail === undefined) return error;
    return { code: error.code, message: error.message };
  }

  #reportError(context: ErrorContext, error: BroadcastError): void {
    this.#log.warn(error.message, { code: error.code, sessionId: context.sessionId, remoteAddress: context.remoteAddress });
    if (this.listenerCount('error') > 0) {
      this.emit('error', error, { sessionId: context.sessionId, remoteAddress: context.remoteAddress });
    }
    void this.#runHook('error', () => this.#options.hooks?.error?.(context, error));
  }

  /** Hooks run by the operator's code must never take the server down. */
  async #runHook(name: string, call: () => unknown): Promise<void> {
    try {
      await call();
    } catch (caught) {
      this.#log.error(`the ${name} hook threw`, { error: describe(caught) });
    }
  }
}

function resolveSettings(options: BroadcastServerOptions): Resolved {
  const positive = (name: keyof BroadcastServerOptions, fallback: number): number => {
    const value = options[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      throw new TypeError(`Expected \`${name}\` to be a positive number, got \`${String(value)}\``);
    }
    return value;
  };
  const audioSampleRate = positive('audioSampleRate', DEFAULTS.audioSampleRate);
  if (!AAC_SAMPLE_RATES.includes(audioSampleRate as (typeof AAC_SAMPLE_RATES)[number])) {
    throw new TypeError(`Expected \`audioSampleRate\` to be one of ${AAC_SAMPLE_RATES.join(', ')}, got \`${audioSampleRate}\``);
  }
  const count = (name: 'maxStreams' | 'maxStreamsPerAddress' | 'maxConnectionsPerMinute' | 'destinationRetries' | 'maxDestinations'): number => {
    if (options[name] === undefined) return Infinity;
    const value = positive(name, 0);
    if (!Number.isInteger(value)) throw new TypeError(`Expected \`${name}\` to be a whole number, got \`${value}\``);
    return value;
  };
  const aacCoder = options.aacCoder ?? 'twoloop';
  if (!AAC_CODERS.includes(aacCoder)) {
    throw new TypeError(`Expected \`aacCoder\` to be one of ${AAC_CODERS.join(', ')}, got \`${String(aacCoder)}\``);
  }
  const audioChannels = options.audioChannels ?? 'source';
  if (!AUDIO_CHANNELS.includes(audioChannels)) {
    throw new TypeError(`Expected \`audioChannels\` to be one of ${AUDIO_CHANNELS.join(', ')}, got \`${String(audioChannels)}\``);
  }
  const allowedOrigins = options.allowedOrigins;
  if (allowedOrigins !== undefined && allowedOrigins !== '*' && typeof allowedOrigins !== 'function' && !Array.isArray(allowedOrigins)) {
    throw new TypeError("Expected `allowedOrigins` to be '*', an array of origins and RegExps, or a function");
  }
  checkAdmission(options.admission);
  const record = options.record;
  if (record !== undefined && typeof record !== 'function' && !(typeof record === 'string' && isAbsolute(record))) {
    throw new TypeError(`Expected \`record\` to be an absolute directory or a function returning a path, got \`${String(record)}\``);
  }
  const allowed = options.allowedDestinations;
  if (allowed !== undefined && typeof allowed !== 'function' && !Array.isArray(allowed)) {
    throw new TypeError('Expected `allowedDestinations` to be an array of URL prefixes and RegExps, or a function');
  }
  return {
    maxDestinations: options.maxDestinations === undefined ? DEFAULTS.maxDestinations : count('maxDestinations'),
    maxStreams: count('maxStreams'),
    maxStreamsPerAddress: count('maxStreamsPerAddress'),
    maxConnectionsPerMinute: count('maxConnectionsPerMinute'),
    maxDurationMs: options.maxDurationMs === undefined ? Infinity : positive('maxDurationMs', 0),
    maxChunkBytes: positive('maxChunkBytes', DEFAULTS.maxChunkBytes),
    maxBufferedBytes: positive('maxBufferedBytes', DEFAULTS.maxBufferedBytes),
    idleTimeoutMs: positive('idleTimeoutMs', DEFAULTS.idleTimeoutMs),
    resumeWindowMs: options.resumeWindowMs === 0 ? 0 : positive('resumeWindowMs', DEFAULTS.resumeWindowMs),
    stopTimeoutMs: positive('stopTimeoutMs', DEFAULTS.stopTimeoutMs),
    killTimeoutMs: positive('killTimeoutMs', DEFAULTS.killTimeoutMs),
    destinationTimeoutMs: positive('destinationTimeoutMs', DEFAULTS.destinationTimeoutMs),
    destinationRetryDelayMs: positive('destinationRetryDelayMs', DEFAULTS.destinationRetryDelayMs),
    destinationRetries: options.destinationRetries === 0 ? 0 : options.destinationRetries === undefined ? 3 : count('destinationRetries'),
    audioSampleRate,
    aacCoder,
    audioChannels,
    ffmpegPath: locateFfmpeg(options.ffmpegPath),
  };
}

/** What `sessions()` shows of a broadcast. */
function info(link: Link): SessionInfo {
  const current = { ...link.session.info(), destinations: destinationsOf(link), ...(link.recording === undefined ? {} : { recording: link.recording }) };
  return link.state === 'reconnecting' || link.restoring ? { ...current, state: 'reconnecting' } : current;
}

/** Each destination's state: the fan-out's, or the one destination of a broadcast whose ffmpeg publishes itself. */
function destinationsOf(link: Link): DestinationStatus[] {
  if (link.fanOut) return link.fanOut.destinations();
  const { session } = link;
  const state = link.state === 'ended' ? 'ended' : link.state === 'reconnecting' || link.restoring ? 'reconnecting' : session.published ? 'live' : 'connecting';
  return [{ destination: session.destination, state, retries: link.retries, durationMs: session.stats?.durationMs ?? 0 }];
}

/** Whether two of the URLs are the same destination. */
function hasDuplicate(urls: readonly URL[]): boolean {
  return new Set(urls.map((url) => url.href)).size !== urls.length;
}

/** Compares secrets in constant time. */
function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function pickDefined(overrides: StartOverrides): Partial<StartRequest> {
  const picked: Partial<StartRequest> = {};
  for (const key of ['videoBitsPerSecond', 'audioBitsPerSecond', 'framerate', 'audioSampleRate'] as const) {
    if (typeof overrides[key] === 'number') picked[key] = overrides[key];
  }
  return picked;
}

/** A BroadcastError keeps its code; anything else becomes `fallback` with the thrown message. */
function toBroadcastError(caught: unknown, fallback: ErrorCode): BroadcastError {
  if (caught instanceof BroadcastError) return caught;
  // A BroadcastError from another copy of this package (a hook importing its own) keeps its code too.
  if (caught instanceof Error && caught.name === 'BroadcastError' && isErrorCode((caught as { code?: unknown }).code)) {
    return BroadcastError.from(caught as Error & { code: unknown });
  }
  const underneath = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
  const message = fallback === 'INTERNAL' ? ERRORS.INTERNAL : caught instanceof Error && caught.message ? caught.message : ERRORS[fallback];
  return new BroadcastError(fallback, message, underneath);
}

function describe(caught: unknown): string {
  return caught instanceof Error ? caught.message : String(caught);
}
