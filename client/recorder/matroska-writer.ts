// A live Matroska writer for WebCodecs output: the header once, then SimpleBlocks in Clusters of
// unknown size, each Cluster opening on a video keyframe so the server can start a new ffmpeg at
// any Cluster (server/restart-point.ts). Nothing is ever seeked back to, so every call's bytes can be
// sent at once. Pure: no DOM, no Node.

/** The video track: H.264 in AVC format, as VideoEncoder describes it. */
export interface MatroskaVideoTrack {
  width: number;
  height: number;
  /** The avcC record (VideoEncoder's `decoderConfig.description` with `avc: { format: 'avc' }`). */
  avcC: Uint8Array;
}

/** The audio track: AAC-LC (raw frames) or Opus packets. */
export interface MatroskaAudioTrack {
  codec: 'aac' | 'opus';
  sampleRate: number;
  channels: number;
  /** AudioSpecificConfig (AAC) or OpusHead (Opus); made from the rate and channels when the encoder gives none. */
  description?: Uint8Array;
}

/** The tracks of one recording. */
export interface MatroskaTracks {
  video: MatroskaVideoTrack;
  audio?: MatroskaAudioTrack;
}

const VIDEO_TRACK = 1;
const AUDIO_TRACK = 2;
/** Matroska's "size unknown" (8-byte VINT, all ones): a live stream never knows its lengths. */
const UNKNOWN_SIZE = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
/** Where a SimpleBlock's 16-bit timecode, relative to its Cluster's, stops fitting. */
const MAX_RELATIVE_MS = 0x7fff;
const MIN_RELATIVE_MS = -0x8000;
/** Opus decoders discard this much at a seek (80 ms, the spec's advice), in nanoseconds. */
const OPUS_SEEK_PRE_ROLL_NS = 80_000_000;
/** libopus's lookahead at 48 kHz: the pre-skip an OpusHead states when the encoder gave none. */
const OPUS_PRE_SKIP = 312;
const AAC_SAMPLE_RATE_INDEX = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/**
 * Writes one recording. `header()` first, then `video()` and `audio()` in the order the encoders
 * hand chunks out; each returns the bytes to send. Timestamps are the encoders' microseconds; the
 * stream starts at 0 with the first video keyframe, and audio before it is dropped.
 */
export class MatroskaWriter {
  readonly #tracks: MatroskaTracks;
  /** The first keyframe's timestamp (µs): time 0 of the stream. */
  #origin: number | undefined;
  /** The open Cluster's timecode (ms), undefined before the first. */
  #clusterMs: number | undefined;

  constructor(tracks: MatroskaTracks) {
    this.#tracks = tracks;
  }

  /** The EBML header, the Segment's start, Info and Tracks: everything before the first Cluster. */
  header(): Uint8Array {
    const ebml = element(0x1a45dfa3, [
      uintElement(0x4286, 1), // EBMLVersion
      uintElement(0x42f7, 1), // EBMLReadVersion
      uintElement(0x42f2, 4), // EBMLMaxIDLength
      uintElement(0x42f3, 8), // EBMLMaxSizeLength
      stringElement(0x4282, 'matroska'), // DocType: WebM's allows no H.264
      uintElement(0x4287, 4), // DocTypeVersion
      uintElement(0x4285, 2), // DocTypeReadVersion
    ]);
    const segmentStart = concat([id(0x18538067), new Uint8Array(UNKNOWN_SIZE)]);
    const info = element(0x1549a966, [
      uintElement(0x2ad7b1, 1_000_000), // TimecodeScale: timecodes in milliseconds
      stringElement(0x4d80, 'rtmp-broadcaster'), // MuxingApp
      stringElement(0x5741, 'rtmp-broadcaster'), // WritingApp
    ]);
    const { video, audio } = this.#tracks;
    const entries = [
      element(0xae, [
        uintElement(0xd7, VIDEO_TRACK), // TrackNumber
        uintElement(0x73c5, VIDEO_TRACK), // TrackUID
        uintElement(0x83, 1), // TrackType: video
        uintElement(0x9c, 0), // FlagLacing
        stringElement(0x86, 'V_MPEG4/ISO/AVC'),
        bytesElement(0x63a2, video.avcC), // CodecPrivate
        element(0xe0, [uintElement(0xb0, video.width), uintElement(0xba, video.height)]),
      ]),
    ];
    if (audio) entries.push(audioEntry(audio));
    return concat([ebml, segmentStart, info, element(0x1654ae6b, entries)]);
  }

  /**
   * A video chunk. Every keyframe opens a new Cluster (the recorder makes one every 2 s and on
   * request, e.g. for a restart), so each Cluster is a place to start. Nothing before the first keyframe is written.
   */
  video(data: Uint8Array, timestampUs: number, keyframe: boolean): Uint8Array {
    if (this.#origin === undefined) {
      if (!keyframe) return new Uint8Array(0);
      this.#origin = timestampUs;
    }
    const ms = this.#toMs(timestampUs);
    return this.#block(VIDEO_TRACK, data, ms, keyframe, keyframe || !this.#fits(ms));
  }

