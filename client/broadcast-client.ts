// The imperative client: records a MediaStream and streams it to a BroadcastServer over socket.io,
// with acknowledged, numbered chunks, a bound on what may pile up when the network is slow, and a
// reconnection that resumes the same broadcast after a network blip.

// socket.js first: it puts socket.io-client ahead of this package's code in the CDN bundle, which
// then gzips about 600 bytes smaller (this code sits beside Lit's, which it resembles).
import { ask, connected, connectError, loadSocketIo, openSocket, type ClientSocket, type ConnectError } from './socket.js';
import type { BroadcastClientEventMap, BroadcastState, ClientStats } from './events.js';
import { ChunkSender } from './chunk-sender.js';
import { checkBoolean, resolveOptions, startRequest, typeError, type BroadcastClientOptions, type ResolvedOptions } from './options.js';
import { BroadcastError, type Ack, type StartAck, type VideoMode } from './protocol.js';
import { onAirSignal, showsOnAir, type OnAir } from './on-air.js';
import { Reconnection, type ReconnectionHost } from './reconnection.js';
import { AdaptiveBitrate } from './adaptive-bitrate.js';
import { createRecorder, type RecorderChoice, type StreamRecorder } from './recorder/create.js';

export type { BroadcastClientEventMap, BroadcastState, ClientStats, FfmpegOutputDetail, StateChangeDetail } from './events.js';
export type { BroadcastClientOptions } from './options.js';

/** A broadcast the destination is publishing: live, paused, or back soon after a drop. */
const ON_AIR: ReadonlySet<BroadcastState> = new Set(['live', 'paused', 'reconnecting']);

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
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above types the inherited addEventListener; it adds no members
export class BroadcastClient extends EventTarget {
  readonly #options: ResolvedOptions;
  #state: BroadcastState = 'idle';
  #stats: ClientStats | undefined;
  #sessionId: string | undefined;
  #resumeToken: string | undefined;
  #videoMode: VideoMode | undefined;
  #audioMuted = false;
  #videoMuted = false;

  // One broadcast's parts, replaced by each start.
  #socket: ClientSocket | undefined;
  #recorder: StreamRecorder | undefined;
  /** Sends the recorder's chunks over the socket; emptied when a broadcast starts and ends. */
  readonly #sender: ChunkSender;
  /** Changes when the connection drops and when the broadcast ends, so answers to `start`, `stop` and `resume` sent before are ignored. */
  #connection = 0;
  /** A drop of the connection or of the last destination, while it lasts. */
  readonly #reconnection: Reconnection;
  #starting: Promise<void> | undefined;
  /** Settles when the server says a destination took the broadcast; `waiting` once recording runs. */
  #onAir: OnAir | undefined;
  #stopping: Promise<void> | undefined;
  /** Settles when the broadcast ends: resolves when it stopped, rejects with what failed it. */
  #outcome: Promise<void> = Promise.resolve();
  #settle: { resolve(): void; reject(error: BroadcastError): void } | undefined;
  /** While `auto`'s WebCodecs recorder may still hand over to MediaRecorder (before on air), where its failure goes. */
  #recorderFailed: ((error: BroadcastError) => void) | undefined;
  readonly #bitrate = new AdaptiveBitrate();

  /** Throws a TypeError naming the first option that is wrong. */
  constructor(options: BroadcastClientOptions) {
    super();
    this.#options = resolveOptions(options);
    this.#sender = new ChunkSender({ ...this.#options, onError: (error) => this.#fail(error), onAck: this.#bitrate.acknowledged });
    const self = this;
    const host: ReconnectionHost = {
      get state() {
        return self.#state;
      },
      get connection() {
        return self.#connection;
      },
      setState: (state) => this.#setState(state),
      fail: (error) => this.#fail(error),
    };
    this.#reconnection = new Reconnection(host, this.#sender, this.#options.resumeTimeoutMs);
  }

  /** Where the broadcast is in its life. */
  get state(): BroadcastState {
    return this.#state;
  }

  /** The latest progress report from the server, once one came, with the client's own upload figures. */
  get stats(): ClientStats | undefined {
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
      return Promise.reject(typeError('stream', 'a MediaStream with a video track', stream));
    }
    if (!(this.#state === 'idle' || this.#state === 'ended' || this.#state === 'error')) {
      return Promise.reject(new BroadcastError('ALREADY_STARTED'));
    }
    this.#starting = this.#start(stream);
    return this.#starting;
  }

  /**
   * Whether {@link replaceVideoTrack} can change the picture now: a broadcast that is on air (live,
   * paused or reconnecting) and records with WebCodecs.
   */
  get canReplaceVideoTrack(): boolean {
    return this.#recorder?.replaceVideoTrack !== undefined && ON_AIR.has(this.#state);
  }

