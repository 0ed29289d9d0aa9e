// The events of <rtmp-broadcaster> and their details, declared for addEventListener's types.
import type { FfmpegOutputDetail, StateChangeDetail } from '../broadcast-client.js';
import type { ClientStats } from '../events.js';
import type { DestinationLostMessage, DestinationRestoredMessage, EndedMessage, ErrorPayload } from '../protocol.js';

/** The events of <rtmp-broadcaster>, each a CustomEvent that bubbles out of the shadow root. */
export interface RtmpBroadcasterEventMap {
  /** The broadcast's state changed. */
  'rtmp-statechange': CustomEvent<StateChangeDetail>;
  /** Progress from the server, about once a second while live. */
  'rtmp-stats': CustomEvent<ClientStats>;
  /** The broadcast failed (or could not open the camera or screen); `rtmp-ended` follows. */
  'rtmp-error': CustomEvent<ErrorPayload>;
  /** The broadcast is over, whatever ended it; once per start. */
  'rtmp-ended': CustomEvent<EndedMessage>;
  /** A line of the server's ffmpeg log, only when the server's `sendFfmpegOutput` is on. */
  'rtmp-ffmpeg-output': CustomEvent<FfmpegOutputDetail>;
  /** A destination dropped the broadcast; the server reconnects it unless `retrying` is false. */
  'rtmp-destination-lost': CustomEvent<DestinationLostMessage>;
  /** A dropped destination takes the broadcast again. */
  'rtmp-destination-restored': CustomEvent<DestinationRestoredMessage>;
  /** The person muted or unmuted the microphone, or hid or showed the video, with the built-in buttons. */
  'rtmp-mutechange': CustomEvent<MuteChangeDetail>;
}

/** Detail of `rtmp-mutechange`: what the broadcast carries now. */
export interface MuteChangeDetail {
  /** Silence goes out instead of the microphone. */
  audioMuted: boolean;
  /** Black frames go out instead of the camera or screen. */
  videoMuted: boolean;
}
