// Where a new ffmpeg may start in the middle of a broadcast (after its destination dropped it), and
// the gate that holds media back until such a point arrives.
//
// Matroska/WebM: the stream's header (EBML, Segment, Info, Tracks: everything before the first
// Cluster), then a Cluster whose first video block is a keyframe. Chromium's MediaRecorder and the
// WebCodecs recorder start each Cluster on one; other muxers (ffmpeg's, cutting Clusters by time)
// may not, and a new ffmpeg fed from between keyframes probes, drops and stalls until the next one.
// Firefox's MediaRecorder makes one keyframe, at the start: its client restarts the recording
// instead (a new EBML header, then a keyframe).
// Fragmented MP4 (Safari): only a new recording (`ftyp`, then `moov`) the client makes when asked,
// never the middle of one (that would need a `moof` whose first video sample is a keyframe, which
// Safari's fragments do not promise).

import { readUint, readVint } from '../client/recorder/webm-blocks.js';

const CLUSTER_ID = Buffer.from([0x1f, 0x43, 0xb6, 0x75]);
/** The EBML header's ID: the first bytes of every Matroska/WebM stream. */
const EBML_ID = [0x1a, 0x45, 0xdf, 0xa3];
const FTYP = [0x66, 0x74, 0x79, 0x70];
/** A header that large is no header: give up rather than hold memory. */
const MAX_HEADER_BYTES = 1024 * 1024;
/** Element IDs (with their length marker) read to find the video track and a Cluster's first video block. */
const SEGMENT = 0x18538067;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const TRACK_NUMBER = 0xd7;
const TRACK_TYPE = 0x83;
const VIDEO_TRACK_TYPE = 1;
const CLUSTER = 0x1f43b675;
const SIMPLE_BLOCK = 0xa3;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;
const REFERENCE_BLOCK = 0xfb;
/** What a Cluster may hold (Timecode, SilentTracks, Position, PrevSize, SimpleBlock, BlockGroup, EncryptedBlock, Void, CRC-32): anything else is no Cluster. */
const CLUSTER_CHILDREN = new Set([0xe7, 0x5854, 0xa7, 0xab, SIMPLE_BLOCK, BLOCK_GROUP, 0xaf, 0xec, 0xbf]);
/**
 * Clusters passed over (their video opens between keyframes) before the gate takes any Cluster:
 * a muxer whose Clusters never open on a keyframe still gets a new ffmpeg (which drops what
 * precedes its first keyframe).
 */
const MAX_SKIPPED_CLUSTERS = 4;
/** Bytes of one Cluster held while its first video block has not arrived: past that, it is taken as it is. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

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

/** Reads the element at `at`: its ID, where its body starts and its size (undefined: unknown or not all there yet). */
function readElement(bytes: Uint8Array, at: number): { id: number; body: number; size: number | undefined } | undefined {
  const id = readVint(bytes, at, true);
  if (!id) return undefined;
  const size = readVint(bytes, at + id.length, false);
  if (!size) return undefined;
  return { id: id.value!, body: at + id.length + size.length, size: size.value };
}

/** The number of the first video track a Matroska header (everything before the first Cluster) declares, if any. */
export function videoTrackOf(header: Uint8Array): number | undefined {
  let at = 0;
  while (at < header.byteLength) {
    const element = readElement(header, at);
    if (!element) return undefined;
    // Step into the Segment (its size is often unknown in a live stream) and its Tracks.
    if (element.id === SEGMENT || element.id === TRACKS) {
      at = element.body;
      continue;
    }
    if (element.size === undefined) return undefined;
    const end = element.body + element.size;
    if (element.id === TRACK_ENTRY && end <= header.byteLength) {
      let number: number | undefined;
      let type: number | undefined;
      for (let child = element.body; child < end; ) {
        const field = readElement(header, child);
        if (!field || field.size === undefined) break;
        const value = () => readUint(header.subarray(field.body, field.body + field.size!));
        if (field.id === TRACK_NUMBER) number = value();
        if (field.id === TRACK_TYPE) type = value();
        child = field.body + field.size;
      }
      if (type === VIDEO_TRACK_TYPE && number !== undefined) return number;
    }
    at = end;
  }
  return undefined;
}

