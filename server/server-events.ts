// The events a BroadcastServer emits (public types), for metrics and logs that sit beside the core.
import type { BroadcastError, BroadcastStats, ErrorPayload } from '../client/protocol.js';
import type { DestinationRef, SessionInfo, StopSummary } from './session-info.js';

/** A socket.io connection, as the `connection` event reports it. */
export interface ConnectionInfo {
  /** The socket.io socket id. */
  connectionId: string;
  remoteAddress: string;
  /** Milliseconds since the epoch. */
  connectedAt: number;
}

/** Events of a BroadcastServer, for metrics and logs that sit beside the core. */
export interface BroadcastServerEvents {
  connection: [connection: ConnectionInfo];
  'session-start': [info: SessionInfo];
  /** A destination dropped a live broadcast; a new ffmpeg will reconnect in `retryInMs` (or never, when `retrying` is false: others go on). */
  'destination-lost': [
    sessionId: string,
    attempt: number,
    retryInMs: number,
    error: ErrorPayload,
    destination: DestinationRef & { retrying: boolean },
  ];
  /** A new ffmpeg is publishing the broadcast to that destination again. */
  'destination-restored': [sessionId: string, attempt: number, destination: DestinationRef];
  'session-end': [info: SessionInfo, summary: StopSummary];
  stats: [sessionId: string, stats: BroadcastStats];
  'ffmpeg-output': [sessionId: string, line: string];
  error: [error: BroadcastError, context: { sessionId?: string; remoteAddress: string }];
}
