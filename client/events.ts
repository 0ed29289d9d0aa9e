// What a BroadcastClient tells its listeners: the states of a broadcast and each event's detail.
import type { BroadcastStats, DestinationLostMessage, DestinationRestoredMessage, EndedMessage, ErrorPayload } from './protocol.js';

/**
 * Where a broadcast is in its life. `reconnecting`: the connection dropped while live or paused,
 * or the destination dropped the broadcast and the server is reconnecting it; recording goes on
 * and the broadcast returns to where it was once the link is back. `ended` and `error` are final
 * until the next start.
 */
export type BroadcastState = 'idle' | 'connecting' | 'live' | 'paused' | 'reconnecting' | 'stopping' | 'ended' | 'error';

/** Detail of `statechange`. */
export interface StateChangeDetail {
  state: BroadcastState;
  previous: BroadcastState;
}

/** Detail of `ffmpeg-output`. */
export interface FfmpegOutputDetail {
  /** One line of the server's ffmpeg log, with the stream key redacted. */
  line: string;
}

/** The events of a BroadcastClient, all CustomEvents. */
export interface BroadcastClientEventMap {
  /** The state changed. */
  statechange: CustomEvent<StateChangeDetail>;
  /** Progress from the server's ffmpeg, about once a second. */
  stats: CustomEvent<ClientStats>;
  /** The broadcast failed; `ended` follows. `detail` says what lay underneath when the server shares it. */
  error: CustomEvent<ErrorPayload>;
  /** The broadcast is over, whatever ended it; exactly once per start. */
  ended: CustomEvent<EndedMessage>;
  /** A line of the server's ffmpeg log, only when the server's `sendFfmpegOutput` is on. */
  'ffmpeg-output': CustomEvent<FfmpegOutputDetail>;
  /**
   * A destination dropped the broadcast: the server reconnects it in `retryInMs`, or gave up on it
   * (`retrying: false`). `index` says which of several; `remaining` how many still take the
   * broadcast (at 0 the state is `reconnecting` until one is back).
   */
  'destination-lost': CustomEvent<DestinationLostMessage>;
  /** A dropped destination takes the broadcast again. */
  'destination-restored': CustomEvent<DestinationRestoredMessage>;
}

/** The server's progress report, with how the upload to the server keeps up, measured by the client. */
export interface ClientStats extends BroadcastStats {
  /** Smoothed round trip of a chunk to the server and its acknowledgement, in milliseconds; absent before the first. */
  ackRttMs?: number;
  /** How full the queue of chunks waiting to be sent is, 0–1; at 1 the broadcast ends with NETWORK_TOO_SLOW. */
  backlogRatio: number;
  /**
   * The video bitrate the encoder aims for now: `videoBitsPerSecond`, lowered by adaptive bitrate
   * (WebCodecs recorder) while the upload cannot keep up, never below `minVideoBitsPerSecond`.
   * Always set by the client (optional for stats made elsewhere, e.g. by tests).
   */
  targetVideoBitsPerSecond?: number;
}
