// The ffmpeg command line for one broadcast: Matroska/WebM (Chromium, Firefox) or fragmented MP4
// (Safari) from the browser's MediaRecorder on stdin, FLV (H.264 + AAC, the only pair every RTMP ingest takes) out to the destination. Every
// flag here was checked against ffmpeg 5.1, and all but `-stats_period` (ffmpeg 4.4+) and
// `-fps_mode` (5.1+; older builds get `-vsync`) against the 2018 static build that
// @ffmpeg-installer/ffmpeg ships (test/server/ffmpeg/capabilities.test.ts).

import { AAC_SAMPLE_RATES, MAX_MIME_TYPE_LENGTH, REQUEST_LIMITS, type VideoMode } from '../../client/protocol.js';

/** Splits `a; b="x;y"; c` on the semicolons that are outside quotes. */
function splitParameters(text: string): string[] | undefined {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    if (char === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (quoted) return undefined;
  parts.push(current);
  return parts;
}

type Codec = { kind: 'video'; mode: VideoMode } | { kind: 'audio'; aac: boolean };

/** The container a recording arrives in: Matroska/WebM, or fragmented MP4 (Safari). */
export type InputFormat = 'matroska' | 'mp4';

/** What the server does with the recording's audio: absent, encode it to AAC; `copy`, it is AAC already. */
export type AudioMode = 'copy';

/** What parseMimeType learns about a recording. */
export interface InputMedia {
  inputFormat: InputFormat;
  video: VideoMode;
  /** `copy` when the audio is AAC already (MP4 from Safari, Matroska from the WebCodecs recorder); absent when it is encoded. */
  audio?: AudioMode;
}

function classifyCodec(codec: string): Codec | undefined {
  // H.264 already is what FLV carries, so it passes through untouched: no decode, no encode.
  if (codec === 'h264' || codec === 'avc1' || codec.startsWith('avc1.') || codec === 'avc3' || codec.startsWith('avc3.')) {
    return { kind: 'video', mode: 'copy' };
  }
  if (/^(?:vp8|vp9|av1)(?:\.[0-9a-z.]+)?$/.test(codec) || /^(?:vp09|av01)\.[0-9a-z.]+$/.test(codec)) {
    return { kind: 'video', mode: 'transcode' };
  }
  if (codec === 'opus') return { kind: 'audio', aac: false };
  // AAC (any profile: LC, HE, HE v2), as Safari records it in MP4.
  if (codec === 'aac' || codec === 'mp4a' || /^mp4a\.40(?:\.\d{1,2})?$/.test(codec)) return { kind: 'audio', aac: true };
  return undefined;
}

/**
 * What the server knows about the incoming media from the recorder's MIME type. undefined = not
 * accepted (caller answers INVALID_REQUEST). Accepts video/webm and video/x-matroska
 * (case-insensitive, params and quoted codecs allowed); codecs avc1.* / h264 → copy; vp8, vp9,
 * vp09.*, av1, av01.* → transcode; no codecs param → transcode (safe); audio codecs opus / none
 * accepted; any unknown video codec → undefined. Long strings (>256) → undefined.
 * Also video/mp4 (fragmented, as Safari records): the same video codecs, and AAC audio (mp4a.40.*),
 * which is copied, or Opus, which is encoded. AAC in video/x-matroska (the WebCodecs recorder) is copied too.
 */
export function parseMimeType(mimeType: string): InputMedia | undefined {
  if (typeof mimeType !== 'string' || mimeType.length > MAX_MIME_TYPE_LENGTH) return undefined;
  const parts = splitParameters(mimeType.toLowerCase());
  if (!parts) return undefined;
  const [type, ...parameters] = parts.map((part) => part.trim());
  const inputFormat: InputFormat | undefined =
    type === 'video/webm' || type === 'video/x-matroska' ? 'matroska' : type === 'video/mp4' ? 'mp4' : undefined;
  if (!inputFormat) return undefined;

  let codecs: string | undefined;
  for (const parameter of parameters) {
    if (parameter === '') continue;
    const equals = parameter.indexOf('=');
    if (equals <= 0) return undefined;
    const name = parameter.slice(0, equals).trim();
    let value = parameter.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value.includes('"')) return undefined;
    if (name !== 'codecs') continue;
    // Two codecs parameters disagree about the media: refuse rather than guess which one is true.
    if (codecs !== undefined) return undefined;
    codecs = value;
  }
  // Without a codecs list the video could be anything; transcoding handles everything ffmpeg decodes.
  if (codecs === undefined) return { inputFormat, video: 'transcode' };

  let video: VideoMode | undefined;
  let audio: AudioMode | undefined;
  let audioTracks = 0;
  for (const raw of codecs.split(',')) {
    const codec = raw.trim();
    const known = classifyCodec(codec);
    if (!known) return undefined;
    if (known.kind === 'video') {
      // One video track is all the FLV output carries; a list naming two is not a real recording.
      if (video !== undefined) return undefined;
      video = known.mode;
    } else {
      // AAC comes in MP4 (Safari's MediaRecorder) or Matroska (the WebCodecs recorder); WebM has no AAC.
      if (known.aac && type === 'video/webm') return undefined;
      if (++audioTracks > 1) return undefined;
      if (known.aac) audio = 'copy';
    }
  }
  // An audio-only recording would make ffmpeg fail on `-map 0:v:0` after the broadcast started.
  if (video === undefined) return undefined;
  return audio ? { inputFormat, video, audio } : { inputFormat, video };
}