  /** An audio chunk; dropped until the first video keyframe has opened the stream. */
  audio(data: Uint8Array, timestampUs: number): Uint8Array {
    if (this.#origin === undefined || timestampUs < this.#origin) return new Uint8Array(0);
    const ms = this.#toMs(timestampUs);
    return this.#block(AUDIO_TRACK, data, ms, true, !this.#fits(ms));
  }

  #toMs(timestampUs: number): number {
    return Math.round((timestampUs - this.#origin!) / 1000);
  }

  #fits(ms: number): boolean {
    if (this.#clusterMs === undefined) return false;
    const relative = ms - this.#clusterMs;
    return relative >= MIN_RELATIVE_MS && relative <= MAX_RELATIVE_MS;
  }

  #block(track: number, data: Uint8Array, ms: number, keyframe: boolean, opensCluster: boolean): Uint8Array {
    const parts: Uint8Array[] = [];
    if (opensCluster) {
      this.#clusterMs = ms;
      parts.push(id(0x1f43b675), new Uint8Array(UNKNOWN_SIZE), uintElement(0xe7, ms)); // Cluster, Timecode
    }
    const relative = ms - this.#clusterMs!;
    // SimpleBlock: track number (1-byte VINT), 16-bit signed relative timecode, flags, frame.
    const head = new Uint8Array([0x80 | track, (relative >> 8) & 0xff, relative & 0xff, keyframe ? 0x80 : 0]);
    parts.push(id(0xa3), size(head.length + data.byteLength), head, data);
    return concat(parts);
  }
}

function audioEntry(audio: MatroskaAudioTrack): Uint8Array {
  const opus = audio.codec === 'opus';
  const description =
    audio.description ?? (opus ? opusHead(audio.channels, audio.sampleRate) : audioSpecificConfig(audio.sampleRate, audio.channels));
  const children = [
    uintElement(0xd7, AUDIO_TRACK),
    uintElement(0x73c5, AUDIO_TRACK),
    uintElement(0x83, 2), // TrackType: audio
    uintElement(0x9c, 0),
    stringElement(0x86, opus ? 'A_OPUS' : 'A_AAC'),
    bytesElement(0x63a2, description),
    element(0xe1, [floatElement(0xb5, audio.sampleRate), uintElement(0x9f, audio.channels)]),
  ];
  if (opus) {
    const preSkip = description[10]! | (description[11]! << 8);
    children.push(uintElement(0x56aa, Math.round((preSkip * 1e9) / 48_000)), uintElement(0x56bb, OPUS_SEEK_PRE_ROLL_NS)); // CodecDelay, SeekPreRoll
  }
  return element(0xae, children);
}

/** AAC-LC's AudioSpecificConfig: object type 2, the rate's index, the channel count. */
export function audioSpecificConfig(sampleRate: number, channels: number): Uint8Array {
  const index = AAC_SAMPLE_RATE_INDEX.indexOf(sampleRate);
  if (index < 0) throw new RangeError(`AAC has no sample rate ${sampleRate}`);
  return new Uint8Array([(2 << 3) | (index >> 1), ((index & 1) << 7) | (channels << 3)]);
}

/** The OpusHead Matroska's A_OPUS carries (RFC 7845 §5.1, mapping family 0). */
export function opusHead(channels: number, inputSampleRate: number): Uint8Array {
  const head = new Uint8Array(19);
  head.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64, 1, channels]); // "OpusHead", version 1
  const view = new DataView(head.buffer);
  view.setUint16(10, OPUS_PRE_SKIP, true);
  view.setUint32(12, inputSampleRate, true);
  return head;
}

function id(value: number): Uint8Array {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return new Uint8Array(bytes);
}

/** An element's data size as the shortest VINT that holds it (all-ones is reserved for "unknown"). */
function size(value: number): Uint8Array {
  let length = 1;
  while (value >= 2 ** (7 * length) - 1) length++;
  const bytes = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = rest & 0xff;
    rest = Math.floor(rest / 256);
  }
  bytes[0]! |= 0x80 >> (length - 1);
  return bytes;
}

function element(elementId: number, children: Uint8Array[]): Uint8Array {
  const body = concat(children);
  return concat([id(elementId), size(body.length), body]);
}

function bytesElement(elementId: number, data: Uint8Array): Uint8Array {
  return element(elementId, [data]);
}

function uintElement(elementId: number, value: number): Uint8Array {
  const bytes: number[] = [];
  for (let rest = value; rest > 0 || bytes.length === 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return bytesElement(elementId, new Uint8Array(bytes));
}

function floatElement(elementId: number, value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value);
  return bytesElement(elementId, bytes);
}

function stringElement(elementId: number, value: string): Uint8Array {
  return bytesElement(elementId, new TextEncoder().encode(value));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
