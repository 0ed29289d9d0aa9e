// The wire protocol between BroadcastClient and BroadcastServer, typed once and imported by both
// sides. Transport: socket.io on its default path; media chunks travel as binary attachments.
// The README's "Protocol" section documents the same messages for other implementations.

/** Every error either side reports, with the default human message for each code. */
export const ERRORS = {
  INVALID_REQUEST: 'The request is malformed or has a value out of range.',
  UNAUTHORIZED: 'The server refused to start this broadcast.',
  DESTINATION_NOT_ALLOWED: 'The server does not allow broadcasting to this destination.',
  TOO_MANY_STREAMS: 'The server is already running as many broadcasts as it allows. Try again later.',
  ORIGIN_NOT_ALLOWED: 'This page is not allowed to use the broadcast server.',
  RATE_LIMITED: 'Too many connection attempts from this address. Wait a minute and try again.',
  MAX_DURATION: 'The broadcast reached the longest duration the server allows.',
  ALREADY_STARTED: 'A broadcast is already running on this connection.',
  NOT_STARTED: 'No broadcast is running on this connection: call start first.',
  CHUNK_TOO_LARGE: 'A media chunk is larger than the server accepts.',
  INVALID_MEDIA: 'The server could not read the media sent by the browser.',
  MEDIA_UNAVAILABLE: 'The camera, microphone or screen could not be opened.',
  DESTINATION_UNREACHABLE: 'The RTMP destination refused the connection or could not be reached.',
  FFMPEG_NOT_FOUND: 'ffmpeg is not installed on the server.',
  FFMPEG_EXITED: 'ffmpeg stopped unexpectedly.',
  IDLE_TIMEOUT: 'No media arrived for too long, so the broadcast was ended.',
  NETWORK_TOO_SLOW: 'The network is too slow for this bitrate: media piled up faster than it could be sent.',
  BUFFER_FULL: 'Media arrived faster than the server could pass it on, so the broadcast was ended to bound memory.',
  DISCONNECTED: 'The connection to the broadcast server was lost.',
  SERVER_SHUTDOWN: 'The broadcast server is shutting down, so the broadcast ended.',
  SERVER_BUSY: 'The broadcast server has no capacity left for another broadcast right now. Try again in a few seconds.',
  INTERNAL: 'Something went wrong on the broadcast server.',
} as const;

/** A stable, machine-readable error code. */
export type ErrorCode = keyof typeof ERRORS;

/** Returns true when `value` is one of the codes in {@link ERRORS}. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/** An error as it travels on the wire: a stable code and a message for people. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  /** What lay underneath (ffmpeg's last log lines, a hook's own error), redacted; sent only when the server's `sendErrorDetails` is on. */
  detail?: string;
  /** When to try again (SERVER_BUSY), in milliseconds: a hint; a client retrying should add its own backoff. */
  retryAfterMs?: number;
}

/** A failure with a stable code. Thrown by server hooks to refuse, rejected by the client. */
export class BroadcastError extends Error {
  override name = 'BroadcastError';
  readonly code: ErrorCode;
  /** What lay underneath, when the server shares it (see ErrorPayload). */
  readonly detail: string | undefined;
  /** When to try again, in milliseconds (SERVER_BUSY), when the server says. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string = ERRORS[code], detail?: string, retryAfterMs?: number) {
    super(message);
    this.code = code;
    this.detail = detail;
    this.retryAfterMs = retryAfterMs;
  }

  /** The form sent over the wire. */
  toJSON(): ErrorPayload {
    return {
      code: this.code,
      message: this.message,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
    };
  }

  /** Rebuilds an error received over the wire (unknown codes become INTERNAL). */
  static from(payload: { code?: unknown; message?: unknown; detail?: unknown; retryAfterMs?: unknown }): BroadcastError {
    const code = isErrorCode(payload.code) ? payload.code : 'INTERNAL';
    const message = typeof payload.message === 'string' && payload.message ? payload.message : ERRORS[code];
    const retryAfterMs = typeof payload.retryAfterMs === 'number' && payload.retryAfterMs >= 0 ? payload.retryAfterMs : undefined;
    return new BroadcastError(code, message, typeof payload.detail === 'string' ? payload.detail : undefined, retryAfterMs);
  }
}

