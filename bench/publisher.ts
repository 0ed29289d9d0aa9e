// A simulated browser: speaks the documented protocol over socket.io's websocket transport, sends
// one chunk each time a timeslice of media would have been recorded, and bounds what is in flight
// with BroadcastClient's own send window and default bound (1 MiB unacknowledged, one chunk always allowed).
import { io } from 'socket.io-client';
import { DEFAULTS } from '../client/options.js';
import { REQUEST_DEFAULTS, type Ack, type EndedMessage, type ErrorPayload, type StartAck } from '../client/protocol.js';
import { SendWindow } from '../client/send-window.js';
import type { ClientSocket } from '../client/socket.js';
import type { Fixture } from './fixtures.js';

/** How long a publisher waits for any answer of the server. */
export const ACK_TIMEOUT_MS = 30_000;

/** Wall clock in milliseconds since the epoch, with sub-millisecond precision. */
export const now = (): number => performance.timeOrigin + performance.now();

/** What one publisher saw. Times are from {@link now}. */
export interface PublisherTrace {
  stream: string;
  /** When `start` was emitted and when its ack came. */
  startSentAt: number;
  startAckAt: number;
  /** When chunk i was due (its media fully recorded), sent, and acknowledged. */
  dueAt: number[];
  sentAt: number[];
  ackAt: number[];
  /** The first error: a refused start, a failed ack, an `ended` with an error. */
  error?: string;
  /** The server's answer to a refused start (its code, and `retryAfterMs` for SERVER_BUSY). */
  refusal?: ErrorPayload;
}

/** One simulated browser publishing `fixture` to `rtmpUrl` through the server at `origin`. */
export class Publisher {
  readonly trace: PublisherTrace;
  readonly #socket: ClientSocket;
  readonly #fixture: Fixture;
  readonly #rtmpUrl: string;
  readonly #window = new SendWindow<Buffer>(DEFAULTS.maxInFlightBytes);
  /** Chunks whose media has been "recorded" (are due), and acknowledged so far. */
  #recorded = 0;
  #acked = 0;
  #allAcked: (() => void) | undefined;

  constructor(origin: string, fixture: Fixture, stream: string, rtmpUrl: string) {
    this.#fixture = fixture;
    this.#rtmpUrl = rtmpUrl;
    this.trace = { stream, startSentAt: NaN, startAckAt: NaN, dueAt: [], sentAt: [], ackAt: [] };
    this.#socket = io(origin, { transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false });
    this.#socket.on('ended', (message: EndedMessage) => {
      if (message.error) this.#fail(`ended: ${message.error.code} ${message.error.message}`);
    });
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.once('connect', () => resolve());
      this.#socket.once('connect_error', reject);
      this.#socket.connect();
    });
  }

  /** Starts the broadcast and streams every chunk at real-time pace; resolves when the last is acknowledged. */
  async publish(): Promise<void> {
    const { mimeType, chunks } = this.#fixture;
    this.trace.startSentAt = now();
    const answer: StartAck = await this.#socket.timeout(ACK_TIMEOUT_MS).emitWithAck('start', {
      mimeType,
      rtmpUrl: this.#rtmpUrl,
      ...REQUEST_DEFAULTS,
    });
    this.trace.startAckAt = now();
    if (!answer.ok) {
      this.trace.refusal = answer.error;
      this.#fail(`start: ${answer.error.code} ${answer.error.message}`);
      return;
    }
    // The recorder started at `began`: chunk i is due once media up to its end has been recorded,
    // which for the first chunk is now.
    const began = this.trace.startAckAt - (chunks[0]!.endMs - chunks[0]!.startMs);
    this.trace.dueAt = chunks.map((chunk) => began + chunk.endMs - chunks[0]!.startMs);
    const done = new Promise<void>((resolve) => (this.#allAcked = resolve));
    this.#scheduleNext();
    await done;
  }

  /** Sends `stop` and waits for its ack (the server answers once ffmpeg has flushed and exited). */
  async stop(): Promise<void> {
    if (this.trace.error || !this.#socket.connected) return;
    const answer: Ack = await this.#socket.timeout(ACK_TIMEOUT_MS).emitWithAck('stop');
    if (!answer.ok) this.#fail(`stop: ${answer.error.code} ${answer.error.message}`);
  }

  close(): void {
    this.#socket.disconnect();
  }

  #scheduleNext(): void {
    const due = this.trace.dueAt[this.#recorded];
    if (due === undefined || this.trace.error) return;
    setTimeout(
      () => {
        this.#window.push(this.#fixture.chunks[this.#recorded++]!.data);
        this.#send();
        this.#scheduleNext();
      },
      Math.max(0, due - now()),
    );
  }

  /** Sends every recorded chunk the window allows, oldest first; a chunk's seq is its index in the fixture. */
  #send(): void {
    while (!this.trace.error) {
      const chunk = this.#window.take();
      if (!chunk) return;
      const index = chunk.seq;
      this.trace.sentAt[index] = now();
      this.#socket.timeout(ACK_TIMEOUT_MS).emit('data', chunk.bytes, (timeout: Error | null, answer: Ack) => {
        this.trace.ackAt[index] = now();
        this.#window.acknowledge(chunk);
        if (timeout) {
          this.#fail(`data: no ack in ${ACK_TIMEOUT_MS} ms`);
          return;
        }
        if (!answer.ok) {
          this.#fail(`data: ${answer.error.code} ${answer.error.message}`);
          return;
        }
        if (++this.#acked === this.#fixture.chunks.length) this.#allAcked?.();
        this.#send();
      });
    }
  }

  #fail(error: string): void {
    this.trace.error ??= error;
    this.#allAcked?.();
  }
}