/** What one broadcast's ffmpeg needs to know; numbers outside the request limits throw a RangeError. */
export interface FfmpegArgsOptions {
  inputFormat: InputFormat;
  video: VideoMode;
  /** `copy` passes AAC audio through (its own sample rate and bitrate); absent encodes it to AAC. */
  audio?: AudioMode;
  /** The RTMP destination, or `pipe` for FLV on stdout that the server fans out to several outputs. */
  destination: URL | 'pipe';
  /** Used only when transcoding (-b:v, -maxrate, -bufsize 2x). */
  videoBitsPerSecond: number;
  /** AAC bitrate. */
  audioBitsPerSecond: number;
  /** AAC sample rate (44100 default chosen by caller). */
  audioSampleRate: number;
  /** ffmpeg's AAC coder: 'twoloop' (its default, best quality) or 'fast' (about half the CPU; SNR from a little to much lower, with the material). Default 'twoloop'. */
  aacCoder?: AacCoder;
  /** AAC channels: 'source' keeps the recording's (mono stays mono, more than two are mixed down to stereo); 1 or 2 forces it. Default 'source'. */
  audioChannels?: AudioChannels;
  /** Used when transcoding: the constant output frame rate (-r, frames repeated or dropped), keyframe every 2 s. */
  framerate: number;
  /** Used when transcoding: the most pixels a decoded frame may have; a larger one ends the broadcast (INVALID_MEDIA). Default 1920×1080. */
  maxPixels?: number;
  /** -rw_timeout (microseconds) so a hung ingest ends ffmpeg; 0 leaves ffmpeg's default (wait forever). */
  destinationTimeoutMs: number;
  /** Progress every second with -stats_period; false for ffmpeg before 4.4, which refuses the flag. Default true. */
  statsPeriod?: boolean;
  /** Constant frame rate with -fps_mode; false for ffmpeg before 5.1, which gets the same from -vsync. Default true. */
  fpsMode?: boolean;
  /** For rtmps: check the destination's certificate (against `caFile`, else the system's CAs). Default true. */
  tlsVerify?: boolean;
  /** PEM file of the CAs an rtmps destination's certificate must chain to. */
  tlsCaFile?: string;
}

