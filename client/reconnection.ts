// A broadcast that went off air for a while without ending: its connection dropped (socket.io
// reconnects, then `resume` asks the server for the broadcast back), or the server is reconnecting
// a destination that dropped it. Where the broadcast returns, and the deadline for the connection.
import type { ChunkSender } from './chunk-sender.js';
import type { BroadcastState } from './events.js';
import { BroadcastError, type ResumeAck, type ResumeRequest } from './protocol.js';
import type { StreamRecorder } from './recorder/create.js';
import type { ClientSocket } from './socket.js';

/** The states a broadcast returns to. */
type OnAirState = 'live' | 'paused';

/** What the reconnection needs of its client. */
export interface ReconnectionHost {
  readonly state: BroadcastState;
  /** Changes when the connection drops and when the broadcast ends: answers from before are ignored. */
  readonly connection: number;
  setState(state: BroadcastState): void;
  fail(error: BroadcastError): void;
}

export class Reconnection {
  readonly #host: ReconnectionHost;
  readonly #sender: ChunkSender;
  readonly #timeoutMs: number;
  /** The connection dropped: the state to return to, and the deadline. */
  #drop: { resumeTo: OnAirState; timer: ReturnType<typeof setTimeout> } | undefined;
  /** The server reconnects a destination that dropped the broadcast: the state to return to. */
  #destinationDown: OnAirState | undefined;

  constructor(host: ReconnectionHost, sender: ChunkSender, timeoutMs: number) {
    this.#host = host;
    this.#sender = sender;
    this.#timeoutMs = timeoutMs;
  }

  /** The connection dropped while on air: recording goes on while socket.io reconnects, until the deadline. */
  connectionLost(state: OnAirState): void {
    if (this.#drop) return;
    this.#sender.hold();
    const timer = setTimeout(() => this.#host.fail(new BroadcastError('DISCONNECTED')), this.#timeoutMs);
    this.#drop = { resumeTo: this.#destinationDown ?? state, timer };
    if (this.#host.state !== 'reconnecting') this.#host.setState('reconnecting');
  }

  /** A new connection after a drop: asks the server for the broadcast back and sends what ffmpeg lacks. */
  resume(socket: ClientSocket, request: ResumeRequest): void {
    const connection = this.#host.connection;
    socket.emit('resume', request, (answer: ResumeAck) => {
      if (connection !== this.#host.connection || !this.#drop) return;
      if (!answer.ok) {
        this.#host.fail(BroadcastError.from(answer.error));
        return;
      }
      const { resumeTo, timer } = this.#drop;
      clearTimeout(timer);
      this.#drop = undefined;
      this.#host.setState(resumeTo);
      this.#sender.resume(answer.lastSeq);
    });
  }

  /** The server lost the broadcast's last destination and reconnects it. */
  destinationLost(): void {
    const state = this.#host.state;
    if (state !== 'live' && state !== 'paused') return;
    this.#destinationDown = state;
    this.#host.setState('reconnecting');
  }

  /**
   * The server's new ffmpeg for a reconnected destination must start at a keyframe: a new recording
   * opens with one. Refused while stopping, or with no recorder running.
   */
  restartRecording(recorder: StreamRecorder | undefined, reply: (answer: { ok: boolean }) => void): void {
    if (!recorder || this.#host.state === 'stopping') return reply({ ok: false });
    reply({ ok: true });
    recorder.restart().catch((caught: unknown) => {
      const why = caught instanceof Error ? caught.message : String(caught);
      this.#host.fail(new BroadcastError('INVALID_MEDIA', `The browser could not restart recording: ${why}`));
    });
  }

  /** The server has the destination back. */
  destinationRestored(): void {
    const back = this.#destinationDown;
    this.#destinationDown = undefined;
    if (back && this.#host.state === 'reconnecting' && !this.#drop) this.#host.setState(back);
  }

  /** The broadcast ended: nothing to return to. */
  clear(): void {
    clearTimeout(this.#drop?.timer);
    this.#drop = undefined;
    this.#destinationDown = undefined;
  }
}
