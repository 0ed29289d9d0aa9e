// The server's own limits on broadcasts at once (`maxStreams`, `maxStreamsPerAddress`): a start
// takes a slot before its hooks run, so concurrent starts cannot overshoot, and holds it until its
// broadcast runs (then the broadcast counts) or the start fails.
import { BroadcastError } from '../client/protocol.js';

export class StreamSlots {
  /** Starts admitted but not yet running: session id → remote address. */
  readonly #reserved = new Map<string, string>();
  readonly #maxStreams: number;
  readonly #maxPerAddress: number;

  constructor(maxStreams: number, maxPerAddress: number) {
    this.#maxStreams = maxStreams;
    this.#maxPerAddress = maxPerAddress;
  }

  /** Takes a slot for a start, given the remote addresses of the running broadcasts; throws TOO_MANY_STREAMS over a limit. */
  reserve(sessionId: string, remoteAddress: string, running: readonly string[]): void {
    if (running.length + this.#reserved.size >= this.#maxStreams) throw new BroadcastError('TOO_MANY_STREAMS');
    const fromAddress = [...this.#reserved.values(), ...running].filter((address) => address === remoteAddress).length;
    if (fromAddress >= this.#maxPerAddress) {
      throw new BroadcastError('TOO_MANY_STREAMS', `This address already runs ${fromAddress} broadcast(s), as many as the server allows.`);
    }
    this.#reserved.set(sessionId, remoteAddress);
  }

  /** The start ended (its broadcast runs, or it failed). */
  release(sessionId: string): void {
    this.#reserved.delete(sessionId);
  }
}
