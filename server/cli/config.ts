// What `rtmp-broadcaster` was asked to do, from its flags and environment: pure, so every rule is
// unit-tested without starting anything. One table describes each option for the parser, the
// environment and --help alike.
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDestination } from '../destination.js';
import { AAC_CODERS, AUDIO_CHANNELS, type AacCoder, type AudioChannels } from '../ffmpeg/args.js';
import type { LogLevel } from '../logger.js';
import { DEFAULTS } from '../options.js';

/** Everything the CLI's server needs, checked. */
export interface CliConfig {
  port: number;
  host: string;
  /** Paths of the PEM certificate and key; absent: plain http. */
  tls?: { certFile: string; keyFile: string };
  /** Every broadcast goes to each of these at once; clients cannot choose. They hold stream keys. */
  destinations?: string[];
  /** URL prefixes clients may broadcast to. */
  allowedDestinations?: string[];
  /** Most destinations a client may list for one broadcast (with allowedDestinations). */
  maxDestinations?: number;
  /** Absolute directory: every broadcast is also recorded to `<recordDir>/<sessionId>.mp4`. */
  recordDir?: string;
  allowedOrigins?: '*' | string[];
  maxStreams?: number;
  maxStreamsPerAddress?: number;
  maxConnectionsPerMinute?: number;
  /** Clients must connect with `auth: { token }` equal to this. */
  token?: string;
  /** /metrics answers only requests with `Authorization: Bearer` this; without it /metrics is off. */
  metricsToken?: string;
  logLevel: LogLevel | 'silent';
  ffmpegPath?: string;
  aacCoder?: AacCoder;
  audioChannels?: AudioChannels;
  /** Cluster mode: this many worker processes share the port (node:cluster). */
  workers?: number;
  /** Share limits, the broadcast list and socket.io through this Redis (several processes or machines). Holds a password if any. */
  redisUrl?: string;
}

/** What the command line asks for: print help, print the version, or serve with a configuration. */
export type CliCommand = { command: 'help' } | { command: 'version' } | { command: 'serve'; config: CliConfig };

