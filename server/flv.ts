// Just enough FLV to fan one ffmpeg's output out to several copy-only pushers and to start a new
// pusher in the middle of a broadcast: the stream is cut into whole tags, and what a demuxer needs
// before any media (file header, onMetaData, the AVC and AAC sequence headers) is kept.

const FILE_HEADER_BYTES = 9 + 4; // 'FLV', version, flags, header size, then PreviousTagSize0
const TAG_HEADER_BYTES = 11;
const TAG_TRAILER_BYTES = 4; // PreviousTagSize
const AUDIO = 8;
const VIDEO = 9;
const SCRIPT = 18;
/** FLV tags carry a 24-bit size; anything bigger than this is no FLV we wrote. */
const MAX_TAG_BYTES = 16 * 1024 * 1024;

/** One complete FLV tag (header, body and trailing PreviousTagSize) and what a pusher needs to know of it. */
export interface FlvTag {
  bytes: Buffer;
  type: number;
  /** A video keyframe holding a picture (not a sequence header): where a new pusher may begin. */
  keyframe: boolean;
}

/** The part of an FLV stream a new reader needs before the first keyframe. */
export interface FlvPreamble {
  header: Buffer;
  metadata: Buffer | undefined;
  videoConfig: Buffer | undefined;
  audioConfig: Buffer | undefined;
}

/** Cuts a byte stream of FLV into whole tags, keeping the preamble; throws on bytes that are not FLV. */
export class FlvReader {
  readonly preamble: FlvPreamble = { header: Buffer.alloc(0), metadata: undefined, videoConfig: undefined, audioConfig: undefined };
  /** Bytes not yet part of a whole tag, kept as received until enough arrived (no copy per small chunk). */
  #parts: Buffer[] = [];
  #length = 0;
  /** How many bytes the next step needs before parsing is worth a concat. */
  #need = FILE_HEADER_BYTES;
  #headerSeen = false;

  /** Whether the file header and every sequence header the header's flags announce have arrived. */
  get ready(): boolean {
    if (!this.#headerSeen) return false;
    const flags = this.preamble.header[4] ?? 0;
    const needsAudio = (flags & 0x04) !== 0;
    const needsVideo = (flags & 0x01) !== 0;
    return (!needsVideo || this.preamble.videoConfig !== undefined) && (!needsAudio || this.preamble.audioConfig !== undefined);
  }

  /** The bytes a reader joining now gets before its first keyframe. */
  get start(): Buffer {
    const { header, metadata, videoConfig, audioConfig } = this.preamble;
    return Buffer.concat([header, ...[metadata, videoConfig, audioConfig].filter((tag): tag is Buffer => tag !== undefined)]);
  }

  /** Takes the next bytes of the stream; returns the tags they complete, in order. */
  push(chunk: Buffer): FlvTag[] {
    this.#parts.push(chunk);
    this.#length += chunk.length;
    const tags: FlvTag[] = [];
    if (this.#length < this.#need) return tags;
    const pending = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    let at = 0;
    if (!this.#headerSeen) {
      if (pending.toString('latin1', 0, 3) !== 'FLV') throw new Error('The stream does not start with an FLV header.');
      const headerSize = pending.readUInt32BE(5);
      if (headerSize !== 9) throw new Error(`Unexpected FLV header size ${headerSize}.`);
      this.preamble.header = Buffer.from(pending.subarray(0, FILE_HEADER_BYTES));
      this.#headerSeen = true;
      at = FILE_HEADER_BYTES;
    }
    this.#need = TAG_HEADER_BYTES;
    while (pending.length - at >= TAG_HEADER_BYTES) {
      const size = pending.readUIntBE(at + 1, 3);
      const total = TAG_HEADER_BYTES + size + TAG_TRAILER_BYTES;
      if (total > MAX_TAG_BYTES) throw new Error(`An FLV tag of ${size} bytes is larger than any this server writes.`);
      if (pending.length - at < total) {
        this.#need = total;
        break;
      }
      // A copy: the tag may be held (preamble, a pusher's queue) after this chunk is gone.
      const bytes = Buffer.from(pending.subarray(at, at + total));
      at += total;
      tags.push(this.#classify(bytes));
    }
    const rest = pending.subarray(at);
    this.#parts = rest.length > 0 ? [rest] : [];
    this.#length = rest.length;
    return tags;
  }

  #classify(bytes: Buffer): FlvTag {
    const type = bytes[0]! & 0x1f;
    const first = bytes[TAG_HEADER_BYTES] ?? 0;
    const second = bytes[TAG_HEADER_BYTES + 1];
    if (type === SCRIPT) {
      this.preamble.metadata ??= bytes;
      return { bytes, type, keyframe: false };
    }
    if (type === VIDEO) {
      // AVC (codec 7): AVCPacketType 0 is the decoder configuration, 2 the end of the sequence
      // (flagged as a keyframe by ffmpeg's muxer); only 1 holds a picture.
      const avc = (first & 0x0f) === 7;
      if (avc && second === 0) {
        this.preamble.videoConfig = bytes;
        return { bytes, type, keyframe: false };
      }
      return { bytes, type, keyframe: first >> 4 === 1 && (!avc || second === 1) };
    }
    // AAC (sound format 10) with AACPacketType 0 is the AudioSpecificConfig.
    if (type === AUDIO && first >> 4 === 10 && second === 0) this.preamble.audioConfig = bytes;
    return { bytes, type, keyframe: false };
  }
}
