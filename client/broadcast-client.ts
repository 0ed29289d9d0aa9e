// The imperative client: records a MediaStream and streams it to a BroadcastServer over socket.io,
// with acknowledged, numbered chunks, a bound on what may pile up when the network is slow, and a
// reconnection that resumes the same broadcast after a network blip.
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  AAC_SAMPLE_RATES,
  BroadcastError,
  REQUEST_LIMITS,
  type Ack,
  type BroadcastStats,
  type ClientToServerEvents,
  type DestinationLostMessage,
  type DestinationRestoredMessage,
  type EndedMessage,
  type ErrorPayload,
  type ResumeAck,
  type ServerToClientEvents,
  type StartAck,
  type StartRequest,
  type VideoMode,
} from './protocol.js';
import { Recorder } from './recorder.js';

/**
 * Where a broadcast is in its life. `reconnecting`: the connection dropped while live or paused,
 * or the destination dropped the broadcast and the server is reconnecting it; recording goes on
 * and the broadcast returns to where it was once the link is back. `ended` and `error` are final
 * until the next start.
 */
export type BroadcastState = 'idle' | 'connecting' | 'live' | 'paused' | 'reconnecting' | 'stopping' | 'ended' | 'error';

export interface BroadcastClientOptions {
  /** URL of the BroadcastServer, e.g. `https://example.com` (socket.io's default path). */
  server: string;
  /** Where to broadcast, or a list of destinations to broadcast to at once; the server uses them only if its allow-list admits each, or its start hook sets them. */
  rtmpUrl?: string | string[];
  /** socket.io handshake `auth`, which the server's hooks see: tokens go here. */
  auth?: Record<string, unknown>;
  /** Video bitrate of the recording (and of the output when the server transcodes). Default 2 500 000. */
  videoBitsPerSecond?: number;
  /** Audio bitrate of the recording and of the AAC output. Default 128 000. */
  audioBitsPerSecond?: number;
  /** Output frame rate when the server transcodes. Default 30. */
  framerate?: number;
  /** AAC sample rate of the output, one of {@link AAC_SAMPLE_RATES}. Default: the server's (44 100 unless its operator chose another). */
  audioSampleRate?: number;
  /** Milliseconds of media per chunk. Default 200 (chosen by `npm run bench`: the p95 delay to the destination stays under 250 ms). */
  timeslice?: number;
  /** Most bytes sent and not yet acknowledged by the server. Default 1 MiB. */
  maxInFlightBytes?: number;
  /** Most bytes waiting to be sent before the broadcast ends with NETWORK_TOO_SLOW, reconnecting or not. Default 8 MiB. */
  maxBacklogBytes?: number;
  /** After the connection drops mid-broadcast, how long to try to reconnect and resume it before ending with DISCONNECTED. Default 10 000 ms (the server's own default wait). */
  resumeTimeoutMs?: number;
  /** How long the server may take to answer `start` (its start hook included) and `stop` (ffmpeg's flush included) before the broadcast ends with INTERNAL. Default 20 000 ms. */
  replyTimeoutMs?: number;
  /** Other socket.io client options, applied last. */
  socketio?: Partial<ManagerOptions & SocketOptions>;
}

/** Detail of `statechange`. */
export interface StateChangeDetail {
  state: BroadcastState;
  previous: BroadcastState;
}

/** Detail of `ffmpeg-output`. */
export interface FfmpegOutputDetail {
  /** One line of the server's ffmpeg log, with the stream key redacted. */
  line: string;
}

/** The events of a BroadcastClient, all CustomEvents. */
export interface BroadcastClientEventMap {
  /** The state changed. */
  statechange: CustomEvent<StateChangeDetail>;
  /** Progress from the server's ffmpeg, about once a second. */
  stats: CustomEvent<BroadcastStats>;
  /** The broadcast failed; `ended` follows. `detail` says what lay underneath when the server shares it. */
  error: CustomEvent<ErrorPayload>;
  /** The broadcast is over, whatever ended it; exactly once per start. */
  ended: CustomEvent<EndedMessage>;
  /** A line of the server's ffmpeg log, only when the server's `sendFfmpegOutput` is on. */
  'ffmpeg-output': CustomEvent<FfmpegOutputDetail>;
  /**
   * A destination dropped the broadcast: the server reconnects it in `retryInMs`, or gave up on it
   * (`retrying: false`). `index` says which of several; `remaining` how many still take the
   * broadcast (at 0 the state is `reconnecting` until one is back).
   */
  'destination-lost': CustomEvent<DestinationLostMessage>;
  /** A dropped destination takes the broadcast again. */
  'destination-restored': CustomEvent<DestinationRestoredMessage>;
}

