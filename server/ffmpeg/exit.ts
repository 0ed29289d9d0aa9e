// Turns the way ffmpeg ended into the error a person reads. The patterns are the lines ffmpeg 5.1
// prints with `-loglevel level+warning` (see test/server/ffmpeg/exit.test.ts for the real logs).

import { BroadcastError } from '../../client/protocol.js';
import { frameOverLimit } from './frame-limit.js';

/** How one ffmpeg run ended, as the session saw it. */
export interface FfmpegExit {
  exitCode?: number;
  signal?: string;
  /** We closed stdin / sent SIGTERM on purpose. */
  stopRequested: boolean;
  /** E.g. 'ENOENT', 'EACCES' when the binary could not start. */
  spawnErrorCode?: string;
  ffmpegPath: string;
  /** Last stderr lines, already redacted. */
  logTail: readonly string[];
}

// `[tcp @ 0x55d0c1a3e700] [error] ` and `[error] `: where and how bad, never what.
const PREFIX = /^(?:\[[^\]@]+ @ 0x[0-9a-f]+\]\s*)?(?:\[(panic|fatal|error|warning|info|verbose|debug|trace)\]\s*)?/i;

interface Line {
  text: string;
  component: string;
  level: string;
}

function split(raw: string): Line {
  const match = PREFIX.exec(raw);
  const head = match?.[0] ?? '';
  const component = /^\[([^\]@]+?) @/.exec(head)?.[1]?.trim().toLowerCase() ?? '';
  return { text: raw.slice(head.length).trim(), component, level: match?.[1]?.toLowerCase() ?? '' };
}

// Lines that explain nothing: ffmpeg's own summaries, hints about options we chose on purpose,
// and stats output, should any reach stderr.
const NOISE = [
  'Conversion failed!',
  'Exiting normally',
  'Last message repeated',
  'Press [q] to stop',
  'Consider increasing the value for the',
  'To ignore this, add a trailing',
  'has not been used for any stream',
];

function isNoise(line: Line): boolean {
  if (line.text === '') return true;
  if (line.level === 'info' || line.level === 'verbose' || line.level === 'debug' || line.level === 'trace') return true;
  if (NOISE.some((noise) => line.text.includes(noise))) return true;
  // `frame=  60 fps=0.0 q=-1.0 size=...` stats lines and `key=value` progress lines.
  if (/^(?:frame|size)=\s*\S+.*\btime=/.test(line.text) || /^[a-z_0-9]+=\S*$/.test(line.text)) return true;
  return false;
}

const MAX_SHOWN = 300;

/** The last line worth showing a person. */
export function lastMeaningfulLine(lines: readonly string[]): string | undefined {
  let fallback: string | undefined;
  // An error says why ffmpeg stopped; a later warning usually does not, so errors win.
  for (let i = lines.length - 1; i >= 0; i--) {
    const raw = lines[i];
    if (typeof raw !== 'string') continue;
    const line = split(raw);
    if (isNoise(line)) continue;
    const shown = line.text.length > MAX_SHOWN ? `${line.text.slice(0, MAX_SHOWN - 1)}…` : line.text;
    if (line.level === 'error' || line.level === 'fatal' || line.level === 'panic') return shown;
    fallback ??= shown;
  }
  return fallback;
}

type Kind = 'input' | 'destination';

// Components whose errors are about the connection to the ingest.
const NETWORK_COMPONENTS = new Set(['rtmp', 'rtmps', 'rtmpt', 'rtmpts', 'tcp', 'tls', 'ffrtmphttp', 'ffrtmpcrypt']);
// The demuxer and the decoders that can meet browser media: their errors are about the input.
const INPUT_COMPONENTS = new Set(['matroska,webm', 'h264', 'vp8', 'vp9', 'av1', 'libdav1d', 'libaom-av1', 'opus', 'libopus', 'vorbis']);

// The errno texts ffmpeg appends to network failures, each with how a message shows it.
const NETWORK_ERRORS: ReadonlyArray<readonly [needle: string, shown: string]> = [
  ['Connection refused', 'Connection refused'],
  ['Connection reset by peer', 'Connection reset by peer'],
  ['Broken pipe', 'Broken pipe'],
  ['timed out', 'Connection timed out'],
  ['No route to host', 'No route to host'],
  ['Network is unreachable', 'Network is unreachable'],
  ['Host is unreachable', 'Host is unreachable'],
  ['End of file', 'End of file'],
  ['Input/output error', 'Input/output error'],
];