/**
 * Whether the Cluster at the start of `bytes` opens its video on a keyframe (its first block of
 * `videoTrack` is one); undefined while `bytes` end before that block. A Cluster with no video
 * block, or one this cannot read, does not.
 */
export function clusterOpensOnKeyframe(bytes: Uint8Array, videoTrack: number): boolean | undefined {
  const cluster = readElement(bytes, 0);
  if (!cluster) return undefined;
  if (cluster.id !== CLUSTER) return false;
  let at = cluster.body;
  for (;;) {
    // The Cluster ID was found by its bytes: where what follows does not read as a Cluster's
    // children (it was inside a frame), this is none. A zero byte begins no EBML number.
    const id = readVint(bytes, at, true);
    if (!id) return bytes[at] === 0 ? false : undefined;
    if (id.value === CLUSTER || !CLUSTER_CHILDREN.has(id.value!)) return false;
    const size = readVint(bytes, at + id.length, false);
    if (!size) return bytes[at + id.length] === 0 ? false : undefined;
    if (size.value === undefined || size.value > MAX_PENDING_BYTES) return false;
    const body = at + id.length + size.length;
    if (id.value === SIMPLE_BLOCK) {
      const track = readVint(bytes, body, false);
      if (!track || body + track.length + 3 > bytes.byteLength) return undefined;
      // A SimpleBlock's flags follow its track number and 16-bit timecode; 0x80 marks a keyframe.
      if (track.value === videoTrack) return (bytes[body + track.length + 2]! & 0x80) !== 0;
    } else if (id.value === BLOCK_GROUP) {
      const end = body + size.value;
      if (end > bytes.byteLength) return undefined;
      let video = false;
      let references = false;
      for (let child = body; child < end; ) {
        const field = readElement(bytes, child);
        if (!field || field.size === undefined) return false;
        if (field.id === BLOCK) video = readVint(bytes, field.body, false)?.value === videoTrack;
        // A Block that references another frame is no keyframe.
        if (field.id === REFERENCE_BLOCK) references = true;
        child = field.body + field.size;
      }
      if (video) return !references;
    }
    at = body + size.value;
  }
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

/** Where a new ffmpeg may start: only at a new recording (which the client was asked for), or there or at the next Cluster that opens on a keyframe. */
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
  /** A Cluster (to the end of what came) whose first video block has not arrived yet. */
  #pending: Buffer | undefined;
  /** Clusters passed over since the restart because their video opens between keyframes. */
  #skipped = 0;

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
    this.#pending = undefined;
    this.#skipped = 0;
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
      if (this.#restartAt === 'new-recording') return undefined;
      const from = this.#keyframeCluster(chunk);
      if (!from) return undefined;
      this.#restartAt = undefined;
      return Buffer.concat([this.#header.bytes!, from]);
    }
    if (!this.#mp4) this.#header.observe(chunk);
    return chunk;
  }

  /**
   * The media from the first Cluster whose video opens on a keyframe, as far as `chunk` reaches,
   * or undefined until one comes. Without a video track (or after passing over a few Clusters) any
   * Cluster will do.
   */
  #keyframeCluster(chunk: Uint8Array): Buffer | undefined {
    const bytes = this.#pending ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#pending = undefined;
    const video = videoTrackOf(this.#header.bytes!);
    for (let at = findCluster(bytes); at >= 0; at = findCluster(bytes, at + CLUSTER_ID.length)) {
      const cluster = bytes.subarray(at);
      if (video === undefined || this.#skipped >= MAX_SKIPPED_CLUSTERS) return cluster;
      const keyframe = clusterOpensOnKeyframe(cluster, video);
      if (keyframe === true) return cluster;
      if (keyframe === undefined) {
        if (cluster.byteLength > MAX_PENDING_BYTES) return cluster;
        // A view: the next chunk's concat copies it once.
        this.#pending = cluster;
        return undefined;
      }
      this.#skipped++;
    }
    return undefined;
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