/** Bad flags, environment or files: the CLI prints the message and exits with 2. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

/** How one option is read: its flag, its environment variable, its --help line. */
export interface OptionSpec {
  env?: string;
  type: 'string' | 'boolean';
  /** Repeatable flag; its environment variable is a list separated by commas or spaces. */
  list?: boolean;
  short?: string;
  /** Placeholder for the value in --help. */
  value?: string;
  help: string;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';

/** Every option: its flag, its environment variable, and its --help line. */
export const OPTIONS = {
  port: { env: 'PORT', type: 'string', value: '<number>', help: `Port to listen on; 0 picks a free one. Default ${DEFAULT_PORT}.` },
  host: {
    env: 'HOST',
    type: 'string',
    value: '<address>',
    help: `Address to listen on. Default ${DEFAULT_HOST} (this machine only); use 0.0.0.0 in a container or behind a proxy.`,
  },
  'tls-cert': { env: 'TLS_CERT', type: 'string', value: '<file>', help: 'PEM certificate: serve https and wss. Needs --tls-key.' },
  'tls-key': { env: 'TLS_KEY', type: 'string', value: '<file>', help: 'PEM private key of --tls-cert.' },
  destination: {
    env: 'RTMP_URL',
    type: 'string',
    list: true,
    value: '<url>',
    help: 'Send every broadcast to this rtmp:// or rtmps:// URL, stream key included; clients cannot choose. Repeatable to send each broadcast to several destinations at once; comma- or space-separated in the environment. Prefer the environment variable: flags show in `ps`.',
  },
  'allow-destination': {
    env: 'ALLOWED_DESTINATIONS',
    type: 'string',
    list: true,
    value: '<url-prefix>',
    help: 'Let clients choose a destination starting with this prefix, e.g. rtmp://a.rtmp.youtube.com/live2. Repeatable; comma-separated in the environment.',
  },
  'allow-origin': {
    env: 'ALLOWED_ORIGINS',
    type: 'string',
    list: true,
    value: '<origin>',
    help: "Let pages on this origin connect, e.g. https://example.com, or '*' for any; pages on a DNS name need it even when this server serves them (DNS rebinding). Repeatable; comma-separated in the environment. Default: none.",
  },
  'max-destinations': {
    env: 'MAX_DESTINATIONS',
    type: 'string',
    value: '<number>',
    help: `With --allow-destination: most destinations a client may list for one broadcast. Default ${DEFAULTS.maxDestinations}.`,
  },
  record: {
    env: 'RECORD_DIR',
    type: 'string',
    value: '<dir>',
    help: 'Also record every broadcast to <dir>/<session id>.mp4 (fragmented MP4), beside its destinations. An absolute directory, created if missing. Default: no recording.',
  },
  'max-streams': {
    env: 'MAX_STREAMS',
    type: 'string',
    value: '<number>',
    help: 'Most broadcasts (ffmpeg processes) at once. Default: no limit.',
  },
  'max-streams-per-address': {
    env: 'MAX_STREAMS_PER_ADDRESS',
    type: 'string',
    value: '<number>',
    help: 'Most broadcasts at once from one IP address. Default: no limit.',
  },
  'max-connections-per-minute': {
    env: 'MAX_CONNECTIONS_PER_MINUTE',
    type: 'string',
    value: '<number>',
    help: 'Most connections one IP address may open per minute. Default: no limit.',
  },
  token: {
    env: 'BROADCAST_TOKEN',
    type: 'string',
    value: '<secret>',
    help: "Refuse broadcasts (UNAUTHORIZED) unless the client's `auth.token` equals this secret. Prefer the environment variable: flags show in `ps`.",
  },
  'metrics-token': {
    env: 'METRICS_TOKEN',
    type: 'string',
    value: '<secret>',
    help: 'Serve Prometheus /metrics to scrapers sending `Authorization: Bearer <secret>` (a secret of its own: pages carry the broadcast token). Default: /metrics is off.',
  },
  'log-level': { env: 'LOG_LEVEL', type: 'string', value: '<level>', help: `${LOG_LEVELS.join(', ')}. Default info.` },
  'aac-coder': {
    env: 'AAC_CODER',
    type: 'string',
    value: '<coder>',
    help: `ffmpeg's AAC coder for Opus audio: ${AAC_CODERS.join(' or ')} (fast: about half the CPU, lower fidelity on some material). Default twoloop.`,
  },
  'audio-channels': {
    env: 'AUDIO_CHANNELS',
    type: 'string',
    value: '<source|1|2>',
    help: "AAC channels for Opus audio: source keeps the recording's (a microphone is mono), 1 or 2 forces mono or stereo. Default source.",
  },
  workers: {
    env: 'WORKERS',
    type: 'string',
    value: '<number|auto>',
    help: 'Cluster mode: run this many worker processes on the port (auto: one per CPU core), sharing --max-streams. WebSocket clients only. Default: one process.',
  },
  'redis-url': {
    env: 'REDIS_URL',
    type: 'string',
    value: '<url>',
    help: 'Share --max-streams, the list of live broadcasts and socket.io with every server using this Redis (redis:// or rediss://). WebSocket clients only. Prefer the environment variable when it holds a password.',
  },
  'ffmpeg-path': { env: 'FFMPEG_PATH', type: 'string', value: '<file>', help: 'ffmpeg binary. Default: ffmpeg on PATH.' },
  help: { type: 'boolean', short: 'h', help: 'Print this help and exit.' },
  version: { type: 'boolean', short: 'v', help: 'Print the version and exit.' },
} as const satisfies Record<string, OptionSpec>;

/** The name of one option (its long flag). */
export type OptionName = keyof typeof OPTIONS;
type Env = Readonly<Record<string, string | undefined>>;

/** Reads argv (without node and the script) and the environment; throws CliUsageError for anything wrong. */
export function parseCommand(argv: readonly string[], env: Env): CliCommand {
  const flags = parseFlags(argv);
  if (flags.help) return { command: 'help' };
  if (flags.version) return { command: 'version' };

  /** The value of an option and where it came from (`--flag` or `ENV_VAR`), flag first. */
  const read = (name: OptionName): { value: string; from: string } | undefined => {
    const flag = flags[name];
    if (typeof flag === 'string') return { value: flag, from: `--${name}` };
    const spec: OptionSpec = OPTIONS[name];
    const fromEnv = spec.env ? env[spec.env] : undefined;
    // `PORT=` in a compose file means unset.
    if (spec.env && fromEnv !== undefined && fromEnv.trim() !== '') return { value: fromEnv.trim(), from: spec.env };
    return undefined;
  };
  // A blank secret is a mistake (`BROADCAST_TOKEN=${UNSET}`), not a wish to turn authentication off.
  const secret = (name: 'token' | 'metrics-token'): string | undefined => {
    const flag = flags[name];
    const spec: OptionSpec = OPTIONS[name];
    const [value, from] = typeof flag === 'string' ? [flag, `--${name}`] : [env[spec.env!], spec.env!];
    if (value === undefined) return undefined;
    if (value.trim() === '') throw new CliUsageError(`\`${from}\` is empty: set a secret, or unset it to run without authentication.`);
    return typeof flag === 'string' ? value : value.trim();
  };
  const readList = (name: OptionName): { values: string[]; from: string } | undefined => {
    const flag = flags[name];
    const spec: OptionSpec = OPTIONS[name];
    const given = Array.isArray(flag)
      ? { raw: flag, from: `--${name}` }
      : spec.env && env[spec.env]?.trim()
        ? { raw: [env[spec.env]!], from: spec.env }
        : undefined;
    if (!given) return undefined;
    // Nothing a list holds (URLs, prefixes, origins) may contain a comma or a space.
    const values = given.raw.flatMap((item) => item.split(/[,\s]+/)).filter(Boolean);
    if (values.length === 0) throw new CliUsageError(`\`${given.from}\` is empty.`);
    return { values, from: given.from };
  };

  const config: CliConfig = {
    port: integer(read('port'), 0, 65_535) ?? DEFAULT_PORT,
    host: read('host')?.value ?? DEFAULT_HOST,
    logLevel: logLevel(read('log-level')) ?? 'info',
  };

  const cert = read('tls-cert');
  const key = read('tls-key');
  if (cert && key) config.tls = { certFile: cert.value, keyFile: key.value };
  else if (cert || key) {
    const [given, missing] = cert ? [cert.from, '--tls-key (TLS_KEY)'] : [key!.from, '--tls-cert (TLS_CERT)'];
    throw new CliUsageError(`\`${given}\` needs ${missing} too: https takes a certificate and its key.`);
  }

  const destinations = readList('destination');
  if (destinations) config.destinations = fixedDestinations(destinations);
  const allowed = readList('allow-destination');
  if (allowed) {
    if (destinations) {
      throw new CliUsageError(
        `\`${destinations.from}\` and \`${allowed.from}\` exclude each other: with a fixed destination, clients choose none.`,
      );
    }
    for (const prefix of allowed.values) checkDestination(prefix, `\`${allowed.from}\``, 'URL prefix');
    config.allowedDestinations = allowed.values;
  }
  if (!destinations && !allowed) {
    throw new CliUsageError(
      'Nothing to broadcast to: set --destination (RTMP_URL), or --allow-destination (ALLOWED_DESTINATIONS) to let clients choose.',
    );
  }
  const maxDestinations = read('max-destinations');
  if (maxDestinations) {
    if (destinations) {
      throw new CliUsageError(
        `\`${destinations.from}\` and \`${maxDestinations.from}\` exclude each other: the limit is on the destinations clients choose, and with a fixed destination they choose none.`,
      );
    }
    config.maxDestinations = integer(maxDestinations, 1);
  }
  const record = read('record');
  if (record) {
    if (!isAbsolute(record.value))
      throw new CliUsageError(`Expected \`${record.from}\` to be an absolute directory, got \`${record.value}\`.`);
    config.recordDir = record.value;
  }

  const origins = readList('allow-origin');
  if (origins) config.allowedOrigins = allowedOrigins(origins.values, origins.from);

  const maxStreams = integer(read('max-streams'), 1);
  if (maxStreams !== undefined) config.maxStreams = maxStreams;
  const perAddress = integer(read('max-streams-per-address'), 1);
  if (perAddress !== undefined) config.maxStreamsPerAddress = perAddress;
  const perMinute = integer(read('max-connections-per-minute'), 1);
  if (perMinute !== undefined) config.maxConnectionsPerMinute = perMinute;

  const token = secret('token');
  if (token) config.token = token;
  const metricsToken = secret('metrics-token');
  if (metricsToken) config.metricsToken = metricsToken;
  const coder = read('aac-coder');
  if (coder) {
    if (!(AAC_CODERS as readonly string[]).includes(coder.value)) {
      throw new CliUsageError(`\`${coder.from}\` must be ${AAC_CODERS.join(' or ')}, not \`${coder.value}\`.`);
    }
    config.aacCoder = coder.value as AacCoder;
  }
  const channels = read('audio-channels');
  if (channels) {
    const value = AUDIO_CHANNELS.find((known) => String(known) === channels.value);
    if (value === undefined)
      throw new CliUsageError(`\`${channels.from}\` must be ${AUDIO_CHANNELS.join(', ')}, not \`${channels.value}\`.`);
    config.audioChannels = value;
  }
  const ffmpegPath = read('ffmpeg-path');
  if (ffmpegPath) config.ffmpegPath = ffmpegPath.value;
  const workers = read('workers');
  if (workers) config.workers = workers.value === 'auto' ? availableParallelism() : integer(workers, 1, 1024);
  const redisUrl = read('redis-url');
  if (redisUrl) config.redisUrl = checkRedisUrl(redisUrl);
  return { command: 'serve', config };
}

function parseFlags(argv: readonly string[]) {
  const options = Object.fromEntries(
    Object.entries(OPTIONS).map(([name, spec]: [string, OptionSpec]) => [
      name,
      { type: spec.type, ...(spec.list ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) },
    ]),
  ) as { [K in OptionName]: { type: (typeof OPTIONS)[K]['type']; multiple?: boolean; short?: string } };
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Partial<
      Record<OptionName, string | string[] | boolean>
    >;
  } catch (caught) {
    const error = caught as Error & { code?: string };
    const named = /'([^']+)'/.exec(error.message)?.[1];
    switch (error.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new CliUsageError(`Unknown option \`${named ?? error.message}\`.`);
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new CliUsageError(`Unexpected argument \`${named ?? error.message}\`: every setting is an --option.`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
        const flag = named?.replace(/ <value>$/, '') ?? '';
        if (/argument missing|ambiguous/.test(error.message)) throw new CliUsageError(`\`${flag}\` needs a value.`);
        throw new CliUsageError(`\`${flag.replace(/^-\w, /, '')}\` takes no value.`);
      }
      default:
        throw caught;
    }
  }
}

