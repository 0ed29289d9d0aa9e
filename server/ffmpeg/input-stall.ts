// Media ffmpeg reads but cannot use: garbage after a valid Matroska header (the demuxer skips it,
// looking for the next element it knows), or garbage declared as fragmented MP4 (the demuxer skips
// "atoms" of absurd sizes waiting for its moov). ffmpeg keeps reading, so the client keeps getting
// acks, yet nothing comes out: without this watch the broadcast ended only at its idle timeout.
// Only media that keeps coming is judged: a pause starts the watch again.
import { BroadcastError, type BroadcastStats } from '../../client/protocol.js';

/**
 * Media ffmpeg may read without its output advancing before the broadcast is ended: more than the
 * pipe's kernel buffers and ffmpeg's input buffer hold (208 KB measured), which fill while an ffmpeg
 * is blocked on its output (an ingest or a machine short of CPU). 128 KB, under that, ended 1-9
 * healthy broadcasts per run of 30-68 on a 2-core machine at load 9-16 (`npm run bench -- --shed`).
 */
export const STALL_BYTES = 384 * 1024;
/** The same before ffmpeg's first progress report: more than its pipe and input buffers can hold. */
export const UNREPORTED_STALL_BYTES = 512 * 1024;
/** ...and for how long: ffmpeg reports its progress every second. */
export const STALL_MS = 2_000;
/**
 * ...or this long once the demuxer has said the input is damaged and the output has not advanced
 * again since (garbage after a valid Matroska header: "Element at … exceeds containing master element"). A
 * healthy ffmpeg slow to report under load keeps the whole {@link STALL_MS}; bad media after a good
 * header, whose first frames advance the output late on a loaded machine, still ends within 3 s of
 * it (VP8 ended 3.1 s after it in a loaded CI run, judged 2 s after that late advance).
 */
export const DAMAGED_STALL_MS = 750;

/**
 * Whether an ffmpeg log line is its demuxer saying the input is damaged: an error of the Matroska
 * or MP4 demuxer (`-loglevel level+…`). Healthy live input makes none (a warning at most, such as
 * the codec parameters left to find with a small probe).
 */
export function isDemuxerError(line: string): boolean {
  return /^\[(?:matroska,webm|mov,mp4,m4a,3gp,3g2,mj2) @ [^\]]+\] \[error\]/.test(line);
}
const CHECK_MS = 250;
/**
 * A pause in the input this long starts the watch again: what ffmpeg holds when the client pauses
 * (the muxer waits for a packet of every stream) is not lost, it comes out with the next media.
 */
export const PAUSE_MS = 1_500;

/** What the watch needs of an ffmpeg: the bytes it was given and those not read yet. */
export interface InputCounter {
  readonly bytesWritten: number;
  readonly buffered: number;
}

/**
 * Watches one ffmpeg: once it has read {@link STALL_BYTES} since its output last advanced and
 * {@link STALL_MS} passed since it began reading them, with no pause of {@link PAUSE_MS} in its
 * input, and it is still reading, `onStall` gets INVALID_MEDIA (once).
 */
export class InputStallWatch {
  /**
   * Every watch of the process, checked by one timer: a timer per broadcast woke the event loop
   * 4 times a second for each, which on a small VM cost more than the checks (each wake-up of an
   * idle core is paid for).
   */
  static readonly #watching = new Set<InputStallWatch>();
  static #timer: NodeJS.Timeout | undefined;

  static #checkAll(): void {
    for (const watch of InputStallWatch.#watching) watch.#check();
  }

