// Just enough Matroska to start a new ffmpeg in the middle of a broadcast: the stream's header
// (EBML, Segment, Info, Tracks: everything before the first Cluster) and where a Cluster begins.
// Chromium's MediaRecorder starts each Cluster on a video keyframe, so header + Cluster is a valid
// stream. Firefox's makes one keyframe, at the start: its client restarts the recording instead
// (a new EBML header, then a keyframe), which `startsRecording` recognizes.

const CLUSTER_ID = Buffer.from([0x1f, 0x43, 0xb6, 0x75]);
/** The EBML header's ID: the first bytes of every Matroska/WebM stream. */
const EBML_ID = [0x1a, 0x45, 0xdf, 0xa3];
/** A header that large is no header: give up rather than hold memory. */
const MAX_HEADER_BYTES = 1024 * 1024;

/** Offset of the first Cluster element in `chunk` at or after `from`, or -1. */
export function findCluster(chunk: Uint8Array, from = 0): number {
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).indexOf(CLUSTER_ID, from);
}

/** Whether `chunk` is the first of a recording: it opens with the EBML header (a recorder that restarted). */
export function startsRecording(chunk: Uint8Array): boolean {
  return chunk.byteLength >= EBML_ID.length && EBML_ID.every((byte, i) => chunk[i] === byte);
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
      this.#header = at >= 0 ? Buffer.concat([collected, chunk.subarray(0, at)]) : Buffer.from(collected.subarray(0, collected.length + at));
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