function integer(input: { value: string; from: string } | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (!input) return undefined;
  const value = /^\d+$/.test(input.value) ? Number(input.value) : NaN;
  if (!(value >= min && value <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
    throw new CliUsageError(`Expected \`${input.from}\` to be ${range}, got \`${input.value}\`.`);
  }
  return value;
}

function logLevel(input: { value: string; from: string } | undefined): LogLevel | 'silent' | undefined {
  if (!input) return undefined;
  const level = LOG_LEVELS.find((candidate) => candidate === input.value.toLowerCase());
  if (!level) throw new CliUsageError(`Expected \`${input.from}\` to be one of ${LOG_LEVELS.join(', ')}, got \`${input.value}\`.`);
  return level;
}

/** Never echoes the value: a Redis URL may hold a password. */
function checkRedisUrl({ value, from }: { value: string; from: string }): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (!url || !/^rediss?:$/.test(url.protocol) || !url.hostname)
    throw new CliUsageError(`Expected \`${from}\` to be a redis:// or rediss:// URL with a host.`);
  return value;
}

/** Each destination checked, and none twice: the server would refuse every broadcast otherwise. */
function fixedDestinations({ values, from }: { values: string[]; from: string }): string[] {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    // Which one is wrong, by its place in the list: the value itself holds a stream key.
    const which = values.length > 1 ? `\`${from}\` (destination ${index + 1} of ${values.length})` : `\`${from}\``;
    const { href } = checkDestination(value, which, 'URL');
    if (seen.has(href)) throw new CliUsageError(`${which} repeats an earlier destination: each one gets the broadcast once.`);
    seen.add(href);
  });
  return values;
}

/** The reason names the problem but never echoes the value: a destination holds a stream key. */
function checkDestination(value: string, which: string, what: string): URL {
  try {
    return parseDestination(value);
  } catch (caught) {
    throw new CliUsageError(`${which} is not a usable rtmp:// or rtmps:// ${what}: ${(caught as Error).message}`);
  }
}

function allowedOrigins(values: string[], from: string): '*' | string[] {
  if (values.includes('*')) {
    if (values.length > 1) throw new CliUsageError(`\`${from}\` is either '*' or a list of origins, not both.`);
    return '*';
  }
  return values.map((value) => {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      // reported below
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username) {
      throw new CliUsageError(`Expected \`${from}\` to be origins such as https://example.com, got \`${value}\`.`);
    }
    return url.origin;
  });
}