/** ffmpeg's native AAC encoder's search methods that are worth using (`anmr` is slow and experimental). */
export const AAC_CODERS = ['twoloop', 'fast'] as const;
export type AacCoder = (typeof AAC_CODERS)[number];

/** The AAC channel counts a broadcast may ask for: the recording's own ('source'), mono or stereo. FLV carries no more than two. */
export const AUDIO_CHANNELS = ['source', 1, 2] as const;
export type AudioChannels = (typeof AUDIO_CHANNELS)[number];

// A start hook's numbers reach here unchecked by the request validation: the same bounds apply,
// so `framerate: 1e6` cannot become `-r 1000000`.
function withinLimits(name: keyof typeof REQUEST_LIMITS, value: number): string {
  const [min, max] = REQUEST_LIMITS[name];
  if (!Number.isFinite(value) || value < min || value > max)
    throw new RangeError(`\`${name}\` must be a number from ${min} to ${max} (got ${value}).`);
  return String(Math.round(value));
}

function sampleRate(value: number): string {
  if (!AAC_SAMPLE_RATES.includes(value as (typeof AAC_SAMPLE_RATES)[number])) {
    throw new RangeError(`\`audioSampleRate\` must be one of ${AAC_SAMPLE_RATES.join(', ')} (got ${value}).`);
  }
  return String(value);
}

// Ingests (YouTube, Twitch, Facebook) ask for a keyframe at most every 2 to 4 seconds.
const KEYFRAME_SECONDS = 2;

/** The default cap on a transcoded frame's pixels: 1080p, in either orientation. */
export const DEFAULT_MAX_PIXELS = 1920 * 1080;

// A timestamp further than this from where ffmpeg expects the next one is dropped and guessed
// instead: a jump ahead would otherwise be filled with repeated frames at `-r` (10 frames 600 s
// apart at 120 fps: 648 000 frames to encode, from 2 KB). Browsers leave at most a second or two
// between frames (a hidden tab, a disabled track), far below it.
const TIMESTAMP_JUMP_SECONDS = 5;