/** How the server handles the video it receives. */
export type VideoMode = 'copy' | 'transcode';

/** Sent with `start`: what the browser records and where it would like it to go. */
export interface StartRequest {
  /** The recorder's MIME type, e.g. `video/x-matroska;codecs=avc1,opus`. */
  mimeType: string;
  /**
   * Destination, or several to broadcast to at once (up to the server's `maxDestinations`); each
   * is used only if the server's allow-list admits it (or its start hook sets the destinations).
   */
  rtmpUrl?: string | string[];
  /** Target video bitrate, used when the server transcodes. */
  videoBitsPerSecond?: number;
  /** AAC bitrate of the output. */
  audioBitsPerSecond?: number;
  /** Frame rate, used when the server transcodes. */
  framerate?: number;
  /** AAC sample rate of the output, one of {@link AAC_SAMPLE_RATES}. */
  audioSampleRate?: number;
}

/** Sample rates AAC in FLV can carry, in Hz. */
export const AAC_SAMPLE_RATES = [8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000] as const;

/** Accepted ranges (inclusive) for the numbers of a start request; the client checks them too. */
export const REQUEST_LIMITS = {
  videoBitsPerSecond: [100_000, 50_000_000],
  audioBitsPerSecond: [16_000, 512_000],
  framerate: [1, 120],
} as const;

/** What the client asks for, and the server uses, when a start request leaves a number out. */
export const REQUEST_DEFAULTS: { readonly [K in keyof typeof REQUEST_LIMITS]: number } = {
  videoBitsPerSecond: 2_500_000,
  audioBitsPerSecond: 128_000,
  framerate: 30,
};

/** Longest `mimeType` a start request may carry, in characters. */
export const MAX_MIME_TYPE_LENGTH = 256;

/** Longest destination URL a start request may carry, in characters. */
export const MAX_URL_LENGTH = 2048;

/** How many destinations one broadcast may have unless the server's `maxDestinations` says otherwise. */
export const DEFAULT_MAX_DESTINATIONS = 4;

/** How long a dropped broadcast waits for its client to resume it (the server's `resumeWindowMs`, the client's `resumeTimeoutMs`). */
export const DEFAULT_RESUME_WINDOW_MS = 10_000;

/** The answer to `start`. `resumeToken` lets the same client take the broadcast back after a drop. */
export type StartAck = { ok: true; sessionId: string; video: VideoMode; resumeToken: string } | { ok: false; error: ErrorPayload };

/** Sent with `resume` on a new connection, within the server's resume window after a drop. */
export interface ResumeRequest {
  sessionId: string;
  resumeToken: string;
}

/** The answer to `resume`: `lastSeq` is the last chunk sequence number ffmpeg got (-1: none), so the client resends what follows. */
export type ResumeAck = { ok: true; sessionId: string; video: VideoMode; lastSeq: number } | { ok: false; error: ErrorPayload };

/** Optional second argument of `data`: the chunk's place in the broadcast, from 0, so a resend after a drop is written once. */
export interface ChunkMeta {
  seq: number;
}

/** The answer to `data` and `stop`. */
export type Ack = { ok: true } | { ok: false; error: ErrorPayload };

/** Progress of a live broadcast, from ffmpeg's `-progress` output, about once a second. */
export interface BroadcastStats {
  /** Media time written to the destination, in milliseconds. */
  durationMs: number;
  /** Video frames written. */
  frames: number;
  /** Frames written per second of media over the last period (about a second). */
  fps: number;
  /** Bitrate written over the last period (about a second), in kilobits per second of media. */
  kbps: number;
  /** Media time divided by wall time (1 = real time). */
  speed: number;
  /** Each destination's state, in the order they were given (servers before multi-destination support send none). */
  destinations?: DestinationStatus[];
}

