// One client's socket.io connection: one handler per message it may send (start, data, stop,
// resume) and for its disconnection. It validates each message and hands the broadcast the rest.
import { randomUUID } from 'node:crypto';
import { BroadcastError, type Ack, type ErrorPayload, type ResumeAck, type StartAck } from '../client/protocol.js';
import type { Broadcast } from './broadcast.js';
import { describe, toBroadcastError } from './errors.js';
import type { BroadcastSocket, ErrorContext, HookContext } from './hooks.js';
import type { Logger } from './logger.js';
import { MAX_UNSENT_BYTES, unsentBytes } from './output-budget.js';

/** What a connection needs of its server. */
export interface ConnectionHost {
  readonly log: Logger;
  readonly maxChunkBytes: number;
  /** How long a broadcast waits for its client to resume after a drop (0 while the server shuts down). */
  resumeWindowMs(): number;
  /** Admits, plans and starts a broadcast for this client. */
  start(sessionId: string, raw: unknown, base: ConnectionContext): Promise<Broadcast>;
  /** A running broadcast, by id. */
  find(sessionId: string): Broadcast | undefined;
  /** Tells the logs (at debug level when `repeated`), listeners and the error hook about an error a client is told. */
  reportError(context: ErrorContext, error: BroadcastError, repeated?: boolean): void;
  /** What a client may see of an error. */
  forClient(error: ErrorPayload): ErrorPayload;
}

/** What every hook learns of the connection, before a broadcast exists. */
export type ConnectionContext = Omit<HookContext, 'sessionId' | 'request'>;

/** Warnings the log gets per error code and connection; repeats go to the debug level. */
const WARNINGS_PER_CODE = 3;

/** The answer to every chunk that went well: one object, encoded anew by socket.io for each ack. */
const OK: Ack = Object.freeze({ ok: true });
const ignore = () => {};

/** A message's payload and its callback, which socket.io passes last (a no-op when there is none). */
function payloadAndReply<T>(args: unknown[]): [payload: unknown, reply: (response: T) => void] {
  const last = args.at(-1);
  if (typeof last !== 'function') return [args[0], ignore];
  return [args.length > 1 ? args[0] : undefined, last as (response: T) => void];
}

/** One client's connection and the broadcast it runs (or resumed), if any. */
export class Connection {
  readonly #socket: BroadcastSocket;
  readonly #host: ConnectionHost;
  readonly #base: ConnectionContext;
  #broadcast: Broadcast | undefined;
  /** A start is under way (hooks, admission, spawning). */
  #starting = false;
  /** How often each error code was refused on this connection. */
  readonly #refusals = new Map<string, number>();
  /** Closed by the server for not reading: nothing to resume. */
  #dropped = false;

