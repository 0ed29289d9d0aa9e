// The order of a broadcast's chunks: numbered by the client (`seq`, so that a resend after a resume
// is written once) or not numbered at all. One broadcast does not mix the two: an unnumbered chunk
// among numbered ones could not be told from a resend, and would be written twice.
import { BroadcastError } from '../client/protocol.js';

export class ChunkOrder {
  /** The last sequence number accepted; -1 before any. */
  lastSeq = -1;
  /** Whether the broadcast's chunks carry `seq`, as its first chunk says. */
  #numbered: boolean | undefined;

  /**
   * Whether the chunk is new (to be written), or a resend ffmpeg already has (false). Throws
   * INVALID_REQUEST for a chunk out of order, or numbered unlike the broadcast's first.
   */
  accept(seq: number | undefined): boolean {
    this.#numbered ??= seq !== undefined;
    if (seq === undefined) {
      if (this.#numbered) throw mixed('This broadcast numbers its chunks: every chunk must have a `seq`.');
      return true;
    }
    if (!this.#numbered) throw mixed('This broadcast started with chunks without `seq`: every chunk must come without one.');
    if (seq <= this.lastSeq) return false;
    if (seq !== this.lastSeq + 1) {
      throw new BroadcastError('INVALID_REQUEST', `Chunk ${seq} arrived after chunk ${this.lastSeq}: chunks must come in order.`);
    }
    this.lastSeq = seq;
    return true;
  }
}

function mixed(message: string): BroadcastError {
  return new BroadcastError('INVALID_REQUEST', message);
}