/** argv (without the ffmpeg binary) for one broadcast. */
export function buildFfmpegArgs(o: FfmpegArgsOptions): string[] {
  if (o.inputFormat !== 'matroska' && o.inputFormat !== 'mp4') throw new RangeError(`Unsupported input format ${String(o.inputFormat)}.`);

  const args = [
    ...commonArgs(o.statsPeriod),
    // Start as soon as the first bytes arrive: the Matroska header already gives every codec
    // parameter that matters. Not `-fflags +nobuffer`: it discards the packets read while probing,
    // which can be the opening keyframe.
    '-probesize',
    '32',
    '-analyzeduration',
    '0',
    // Fragmented MP4 on a pipe: the moov at its start describes every track, and each fragment
    // is read as it arrives (ffmpeg's mov demuxer needs no seeking for it).
    ...(o.video === 'transcode' ? decoderLimits(o.maxPixels) : []),
    '-f',
    o.inputFormat === 'mp4' ? 'mp4' : 'matroska',
    '-i',
    'pipe:0',
    '-map',
    '0:v:0',
    // `?` so a recording without a microphone still goes out, video only.
    '-map',
    '0:a:0?',
  ];

  if (o.video === 'copy') {
    args.push('-c:v', 'copy');
  } else if (o.video === 'transcode') {
    const bitrate = withinLimits('videoBitsPerSecond', o.videoBitsPerSecond);
    const fps = Number(withinLimits('framerate', o.framerate));
    args.push(
      '-dts_error_threshold',
      String(TIMESTAMP_JUMP_SECONDS),
      '-filter_threads',
      '1',
      '-c:v',
      'libx264',
      // One core at most per broadcast, whatever the machine has: x264 would take them all.
      '-threads',
      '1',
      '-preset',
      'veryfast',
      '-tune',
      'zerolatency',
      // Browsers may record 4:4:4 or 10-bit; FLV players and ingests want 8-bit 4:2:0.
      '-pix_fmt',
      'yuv420p',
      '-b:v',
      bitrate,
      '-maxrate',
      bitrate,
      '-bufsize',
      String(Number(bitrate) * 2),
      // Browsers record a variable frame rate (Firefox: about 1.5 fps for a disabled track, while
      // hidden or paused); ingests and players want a constant one. Gaps are filled by repeating
      // the previous frame when the next one arrives.
      '-r',
      String(fps),
      ...(o.fpsMode === false ? ['-vsync', 'cfr'] : ['-fps_mode', 'cfr']),
      '-g',
      String(fps * KEYFRAME_SECONDS),
      // -g counts frames; the time-based keyframes keep the 2 s the ingest asks for whatever the
      // encoder's frame count does.
      '-force_key_frames',
      `expr:gte(t,n_forced*${KEYFRAME_SECONDS})`,
    );
  } else {
    throw new RangeError(`Unknown video mode ${String(o.video)}.`);
  }

  // AAC (Safari's MP4) already is what FLV carries: it passes through at its own rate and bitrate.
  if (o.audio === 'copy') {
    args.push('-c:a', 'copy');
  } else {
    const coder = o.aacCoder ?? 'twoloop';
    if (!AAC_CODERS.includes(coder)) throw new RangeError(`Unknown AAC coder ${String(coder)}.`);
    const channels = o.audioChannels ?? 'source';
    if (!AUDIO_CHANNELS.includes(channels)) throw new RangeError(`Unknown audio channels ${String(channels)}.`);
    args.push(
      '-c:a',
      'aac',
      // twoloop is ffmpeg's default; naming it keeps the argv explicit about what runs.
      '-aac_coder',
      coder,
      '-b:a',
      withinLimits('audioBitsPerSecond', o.audioBitsPerSecond),
      '-ar',
      sampleRate(o.audioSampleRate),
      // Chromium and Firefox record a microphone as mono (getUserMedia's defaults), and encoding
      // it as stereo costs the AAC encoder about 1.6 times the CPU for the same sound. 'source'
      // keeps mono mono and stereo stereo; FLV has no layout beyond two.
      ...(channels === 'source' ? ['-af', 'aformat=channel_layouts=mono|stereo'] : ['-ac', String(channels)]),
    );
  }
  args.push(...FLV_OUTPUT);
  if (o.destination === 'pipe') args.push('pipe:1');
  else args.push(...destinationArgs({ ...o, destination: o.destination }));
  return args;
}

/**
 * Input options bounding what decoding a client's video may cost: one thread, and frames above
 * `maxPixels` refused by the decoder before their buffers are allocated (an 8K VP8 frame of 56 KB
 * made an ffmpeg of 628 MB).
 */
function decoderLimits(maxPixels = DEFAULT_MAX_PIXELS): string[] {
  if (!Number.isInteger(maxPixels) || maxPixels < 1)
    throw new RangeError(`\`maxPixels\` must be a positive whole number (got ${maxPixels}).`);
  return ['-threads', '1', '-max_pixels', String(maxPixels)];
}

/** What every ffmpeg of a broadcast starts with: quiet log with levels, progress on fd 3. */
function commonArgs(statsPeriod: boolean | undefined): string[] {
  return [
    '-hide_banner',
    // `level` prefixes every line with [error]/[warning], which is what mapFfmpegExit reads.
    '-loglevel',
    'level+warning',
    '-nostats',
    // Machine-readable progress on fd 3 keeps stderr for the log alone.
    '-progress',
    'pipe:3',
    // Older builds report every half second and exit on an option they do not know.
    ...(statsPeriod === false ? [] : ['-stats_period', '1']),
  ];
}

const FLV_OUTPUT = [
  '-f',
  'flv',
  // A live FLV has no duration or size to write back; without this ffmpeg warns at the end.
  '-flvflags',
  'no_duration_filesize',
];

