// Reads the frames out of a live WebM/Matroska byte stream as it arrives: just what the WebCodecs
// recorder needs to take Opus packets from an audio-only MediaRecorder (Firefox, which has no
// MediaStreamTrackProcessor and whose AudioContext does not run without an audio device). Pure.

const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const INFO = 0x1549a966;
const BLOCK_GROUP = 0xa0;
/** Masters whose children are read one by one (their own size, often unknown, is ignored). */
const ENTERED = new Set([SEGMENT, CLUSTER, INFO, BLOCK_GROUP]);
const TIMECODE_SCALE = 0x2ad7b1;
const CLUSTER_TIMECODE = 0xe7;
const SIMPLE_BLOCK = 0xa3;
const BLOCK = 0xa1;

/** One frame of the stream: its track's number, its time in microseconds from the stream's start, and its bytes. */
export interface WebmFrame {
  track: number;
  timestampUs: number;
  data: Uint8Array;
}

/** Feeds on a WebM stream chunk by chunk and returns the frames each chunk completes. */
export class WebmBlockReader {
  #buffer = new Uint8Array(0);
  #timecodeScaleNs = 1_000_000;
  #clusterTimecode = 0;

  /** The frames that `chunk` completes (with what came before), in stream order. */
  push(chunk: Uint8Array): WebmFrame[] {
    const joined = new Uint8Array(this.#buffer.byteLength + chunk.byteLength);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.byteLength);
    const frames: WebmFrame[] = [];
    let at = 0;
    for (;;) {
      const id = readVint(joined, at, true);
      if (!id) break;
      const size = readVint(joined, at + id.length, false);
      if (!size) break;
      const body = at + id.length + size.length;
      if (ENTERED.has(id.value!)) {
        at = body;
        continue;
      }
      if (size.value === undefined || body + size.value > joined.byteLength) break;
      const data = joined.subarray(body, body + size.value);
      if (id.value === TIMECODE_SCALE) this.#timecodeScaleNs = readUint(data);
      else if (id.value === CLUSTER_TIMECODE) this.#clusterTimecode = readUint(data);
      else if (id.value === SIMPLE_BLOCK || id.value === BLOCK) {
        const frame = this.#frame(data);
        if (frame) frames.push(frame);
      }
      at = body + size.value;
    }
    this.#buffer = joined.slice(at);
    return frames;
  }

  /** A block's frame; undefined for laced blocks, which MediaRecorders do not write for audio. */
  #frame(block: Uint8Array): WebmFrame | undefined {
    const track = readVint(block, 0, false);
    if (!track || block.byteLength < track.length + 3) return undefined;
    const relative = new DataView(block.buffer, block.byteOffset + track.length, 2).getInt16(0);
    if (block[track.length + 2]! & 0x06) return undefined;
    const ticks = this.#clusterTimecode + relative;
    return { track: track.value!, timestampUs: (ticks * this.#timecodeScaleNs) / 1000, data: block.slice(track.length + 3) };
  }
}

/** A VINT at `at`: its length and value (`undefined` for "unknown size"), or undefined if incomplete. */
export function readVint(bytes: Uint8Array, at: number, keepMarker: boolean): { length: number; value: number | undefined } | undefined {
  if (at >= bytes.byteLength) return undefined;
  const first = bytes[at]!;
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 8 || at + length > bytes.byteLength) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[at + i]!;
    allOnes &&= bytes[at + i] === 0xff;
  }
  return { length, value: !keepMarker && allOnes ? undefined : value };
}

/** An EBML unsigned integer: its bytes, big-endian. */
export function readUint(bytes: Uint8Array): number {
  return bytes.reduce((value, byte) => value * 256 + byte, 0);
}