  readonly #onStall: (error: BroadcastError) => void;
  #input: InputCounter | undefined;
  /** Bytes read when the output last advanced. */
  #mark = 0;
  /** When ffmpeg first read past {@link #mark}. */
  #since: number | undefined;
  /** Bytes read at the last check, and when that amount last grew. */
  #lastRead = 0;
  #lastReadAt = Date.now();
  #frames = 0;
  #durationMs = 0;
  /**
   * Whether ffmpeg reports progress yet. Before that it may be opening its output (an RTMP
   * handshake with a slow or silent ingest) while what we send piles up in the pipe's kernel
   * buffers (208 KB here) and its input buffer, which looks like media read and not used: it takes
   * {@link UNREPORTED_STALL_BYTES} to judge then (a demuxer that never finds its streams, as with
   * garbage declared as fMP4, never reports progress).
   */
  #reporting = false;
  /**
   * Whether the demuxer said the input is damaged, and how many progress reports since said the
   * output advanced: the first may still be frames from before the damage (on a loaded machine it
   * came after the demuxer's error), so the input counts as healthy again at the second.
   */
  #damaged = false;
  #advancesSinceDamage = 0;
  #stalled = false;
  /** When the last check ran: a check that comes late says the event loop was held up. */
  #lastCheckAt = Date.now();

  constructor(onStall: (error: BroadcastError) => void) {
    this.#onStall = onStall;
  }

  /** Starts watching `input` (an ffmpeg that started). */
  watch(input: InputCounter): void {
    this.#input = input;
    this.#lastCheckAt = Date.now();
    InputStallWatch.#watching.add(this);
    InputStallWatch.#timer ??= setInterval(() => InputStallWatch.#checkAll(), CHECK_MS).unref();
  }

  /** The demuxer said the input is damaged ({@link isDemuxerError}): judged after {@link DAMAGED_STALL_MS} until the output advances again. */
  damaged(): void {
    this.#damaged = true;
    this.#advancesSinceDamage = 0;
  }

  /** A progress report: frames or media time that advanced reset the watch. */
  progress(stats: BroadcastStats): void {
    this.#reporting = true;
    if (stats.frames <= this.#frames && stats.durationMs <= this.#durationMs) return;
    if (this.#damaged && ++this.#advancesSinceDamage >= 2) this.#damaged = false;
    this.#frames = Math.max(this.#frames, stats.frames);
    this.#durationMs = Math.max(this.#durationMs, stats.durationMs);
    this.#mark = this.#read();
    this.#since = undefined;
  }

  stop(): void {
    InputStallWatch.#watching.delete(this);
    if (InputStallWatch.#watching.size > 0) return;
    clearInterval(InputStallWatch.#timer);
    InputStallWatch.#timer = undefined;
  }

  #read(): number {
    return this.#input ? this.#input.bytesWritten - this.#input.buffered : 0;
  }

  #check(): void {
    const now = Date.now();
    // A loop held up (a starved machine: 1.2 s seen) runs this timer before it reads the progress
    // reports that came meanwhile, so no verdict from such a tick. Without this a healthy broadcast
    // was ended having "read 892 KB over 2.1 s" in a bench at load 6 (`npm run bench -- --recorders`).
    const late = now - this.#lastCheckAt > 4 * CHECK_MS;
    this.#lastCheckAt = now;
    const read = this.#read();
    if (read <= this.#lastRead) {
      // Judged only while ffmpeg reads; a pause (a lost connection, a hidden tab) starts the watch again.
      if (now - this.#lastReadAt >= PAUSE_MS) {
        this.#mark = read;
        this.#since = undefined;
      }
      return;
    }
    this.#lastRead = read;
    this.#lastReadAt = now;
    const unused = read - this.#mark;
    if (unused <= 0) return;
    this.#since ??= now;
    const waitMs = this.#damaged ? DAMAGED_STALL_MS : STALL_MS;
    if (unused < (this.#reporting ? STALL_BYTES : UNREPORTED_STALL_BYTES) || now - this.#since < waitMs || late) return;
    // The verdict waits for the I/O already in: a progress report in the pipe resets the watch first.
    const since = this.#since;
    setImmediate(() => {
      if (this.#since === since && InputStallWatch.#watching.has(this)) this.#stall(unused, now - since);
    });
  }

  #stall(unused: number, ms: number): void {
    this.stop();
    if (this.#stalled) return;
    this.#stalled = true;
    const kb = Math.round(unused / 1024);
    const seconds = (ms / 1000).toFixed(1);
    this.#onStall(
      new BroadcastError(
        'INVALID_MEDIA',
        `ffmpeg read ${kb} KB of media over ${seconds} s and could not use any of it: the media is damaged or not of the type the start request declared.`,
      ),
    );
  }
}
