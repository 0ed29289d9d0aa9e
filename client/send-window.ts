// The send window of one broadcast: recorded chunks wait in a backlog and go out while the bytes
// sent and not yet acknowledged stay under a bound, so a slow network shows as a growing backlog
// rather than as memory in socket.io. After a dropped connection the unacknowledged chunks go back
// to the front; a resume drops those the server already has. Pure: the caller owns the socket.

/** Anything with a size in bytes: an ArrayBuffer in the browser, a Buffer in the bench. */
export interface Sized {
  readonly byteLength: number;
}

/** A recorded chunk and its place in the broadcast, from 0, so the server writes a resent one once. */
export interface Chunk<Bytes extends Sized = ArrayBuffer> {
  readonly seq: number;
  readonly bytes: Bytes;
}

/** The chunks of one broadcast between recording and the server's acknowledgement, oldest first. */
export class SendWindow<Bytes extends Sized = ArrayBuffer> {
  readonly #maxInFlightBytes: number;
  #nextSeq = 0;
  /** Chunks recorded and not yet sent. */
  #backlog: Chunk<Bytes>[] = [];
  #backlogBytes = 0;
  /** Chunks sent and not yet acknowledged. */
  #inFlight: Chunk<Bytes>[] = [];
  #inFlightBytes = 0;

  /** At most `maxInFlightBytes` go unacknowledged, except that one chunk may always go, however large. */
  constructor(maxInFlightBytes: number) {
    this.#maxInFlightBytes = maxInFlightBytes;
  }

  /** Bytes recorded and not yet sent. */
  get backlogBytes(): number {
    return this.#backlogBytes;
  }

  /** Bytes sent and not yet acknowledged. */
  get inFlightBytes(): number {
    return this.#inFlightBytes;
  }

  /** Whether nothing waits and nothing is unacknowledged. */
  get empty(): boolean {
    return this.#backlog.length === 0 && this.#inFlight.length === 0;
  }

  /** Numbers a recorded chunk and puts it at the end of the backlog. */
  push(bytes: Bytes): Chunk<Bytes> {
    const chunk = { seq: this.#nextSeq++, bytes };
    this.#backlog.push(chunk);
    this.#backlogBytes += bytes.byteLength;
    return chunk;
  }

  /** The oldest waiting chunk, now counted as in flight, if the window lets it go; otherwise undefined. */
  take(): Chunk<Bytes> | undefined {
    const chunk = this.#backlog[0];
    if (!chunk) return undefined;
    const size = chunk.bytes.byteLength;
    if (this.#inFlightBytes > 0 && this.#inFlightBytes + size > this.#maxInFlightBytes) return undefined;
    this.#backlog.shift();
    this.#backlogBytes -= size;
    this.#inFlight.push(chunk);
    this.#inFlightBytes += size;
    return chunk;
  }

  /**
   * The server answered for `chunk`: it leaves the window. False when that sending of it no longer
   * counts (requeued or cleared since: an answer from a connection that dropped), and nothing changes.
   */
  acknowledge(chunk: Chunk<Bytes>): boolean {
    const index = this.#inFlight.indexOf(chunk);
    if (index === -1) return false;
    this.#inFlight.splice(index, 1);
    this.#inFlightBytes -= chunk.bytes.byteLength;
    return true;
  }

  /** The connection dropped: unacknowledged chunks may not have arrived, so they wait again, first. */
  requeue(): void {
    // New objects: late answers for the ones sent on the dropped connection acknowledge nothing.
    this.#backlog.unshift(...this.#inFlight.map(({ seq, bytes }) => ({ seq, bytes })));
    this.#backlogBytes += this.#inFlightBytes;
    this.#inFlight = [];
    this.#inFlightBytes = 0;
  }

  /** After a resume: drops the waiting chunks the server already has, those numbered up to `lastSeq`. */
  dropThrough(lastSeq: number): void {
    for (let chunk = this.#backlog[0]; chunk && chunk.seq <= lastSeq; chunk = this.#backlog[0]) {
      this.#backlog.shift();
      this.#backlogBytes -= chunk.bytes.byteLength;
    }
  }

  /** Forgets every chunk; the next one pushed is numbered 0. */
  clear(): void {
    this.#nextSeq = 0;
    this.#backlog = [];
    this.#backlogBytes = 0;
    this.#inFlight = [];
    this.#inFlightBytes = 0;
  }
}