/** Options without a default, sent only when given. */
type UnsetByDefault = 'rtmpUrl' | 'audioSampleRate';

type ResolvedOptions = Required<Omit<BroadcastClientOptions, UnsetByDefault>> & Pick<BroadcastClientOptions, UnsetByDefault>;

const DEFAULTS = {
  auth: {},
  videoBitsPerSecond: 2_500_000,
  audioBitsPerSecond: 128_000,
  framerate: 30,
  timeslice: 200,
  maxInFlightBytes: 1024 * 1024,
  maxBacklogBytes: 8 * 1024 * 1024,
  resumeTimeoutMs: 10_000,
  replyTimeoutMs: 20_000,
  socketio: {},
} satisfies Partial<BroadcastClientOptions>;

/** Numbers that stay in the browser; those sent to the server must also be within REQUEST_LIMITS. */
const POSITIVE_NUMBERS = ['timeslice', 'maxInFlightBytes', 'maxBacklogBytes', 'resumeTimeoutMs', 'replyTimeoutMs'] as const;

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A recorded chunk and its place in the broadcast, from 0, so the server writes a resent one once. */
interface Chunk {
  seq: number;
  bytes: ArrayBuffer;
}

/** A reconnection under way: the state to return to, and the deadline. */
interface Reconnection {
  resumeTo: 'live' | 'paused';
  timer: ReturnType<typeof setTimeout>;
}

