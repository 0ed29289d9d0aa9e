// The BroadcastServer's options: what each one means, its default, and the constructor's checks
// that turn nonsense into a plain-language TypeError at once.
import { isAbsolute } from 'node:path';
import type { ServerOptions } from 'socket.io';
import { AAC_SAMPLE_RATES, DEFAULT_MAX_DESTINATIONS, DEFAULT_RESUME_WINDOW_MS, REQUEST_DEFAULTS } from '../client/protocol.js';
import { checkAdmission, type Admission } from './admission.js';
import type { AllowedDestinations } from './destination.js';
import { AAC_CODERS, AUDIO_CHANNELS, DEFAULT_MAX_PIXELS, type AacCoder, type AudioChannels } from './ffmpeg/args.js';
import { locateFfmpeg } from './ffmpeg/locate.js';
import type { BroadcastHooks, RecordOption } from './hooks.js';
import { resolveLoadShedding, type LoadSheddingOptions } from './headroom.js';
import type { Logger, LogLevel } from './logger.js';
import type { AllowedOrigins } from './origin.js';

export interface BroadcastServerOptions {
  /** Destinations a client may ask for: URL prefixes, patterns or a predicate. Absent: only the start hook sets the destination. */
  allowedDestinations?: AllowedDestinations;
  /** Most destinations one broadcast may go to at once (client list or start hook's); more is refused with INVALID_REQUEST. Default 4. */
  maxDestinations?: number;
  /** Also record every broadcast to a local file the operator chooses (never the client): a directory, or a function of the hook context returning an absolute .mp4/.mkv/.flv path. Default: no recording. */
  record?: RecordOption;
  /** Start, stop and error hooks. */
  hooks?: BroadcastHooks;
  /** How long the server waits for a hook to settle: a start hook that does not refuses the start with UNAUTHORIZED; a late stop or error hook is logged. Default 10 000 ms. */
  hookTimeoutMs?: number;
  /** Most broadcasts (ffmpeg processes) at once; the next start gets TOO_MANY_STREAMS. Default: no limit. */
  maxStreams?: number;
  /** Most broadcasts at once from one remote address. Default: no limit. */
  maxStreamsPerAddress?: number;
  /** A gate shared by several processes (a cluster-wide `maxStreams`): asked after the local limits and the start hook, before ffmpeg starts; released once the broadcast ended. See rtmp-broadcaster/redis and rtmp-broadcaster/cluster. */
  admission?: Admission;
  /** Admission by measured headroom: starts are paced and, past capacity (sustained event-loop delay, or ffmpegs behind their input on a busy CPU), refused with SERVER_BUSY; never under `minStreams` live broadcasts. `false` turns it off. Default on, see LoadSheddingOptions. */
  loadShedding?: false | LoadSheddingOptions;
  /** Most connections one remote address may open per minute; more get RATE_LIMITED. Default: no limit. */
  maxConnectionsPerMinute?: number;
  /** Pages allowed to connect besides the server's own origin on an IP address or localhost; a page on a DNS name must be listed, even one this server serves (DNS rebinding). Default: none. */
  allowedOrigins?: AllowedOrigins;
  /** A broadcast longer than this ends with MAX_DURATION. Default: no limit. */
  maxDurationMs?: number;
  /** Largest media chunk accepted, in bytes. Default 8 MiB. */
  maxChunkBytes?: number;
  /** Most media bytes a broadcast may have waiting for ffmpeg (a client ignoring acks); past it the broadcast ends with BUFFER_FULL. Default 32 MiB. */
  maxBufferedBytes?: number;
  /** No chunk for this long ends a broadcast with IDLE_TIMEOUT. Default 15 000 ms. */
  idleTimeoutMs?: number;
  /** After a client's connection drops, how long its broadcast (and ffmpeg) waits for it to `resume`; 0 ends it at once. Default 10 000 ms. */
  resumeWindowMs?: number;
  /** How long ffmpeg may take to flush after its input ends before it is terminated. Default 5 000 ms. */
  stopTimeoutMs?: number;
  /** After SIGTERM, how long before SIGKILL. Default 2 000 ms. */
  killTimeoutMs?: number;
  /** A destination that stops answering for this long ends the broadcast. Default 10 000 ms. */
  destinationTimeoutMs?: number;
  /** Check the certificate of rtmps destinations (ffmpeg's `-tls_verify 1`); turn off only for testing. Default true. */
  tlsVerify?: boolean;
  /** PEM file of the CAs rtmps destinations' certificates must chain to. Default: the system's CAs. */
  tlsCaFile?: string;
  /** How many times a broadcast whose destination dropped it (after it went live) is reconnected by a new ffmpeg before it ends with DESTINATION_UNREACHABLE. Default 3; 0 never. */
  destinationRetries?: number;
  /** Wait before the first reconnection to a dropped destination, doubled for each next one (at most 10 s). Default 1 000 ms. */
  destinationRetryDelayMs?: number;
  /** Largest video frame a transcoded broadcast (VP8/VP9/AV1 in) may have, in pixels; a bigger one is refused by the decoder and ends the broadcast with INVALID_MEDIA. Copied H.264 is not decoded, so not limited. Default 1920 × 1080 = 2 073 600. */
  maxPixels?: number;
  /** AAC sample rate of the output when the client asks for none. Default 44 100. */
  audioSampleRate?: number;
  /** ffmpeg's AAC coder for Opus audio: 'twoloop' (its default, best fidelity) or 'fast' (about half the CPU; its SNR is from 0.5 to 9 dB lower with the material, measured by `npm run bench -- --aac-coder`). AAC from the browser is copied either way. Default 'twoloop'. */
  aacCoder?: AacCoder;
  /** AAC channels for Opus audio: 'source' keeps the recording's (Chromium records a microphone as mono by default; mono costs the encoder about 0.6 times stereo's CPU), 1 or 2 forces mono or stereo (for an ingest that wants stereo). AAC from the browser is copied either way. Default 'source'. */
  audioChannels?: AudioChannels;
  /** Forward each ffmpeg log line (redacted) to the broadcasting client as `ffmpeg-output`. Default false. */
  sendFfmpegOutput?: boolean;
  /** Add what lay underneath an error (ffmpeg's last log lines, a hook's own error) as `detail` in what clients receive. Default false. */
  sendErrorDetails?: boolean;
  /** ffmpeg binary. Default: the FFMPEG_PATH environment variable, else `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** socket.io CORS settings for HTTP long-polling. Default: derived from `allowedOrigins`; never `*` unless asked. */
  cors?: ServerOptions['cors'];
  /** Other socket.io server options, applied last. */
  socketio?: Partial<ServerOptions>;
  /** Where the server logs: any object with debug/info/warn/error, or false for silence. Default: console. */
  logger?: Partial<Logger> | false;
  /** Lowest level logged. Default 'info'. */
  logLevel?: LogLevel | 'silent';
}

