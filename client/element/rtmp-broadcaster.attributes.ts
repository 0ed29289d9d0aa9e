// The <rtmp-broadcaster> element's attributes and properties: how a page configures it. The
// component (rtmp-broadcaster.component.ts) adds the behaviour, the preview and the controls.
import { property } from 'lit/decorators.js';
import type { RecorderChoice } from '../recorder/create.js';
import { LangAwareElement } from './lang-aware-element.js';
import type { BroadcastSource } from './media-source.controller.js';
import { destinationList } from './rtmp-broadcaster.options.js';
import type { RtmpBroadcasterStringsOverride } from './rtmp-broadcaster.strings.js';

/** The configuration of <rtmp-broadcaster>; the element itself is {@link RtmpBroadcaster}. */
export class RtmpBroadcasterAttributes extends LangAwareElement {
  /** URL of the BroadcastServer; the page's own origin when absent. */
  @property() server?: string;

  /** Where to broadcast; several destinations separated by spaces (a URL has none) go out at once. The server uses them only if its allow-list admits each, or its start hook sets them. */
  @property({ attribute: 'rtmp-url', converter: { fromAttribute: destinationList } }) rtmpUrl?: string | string[];

  /** What `start()` opens: `camera` (getUserMedia), `screen` (getDisplayMedia, with the microphone) or `none` (use `stream`). */
  @property() source: BroadcastSource = 'camera';

  /** Opens no microphone, so the camera or the screen goes out silent (a page-provided `stream` goes out as it is). */
  @property({ attribute: 'no-audio', type: Boolean }) noAudio = false;

  /** Video bitrate in bits per second (client default 2 500 000). */
  @property({ attribute: 'video-bitrate', type: Number }) videoBitrate?: number;

  /** Audio bitrate in bits per second (client default 128 000). */
  @property({ attribute: 'audio-bitrate', type: Number }) audioBitrate?: number;

  /** Frames per second asked of the camera or screen, and of the output when the server transcodes (default 30). */
  @property({ type: Number }) framerate?: number;

  /** AAC sample rate of the output in Hz: 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100 or 48000 (default: the server's, 44 100 unless its operator chose another). */
  @property({ attribute: 'audio-sample-rate', type: Number }) audioSampleRate?: number;

  /** Which recorder encodes: `auto` (client default: WebCodecs where this browser encodes H.264, else MediaRecorder), `webcodecs`, or `mediarecorder`. */
  @property() recorder?: RecorderChoice;

  /** Ideal capture width in pixels. */
  @property({ type: Number }) width = 1280;

  /** Ideal capture height in pixels. */
  @property({ type: Number }) height = 720;

  /** Milliseconds of media per chunk sent to the server (client default: 200 with MediaRecorder, 150 with WebCodecs). */
  @property({ type: Number }) timeslice?: number;

  /** Sends silence instead of the microphone, keeping the broadcast on air; at once while live, else from the next start. The page's own track and the preview are untouched. */
  @property({ attribute: 'audio-muted', type: Boolean, reflect: true }) audioMuted = false;

  /** Sends black frames instead of the camera or screen, keeping the broadcast on air; at once while live, else from the next start. The preview keeps showing the camera, dimmed. */
  @property({ attribute: 'video-muted', type: Boolean, reflect: true }) videoMuted = false;

  /** Shows the buttons, the status line and the error message under the preview. */
  @property({ type: Boolean, reflect: true }) controls = false;

  /**
   * Shows the destination form: a service (YouTube, Twitch, Facebook Live, Custom), its server URL
   * and a masked stream key, joined as URL + '/' + key into the destination; once its server URL is
   * filled in, that destination replaces `rtmp-url`. See docs/element.md#destination-form.
   */
  @property({ attribute: 'destination-form', type: Boolean }) destinationForm = false;

  /** Keeps the destination form's stream key in localStorage; without it the key is never stored. */
  @property({ attribute: 'remember-key', type: Boolean }) rememberKey = false;

  /** Opens the green room (`preview()`) as soon as the element is on the page. */
  @property({ type: Boolean }) autopreview = false;

  /** socket.io handshake `auth`, which the server's hooks see: tokens go here. Property only. */
  @property({ attribute: false }) auth?: Record<string, unknown>;

  /** A MediaStream to broadcast instead of opening the camera or screen (with `source="none"`, or any source). Property only. The element never stops its tracks: they belong to the page. */
  @property({ attribute: false }) stream?: MediaStream;

  /** Overrides some of the element's words (`{ start: 'Go live', errors: { UNAUTHORIZED: '…' } }`), on top of the language's. Property only. */
  @property({ attribute: false }) strings?: RtmpBroadcasterStringsOverride;
}