// Typed listeners for the event map; the class below inherits the implementation from EventTarget.
export interface BroadcastClient {
  addEventListener<K extends keyof BroadcastClientEventMap>(
    type: K,
    listener: (this: BroadcastClient, event: BroadcastClientEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof BroadcastClientEventMap>(
    type: K,
    listener: (this: BroadcastClient, event: BroadcastClientEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

/**
 * Broadcasts a MediaStream through a BroadcastServer. Constructing does nothing; `start()`,
 * `pause()`, `resume()` and `stop()` are the verbs; failures while running arrive as `error`
 * events (and as the rejection of the verb that was waiting).
 */
export class BroadcastClient extends EventTarget {
  readonly #options: ResolvedOptions;
  #state: BroadcastState = 'idle';
  #stats: BroadcastStats | undefined;
  #sessionId: string | undefined;
  #resumeToken: string | undefined;
  #videoMode: VideoMode | undefined;
  #audioMuted = false;
  #videoMuted = false;

  // One broadcast's parts, replaced by each start.
  #socket: ClientSocket | undefined;
  #recorder: Recorder | undefined;
  #nextSeq = 0;
  /** Chunks recorded and not yet sent, oldest first. */
  #queue: Chunk[] = [];
  #queuedBytes = 0;
  /** Chunks sent and not yet acknowledged: after a drop, they go back to the front of the queue. */
  #inFlight: Chunk[] = [];
  #inFlightBytes = 0;
  /** Changes when the connection drops and when the broadcast ends, so acks from an earlier connection are ignored. */
  #connection = 0;
  #reconnection: Reconnection | undefined;
  /** Set while the server reconnects a destination that dropped the broadcast: the state to return to. */
  #destinationDown: 'live' | 'paused' | undefined;
  /** Called when the queue is empty and every chunk acknowledged, while stopping. */
  #onDrained: (() => void) | undefined;
  #starting: Promise<void> | undefined;
  /** Settles when the server says a destination took the broadcast; `waiting` once recording runs. */
  #onAir: OnAir | undefined;
  #stopping: Promise<void> | undefined;
  /** Settles when the broadcast ends: resolves when it stopped, rejects with what failed it. */
  #outcome: Promise<void> = Promise.resolve();
  #settle: { resolve(): void; reject(error: BroadcastError): void } | undefined;

  /** Throws a TypeError naming the first option that is wrong. */
  constructor(options: BroadcastClientOptions) {
    super();
    this.#options = resolveOptions(options);
  }

  /** Where the broadcast is in its life. */
  get state(): BroadcastState {
    return this.#state;
  }

  /** The latest progress report from the server, once one came. */
  get stats(): BroadcastStats | undefined {
    return this.#stats;
  }

  /** The server's id for the current (or last) broadcast, once it started. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** Whether the server copies the video (H.264) or transcodes it, once started. */
  get videoMode(): VideoMode | undefined {
    return this.#videoMode;
  }

  /** Whether the broadcast carries silence instead of the microphone: see {@link setAudioMuted}. */
  get audioMuted(): boolean {
    return this.#audioMuted;
  }

  /** Whether the broadcast carries black frames instead of the camera or screen: see {@link setVideoMuted}. */
  get videoMuted(): boolean {
    return this.#videoMuted;
  }

  /**
   * Mutes the microphone of the broadcast (silence goes out) or unmutes it, without touching the
   * page's own track or its preview. The broadcast stays on air. Takes effect at once while a
   * broadcast runs, and applies to the next ones until changed. While paused, everything is
   * silent anyway; the choice holds after `resume()`.
   */
  setAudioMuted(muted: boolean): void {
    this.#audioMuted = checkBoolean('muted', muted);
    this.#recorder?.setMuted('audio', muted);
  }

  /**
   * Hides the camera or screen from the broadcast (black frames go out) or shows it again, without
   * touching the page's own track or its preview. The broadcast stays on air. Same lifetime as
   * {@link setAudioMuted}.
   */
  setVideoMuted(muted: boolean): void {
    this.#videoMuted = checkBoolean('muted', muted);
    this.#recorder?.setMuted('video', muted);
  }

  /**
   * Connects, asks the server to start, and starts recording `stream`. Resolves once live: a
   * destination took the broadcast (until then the state is `connecting`). Rejects with a
   * BroadcastError carrying the server's code when the broadcast cannot start, or `NOT_STARTED`
   * when `stop()` came first.
   */
  start(stream: MediaStream): Promise<void> {
    if (!(stream instanceof MediaStream) || stream.getVideoTracks().length === 0) {
      return Promise.reject(new TypeError(`Expected \`stream\` to be a MediaStream with a video track, got \`${show(stream)}\``));
    }
    if (!(this.#state === 'idle' || this.#state === 'ended' || this.#state === 'error')) {
      return Promise.reject(new BroadcastError('ALREADY_STARTED'));
    }
    this.#starting = this.#start(stream);
    return this.#starting;
  }

  /** Sends black frames and silence instead of the stream, keeping the broadcast alive. */
  pause(): void {
    if (this.#state === 'paused') return;
    if (this.#state !== 'live') throw new BroadcastError('NOT_STARTED', `Only a live broadcast can be paused; it is ${this.#state}.`);
    this.#recorder?.setPaused(true);
    this.#setState('paused');
  }

  /** Sends the stream again after `pause()`. */
  resume(): void {
    if (this.#state === 'live') return;
    if (this.#state !== 'paused') throw new BroadcastError('NOT_STARTED', `Only a paused broadcast can be resumed; it is ${this.#state}.`);
    this.#recorder?.setPaused(false);
    this.#setState('live');
  }

  /**
   * Sends every recorded chunk, asks the server to stop, and resolves once it has ended the
   * broadcast (the destination got everything). Rejects if the broadcast fails meanwhile.
   * While reconnecting, waits for the broadcast to be back on air first (and rejects if it does
   * not come back). Resolves at once when there is nothing to stop.
   */
  async stop(): Promise<void> {
    if (this.#state === 'connecting' && !this.#onAir?.waiting) await this.#starting?.catch(() => {});
    if (this.#state === 'reconnecting') {
      // The next state is the reconnection's outcome: back on air, or failed.
      const next = await new Promise<BroadcastState>((resolve) => {
        this.addEventListener('statechange', (event) => resolve(event.detail.state), { once: true });
      });
      if (next === 'error') return this.#outcome;
    }
    if (this.#state === 'connecting' && this.#onAir?.waiting) {
      // No destination took anything yet, so there is nothing to flush: the server is told to end
      // its ffmpeg (which may hang on a destination that never answers) and the broadcast is over.
      this.#onAir.reject(new BroadcastError('NOT_STARTED', 'The broadcast was stopped before it went on air.'));
      this.#setState('stopping');
      this.#socket?.emit('stop', () => {});
      this.#finish();
      return;
    }
    if (this.#state === 'live' || this.#state === 'paused') {
      this.#setState('stopping');
      this.#stopping = this.#stop(this.#recorder!, this.#socket!);
    }
    if (this.#state === 'stopping') return this.#stopping;
  }

  async #start(stream: MediaStream): Promise<void> {
    this.#reset();
    this.#setState('connecting');
    try {
      const recorder = new Recorder(stream, {
        videoBitsPerSecond: this.#options.videoBitsPerSecond,
        audioBitsPerSecond: this.#options.audioBitsPerSecond,
        timeslice: this.#options.timeslice,
        onChunk: (chunk) => this.#enqueue(chunk),
        onError: (error) => this.#fail(error),
        onEnd: () => void this.stop().catch(() => {}),
      });
      recorder.setMuted('audio', this.#audioMuted);
      recorder.setMuted('video', this.#videoMuted);
      this.#recorder = recorder;
      const socket = this.#connect();
      await this.#until(connected(socket));
      const request: StartRequest = {
        mimeType: recorder.mimeType,
        videoBitsPerSecond: this.#options.videoBitsPerSecond,
        audioBitsPerSecond: this.#options.audioBitsPerSecond,
        framerate: this.#options.framerate,
        ...(this.#options.rtmpUrl === undefined ? {} : { rtmpUrl: this.#options.rtmpUrl }),
        ...(this.#options.audioSampleRate === undefined ? {} : { audioSampleRate: this.#options.audioSampleRate }),
      };
      const connection = this.#connection;
      const answer = await this.#until(
        new Promise<StartAck>((resolve, reject) => {
          socket.timeout(this.#options.replyTimeoutMs).emit('start', request, (error: Error | null, reply: StartAck) => {
            // A connection that dropped meanwhile answers with an error too: the drop has been handled.
            if (connection !== this.#connection) return;
            if (error) reject(this.#noReply('start'));
            else resolve(reply);
          });
        }),
      );
      if (!answer.ok) throw BroadcastError.from(answer.error);
      this.#sessionId = answer.sessionId;
      this.#resumeToken = answer.resumeToken;
      this.#videoMode = answer.video;
      await this.#until(recorder.start());
      const onAir = this.#onAir!;
      onAir.waiting = true;
      await this.#until(onAir.promise);
      this.#setState('live');
    } catch (caught) {
      const error = toBroadcastError(caught);
      // A stop before the broadcast went on air is not a failure: the stop goes on flushing.
      if (this.#state !== 'stopping') this.#fail(error);
      throw error;
    }
  }

  async #stop(recorder: Recorder, socket: ClientSocket): Promise<void> {
    try {
      await this.#until(recorder.stop());
      await this.#until(this.#drained());
      // The server answers once ffmpeg has flushed, just after its `ended` message.
      const connection = this.#connection;
      socket.timeout(this.#options.replyTimeoutMs).emit('stop', (error: Error | null, answer: Ack) => {
        if (connection !== this.#connection) return;
        if (error) this.#fail(this.#noReply('stop'));
        else if (answer.ok) this.#finish();
        else this.#fail(BroadcastError.from(answer.error));
      });
    } catch {
      // The broadcast failed while flushing; the outcome says how.
    }
    return this.#outcome;
  }

  /** A server that never answered `start` or `stop`: a bug or a hung hook on its side. */
  #noReply(message: 'start' | 'stop'): BroadcastError {
    const seconds = Math.round(this.#options.replyTimeoutMs / 100) / 10;
    return new BroadcastError('INTERNAL', `The broadcast server did not answer \`${message}\` within ${seconds} s.`);
  }

  /** Connects a fresh socket and routes what the server says about this broadcast. */
  #connect(): ClientSocket {
    const socket: ClientSocket = io(this.#options.server, {
      // WebSocket only: long-polling would need sticky sessions and CORS, and costs more per chunk.
      transports: ['websocket'],
      // After a drop, try again soon and often: the server keeps the broadcast only for its
      // resume window. The deadline is `resumeTimeoutMs`, not a number of attempts.
      reconnectionDelay: 250,
      reconnectionDelayMax: 1_000,
      forceNew: true,
      auth: this.#options.auth,
      ...this.#options.socketio,
    });
    this.#socket = socket;
    socket.on('on-air', () => this.#onAir?.resolve());
    socket.on('stats', (stats) => {
      // A server that predates `on-air` tells it by its stats.
      if (showsOnAir(stats)) this.#onAir?.resolve();
      this.#stats = stats;
      this.#emit('stats', stats);
    });
    socket.on('ffmpeg-output', (line) => this.#emit('ffmpeg-output', { line }));
    socket.on('ended', (message) => {
      if (message.error) this.#fail(BroadcastError.from(message.error));
      else this.#finish();
    });
    socket.on('connect', () => {
      if (this.#state === 'reconnecting') this.#resumeBroadcast(socket);
    });
    socket.on('connect_error', (error: ConnectError) => {
      // The server refused the connection (origin, rate limit, shutdown): socket.io stops retrying.
      if (this.#state === 'reconnecting' && !socket.active) this.#fail(connectError(error));
    });
    socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect') return;
      this.#connection++;
      const state = this.#state;
      if (state !== 'live' && state !== 'paused' && state !== 'reconnecting') {
        this.#fail(new BroadcastError('DISCONNECTED'));
        return;
      }
      // socket.io reconnects by itself, unless it was the server that closed the connection.
      if (!socket.active) socket.connect();
      if (!this.#reconnection) this.#startReconnecting(this.#destinationDown ?? (state as 'live' | 'paused'));
    });
    // The server reconnects its destination by itself; media keeps flowing (it skips what it cannot send).
    socket.on('destination-lost', (message) => {
      this.#emit('destination-lost', message);
      // Another destination still takes the broadcast, or the server gave up on this one: still on air.
      if ((message?.remaining ?? 0) > 0 || message?.retrying === false) return;
      if (this.#state !== 'live' && this.#state !== 'paused') return;
      this.#destinationDown = this.#state;
      this.#setState('reconnecting');
    });
    // The server's new ffmpeg must start at a keyframe: a new recording opens with one.
    socket.on('restart-recording', (ack) => {
      const recorder = this.#recorder;
      const reply = typeof ack === 'function' ? ack : () => {};
      if (!recorder || !this.#isRunning() || this.#state === 'stopping') return reply({ ok: false });
      reply({ ok: true });
      recorder.restart().catch((caught: unknown) => this.#fail(new BroadcastError('INVALID_MEDIA', `The browser could not restart recording: ${caught instanceof Error ? caught.message : String(caught)}`)));
    });
    socket.on('destination-restored', (message) => {
      this.#emit('destination-restored', message);
      const back = this.#destinationDown;
      this.#destinationDown = undefined;
      if (back && this.#state === 'reconnecting' && !this.#reconnection) this.#setState(back);
    });
    return socket;
  }

  /** The connection dropped while on air: recording goes on while socket.io reconnects, until the deadline. */
  #startReconnecting(resumeTo: 'live' | 'paused'): void {
    // Unacknowledged chunks may not have reached ffmpeg: they go out again after the resume.
    this.#queue.unshift(...this.#inFlight);
    this.#queuedBytes += this.#inFlightBytes;
    this.#inFlight = [];
    this.#inFlightBytes = 0;
    const timer = setTimeout(() => this.#fail(new BroadcastError('DISCONNECTED')), this.#options.resumeTimeoutMs);
    this.#reconnection = { resumeTo, timer };
    if (this.#state !== 'reconnecting') this.#setState('reconnecting');
  }

  /** On a new connection, asks the server for the broadcast back and sends what ffmpeg lacks. */
  #resumeBroadcast(socket: ClientSocket): void {
    const connection = this.#connection;
    const request = { sessionId: this.#sessionId!, resumeToken: this.#resumeToken! };
    socket.emit('resume', request, (answer: ResumeAck) => {
      if (connection !== this.#connection) return;
      if (!answer.ok) {
        this.#fail(BroadcastError.from(answer.error));
        return;
      }
      // ffmpeg got these before the drop; only their acks were lost.
      for (let chunk = this.#queue[0]; chunk && chunk.seq <= answer.lastSeq; chunk = this.#queue[0]) {
        this.#queue.shift();
        this.#queuedBytes -= chunk.bytes.byteLength;
      }
      const { resumeTo, timer } = this.#reconnection!;
      clearTimeout(timer);
      this.#reconnection = undefined;
      this.#setState(resumeTo);
      this.#send();
    });
  }

  #enqueue(bytes: ArrayBuffer): void {
    if (!this.#socket) return;
    this.#queue.push({ seq: this.#nextSeq++, bytes });
    this.#queuedBytes += bytes.byteLength;
    this.#send();
    // Waiting chunks are the recorder outrunning the network: end rather than grow without bound.
    if (this.#queuedBytes > this.#options.maxBacklogBytes) this.#fail(new BroadcastError('NETWORK_TOO_SLOW'));
  }

  /**
   * Sends queued chunks while the unacknowledged bytes stay under the limit (one chunk always may
   * go). While reconnecting they wait: the server first says which ones ffmpeg already has.
   */
  #send(): void {
    const socket = this.#socket;
    // While the connection is being re-established, chunks wait: the server first says which ones ffmpeg has.
    if (!socket || this.#reconnection) return;
    for (let chunk = this.#queue[0]; chunk; chunk = this.#queue[0]) {
      const size = chunk.bytes.byteLength;
      if (this.#inFlightBytes > 0 && this.#inFlightBytes + size > this.#options.maxInFlightBytes) return;
      this.#queue.shift();
      this.#queuedBytes -= size;
      this.#inFlight.push(chunk);
      this.#inFlightBytes += size;
      const connection = this.#connection;
      socket.emit('data', chunk.bytes, { seq: chunk.seq }, (answer: Ack) => {
        // Sent on a connection that has dropped since: the chunk went back to the queue.
        if (connection !== this.#connection) return;
        this.#inFlight.splice(this.#inFlight.indexOf(chunk), 1);
        this.#inFlightBytes -= size;
        if (!answer.ok) {
          this.#fail(BroadcastError.from(answer.error));
          return;
        }
        this.#send();
      });
    }
    if (this.#inFlightBytes === 0) this.#onDrained?.();
  }

  /** Resolves once every recorded chunk has been acknowledged. */
  #drained(): Promise<void> {
    return new Promise((resolve) => {
      this.#onDrained = resolve;
      this.#send();
    });
  }

  /** Waits for `step`, unless the broadcast ends first (then rejects with what ended it). */
  #until<T>(step: Promise<T>): Promise<T> {
    return Promise.race([step, this.#outcome.then(() => Promise.reject(new BroadcastError('NOT_STARTED', 'The broadcast has ended.')))]);
  }

  /** Clears what the previous broadcast left and arms the outcome of the next. */
  #reset(): void {
    this.#stats = undefined;
    this.#sessionId = undefined;
    this.#resumeToken = undefined;
    this.#videoMode = undefined;
    this.#nextSeq = 0;
    this.#stopping = undefined;
    this.#onAir = onAirSignal();
    this.#outcome = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    // The outcome is also raced by steps nobody may be awaiting; its failure is reported by events.
    this.#outcome.catch(() => {});
  }

  /** The broadcast ended as asked (or the server closed it cleanly). */
  #finish(): void {
    if (!this.#isRunning()) return;
    this.#teardown();
    // Settled before the events, whose listeners may already start the next broadcast.
    this.#settle?.resolve();
    this.#setState('ended');
    this.#emit('ended', { reason: 'stopped' });
  }

  /** The broadcast failed: runs once, whatever reports it first. */
  #fail(error: BroadcastError): void {
    if (!this.#isRunning()) return;
    this.#teardown();
    this.#settle?.reject(error);
    this.#setState('error');
    const payload = error.toJSON();
    this.#emit('error', payload);
    this.#emit('ended', { reason: 'error', error: payload });
  }

  #isRunning(): boolean {
    return this.#state !== 'idle' && this.#state !== 'ended' && this.#state !== 'error';
  }

  /** Stops recording, sending and reconnecting, stops the cloned tracks, and disconnects. */
  #teardown(): void {
    this.#recorder?.discard();
    this.#recorder = undefined;
    // First, so what the socket still calls back as it closes (pending answers) is ignored.
    this.#connection++;
    this.#socket?.removeAllListeners();
    this.#socket?.disconnect();
    this.#socket = undefined;
    clearTimeout(this.#reconnection?.timer);
    this.#reconnection = undefined;
    this.#destinationDown = undefined;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#inFlight = [];
    this.#inFlightBytes = 0;
    this.#onDrained = undefined;
  }

  #setState(state: BroadcastState): void {
    const previous = this.#state;
    this.#state = state;
    this.#emit('statechange', { state, previous });
  }

  #emit<K extends keyof BroadcastClientEventMap>(type: K, detail: BroadcastClientEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** Applies the defaults and throws a TypeError naming the first wrong option. */
function resolveOptions(options: BroadcastClientOptions): ResolvedOptions {
  if (!isObject(options)) throw new TypeError(`Expected options to be an object, got \`${show(options)}\``);
  const { server, rtmpUrl, auth, socketio } = options;
  if (typeof server !== 'string' || server.length === 0) {
    throw new TypeError(`Expected \`server\` to be the URL of a BroadcastServer, got \`${show(server)}\``);
  }
  if (Array.isArray(rtmpUrl)) {
    if (rtmpUrl.length === 0 || rtmpUrl.some((url) => typeof url !== 'string' || url.length === 0)) {
      throw new TypeError(`Expected \`rtmpUrl\` to be a non-empty list of RTMP URLs, got \`[${rtmpUrl.map(show).join(', ')}]\``);
    }
  } else if (rtmpUrl !== undefined && (typeof rtmpUrl !== 'string' || rtmpUrl.length === 0)) {
    throw new TypeError(`Expected \`rtmpUrl\` to be an RTMP URL, got \`${show(rtmpUrl)}\``);
  }
  if (auth !== undefined && !isObject(auth)) throw new TypeError(`Expected \`auth\` to be an object, got \`${show(auth)}\``);
  if (socketio !== undefined && !isObject(socketio)) {
    throw new TypeError(`Expected \`socketio\` to be an object of socket.io options, got \`${show(socketio)}\``);
  }
  for (const name of POSITIVE_NUMBERS) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
      throw new TypeError(`Expected \`${name}\` to be a positive number, got \`${show(value)}\``);
    }
  }
  // The server refuses a start request out of these ranges; saying so here names the option.
  for (const name of Object.keys(REQUEST_LIMITS) as (keyof typeof REQUEST_LIMITS)[]) {
    const value = options[name];
    const [min, max] = REQUEST_LIMITS[name];
    if (value !== undefined && !(typeof value === 'number' && value >= min && value <= max)) {
      throw new TypeError(`Expected \`${name}\` to be a number from ${min} to ${max}, got \`${show(value)}\``);
    }
  }
  const { audioSampleRate } = options;
  if (audioSampleRate !== undefined && !AAC_SAMPLE_RATES.includes(audioSampleRate as (typeof AAC_SAMPLE_RATES)[number])) {
    throw new TypeError(`Expected \`audioSampleRate\` to be one of ${AAC_SAMPLE_RATES.join(', ')}, got \`${show(audioSampleRate)}\``);
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return { ...DEFAULTS, ...defined } as ResolvedOptions;
}

/** A failed connection attempt as socket.io reports it. */
type ConnectError = Error & { data?: { code?: unknown; message?: unknown } };

/** Resolves once `socket` is connected; rejects with the server's refusal or DISCONNECTED. */
function connected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error: ConnectError) => reject(connectError(error)));
  });
}

/** Why a connection attempt failed: the server's refusal with its code, or DISCONNECTED. */
function connectError(error: ConnectError): BroadcastError {
  // socket.io middleware refuses with `next(err)`; a coded `err.data` keeps its code.
  if (error.data?.code !== undefined) return BroadcastError.from(error.data);
  return new BroadcastError('DISCONNECTED', `Could not connect to the broadcast server: ${error.message}`);
}

function toBroadcastError(caught: unknown): BroadcastError {
  if (caught instanceof BroadcastError) return caught;
  return new BroadcastError('INTERNAL', caught instanceof Error ? caught.message : String(caught));
}

function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`Expected \`${name}\` to be a boolean, got \`${show(value)}\``);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as an error message shows it. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'an object';
  return String(value);
}

/** The server's word that a destination took the broadcast, awaited by `start()`. */
interface OnAir {
  promise: Promise<void>;
  resolve(): void;
  reject(error: BroadcastError): void;
  /** Recording runs and the broadcast waits only for this. */
  waiting: boolean;
}

function onAirSignal(): OnAir {
  let settle!: Pick<OnAir, 'resolve' | 'reject'>;
  const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Nobody awaits it when the broadcast fails before recording starts.
  promise.catch(() => {});
  return { promise, ...settle, waiting: false };
}

/** Whether stats from a server without the `on-air` message show a destination publishing. */
function showsOnAir(stats: BroadcastStats): boolean {
  return stats.destinations ? stats.destinations.some((each) => each.state === 'live') : stats.durationMs > 0;
}
