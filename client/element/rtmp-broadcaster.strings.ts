// The words <rtmp-broadcaster> shows, per language: labels, states, and for every error code a
// message that says what went wrong and what to do next. Pages override some with `strings`.
import type { BroadcastState } from '../broadcast-client.js';
import type { ErrorCode } from '../protocol.js';
import { en } from './strings/en.js';
import { fr } from './strings/fr.js';

/**
 * What the error line can say: every error code, plus the camera and microphone failures told
 * apart by the browser's reason (`NotAllowedError`, `NotFoundError`, `NotReadableError`), and a
 * stream URL without `rtmp://` or `rtmps://`, or a service picked in the destination form without
 * its stream key, both caught before connecting.
 */
export type ErrorMessageKey =
  | ErrorCode
  | 'MEDIA_DENIED'
  | 'MEDIA_NOT_FOUND'
  | 'MEDIA_IN_USE'
  | 'MISSING_SCHEME'
  | 'MISSING_KEY'
  | 'OFFLINE';

/** Every text the element shows. */
export interface RtmpBroadcasterStrings {
  /** Opens the green room: camera and microphone shown, nothing sent. */
  preview: string;
  /** The status in the green room: the camera shows, nothing is broadcast. */
  previewing: string;
  /** After the end: `{duration}` (mm:ss) and `{kbps}` (the average) are filled in. */
  summary: string;
  start: string;
  pause: string;
  resume: string;
  stop: string;
  /** The mute-microphone toggle; it stays the same word when pressed (`aria-pressed` says muted). */
  muteMicrophone: string;
  /** The hide-video toggle (camera or screen); same word when pressed. */
  hideVideo: string;
  /** Read before the elapsed time by screen readers. */
  elapsedTime: string;
  kbps: string;
  /** Frames per second, after the number. */
  fps: string;
  /** The delay to the server (a chunk's acknowledgement round trip): `{ms}` is filled in. */
  delay: string;
  /** Shown while the upload falls behind, before the broadcast ends with NETWORK_TOO_SLOW. */
  networkSlow: string;
  /** The badge over the preview while on air. */
  onAir: string;
  /** The status while connecting, `{host}` being the destination's host (never its key). */
  connectingTo: string;
  /** Beside "Reconnecting…": `{seconds}` until the next try of a dropped destination, or until the client gives up when the server stopped answering or the device is offline. */
  reconnecting: Record<'destination' | 'offline' | 'server', string>;
  camera: string;
  microphone: string;
  microphoneLevel: string;
  /** The destination form (`destination-form`): its legend, fields, and the show-key toggle (same word when pressed). */
  destination: string;
  service: string;
  /** The service choice that takes any server URL. */
  customService: string;
  serverUrl: string;
  streamKey: string;
  showKey: string;
  /** Under the key: where it goes and where it is kept. */
  streamKeyHint: string;
  states: Record<BroadcastState, string>;
  errors: Record<ErrorMessageKey, string>;
}

/** A partial {@link RtmpBroadcasterStrings}: `states` and `errors` merge entry by entry. */
export type RtmpBroadcasterStringsOverride = Partial<Omit<RtmpBroadcasterStrings, 'states' | 'errors' | 'reconnecting'>> & {
  reconnecting?: Partial<RtmpBroadcasterStrings['reconnecting']>;
  states?: Partial<RtmpBroadcasterStrings['states']>;
  errors?: Partial<RtmpBroadcasterStrings['errors']>;
};

const LANGUAGES: Record<string, RtmpBroadcasterStrings> = { en, fr };

/** The strings for a BCP 47 tag (`fr-CA` falls back to `fr`, anything unknown to English), with `override` on top. */
export function stringsFor(lang: string, override: RtmpBroadcasterStringsOverride = {}): RtmpBroadcasterStrings {
  const base = LANGUAGES[lang.toLowerCase().split('-')[0] ?? ''] ?? en;
  return {
    ...base,
    ...override,
    states: { ...base.states, ...override.states },
    reconnecting: { ...base.reconnecting, ...override.reconnecting },
    errors: { ...base.errors, ...override.errors },
  };
}

/** The words of `element`: its language's (its own `lang` or the closest ancestor's), then its `strings`. */
export function stringsOf(element: HTMLElement & { strings?: RtmpBroadcasterStringsOverride }): RtmpBroadcasterStrings {
  const lang = element.closest('[lang]')?.getAttribute('lang') || document.documentElement.lang || 'en';
  return stringsFor(lang, element.strings);
}

/** Which message the error line shows for `code`; a camera failure is told apart by the browser's reason. */
export function errorMessageKey(code: ErrorCode, mediaFailure?: string): ErrorMessageKey {
  if (code !== 'MEDIA_UNAVAILABLE') return code;
  if (mediaFailure === 'NotAllowedError' || mediaFailure === 'SecurityError') return 'MEDIA_DENIED';
  if (mediaFailure === 'NotFoundError' || mediaFailure === 'OverconstrainedError') return 'MEDIA_NOT_FOUND';
  if (mediaFailure === 'NotReadableError' || mediaFailure === 'AbortError') return 'MEDIA_IN_USE';
  return code;
}
