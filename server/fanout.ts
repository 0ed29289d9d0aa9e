// One broadcast, several outputs: the broadcast's ffmpeg writes FLV once to its stdout, and each
// destination (and the recording) gets a copy-only ffmpeg of its own fed whole FLV tags from here.
// A destination that drops the broadcast is reconnected alone, from the kept FLV preamble and the
// next keyframe, while the others go on untouched.
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { BroadcastError, type DestinationState, type DestinationStatus, type ErrorPayload } from '../client/protocol.js';
import { redactDestination } from './destination.js';
import { toBroadcastError } from './errors.js';
import { FlvReader, type FlvTag } from './flv.js';
import { FfmpegProcess, type FfmpegProcessOptions, type MediaProcess } from './ffmpeg/process.js';
import type { Logger } from './logger.js';
import { retryDelay } from './retry.js';

/** Where one output of a fan-out writes. */
export type FanOutTarget = { kind: 'destination'; url: URL } | { kind: 'recording'; path: string };

/** One output as the fan-out reports it. */
export interface FanOutOutput {
  /** Its place among the broadcast's destinations, from 0 (the recording comes after them). */
  index: number;
  target: FanOutTarget;
  /** The destination with its stream key hidden, or the recording's path. */
  label: string;
  state: DestinationState;
  retries: number;
}

export interface FanOutOptions {
  sessionId: string;
  /** Where the fan-out logs what its outputs do. */
  log: Logger;
  ffmpegPath: string;
  targets: readonly FanOutTarget[];
  /** argv of the copy-only ffmpeg for one output. */
  args(target: FanOutTarget): string[];
  /** Reconnections of a destination that dropped the broadcast after taking it; 0 never. */
  retries: number;
  /** Wait before the first reconnection, doubled each next one (at most 10 s). */
  retryDelayMs: number;
  stopTimeoutMs: number;
  killTimeoutMs: number;
  /** Most FLV bytes one output may have waiting; past it that output is dropped (and reconnected) alone. */
  maxBufferedBytes: number;
  /** Starts one output's ffmpeg; a fake one in unit tests. Default {@link FfmpegProcess.start}. */
  spawn?(options: FfmpegProcessOptions): Promise<MediaProcess>;
}

export interface FanOutEvents {
  /** A destination dropped the broadcast: reconnected in `retryInMs`, or given up on when `retrying` is false. */
  lost: [output: FanOutOutput, error: ErrorPayload, retryInMs: number, retrying: boolean];
  /** A reconnected destination takes the broadcast again. */
  restored: [output: FanOutOutput];
  /** Every destination is gone for good; the recording, if any, goes on until the broadcast is ended. */
  'all-failed': [error: ErrorPayload];
}

/** One output: its copy-only ffmpeg, replaced when a destination is reconnected. */
class Output implements FanOutOutput {
  state: DestinationState = 'connecting';
  retries = 0;
  session: MediaProcess | undefined;
  /** A new ffmpeg gets the preamble and then media from the next keyframe. */
  joining = false;
  /** Whether this output's destination ever took media: one that never did is wrong, not dropped. */
  published = false;
  retryTimer: NodeJS.Timeout | undefined;
  readonly label: string;

  constructor(
    readonly index: number,
    readonly target: FanOutTarget,
  ) {
    this.label = target.kind === 'destination' ? redactDestination(target.url) : target.path;
  }

  get durationMs(): number {
    return this.session?.stats?.durationMs ?? 0;
  }
}

/** The outputs of one broadcast. Feed it the broadcast ffmpeg's stdout with {@link FanOut.attach}. */
export class FanOut extends EventEmitter<FanOutEvents> {
  readonly #options: FanOutOptions;
  readonly #outputs: Output[];
  readonly #reader = new FlvReader();
  #ending = false;
  #allFailed = false;

  private constructor(options: FanOutOptions) {
    super();
    this.#options = options;
    this.#outputs = options.targets.map((target, index) => new Output(index, target));
  }

  /** Starts one copy-only ffmpeg per output; rejects (and stops the ones started) if ffmpeg cannot run. */
  static async start(options: FanOutOptions): Promise<FanOut> {
    const fanOut = new FanOut(options);
    const started = await Promise.allSettled(fanOut.#outputs.map((output) => fanOut.#spawn(output)));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      await fanOut.end();
      throw failed.reason;
    }
    return fanOut;
  }

  /** Each output's state, in order; the recording is not a destination and is left out. */
  destinations(): DestinationStatus[] {
    return this.#outputs
      .filter((output) => output.target.kind === 'destination')
      .map((output) => ({ destination: output.label, state: output.state, retries: output.retries, durationMs: output.durationMs }));
  }

