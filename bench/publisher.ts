// A simulated browser: speaks the documented protocol over socket.io's websocket transport, sends
// one chunk each time a timeslice of media would have been recorded, and bounds what is in flight
// the way BroadcastClient does (1 MiB unacknowledged, one chunk always allowed).
import { io, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, EndedMessage, ServerToClientEvents, StartAck } from '../client/protocol.js';
import type { Fixture } from './fixtures.js';

type PublisherSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** How the publishers reach the server. */
export type Transport = 'websocket' | 'polling';

/** BroadcastClient's default `maxInFlightBytes`. */
const MAX_IN_FLIGHT_BYTES = 1024 * 1024;
const ACK_TIMEOUT_MS = 30_000;

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
}

/** One simulated browser publishing `fixture` to `rtmpUrl` through the server at `origin`. */
export class Publisher {
  readonly trace: PublisherTrace;
  readonly #socket: PublisherSocket;
  readonly #fixture: Fixture;
  readonly #rtmpUrl: string;
  #inFlightBytes = 0;
  /** Chunks whose media has been "recorded" (are due), sent, and acknowledged so far. */
  #recorded = 0;
  #sent = 0;
  #acked = 0;
  #allAcked: (() => void) | undefined;

  /** `transport` is socket.io's: websocket, or HTTP long-polling (where websockets are blocked). */
  constructor(origin: string, fixture: Fixture, stream: string, rtmpUrl: string, transport: Transport = 'websocket') {
    this.#fixture = fixture;
    this.#rtmpUrl = rtmpUrl;
    this.trace = { stream, startSentAt: NaN, startAckAt: NaN, dueAt: [], sentAt: [], ackAt: [] };
    this.#socket = io(origin, { transports: [transport], reconnection: false, forceNew: true, autoConnect: false });
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
      videoBitsPerSecond: 2_500_000,
      audioBitsPerSecond: 128_000,
      framerate: 30,
    });
    this.trace.startAckAt = now();
    if (!answer.ok) {
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
    setTimeout(() => {
      this.#recorded++;
      this.#send();
      this.#scheduleNext();
    }, Math.max(0, due - now()));
  }

  /** Sends every recorded chunk the in-flight window allows, oldest first. */
  #send(): void {
    const { chunks } = this.#fixture;
    while (this.#sent < this.#recorded && !this.trace.error) {
      const index = this.#sent;
      const chunk = chunks[index]!.data;
      if (this.#inFlightBytes > 0 && this.#inFlightBytes + chunk.byteLength > MAX_IN_FLIGHT_BYTES) return;
      this.#inFlightBytes += chunk.byteLength;
      this.#sent++;
      this.trace.sentAt[index] = now();
      this.#socket.timeout(ACK_TIMEOUT_MS).emit('data', chunk, (timeout: Error | null, answer: Ack) => {
        this.trace.ackAt[index] = now();
        this.#inFlightBytes -= chunk.byteLength;
        if (timeout) {
          this.#fail(`data: no ack in ${ACK_TIMEOUT_MS} ms`);
          return;
        }
        if (!answer.ok) {
          this.#fail(`data: ${answer.error.code} ${answer.error.message}`);
          return;
        }
        if (++this.#acked === chunks.length) this.#allAcked?.();
        this.#send();
      });
    }
  }

  #fail(error: string): void {
    this.trace.error ??= error;
    this.#allAcked?.();
  }
}