/** How an output of a broadcast reaches one RTMP destination. */
export type DestinationArgsOptions = Pick<FfmpegArgsOptions, 'destinationTimeoutMs' | 'tlsVerify' | 'tlsCaFile'> & { destination: URL };

/** The options and URL that send FLV to one RTMP destination; the URL comes last. */
function destinationArgs(o: DestinationArgsOptions): string[] {
  const protocol = o.destination.protocol;
  // Defence in depth: whatever reached here, ffmpeg must never be asked to open a file or a pipe.
  if (protocol !== 'rtmp:' && protocol !== 'rtmps:') throw new RangeError(`The destination must be rtmp: or rtmps: (got ${protocol}).`);
  if (!Number.isFinite(o.destinationTimeoutMs) || o.destinationTimeoutMs < 0) {
    throw new RangeError(`destinationTimeoutMs must be 0 or more (got ${o.destinationTimeoutMs}).`);
  }
  // Consumed by the rtmp protocol (plain rtmp:// only; rtmps accepts and ignores it in 5.1).
  const args = ['-tcp_nodelay', '1'];
  if (o.destinationTimeoutMs > 0) args.push('-rw_timeout', String(Math.round(o.destinationTimeoutMs * 1000)));
  // ffmpeg's tls protocol trusts any certificate unless told to verify: say so for every rtmps.
  if (protocol === 'rtmps:' && o.tlsVerify !== false) {
    args.push('-tls_verify', '1', ...(o.tlsCaFile ? ['-ca_file', o.tlsCaFile] : []));
  }
  // Last and alone: one argv element, and it starts with rtmp, so it can never read as an option.
  args.push(o.destination.href);
  return args;
}

/** Copy-only FLV from stdin (the broadcast's fanned-out FLV): no decode, no encode. */
function copyFromPipeArgs(statsPeriod: boolean | undefined): string[] {
  // The FLV header and sequence headers give every codec parameter; without `-fpsprobesize 0`
  // ffmpeg would hold the output ~1.3 s to estimate a frame rate a copy does not need.
  return [...commonArgs(statsPeriod), '-fpsprobesize', '0', '-f', 'flv', '-i', 'pipe:0', '-map', '0', '-c', 'copy'];
}

/** argv of a pusher: the broadcast's FLV from stdin, copied to one RTMP destination. */
export function pusherArgs(o: DestinationArgsOptions & { statsPeriod?: boolean }): string[] {
  const output = destinationArgs(o);
  return [...copyFromPipeArgs(o.statsPeriod), ...FLV_OUTPUT, ...output];
}

/** Containers a recording may be written in, by file extension. */
export const RECORDING_FORMATS = ['.mp4', '.mkv', '.flv'] as const;

/**
 * argv of a recorder: the broadcast's FLV from stdin, copied to a local file. MP4 is fragmented
 * (an empty moov first, then a self-contained fragment per keyframe) so that the file plays up to
 * its last fragment if the server dies mid-way; Matroska and FLV are playable as written.
 * An existing file is never overwritten (`-n`).
 */
export function recorderArgs(o: { path: string; statsPeriod?: boolean }): string[] {
  if (!o.path.startsWith('/')) throw new RangeError(`A recording's path must be absolute (got ${o.path}).`);
  const extension = RECORDING_FORMATS.find((ext) => o.path.toLowerCase().endsWith(ext));
  const container =
    extension === '.mp4'
      ? ['-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof']
      : extension === '.mkv'
        ? ['-f', 'matroska']
        : extension === '.flv'
          ? ['-f', 'flv']
          : undefined;
  if (!container) throw new RangeError(`A recording must be ${RECORDING_FORMATS.join(', ')} (got ${o.path}).`);
  // `file:` so that no other protocol can ever be read into the operator's path.
  return ['-n', ...copyFromPipeArgs(o.statsPeriod), ...container, `file:${o.path}`];
}