  /** Reads the broadcast's FLV; when it ends, so does every output. */
  attach(flv: Readable): void {
    flv.on('data', (chunk: Buffer) => this.#distribute(chunk));
    flv.on('end', () => void this.end());
    // The broadcast's ffmpeg dying is reported by its own exit; its stdout only closes.
    flv.on('error', () => void this.end());
  }

  /** Closes every output's input so it flushes and exits; resolves once all have. */
  async end(): Promise<void> {
    this.#ending = true;
    const running: Promise<unknown>[] = [];
    for (const output of this.#outputs) {
      clearTimeout(output.retryTimer);
      if (output.session) running.push(output.session.stop());
      if (output.state !== 'failed') output.state = 'ended';
    }
    await Promise.all(running);
  }

  #distribute(chunk: Buffer): void {
    const fresh = this.#reader.preamble.header.length === 0;
    let tags: FlvTag[];
    try {
      tags = this.#reader.push(chunk);
    } catch {
      // Our own ffmpeg wrote it, so this cannot happen; if it does, the outputs end cleanly.
      void this.end();
      return;
    }
    const header = fresh && this.#reader.preamble.header.length > 0 ? [this.#reader.preamble.header] : [];
    if (tags.length === 0 && header.length === 0) return;
    // One write per output per read, not one per tag: every output in step gets the same bytes,
    // joined once; one joining after a reconnection gets the preamble and the tags from a keyframe.
    let inStep: Buffer | undefined;
    for (const output of this.#outputs) {
      const { session } = output;
      if (!session || session.stopRequested) continue;
      if (!output.joining) {
        inStep ??= Buffer.concat([...header, ...tags.map((tag) => tag.bytes)]);
        this.#write(session, inStep);
        continue;
      }
      const keyframe = this.#reader.ready ? tags.findIndex((tag) => tag.keyframe) : -1;
      if (keyframe < 0) continue;
      output.joining = false;
      this.#write(session, Buffer.concat([this.#reader.start, ...tags.slice(keyframe).map((tag) => tag.bytes)]));
    }
  }

  /** An output that cannot keep up is dropped (and reconnected) alone: its buffer does not grow. */
  #write(session: MediaProcess, bytes: Buffer): void {
    if (session.buffered + bytes.byteLength > this.#options.maxBufferedBytes) {
      void session.stop(new BroadcastError('BUFFER_FULL').toJSON());
      return;
    }
    session.write(bytes, ignore);
  }

  async #spawn(output: Output): Promise<void> {
    const { target } = output;
    const spawn = this.#options.spawn ?? FfmpegProcess.start;
    const session = await spawn({
      ffmpegPath: this.#options.ffmpegPath,
      args: this.#options.args(target),
      destination: target.kind === 'destination' ? target.url : target.path,
      stopTimeoutMs: this.#options.stopTimeoutMs,
      killTimeoutMs: this.#options.killTimeoutMs,
      onStats: (stats) => {
        if (stats.durationMs <= 0 || output.session !== session || output.state === 'live') return;
        const back = output.state === 'reconnecting';
        output.state = 'live';
        output.published = true;
        if (!back) return;
        this.#options.log.info('reconnected to a destination', { ...this.#fields(output) });
        this.emit('restored', output);
      },
      onOutput: (line) => this.#options.log.debug('ffmpeg', { sessionId: this.#options.sessionId, output: output.label, line }),
    });
    output.session = session;
    void session.ended.then(({ error }) => this.#onExit(output, session, error));
  }

  #onExit(output: Output, session: MediaProcess, error: ErrorPayload | undefined): void {
    if (output.session !== session || this.#ending) return;
    const reason: ErrorPayload =
      error ?? new BroadcastError('DESTINATION_UNREACHABLE', 'The RTMP destination closed the connection.').toJSON();
    if (output.target.kind === 'recording') {
      output.state = 'failed';
      // Not retried: a new ffmpeg would overwrite it. The broadcast goes on.
      const failure = error ?? new BroadcastError('FFMPEG_EXITED', 'The recording stopped unexpectedly.').toJSON();
      const { sessionId } = this.#options;
      this.#options.log.error('the recording failed; the broadcast goes on', {
        sessionId,
        recording: output.label,
        code: failure.code,
        message: failure.message,
      });
      return;
    }
    const retrying = (output.published || output.retries > 0) && output.retries < this.#options.retries;
    if (!retrying) {
      this.#giveUp(output, reason);
      return;
    }
    output.state = 'reconnecting';
    output.retries++;
    const retryInMs = retryDelay(this.#options.retryDelayMs, output.retries);
    this.#options.log.warn('a destination dropped the broadcast; reconnecting it', {
      ...this.#fields(output),
      retryInMs,
      code: reason.code,
    });
    this.emit('lost', output, reason, retryInMs, true);
    output.retryTimer = setTimeout(() => void this.#reconnect(output), retryInMs);
  }

  /** No more retries for this destination; when it was the last one, the broadcast has nowhere to go. */
  #giveUp(output: Output, error: ErrorPayload): void {
    output.state = 'failed';
    this.#options.log.warn('giving up on a destination', {
      ...this.#fields(output),
      retryInMs: 0,
      code: error.code,
      message: error.message,
    });
    this.emit('lost', output, error, 0, false);
    const gone = this.#outputs.every((each) => each.target.kind !== 'destination' || each.state === 'failed');
    if (gone && !this.#allFailed) {
      this.#allFailed = true;
      this.emit('all-failed', error);
    }
  }

  async #reconnect(output: Output): Promise<void> {
    if (this.#ending) return;
    output.joining = true;
    try {
      await this.#spawn(output);
    } catch (caught) {
      this.#giveUp(output, toBroadcastError(caught, 'FFMPEG_EXITED'));
      return;
    }
    // The broadcast ended while the new ffmpeg was starting.
    if (this.#ending) void output.session?.stop();
  }

  /** What every log line about an output says. */
  #fields(output: Output): Record<string, unknown> {
    return { sessionId: this.#options.sessionId, index: output.index, destination: output.label, attempt: output.retries };
  }

  /** How many destinations still take (or are about to take) the broadcast. */
  get remaining(): number {
    return this.#outputs.filter(
      (output) => output.target.kind === 'destination' && (output.state === 'live' || output.state === 'connecting'),
    ).length;
  }
}

function ignore(): void {}
