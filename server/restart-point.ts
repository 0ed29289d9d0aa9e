// Where a new ffmpeg may start in the middle of a broadcast (after its destination dropped it), and
// the gate that holds media back until such a point arrives.
//
// Matroska/WebM: the stream's header (EBML, Segment, Info, Tracks: everything before the first
// Cluster), then any Cluster. Chromium's MediaRecorder starts each Cluster on a video keyframe, so
// header + Cluster is a valid stream. Firefox's makes one keyframe, at the start: its client
// restarts the recording instead (a new EBML header, then a keyframe).
// Fragmented MP4 (Safari): only a new recording (`ftyp`, then `moov`) the client makes when asked,
// never the middle of one (that would need a `moof` whose first video sample is a keyframe, which
// Safari's fragments do not promise).

const CLUSTER_ID = Buffer.from([0x1f, 0x43, 0xb6, 0x75]);
/** The EBML header's ID: the first bytes of every Matroska/WebM stream. */
const EBML_ID = [0x1a, 0x45, 0xdf, 0xa3];
const FTYP = [0x66, 0x74, 0x79, 0x70];
/** A header that large is no header: give up rather than hold memory. */
const MAX_HEADER_BYTES = 1024 * 1024;

/** Offset of the first Cluster element in `chunk` at or after `from`, or -1. */
export function findCluster(chunk: Uint8Array, from = 0): number {
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).indexOf(CLUSTER_ID, from);
}

/** Whether `chunk` is the first of a Matroska recording: it opens with the EBML header (a recorder that restarted). */
export function startsRecording(chunk: Uint8Array): boolean {
  return chunk.byteLength >= EBML_ID.length && EBML_ID.every((byte, i) => chunk[i] === byte);
}

/** Whether `chunk` is the first of an MP4 recording: it opens with an `ftyp` box. */
export function startsMp4Recording(chunk: Uint8Array): boolean {
  return chunk.byteLength >= 8 && FTYP.every((byte, i) => chunk[4 + i] === byte);
}

/** Collects the bytes before the first Cluster from the first chunks of a recording. */
export class MatroskaHeader {
  #parts: Uint8Array[] = [];
  #size = 0;
  /** The last bytes collected (fewer than a Cluster ID), where an ID split between chunks begins. */
  #tail: Buffer = Buffer.alloc(0);
  #header: Buffer | undefined;
  #failed = false;

  /** The complete header once the first Cluster has been seen. */
  get bytes(): Buffer | undefined {
    return this.#header;
  }

  /** Looks at the next chunk of the recording; cheap once the header is complete. */
  observe(chunk: Uint8Array): void {
    if (this.#header || this.#failed) return;
    // The Cluster ID may begin in an earlier chunk: search from the last bytes collected too.
    const tail = this.#tail;
    const window = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
    const at = findCluster(window) - tail.length;
    if (at >= -tail.length) {
      // `at` counts from this chunk's start: below 0, the Cluster began in what was collected.
      const collected = Buffer.concat(this.#parts);
      this.#header =
        at >= 0 ? Buffer.concat([collected, chunk.subarray(0, at)]) : Buffer.from(collected.subarray(0, collected.length + at));
      this.#parts = [];
      this.#tail = Buffer.alloc(0);
      return;
    }
    this.#parts.push(chunk);
    this.#size += chunk.byteLength;
    this.#tail = Buffer.from(window.subarray(-(CLUSTER_ID.length - 1)));
    if (this.#size > MAX_HEADER_BYTES) {
      this.#failed = true;
      this.#parts = [];
    }
  }
}

/** Where a new ffmpeg may start: only at a new recording (which the client was asked for), or there or at the next Cluster. */
export type RestartAt = 'new-recording' | 'recording-or-cluster';

/**
 * What of a broadcast's media goes to its ffmpeg: all of it normally; nothing while it is held
 * (the destination is being reconnected); after a restart, nothing until a restart point. It
 * learns the Matroska header from the first chunks of each recording.
 */
export class MediaGate {
  readonly #mp4: boolean;
  #header = new MatroskaHeader();
  #held = false;
  #restartAt: RestartAt | undefined;

  constructor(inputFormat: 'mp4' | string) {
    this.#mp4 = inputFormat === 'mp4';
  }

  /** Whether a new ffmpeg could start mid-broadcast: the Matroska header is known, or (MP4) the client can restart its recording. */
  canRestart(clientPresent: boolean): boolean {
    return this.#header.bytes !== undefined || (this.#mp4 && clientPresent);
  }

  /** Where the gate waits now, if it waits for a restart point. */
  get restartAt(): RestartAt | undefined {
    return this.#restartAt;
  }

  get mp4(): boolean {
    return this.#mp4;
  }

  /** Lets nothing through until {@link restart}. */
  hold(): void {
    this.#held = true;
  }

  /** A new ffmpeg runs: let media through again from the next restart point of that kind. */
  restart(at: RestartAt): void {
    this.#held = false;
    this.#restartAt = at;
  }

  /** What of `chunk` to write to ffmpeg (undefined: nothing). */
  pass(chunk: Uint8Array): Uint8Array | undefined {
    if (this.#held) return undefined;
    if (this.#restartAt) {
      // The client restarted its recording: the chunk carries its own header and opens on a keyframe.
      if (this.#mp4 ? startsMp4Recording(chunk) : startsRecording(chunk)) {
        this.#restartAt = undefined;
        this.#header = new MatroskaHeader();
        this.#header.observe(chunk);
        return chunk;
      }
      const at = this.#restartAt === 'recording-or-cluster' ? findCluster(chunk) : -1;
      if (at < 0) return undefined;
      this.#restartAt = undefined;
      return Buffer.concat([this.#header.bytes!, chunk.subarray(at)]);
    }
    if (!this.#mp4) this.#header.observe(chunk);
    return chunk;
  }
}

/** How long a client may take to answer whether it restarts its recording for a reconnected destination. */
export const RESTART_ANSWER_MS = 5_000;

/**
 * Asks the client for a new recording (`ask` sends the question; its callback takes the answer),
 * and makes the gate wait for it. A no, or no answer within `answerMs`, calls `declined` (the
 * fallback). A yes that comes late still counts, while the new ffmpeg is `current` and the gate has
 * not opened: a busy browser answers behind the media it has queued.
 */
export function askForNewRecording(
  gate: MediaGate,
  ask: (answer: (reply?: { ok?: unknown }) => void) => void,
  options: { current: () => boolean; declined: () => void; answerMs?: number },
): void {
  gate.restart('new-recording');
  const waiting = () => options.current() && gate.restartAt !== undefined;
  const late = setTimeout(() => {
    if (waiting() && gate.restartAt === 'new-recording') options.declined();
  }, options.answerMs ?? RESTART_ANSWER_MS);
  // Once the broadcast is over the timer does nothing (waiting() is false): it must not keep a
  // closing process alive for its 5 s.
  late.unref();
  ask((reply) => {
    clearTimeout(late);
    if (!waiting()) return;
    if (reply?.ok === true) gate.restart('new-recording');
    else options.declined();
  });
}
