// The options of a BroadcastClient: what each one means, its default, and the checks that throw a
// TypeError naming a wrong one when the client is constructed.
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import { RECORDER_CHOICES, type RecorderChoice } from './recorder/create.js';
import { AAC_SAMPLE_RATES, DEFAULT_RESUME_WINDOW_MS, REQUEST_DEFAULTS, REQUEST_LIMITS, type StartRequest } from './protocol.js';

/** What a BroadcastClient is constructed with: `server`, and whatever should differ from the defaults. */
export interface BroadcastClientOptions {
  /** URL of the BroadcastServer, e.g. `https://example.com` (socket.io's default path). */
  server: string;
  /** Where to broadcast, or a list of destinations to broadcast to at once; the server uses them only if its allow-list admits each, or its start hook sets them. */
  rtmpUrl?: string | string[];
  /** socket.io handshake `auth`, which the server's hooks see: tokens go here. */
  auth?: Record<string, unknown>;
  /** Video bitrate of the recording (and of the output when the server transcodes). Default 2 500 000. */
  videoBitsPerSecond?: number;
  /** Audio bitrate of the recording and of the AAC output. Default 128 000. */
  audioBitsPerSecond?: number;
  /** Output frame rate when the server transcodes. Default 30. */
  framerate?: number;
  /** AAC sample rate of the output, one of {@link AAC_SAMPLE_RATES}. Default: the server's (44 100 unless its operator chose another). */
  audioSampleRate?: number;
  /** Milliseconds of media per chunk. Default: 200 with MediaRecorder (chosen with the bench, bench/README.md), 150 with the WebCodecs recorder (a shorter delay from glass to ingest at a server cost that stays low, docs/performance.md). */
  timeslice?: number;
  /** Most bytes sent and not yet acknowledged by the server. Default 1 MiB. */
  maxInFlightBytes?: number;
  /** Most bytes waiting to be sent before the broadcast ends with NETWORK_TOO_SLOW, reconnecting or not. Default 8 MiB. */
  maxBacklogBytes?: number;
  /** After the connection drops mid-broadcast, how long to try to reconnect and resume it before ending with DISCONNECTED. Default 10 000 ms (the server's own default wait). */
  resumeTimeoutMs?: number;
  /** How long the server may take to answer `start` (its start hook included) and `stop` (ffmpeg's flush included) before the broadcast ends with INTERNAL. Default 20 000 ms. */
  replyTimeoutMs?: number;
  /** Which recorder encodes: `auto` (default: WebCodecs where this browser really encodes H.264, else MediaRecorder), `webcodecs` (H.264 + AAC or Opus from WebCodecs, in Matroska), or `mediarecorder`. */
  recorder?: RecorderChoice;
  /**
   * Whether the video bitrate follows the upload: lowered (down to `minVideoBitsPerSecond`, then
   * fewer frames) while the network cannot keep up, raised back to `videoBitsPerSecond` when it
   * can. Needs the WebCodecs recorder (`recorder: 'auto'`, the default, where it picks it, or `'webcodecs'`):
   * MediaRecorder cannot change bitrate mid-stream. Default true.
   */
  adaptiveBitrate?: boolean;
  /** The lowest video bitrate adaptive bitrate goes to before it drops frames. Default 300 000. */
  minVideoBitsPerSecond?: number;
  /** Other socket.io client options, applied last. */
  socketio?: Partial<ManagerOptions & SocketOptions>;
}

/** Options without a default, sent only when given. */
type UnsetByDefault = 'rtmpUrl' | 'audioSampleRate' | 'timeslice';

/** The options with every default applied. */
export type ResolvedOptions = Required<Omit<BroadcastClientOptions, UnsetByDefault>> & Pick<BroadcastClientOptions, UnsetByDefault>;

/** The default of every option that has one. */
export const DEFAULTS = {
  auth: {},
  ...REQUEST_DEFAULTS,
  maxInFlightBytes: 1024 * 1024,
  maxBacklogBytes: 8 * 1024 * 1024,
  resumeTimeoutMs: DEFAULT_RESUME_WINDOW_MS,
  replyTimeoutMs: 20_000,
  recorder: 'auto',
  adaptiveBitrate: true,
  minVideoBitsPerSecond: 300_000,
  socketio: {},
} satisfies Partial<BroadcastClientOptions>;

