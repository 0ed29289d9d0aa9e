// What the server reports of a broadcast (public types): its status in `sessions()`, how it
// ended, and which of its destinations an event is about.
import type { BroadcastStats, DestinationStatus, ErrorPayload, VideoMode } from '../client/protocol.js';

/** Where a broadcast is in its life, as `sessions()` shows it. */
export type SessionState = 'live' | 'reconnecting' | 'stopping' | 'ended';

/** What `sessions()` reports about one broadcast. Holds no stream key. */
export interface SessionInfo {
  sessionId: string;
  remoteAddress: string;
  /** When the broadcast started, in milliseconds since the epoch. */
  startedAt: number;
  state: SessionState;
  /** The (first) destination with its stream key hidden: `rtmp://host/app/***`. */
  destination: string;
  /** Every destination of the broadcast, in the order given, with its own state and reconnections. */
  destinations: DestinationStatus[];
  /** The file the broadcast is recorded to, when the operator records it. */
  recording?: string;
  video: VideoMode;
  /** Media bytes received from the client so far. */
  bytesIn: number;
  /** The latest progress report from ffmpeg, if one came yet. */
  stats: BroadcastStats | undefined;
  /** The ffmpeg process id. */
  pid: number | undefined;
}

/** How a broadcast ended, as the stop hook and `session-end` see it. */
export interface StopSummary {
  reason: 'stopped' | 'error' | 'disconnected';
  durationMs: number;
  bytesIn: number;
  /** The (first) destination with its stream key hidden. */
  destination: string;
  /** Every destination, stream keys hidden, and how each ended. */
  destinations: DestinationStatus[];
  /** The file the broadcast was recorded to, when it was. */
  recording?: string;
  error?: ErrorPayload;
}

/** Which destination of a broadcast a `destination-lost` / `destination-restored` event is about. */
export interface DestinationRef {
  /** Its place in the broadcast's list of destinations, from 0. */
  index: number;
  /** The destination with its stream key hidden. */
  destination: string;
}