const INPUT_SIGNALS = [
  'EBML',
  'Invalid data found when processing input',
  'Error opening input',
  'File ended prematurely',
  'matches no streams',
  'Could not find codec parameters',
  'Error while decoding',
  'Invalid NAL unit',
  'exceeds specified max pixel count',
];

const RESOLUTION_FAILURES = [
  'Failed to resolve hostname',
  'Name or service not known',
  'Temporary failure in name resolution',
  'No address associated with hostname',
  'nodename nor servname',
];

const DESTINATION_SIGNALS = [
  ...RESOLUTION_FAILURES,
  'Cannot open connection',
  'Error opening output',
  'Server error',
  'NetStream.',
  'andshake',
  'Authentication failed',
  'Unknown connect error',
  'Connection refused',
  'Connection reset by peer',
  'No route to host',
  'Network is unreachable',
  'Host is unreachable',
];

const WRITE_FAILURE = /^(?:av_interleaved_write_frame\(\)|Error writing trailer|Error closing file)/;

function classify(line: Line): Kind | undefined {
  // Warnings never stop ffmpeg; with our tiny probe size it warns about codec parameters every time.
  if (line.level === 'warning') return undefined;
  const { text, component } = line;
  if (INPUT_COMPONENTS.has(component) || component.startsWith('in#') || text.startsWith('pipe:0:')) return 'input';
  if (NETWORK_COMPONENTS.has(component) || /rtmps?:\/\//i.test(text)) return 'destination';
  if (INPUT_SIGNALS.some((signal) => text.includes(signal))) return 'input';
  if (DESTINATION_SIGNALS.some((signal) => text.includes(signal))) return 'destination';
  // Writes fail with the socket's errno; other write errors (bad timestamps...) are not the network's fault.
  if (WRITE_FAILURE.test(text) && NETWORK_ERRORS.some(([needle]) => text.includes(needle))) return 'destination';
  return undefined;
}

function has(lines: readonly Line[], needle: string): boolean {
  return lines.some((line) => line.text.includes(needle));
}

/** `Server error: <what the ingest said>`, the most useful line when an ingest rejects a stream. */
function serverSays(lines: readonly Line[]): string | undefined {
  for (const line of lines) {
    const at = line.text.indexOf('Server error: ');
    if (at !== -1)
      return (
        line.text
          .slice(at + 'Server error: '.length)
          .trim()
          .slice(0, MAX_SHOWN) || undefined
      );
  }
  return undefined;
}

function destinationError(lines: readonly Line[]): BroadcastError {
  const code = 'DESTINATION_UNREACHABLE' as const;
  if (RESOLUTION_FAILURES.some((needle) => has(lines, needle))) {
    return new BroadcastError(code, 'The RTMP destination could not be reached (its host name could not be resolved).');
  }
  const reason = NETWORK_ERRORS.find(([needle]) => has(lines, needle))?.[1] ?? 'Input/output error';
  if (['Connection refused', 'No route to host', 'Network is unreachable', 'Host is unreachable'].includes(reason)) {
    return new BroadcastError(code, `The RTMP destination could not be reached (${reason}).`);
  }
  const said = serverSays(lines);
  if (said) return new BroadcastError(code, `The RTMP destination rejected the stream (${said}).`);
  if (has(lines, 'NetStream.Publish.BadName')) {
    return new BroadcastError(code, 'The RTMP destination rejected the stream (NetStream.Publish.BadName): check the stream key.');
  }
  if (has(lines, 'Authentication failed') || has(lines, 'Unknown connect error')) {
    return new BroadcastError(code, 'The RTMP destination refused the connection (authentication failed).');
  }
  // An rtmps:// URL pointed at a plain RTMP port fails here, in the TLS handshake.
  if (lines.some((line) => line.component === 'tls')) {
    return new BroadcastError(code, `The secure connection to the RTMPS destination failed (${reason}).`);
  }
  if (reason === 'Connection timed out')
    return new BroadcastError(code, 'The RTMP destination could not be reached (Connection timed out).');
  if (has(lines, 'andshake')) {
    return new BroadcastError(code, `The RTMP destination closed the connection during the RTMP handshake (${reason}).`);
  }
  if (lines.some((line) => WRITE_FAILURE.test(line.text))) {
    // Ingests drop a publisher whose stream key they do not accept in just this way.
    return new BroadcastError(
      code,
      `The RTMP destination closed the connection (${reason}). If this happened at the start, check the stream key.`,
    );
  }
  return new BroadcastError(code, `The RTMP destination could not be reached or refused the stream (${reason}).`);
}

function inputError(lines: readonly Line[]): BroadcastError {
  const code = 'INVALID_MEDIA' as const;
  if (has(lines, "'0:v:0' matches no streams")) return new BroadcastError(code, 'The media sent by the browser has no video track.');
  for (const line of lines) {
    const tooLarge = frameOverLimit(line.text);
    if (tooLarge) return tooLarge;
  }
  const detail = [
    'EBML header parsing failed',
    'Invalid data found when processing input',
    'File ended prematurely',
    'Could not find codec parameters',
  ].find((needle) => has(lines, needle));
  return new BroadcastError(
    code,
    `The server could not read the media sent by the browser (${detail ?? 'not readable as Matroska/WebM'}).`,
  );
}

function describeEnd(exit: FfmpegExit): string {
  if (exit.signal) return `signal ${exit.signal}`;
  if (exit.exitCode !== undefined) return `exit code ${exit.exitCode}`;
  return 'no exit code';
}

const STOP_SIGNALS = new Set(['SIGTERM', 'SIGINT', 'SIGKILL']);

/**
 * undefined when the exit is a normal end (code 0; or 255 / SIGTERM / SIGINT / SIGKILL after
 * stopRequested). Otherwise: ENOENT/EACCES → FFMPEG_NOT_FOUND with how to install (apt-get install
 * ffmpeg / brew install ffmpeg / the ffmpegPath option or FFMPEG_PATH); logs showing input parse
 * failure (EBML header parsing failed, Invalid data found when processing input, could not find
 * codec parameters fatal, etc.) → INVALID_MEDIA; connection refused/reset, broken pipe, timed out,
 * no route, name resolution failure, 'Cannot open connection', 'Error opening output', RTMP server
 * errors/NetStream.Publish.BadName/handshake failures → DESTINATION_UNREACHABLE; else
 * FFMPEG_EXITED with the last meaningful line (skip blank lines, progress noise, 'Conversion
 * failed!', 'Exiting normally' etc.). Messages are human sentences, e.g. `The RTMP destination
 * could not be reached (Connection refused).`
 */
export function mapFfmpegExit(exit: FfmpegExit): BroadcastError | undefined {
  if (exit.spawnErrorCode) {
    if (exit.spawnErrorCode === 'ENOENT' || exit.spawnErrorCode === 'EACCES' || exit.spawnErrorCode === 'ENOTDIR') {
      const problem = exit.spawnErrorCode === 'EACCES' ? 'is not executable' : 'was not found';
      return new BroadcastError(
        'FFMPEG_NOT_FOUND',
        `ffmpeg ${problem} at "${exit.ffmpegPath}". Install it (apt-get install ffmpeg on Debian/Ubuntu, ` +
          'brew install ffmpeg on macOS) or point the ffmpegPath option or the FFMPEG_PATH environment variable at the binary.',
      );
    }
    return new BroadcastError('FFMPEG_EXITED', `ffmpeg could not be started (${exit.spawnErrorCode}).`);
  }
  if (exit.exitCode === 0 && !exit.signal) return undefined;
  // 255 is how ffmpeg exits after a SIGTERM/SIGINT it handled: what our own stop sends.
  if (exit.stopRequested && (exit.exitCode === 255 || (exit.signal !== undefined && STOP_SIGNALS.has(exit.signal)))) {
    return undefined;
  }

  const lines = exit.logTail.map(split);
  // The last classified line wins: ffmpeg keeps going after many errors (a damaged cluster, a
  // late packet), and what finally stopped it is logged last.
  const kinds = lines.map(classify);
  let kind: Kind | undefined;
  for (let i = kinds.length - 1; i >= 0 && kind === undefined; i--) kind = kinds[i];
  if (kind) {
    // Only lines of that kind explain it: a damaged cluster the demuxer got over says nothing about a refused connection.
    const relevant = lines.filter((_, i) => kinds[i] === kind);
    return kind === 'destination' ? destinationError(relevant) : inputError(relevant);
  }

  const last = lastMeaningfulLine(exit.logTail);
  const how = describeEnd(exit);
  return new BroadcastError(
    'FFMPEG_EXITED',
    last ? `ffmpeg stopped unexpectedly (${how}): ${last}` : `ffmpeg stopped unexpectedly (${how}).`,
  );
}