/** Numbers that stay in the browser; those sent to the server must also be within REQUEST_LIMITS. */
const POSITIVE_NUMBERS = [
  'minVideoBitsPerSecond',
  'timeslice',
  'maxInFlightBytes',
  'maxBacklogBytes',
  'resumeTimeoutMs',
  'replyTimeoutMs',
] as const;

/** Applies the defaults and throws a TypeError naming the first wrong option. */
export function resolveOptions(options: BroadcastClientOptions): ResolvedOptions {
  if (!isObject(options)) throw new TypeError(`Expected options to be an object, got \`${show(options)}\``);
  const { server, rtmpUrl, auth, socketio } = options;
  if (typeof server !== 'string' || server.length === 0) {
    throw typeError('server', 'the URL of a BroadcastServer', server);
  }
  if (Array.isArray(rtmpUrl)) {
    if (rtmpUrl.length === 0 || rtmpUrl.some((url) => typeof url !== 'string' || url.length === 0)) {
      throw new TypeError(`Expected \`rtmpUrl\` to be a non-empty list of RTMP URLs, got \`[${rtmpUrl.map(show).join(', ')}]\``);
    }
  } else if (rtmpUrl !== undefined && (typeof rtmpUrl !== 'string' || rtmpUrl.length === 0)) {
    throw typeError('rtmpUrl', 'an RTMP URL', rtmpUrl);
  }
  if (auth !== undefined && !isObject(auth)) throw typeError('auth', 'an object', auth);
  if (socketio !== undefined && !isObject(socketio)) {
    throw typeError('socketio', 'an object of socket.io options', socketio);
  }
  for (const name of POSITIVE_NUMBERS) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
      throw typeError(name, 'a positive number', value);
    }
  }
  // The server refuses a start request out of these ranges; saying so here names the option.
  for (const name of Object.keys(REQUEST_LIMITS) as (keyof typeof REQUEST_LIMITS)[]) {
    const value = options[name];
    const [min, max] = REQUEST_LIMITS[name];
    if (value !== undefined && !(typeof value === 'number' && value >= min && value <= max)) {
      throw typeError(name, `a number from ${min} to ${max}`, value);
    }
  }
  const { recorder } = options;
  if (recorder !== undefined && !RECORDER_CHOICES.includes(recorder)) {
    throw typeError('recorder', `one of ${RECORDER_CHOICES.map((choice) => `'${choice}'`).join(', ')}`, recorder);
  }
  if (options.adaptiveBitrate !== undefined) checkBoolean('adaptiveBitrate', options.adaptiveBitrate);
  const { audioSampleRate } = options;
  if (audioSampleRate !== undefined && !AAC_SAMPLE_RATES.includes(audioSampleRate as (typeof AAC_SAMPLE_RATES)[number])) {
    throw typeError('audioSampleRate', `one of ${AAC_SAMPLE_RATES.join(', ')}`, audioSampleRate);
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return { ...DEFAULTS, ...defined } as ResolvedOptions;
}

/** The start request for a recording of type `mimeType`: the options the server needs, unset ones left out. */
export function startRequest(options: ResolvedOptions, mimeType: string): StartRequest {
  const { videoBitsPerSecond, audioBitsPerSecond, framerate, rtmpUrl, audioSampleRate } = options;
  return {
    mimeType,
    videoBitsPerSecond,
    audioBitsPerSecond,
    framerate,
    ...(rtmpUrl === undefined ? {} : { rtmpUrl }),
    ...(audioSampleRate === undefined ? {} : { audioSampleRate }),
  };
}

/** Returns `value` if it is a boolean; otherwise throws a TypeError naming `name`. */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw typeError(name, 'a boolean', value);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The TypeError for a wrong `name`: what it should be, and what it got. */
export function typeError(name: string, expected: string, got: unknown): TypeError {
  return new TypeError(`Expected \`${name}\` to be ${expected}, got \`${show(got)}\``);
}

/** A value as an error message shows it. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'an object';
  return String(value);
}