/**
 * Where one destination of a broadcast is: `connecting` until it first takes media, `live`,
 * `reconnecting` after it dropped the broadcast, `failed` once given up on (the others go on),
 * `ended` after the broadcast.
 */
export type DestinationState = 'connecting' | 'live' | 'reconnecting' | 'failed' | 'ended';

/** One destination of a broadcast, as stats and `sessions()` show it. Holds no stream key. */
export interface DestinationStatus {
  /** The destination with its stream key hidden: `rtmp://host/app/***`. */
  destination: string;
  state: DestinationState;
  /** Reconnections so far. */
  retries: number;
  /** Media time written by the ffmpeg now serving this destination, in milliseconds (restarts with each reconnection). */
  durationMs: number;
}

/** Why a broadcast ended, as told to its client. */
export type EndReason = 'stopped' | 'error';

/** Sent once per broadcast, whatever ended it. */
export interface EndedMessage {
  reason: EndReason;
  error?: ErrorPayload;
}

/** Binary media as socket.io delivers it on either side. */
export type MediaChunk = ArrayBuffer | ArrayBufferView;

/** Events the client emits. */
export interface ClientToServerEvents {
  start: (request: StartRequest, ack: (response: StartAck) => void) => void;
  data: (chunk: MediaChunk, ...rest: [ack: (response: Ack) => void] | [meta: ChunkMeta, ack: (response: Ack) => void]) => void;
  stop: (ack: (response: Ack) => void) => void;
  resume: (request: ResumeRequest, ack: (response: ResumeAck) => void) => void;
}

/** Events the server emits. */
export interface ServerToClientEvents {
  /**
   * A destination took the broadcast (its ffmpeg has written media to it): the broadcast is on air.
   * Sent once per broadcast. Servers without it tell the same by a `stats` whose `destinations`
   * has one `live` (or, without `destinations`, whose `durationMs` is above 0).
   */
  'on-air': (message: OnAirMessage) => void;
  stats: (stats: BroadcastStats) => void;
  ended: (message: EndedMessage) => void;
  /** One line of ffmpeg's log, redacted; only when the server's `sendFfmpegOutput` is on. */
  'ffmpeg-output': (line: string) => void;
  /** The destination dropped the live broadcast; the server reconnects in `retryInMs` (media meanwhile is skipped). */
  'destination-lost': (message: DestinationLostMessage) => void;
  /** The server publishes to the destination again. */
  'destination-restored': (message: DestinationRestoredMessage) => void;
  /**
   * A new ffmpeg (after the destination dropped the broadcast) needs a keyframe to start from:
   * the client answers `{ ok: true }` and then restarts its recording, so its next chunks begin a
   * new Matroska/WebM stream (header, then a keyframe). On `{ ok: false }`, or no answer within
   * 5 s, the server waits for the next Cluster of the current recording that opens on a keyframe instead.
   */
  'restart-recording': (ack: (answer: { ok: boolean }) => void) => void;
}

/**
 * Sent when a destination dropped a live broadcast: the server reconnects it in `retryInMs`, or,
 * with `retrying: false`, gave up on it while other destinations go on.
 */
export interface DestinationLostMessage {
  /** 1 for the first reconnection of this destination. */
  attempt: number;
  maxAttempts: number;
  retryInMs: number;
  error: ErrorPayload;
  /** Which destination, with its stream key hidden. */
  destination?: string;
  /** Its place in the broadcast's list of destinations, from 0. */
  index?: number;
  /** How many destinations still receive the broadcast; 0 when none does (media meanwhile is skipped). */
  remaining?: number;
  /** false when the server gave up on this destination (no retries left, or it never took the broadcast). */
  retrying?: boolean;
}

/** Sent when the broadcast first goes on air: where each destination is at that moment. */
export interface OnAirMessage {
  destinations: DestinationStatus[];
}

/** Sent when a dropped destination publishes again. */
export interface DestinationRestoredMessage {
  attempt: number;
  /** Which destination, with its stream key hidden. */
  destination?: string;
  /** Its place in the broadcast's list of destinations, from 0. */
  index?: number;
}