  /**
   * Broadcasts `track` (another camera, the screen) from now on instead of the current picture,
   * without a break: the destination keeps the same stream at the same size, a picture of another
   * shape fitted inside it with black bars. The client records a clone: the page's tracks, the
   * old one included, are the page's to stop. Only the WebCodecs recorder can: with MediaRecorder
   * it rejects with `INVALID_REQUEST` (see {@link canReplaceVideoTrack}); `NOT_STARTED` when no
   * broadcast is on air; `MEDIA_UNAVAILABLE` when the browser cannot read `track`. The broadcast
   * goes on with the old picture in each of those cases.
   */
  async replaceVideoTrack(track: MediaStreamTrack): Promise<void> {
    if (!(track instanceof MediaStreamTrack) || track.kind !== 'video' || track.readyState !== 'live') {
      throw typeError('track', 'a live video MediaStreamTrack', track);
    }
    const recorder = this.#recorder;
    if (!recorder || !ON_AIR.has(this.#state)) {
      throw new BroadcastError('NOT_STARTED', `Only a broadcast on air can change its picture; it is ${this.#state}.`);
    }
    if (!recorder.replaceVideoTrack) {
      throw new BroadcastError(
        'INVALID_REQUEST',
        'This broadcast records with MediaRecorder, which cannot change its picture on air: only the WebCodecs recorder can.',
      );
    }
    await recorder.replaceVideoTrack(track);
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

  /**
   * `choice` is the `recorder` option, or MediaRecorder when `auto`'s WebCodecs recorder failed
   * before the broadcast went on air: see {@link #fallBack}.
   */
  async #start(stream: MediaStream, choice: RecorderChoice = this.#options.recorder): Promise<void> {
    this.#reset();
    if (this.#state !== 'connecting') this.#setState('connecting');
    try {
      // The connection code loads (on demand, see socket.ts) while the recorder is being made.
      const socketIo = loadSocketIo();
      socketIo.catch(() => {});
      const creating = createRecorder(choice, stream, {
        videoBitsPerSecond: this.#options.videoBitsPerSecond,
        audioBitsPerSecond: this.#options.audioBitsPerSecond,
        timeslice: this.#options.timeslice,
        onChunk: (chunk) => this.#sender.push(chunk),
        onError: (error) => (this.#recorderFailed ? this.#recorderFailed(error) : this.#fail(error)),
        onEnd: () => void this.stop().catch(() => {}),
      });
      const recorder = await this.#until(creating).catch((caught: unknown) => {
        // The broadcast ended while the recorder was being made: it is nobody's, so let its tracks go.
        void creating.then(
          (late) => late.discard(),
          () => {},
        );
        throw caught;
      });
      recorder.setMuted('audio', this.#audioMuted);
      recorder.setMuted('video', this.#videoMuted);
      this.#recorder = recorder;
      // With `auto`, a WebCodecs recorder that fails before the broadcast is on air (its encoder
      // passed the test frame, then failed on the first real ones) hands over to MediaRecorder.
      const mayFallBack = choice === 'auto' && recorder.kind === 'webcodecs';
      const fallback = new Promise<never>((_, reject) => {
        if (mayFallBack) this.#recorderFailed = (error) => reject(new RecorderFailed(error));
      });
      // Raced below; a failure before then, or after an unrelated error, is no unhandled rejection.
      fallback.catch(() => {});
      this.#bitrate.start(this.#options, recorder, this.#sender, () => this.#state === 'reconnecting');
      await this.#until(socketIo);
      const socket = this.#connect();
      await this.#until(connected(socket));
      const request = startRequest(this.#options, recorder.mimeType);
      const connection = this.#connection;
      const current = () => connection === this.#connection;
      const answer = await this.#until(ask<StartAck>(socket, 'start', request, this.#options.replyTimeoutMs, current));
      if (!answer.ok) throw BroadcastError.from(answer.error);
      this.#sessionId = answer.sessionId;
      this.#resumeToken = answer.resumeToken;
      this.#videoMode = answer.video;
      const recording = mayFallBack
        ? recorder.start().catch((caught: unknown) => Promise.reject(new RecorderFailed(toBroadcastError(caught))))
        : recorder.start();
      await this.#until(Promise.race([recording, fallback]));
      const onAir = this.#onAir!;
      onAir.waiting = true;
      await this.#until(Promise.race([onAir.promise, fallback]));
      this.#recorderFailed = undefined;
      this.#setState('live');
    } catch (caught) {
      this.#recorderFailed = undefined;
      if (caught instanceof RecorderFailed && this.#state === 'connecting') {
        await this.#fallBack();
        return this.#start(stream, 'mediarecorder');
      }
      const error = toBroadcastError(caught);
      // A stop before the broadcast went on air is not a failure: the stop goes on flushing.
      if (this.#state !== 'stopping') this.#fail(error);
      throw error;
    }
  }

  async #stop(recorder: StreamRecorder, socket: ClientSocket): Promise<void> {
    try {
      await this.#until(recorder.stop());
      await this.#until(this.#sender.drained());
      // The server answers once ffmpeg has flushed, just after its `ended` message.
      const connection = this.#connection;
      const current = () => connection === this.#connection;
      const answer = await this.#until(ask<Ack>(socket, 'stop', undefined, this.#options.replyTimeoutMs, current));
      if (answer.ok) this.#finish();
      else this.#fail(BroadcastError.from(answer.error));
    } catch (caught) {
      // No answer in time fails the broadcast; anything else ended it while flushing, and the outcome says how.
      this.#fail(toBroadcastError(caught));
    }
    return this.#outcome;
  }

  /**
   * Ends, without a word to the page, a start whose WebCodecs recorder failed before anything was
   * on air: the server is told to stop (so the broadcast does not wait for a resume, holding its
   * place), and the connection closes. The next start asks for MediaRecorder.
   */
  async #fallBack(): Promise<void> {
    const socket = this.#socket;
    if (socket?.connected && this.#sessionId) {
      // Its `ended` is this start's, not the next one's. A server whose ffmpeg hangs on a silent
      // destination may not answer soon: the next start goes ahead after FALLBACK_STOP_MS anyway.
      socket.off('ended');
      const connection = this.#connection;
      await ask(socket, 'stop', undefined, FALLBACK_STOP_MS, () => connection === this.#connection).catch(() => {});
    }
    this.#teardown();
  }

  /** Connects a fresh socket and routes what the server says about this broadcast. */
  #connect(): ClientSocket {
    const socket = openSocket(this.#options);
    this.#socket = socket;
    this.#sender.attach(socket);
    socket.on('on-air', () => this.#onAir?.resolve());
    socket.on('stats', (stats) => {
      // A server that predates `on-air` tells it by its stats.
      if (showsOnAir(stats)) this.#onAir?.resolve();
      this.#stats = { ...stats, ...this.#sender.health, ...this.#bitrate.stats };
      this.#emit('stats', this.#stats);
    });
    socket.on('ffmpeg-output', (line) => this.#emit('ffmpeg-output', { line }));
    socket.on('ended', (message) => {
      if (message.error) this.#fail(BroadcastError.from(message.error));
      else this.#finish();
    });
    socket.on('connect', () => {
      if (this.#state === 'reconnecting') {
        this.#reconnection.resume(socket, { sessionId: this.#sessionId!, resumeToken: this.#resumeToken! });
      }
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
      this.#reconnection.connectionLost(state === 'reconnecting' ? 'live' : state);
    });
    // The server reconnects its destination by itself; media keeps flowing (it skips what it cannot send).
    socket.on('destination-lost', (message) => {
      this.#emit('destination-lost', message);
      // Another destination still takes the broadcast, or the server gave up on this one: still on air.
      if ((message?.remaining ?? 0) > 0 || message?.retrying === false) return;
      this.#reconnection.destinationLost();
    });
    // The server's new ffmpeg must start at a keyframe: a new recording opens with one.
    socket.on('restart-recording', (ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      this.#reconnection.restartRecording(this.#isRunning() ? this.#recorder : undefined, reply);
    });
    socket.on('destination-restored', (message) => {
      this.#emit('destination-restored', message);
      this.#reconnection.destinationRestored();
    });
    return socket;
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
    this.#bitrate.stop();
    // First, so what the socket still calls back as it closes (pending answers) is ignored.
    this.#connection++;
    this.#socket?.removeAllListeners();
    this.#socket?.disconnect();
    this.#socket = undefined;
    this.#reconnection.clear();
    this.#sender.clear();
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

function toBroadcastError(caught: unknown): BroadcastError {
  if (caught instanceof BroadcastError) return caught;
  return new BroadcastError('INTERNAL', caught instanceof Error ? caught.message : String(caught));
}

/** How long a start that hands over to MediaRecorder waits for the server to end its first try. */
const FALLBACK_STOP_MS = 5_000;

/** `auto`'s WebCodecs recorder failed before the broadcast went on air: the start goes on with MediaRecorder. */
class RecorderFailed extends Error {
  constructor(error: BroadcastError) {
    super(error.message);
  }
}
