// Sends one broadcast's recorded chunks over its socket: numbered, within the send window, each
// acknowledged by the server. While the connection is down they wait; after the resume, those
// ffmpeg lacks go out again.
import { BroadcastError, type Ack } from './protocol.js';
import { SendWindow } from './send-window.js';
import type { ClientSocket } from './socket.js';

/** What bounds a ChunkSender and where its failures go. */
export interface ChunkSenderOptions {
  /** Most bytes sent and not yet acknowledged. */
  maxInFlightBytes: number;
  /** Most bytes waiting to be sent before the broadcast fails with NETWORK_TOO_SLOW. */
  maxBacklogBytes: number;
  /** The server refused a chunk, or the backlog grew past its bound. */
  onError(error: BroadcastError): void;
  /** The server acknowledged a chunk of `bytes`, `rttMs` after it was sent (for adaptive bitrate). */
  onAck?(rttMs: number, bytes: number): void;
}

/** The sending half of a broadcast; the client says when the connection is up, down, and back. */
export class ChunkSender {
  readonly #options: ChunkSenderOptions;
  readonly #window: SendWindow;
  /** The broadcast's socket; chunks recorded without one (before the start, after the end) are dropped. */
  #socket: ClientSocket | undefined;
  /** Set while the connection is down: chunks wait until the server says which ones ffmpeg has. */
  #held = false;
  /** Smoothed round trip of a chunk and its acknowledgement, in milliseconds. */
  #ackRttMs: number | undefined;
  /** Called when every chunk is sent and acknowledged, while stopping. */
  #onDrained: (() => void) | undefined;

  constructor(options: ChunkSenderOptions) {
    this.#options = options;
    this.#window = new SendWindow(options.maxInFlightBytes);
  }

  /** Sends the chunks of a new broadcast over `socket`, numbered from 0. */
  attach(socket: ClientSocket): void {
    this.clear();
    this.#socket = socket;
  }

  /** How the upload keeps up: the acknowledgement round trip, and how full the backlog is (1: NETWORK_TOO_SLOW). */
  get health(): { ackRttMs?: number; backlogRatio: number } {
    const backlogRatio = Math.min(1, this.#window.backlogBytes / this.#options.maxBacklogBytes);
    return this.#ackRttMs === undefined ? { backlogRatio } : { ackRttMs: Math.round(this.#ackRttMs), backlogRatio };
  }

  /** Bytes recorded and not yet acknowledged: waiting, or sent. */
  get unackedBytes(): number {
    return this.#window.backlogBytes + this.#window.inFlightBytes;
  }

  /** Queues a recorded chunk and sends what the window allows. */
  push(bytes: ArrayBuffer): void {
    if (!this.#socket) return;
    this.#window.push(bytes);
    this.#send();
    // Waiting chunks are the recorder outrunning the network: end rather than grow without bound.
    if (this.#window.backlogBytes > this.#options.maxBacklogBytes) this.#options.onError(new BroadcastError('NETWORK_TOO_SLOW'));
  }

  /** The connection dropped: unacknowledged chunks may not have reached ffmpeg, so they wait to go out again. */
  hold(): void {
    this.#held = true;
    this.#window.requeue();
  }

  /** The broadcast is back on a new connection where ffmpeg has every chunk up to `lastSeq`: sends the rest. */
  resume(lastSeq: number): void {
    // ffmpeg got these before the drop; only their acks were lost.
    this.#window.dropThrough(lastSeq);
    this.#held = false;
    this.#send();
  }

  /** Resolves once every recorded chunk has been acknowledged. */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.#onDrained = resolve;
      this.#send();
    });
  }

  /** Forgets the broadcast: its chunks, its socket, and the answers still to come. */
  clear(): void {
    this.#socket = undefined;
    this.#held = false;
    this.#window.clear();
    this.#ackRttMs = undefined;
    this.#onDrained = undefined;
  }

  /** Sends waiting chunks while the window allows; when it is empty, tells a waiting `drained()`. */
  #send(): void {
    const socket = this.#socket;
    if (!socket || this.#held) return;
    for (let chunk = this.#window.take(); chunk; chunk = this.#window.take()) {
      const sentAt = performance.now();
      socket.emit('data', chunk.bytes, { seq: chunk.seq }, (answer: Ack) => {
        // False for a chunk sent on a connection that has dropped since: it waits to go out again.
        if (!this.#window.acknowledge(chunk)) return;
        const rtt = performance.now() - sentAt;
        this.#ackRttMs = this.#ackRttMs === undefined ? rtt : this.#ackRttMs * 0.8 + rtt * 0.2;
        this.#options.onAck?.(rtt, chunk.bytes.byteLength);
        if (!answer.ok) {
          this.#options.onError(BroadcastError.from(answer.error));
          return;
        }
        this.#send();
      });
    }
    if (this.#window.empty) this.#onDrained?.();
  }
}