/** Every default, in one place. */
export const DEFAULTS = {
  maxChunkBytes: 8 * 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  idleTimeoutMs: 15_000,
  resumeWindowMs: DEFAULT_RESUME_WINDOW_MS,
  stopTimeoutMs: 5_000,
  killTimeoutMs: 2_000,
  destinationTimeoutMs: 10_000,
  destinationRetryDelayMs: 1_000,
  hookTimeoutMs: 10_000,
  maxPixels: DEFAULT_MAX_PIXELS,
  audioSampleRate: 44_100,
  maxDestinations: DEFAULT_MAX_DESTINATIONS,
  ...REQUEST_DEFAULTS,
};

/** The options with every default filled in and every value checked. */
export type Settings = Required<Pick<BroadcastServerOptions, keyof typeof DEFAULTS & keyof BroadcastServerOptions>> & {
  destinationRetries: number;
  maxStreams: number;
  maxStreamsPerAddress: number;
  maxConnectionsPerMinute: number;
  maxDurationMs: number;
  ffmpegPath: string;
  aacCoder: AacCoder;
  audioChannels: AudioChannels;
};

/** Fills in the defaults; throws a TypeError naming the option for a value that makes no sense. */
export function resolveSettings(options: BroadcastServerOptions): Settings {
  const positive = (name: keyof BroadcastServerOptions, fallback: number): number => {
    const value = options[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      throw new TypeError(`Expected \`${name}\` to be a positive number, got \`${String(value)}\``);
    }
    return value;
  };
  const audioSampleRate = positive('audioSampleRate', DEFAULTS.audioSampleRate);
  if (!AAC_SAMPLE_RATES.includes(audioSampleRate as (typeof AAC_SAMPLE_RATES)[number])) {
    throw new TypeError(`Expected \`audioSampleRate\` to be one of ${AAC_SAMPLE_RATES.join(', ')}, got \`${audioSampleRate}\``);
  }
  const count = (
    name: 'maxStreams' | 'maxStreamsPerAddress' | 'maxConnectionsPerMinute' | 'destinationRetries' | 'maxDestinations' | 'maxPixels',
  ): number => {
    if (options[name] === undefined) return Infinity;
    const value = positive(name, 0);
    if (!Number.isInteger(value)) throw new TypeError(`Expected \`${name}\` to be a whole number, got \`${value}\``);
    return value;
  };
  const aacCoder = options.aacCoder ?? 'twoloop';
  if (!AAC_CODERS.includes(aacCoder)) {
    throw new TypeError(`Expected \`aacCoder\` to be one of ${AAC_CODERS.join(', ')}, got \`${String(aacCoder)}\``);
  }
  const audioChannels = options.audioChannels ?? 'source';
  if (!AUDIO_CHANNELS.includes(audioChannels)) {
    throw new TypeError(`Expected \`audioChannels\` to be one of ${AUDIO_CHANNELS.join(', ')}, got \`${String(audioChannels)}\``);
  }
  const allowedOrigins = options.allowedOrigins;
  if (allowedOrigins !== undefined && allowedOrigins !== '*' && typeof allowedOrigins !== 'function' && !Array.isArray(allowedOrigins)) {
    throw new TypeError("Expected `allowedOrigins` to be '*', an array of origins and RegExps, or a function");
  }
  checkAdmission(options.admission);
  resolveLoadShedding(options.loadShedding);
  const record = options.record;
  if (record !== undefined && typeof record !== 'function' && !(typeof record === 'string' && isAbsolute(record))) {
    throw new TypeError(`Expected \`record\` to be an absolute directory or a function returning a path, got \`${String(record)}\``);
  }
  const allowed = options.allowedDestinations;
  if (allowed !== undefined && typeof allowed !== 'function' && !Array.isArray(allowed)) {
    throw new TypeError('Expected `allowedDestinations` to be an array of URL prefixes and RegExps, or a function');
  }
  return {
    maxDestinations: options.maxDestinations === undefined ? DEFAULTS.maxDestinations : count('maxDestinations'),
    maxStreams: count('maxStreams'),
    maxPixels: options.maxPixels === undefined ? DEFAULTS.maxPixels : count('maxPixels'),
    maxStreamsPerAddress: count('maxStreamsPerAddress'),
    maxConnectionsPerMinute: count('maxConnectionsPerMinute'),
    maxDurationMs: options.maxDurationMs === undefined ? Infinity : positive('maxDurationMs', 0),
    maxChunkBytes: positive('maxChunkBytes', DEFAULTS.maxChunkBytes),
    maxBufferedBytes: positive('maxBufferedBytes', DEFAULTS.maxBufferedBytes),
    idleTimeoutMs: positive('idleTimeoutMs', DEFAULTS.idleTimeoutMs),
    resumeWindowMs: options.resumeWindowMs === 0 ? 0 : positive('resumeWindowMs', DEFAULTS.resumeWindowMs),
    stopTimeoutMs: positive('stopTimeoutMs', DEFAULTS.stopTimeoutMs),
    killTimeoutMs: positive('killTimeoutMs', DEFAULTS.killTimeoutMs),
    destinationTimeoutMs: positive('destinationTimeoutMs', DEFAULTS.destinationTimeoutMs),
    destinationRetryDelayMs: positive('destinationRetryDelayMs', DEFAULTS.destinationRetryDelayMs),
    hookTimeoutMs: positive('hookTimeoutMs', DEFAULTS.hookTimeoutMs),
    destinationRetries: options.destinationRetries === 0 ? 0 : options.destinationRetries === undefined ? 3 : count('destinationRetries'),
    audioSampleRate,
    aacCoder,
    audioChannels,
    ffmpegPath: locateFfmpeg(options.ffmpegPath),
  };
}