  constructor(socket: BroadcastSocket, host: ConnectionHost) {
    this.#socket = socket;
    this.#host = host;
    this.#base = { socket, auth: (socket.handshake.auth ?? {}) as Record<string, unknown>, remoteAddress: socket.handshake.address };
    // A message sent with only its callback (`emit('start', cb)`) is answered through it, as malformed.
    socket.on('start', (...args: unknown[]) => void this.#onStart(...payloadAndReply<StartAck>(args)));
    socket.on('data', (chunk: unknown, second?: unknown, third?: unknown) => this.#onData(chunk, second, third));
    socket.on('stop', (...args: unknown[]) => void this.#onStop(payloadAndReply<Ack>(args)[1]));
    socket.on('resume', (...args: unknown[]) => this.#onResume(...payloadAndReply<ResumeAck>(args)));
    socket.on('disconnect', (reason) => this.#onDisconnect(reason));
    // Each message is answered: a client that sends and never reads piles the answers up here.
    socket.use((_packet, next) => (unsentBytes(socket) > MAX_UNSENT_BYTES ? this.#dropUnread() : next()));
  }

  /** Closes a connection whose client does not read what it is sent; its broadcast ends at once. */
  #dropUnread(): void {
    if (this.#dropped) return;
    this.#dropped = true;
    const waiting = Math.round(unsentBytes(this.#socket) / 1024);
    const message = `The connection was closed: ${waiting} KB of replies were waiting for a client that does not read them.`;
    this.#fail(new BroadcastError('BUFFER_FULL', message), { sessionId: this.#broadcast?.id });
    this.#socket.disconnect(true);
    // engine.io would hold the unread replies until they drain, which they never do: they go with the TCP connection.
    this.#socket.request.socket.destroy();
  }

  get #running(): boolean {
    return this.#starting || (this.#broadcast?.running ?? false);
  }

  /** Reports an error and gives what the client may see of it. */
  #fail(error: BroadcastError, extra: Partial<ErrorContext> = {}): ErrorPayload {
    // A client repeating a refused message (a flood before `start`) writes one warning per code, not one per message.
    const seen = this.#refusals.get(error.code) ?? 0;
    this.#refusals.set(error.code, seen + 1);
    this.#host.reportError({ ...this.#base, ...extra }, error, seen >= WARNINGS_PER_CODE);
    return this.#host.forClient(error.toJSON());
  }

  async #onStart(raw: unknown, reply: (response: StartAck) => void): Promise<void> {
    if (this.#running) {
      reply({ ok: false, error: this.#fail(new BroadcastError('ALREADY_STARTED'), { sessionId: this.#broadcast?.id }) });
      return;
    }
    this.#starting = true;
    const sessionId = randomUUID();
    try {
      const started = await this.#host.start(sessionId, raw, this.#base);
      if (this.#socket.disconnected) {
        // The client left while its start was in flight: nobody will ever send it media.
        void started.abandon();
        return;
      }
      this.#broadcast = started;
      reply({ ok: true, sessionId, video: started.video, resumeToken: started.resumeToken });
    } catch (caught) {
      const error = toBroadcastError(caught, 'INTERNAL');
      if (error.code === 'INTERNAL') this.#host.log.error('start failed unexpectedly', { sessionId, error: describe(caught) });
      reply({ ok: false, error: this.#fail(error, { sessionId }) });
    } finally {
      this.#starting = false;
    }
  }

  #onData(chunk: unknown, second?: unknown, third?: unknown): void {
    const ack = typeof third === 'function' ? third : second;
    const reply: (response: Ack) => void = typeof ack === 'function' ? (ack as (response: Ack) => void) : ignore;
    const meta = typeof second === 'object' && second !== null && !Array.isArray(second) ? (second as { seq?: unknown }) : undefined;
    const broadcast = this.#broadcast;
    if (!broadcast?.accepting) {
      // Ending for a reason of the server's (full buffer, every destination gone…) while ffmpeg
      // flushes: that reason, not NOT_STARTED, is what the client must hear first.
      const ending = broadcast?.running ? broadcast.endReason : undefined;
      reply({
        ok: false,
        error: ending ? this.#host.forClient(ending) : this.#fail(new BroadcastError('NOT_STARTED'), { sessionId: broadcast?.id }),
      });
      return;
    }
    const context = broadcast.context;
    const refuse = (error: BroadcastError) => reply({ ok: false, error: this.#fail(error, context) });
    if (!(chunk instanceof Uint8Array)) return refuse(new BroadcastError('INVALID_REQUEST', 'A media chunk must be binary.'));
    // `data` is (chunk, { seq }?, ack?): anything else second is not a chunk this server understands.
    if (second !== undefined && typeof second !== 'function' && !meta) {
      return refuse(new BroadcastError('INVALID_REQUEST', 'After a media chunk, `data` takes `{ seq }` or nothing.'));
    }
    const { maxChunkBytes } = this.#host;
    if (chunk.byteLength > maxChunkBytes) {
      return refuse(
        new BroadcastError('CHUNK_TOO_LARGE', `A media chunk of ${chunk.byteLength} bytes is over the limit of ${maxChunkBytes} bytes.`),
      );
    }
    let seq: number | undefined;
    if (meta) {
      if (typeof meta.seq !== 'number' || !Number.isSafeInteger(meta.seq) || meta.seq < 0) {
        return refuse(new BroadcastError('INVALID_REQUEST', '`seq` must be a whole number from 0.'));
      }
      seq = meta.seq;
    }
    try {
      broadcast.write(chunk, seq, (error) => reply(error ? { ok: false, error: this.#host.forClient(error) } : OK));
    } catch (caught) {
      refuse(toBroadcastError(caught, 'INTERNAL'));
    }
  }

  async #onStop(reply: (response: Ack) => void): Promise<void> {
    const broadcast = this.#broadcast;
    if (!broadcast?.running) {
      reply({ ok: false, error: this.#fail(new BroadcastError('NOT_STARTED'), { sessionId: broadcast?.id }) });
      return;
    }
    this.#host.log.info('the client asked to stop', { sessionId: broadcast.id, lastSeq: broadcast.lastSeq });
    const error = await broadcast.stop();
    reply(error ? { ok: false, error: this.#host.forClient(error) } : { ok: true });
  }

  #onResume(raw: unknown, reply: (response: ResumeAck) => void): void {
    if (this.#running) {
      reply({ ok: false, error: this.#fail(new BroadcastError('ALREADY_STARTED'), { sessionId: this.#broadcast?.id }) });
      return;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      reply({
        ok: false,
        error: this.#fail(new BroadcastError('INVALID_REQUEST', 'The resume request must be an object: { sessionId, resumeToken }.')),
      });
      return;
    }
    const request = raw as Partial<Record<'sessionId' | 'resumeToken', unknown>>;
    const sessionId = typeof request.sessionId === 'string' ? request.sessionId : '';
    const token = typeof request.resumeToken === 'string' ? request.resumeToken : '';
    const found = this.#host.find(sessionId);
    // One answer for a wrong token and an unknown session, so neither can be probed.
    if (!found?.accepting || !found.hasToken(token)) {
      reply({
        ok: false,
        error: this.#fail(new BroadcastError('NOT_STARTED', 'There is no broadcast to resume: it ended, or the token is wrong.')),
      });
      return;
    }
    const { remoteAddress } = this.#base;
    found.attach(this.#socket, remoteAddress);
    this.#broadcast = found;
    this.#host.log.info('client resumed its broadcast', { sessionId, remoteAddress, lastSeq: found.lastSeq });
    reply({ ok: true, sessionId, video: found.video, lastSeq: found.lastSeq });
  }

  /** A lost connection may come back within the resume window; a client that disconnected on purpose will not. */
  #onDisconnect(reason: string): void {
    const explicit = reason === 'client namespace disconnect' || this.#dropped;
    this.#broadcast?.detach(this.#socket, explicit ? 0 : this.#host.resumeWindowMs());
  }
}
