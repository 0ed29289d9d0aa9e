// What a Broadcast is given (its settings, how to start its ffmpeg, where it reports) and the
// events it emits.
import type { BroadcastStats, ErrorPayload, VideoMode } from '../client/protocol.js';
import type { Broadcast } from './broadcast.js';
import type { FanOut } from './fanout.js';
import type { MediaProcess } from './ffmpeg/process.js';
import type { HookContext } from './hooks.js';
import type { Logger } from './logger.js';
import type { DestinationRef, StopSummary } from './session-info.js';

/** What a Broadcast tells the server, beside its client. */
export interface BroadcastEvents {
  stats: [stats: BroadcastStats];
  /** A line of the broadcast ffmpeg's log, redacted. */
  output: [line: string];
  'destination-lost': [attempt: number, retryInMs: number, error: ErrorPayload, destination: DestinationRef & { retrying: boolean }];
  'destination-restored': [attempt: number, destination: DestinationRef];
}

/** What starting an ffmpeg for the broadcast needs from it. */
export interface SpawnRequest {
  /** A new ffmpeg taking over from one whose destination dropped the broadcast. */
  continues: boolean;
  onStats(stats: BroadcastStats): void;
  onOutput(line: string): void;
}

export interface BroadcastOptions {
  context: HookContext;
  video: VideoMode;
  /** The client's container, as ffmpeg names it ('matroska' or 'mp4'): it says where a new ffmpeg may start. */
  inputFormat: string;
  recording: string | undefined;
  /** With several destinations or a recording: the outputs fed from the broadcast's ffmpeg. */
  fanOut: FanOut | undefined;
  /** Starts the broadcast's ffmpeg (again, after its destination dropped it). */
  spawn(request: SpawnRequest): Promise<MediaProcess>;
  idleTimeoutMs: number;
  maxDurationMs: number;
  maxBufferedBytes: number;
  destinationRetries: number;
  destinationRetryDelayMs: number;
  sendFfmpegOutput: boolean;
  /** Whether the server is shutting down (a dropped destination is not reconnected then). */
  closing(): boolean;
  /** What a client may see of an error. */
  forClient(error: ErrorPayload): ErrorPayload;
  /** Reports the end (hooks, listeners); the broadcast's `done` resolves once it has. */
  report(broadcast: Broadcast, summary: StopSummary): Promise<void>;
  log: Logger;
}
