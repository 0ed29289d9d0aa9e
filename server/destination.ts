// Where a broadcast may go, and how its URL is shown. The destination ends up as an argument of
// ffmpeg, which would happily open files, pipes or any other protocol it knows, and its stream key
// is a password: so parsing is strict, and every form meant for people hides the key.

import { BroadcastError, MAX_URL_LENGTH } from '../client/protocol.js';

/**
 * string = URL prefix (matched on protocol+host+port and path segment boundary, so
 * 'rtmp://a.com/live' admits rtmp://a.com/live/KEY but not rtmp://a.com/live2/x nor
 * rtmp://a.com.evil.net/...), RegExp tested against url.href, or a predicate.
 */
export type AllowedDestinations = ReadonlyArray<string | RegExp> | ((url: URL) => boolean);

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
// Opaque hosts of non-special URLs keep `%`, `!`, `$`... that getaddrinfo never resolves: a plain
// DNS name, IPv4 or bracketed IPv6 is all an ingest ever needs.
const HOST = /^(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?|\[[0-9a-f:.]+\])$/i;

// ffmpeg's own protocols and the web's, the ones someone could plausibly send by mistake or on purpose.
const KNOWN_SCHEMES = new Set([
  'async',
  'bluray',
  'cache',
  'concat',
  'concatf',
  'crypto',
  'data',
  'ffrtmpcrypt',
  'ffrtmphttp',
  'file',
  'ftp',
  'gopher',
  'gophers',
  'hls',
  'http',
  'httpproxy',
  'https',
  'icecast',
  'ipfs',
  'ipns',
  'md5',
  'mmsh',
  'mmst',
  'pipe',
  'prompeg',
  'rist',
  'rtmpe',
  'rtmpt',
  'rtmpte',
  'rtmpts',
  'rtp',
  'rtsp',
  'sctp',
  'sftp',
  'srt',
  'srtp',
  'subfile',
  'tee',
  'tcp',
  'tls',
  'udp',
  'udplite',
  'unix',
  'zmq',
  'amqp',
  'ws',
  'wss',
  'javascript',
  'mailto',
  'blob',
  'about',
]);

function refuse(message: string): never {
  throw new BroadcastError('DESTINATION_NOT_ALLOWED', message);
}

/**
 * Parses a destination: only `rtmp:`/`rtmps:` with a host; rejects non-strings (BroadcastError
 * INVALID_REQUEST), and with DESTINATION_NOT_ALLOWED + a specific human message: other schemes
 * (file:, pipe:, http:, concat:, data:, tcp:...), bare/relative/absolute paths, strings starting
 * with '-', any whitespace or control char anywhere (check the raw string before URL parsing, since
 * URL strips tabs/newlines), length > 2048, missing host, non-URL strings. The message never
 * contains the stream key.
 */
export function parseDestination(input: unknown): URL {
  if (typeof input !== 'string') {
    throw new BroadcastError('INVALID_REQUEST', 'The destination must be a string such as rtmp://host/app/stream-key.');
  }
  if (input.length === 0) refuse('The destination is empty: give an rtmp:// or rtmps:// URL.');
  if (input.length > MAX_URL_LENGTH) refuse(`The destination URL is longer than ${MAX_URL_LENGTH} characters.`);
  // URL() silently drops tabs and newlines and trims spaces, so what ffmpeg got would differ from
  // what was checked; C1 controls and Unicode spaces are never part of a real ingest URL either.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\s\u0000-\u001f\u007f-\u009f\u200b\u2028\u2029\ufeff]/.test(input)) {
    refuse('The destination URL must not contain spaces or control characters.');
  }
  if (input.startsWith('-')) refuse('The destination must be an rtmp:// or rtmps:// URL, not a command-line option.');
  const scheme = SCHEME.exec(input)?.[1]?.toLowerCase();
  // `C:\x` parses as scheme `c:`, but whoever typed it meant a file.
  if (/^(?:[/\\.~]|[a-z]:[\\/])/i.test(input)) {
    refuse('The destination must be an rtmp:// or rtmps:// URL, not a file path.');
  }
  if (scheme === undefined) refuse('The destination must be a URL starting with rtmp:// or rtmps://.');
  if (scheme !== 'rtmp' && scheme !== 'rtmps') {
    // Naming a well-known scheme helps; echoing an unknown one could echo a key pasted in front of a colon.
    const shown = KNOWN_SCHEMES.has(scheme) ? ` (got ${scheme}:)` : '';
    refuse(`Only rtmp:// and rtmps:// destinations are allowed${shown}.`);
  }
  if (/[^\x21-\x7e]/.test(input)) {
    // URL() would percent-encode these, so ffmpeg would publish to a different name than typed.
    refuse('The destination URL must contain only ASCII characters: percent-encode the rest.');
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    refuse('The destination is not a valid rtmp:// or rtmps:// URL.');
  }
  if (!input.slice(scheme.length + 1).startsWith('//') || url.hostname === '') {
    refuse(`The destination has no host: write it as ${scheme}://host/app/stream-key.`);
  }
  if (!HOST.test(url.hostname)) refuse('The destination host is not a valid host name or IP address.');
  return url;
}

/** Ports ffmpeg connects to when the URL has none, so `rtmp://a.com` and `rtmp://a.com:1935` compare equal. */
function effectivePort(url: URL): string {
  if (url.port) return url.port;
  return url.protocol === 'rtmps:' ? '443' : '1935';
}

function matchesPrefix(url: URL, prefix: string): boolean {
  let base: URL;
  try {
    base = new URL(prefix);
  } catch {
    return false;
  }
  if (base.protocol.toLowerCase() !== url.protocol.toLowerCase()) return false;
  // Non-special URLs keep the host's case; DNS does not care about it, so neither do we.
  if (base.hostname.toLowerCase() !== url.hostname.toLowerCase()) return false;
  if (effectivePort(base) !== effectivePort(url)) return false;
  const path = base.pathname.replace(/\/+$/, '');
  if (path === '') return true;
  return url.pathname === path || url.pathname.startsWith(`${path}/`);
}

/**
 * True when the allow-list admits the URL; an absent/empty list admits nothing. RegExp with g/y
 * flags must not be stateful (reset lastIndex or use a fresh test).
 */
export function isAllowedDestination(url: URL, allowed: AllowedDestinations | undefined): boolean {
  if (allowed === undefined) return false;
  // A copy: the URL handed to ffmpeg must be the one checked, whatever the predicate does to its argument.
  if (typeof allowed === 'function') return allowed(new URL(url.href)) === true;
  for (const entry of allowed) {
    if (typeof entry === 'string') {
      if (matchesPrefix(url, entry)) return true;
    } else if (entry instanceof RegExp) {
      // A g/y RegExp remembers where its last match ended; a shared one would then admit every other call.
      entry.lastIndex = 0;
      const ok = entry.test(url.href);
      entry.lastIndex = 0;
      if (ok) return true;
    }
  }
  return false;
}

/**
 * Safe-to-show form: `rtmp://host[:port]/app/***` — drops userinfo, hides everything after the
 * first path segment and any query/hash (`?***`). A lone segment is hidden too (`rtmp://host/***`):
 * some ingests take the key there, and nothing tells it from an app name.
 */
export function redactDestination(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    // Nothing trustworthy to keep from a string that is not even a URL.
    const scheme = typeof url === 'string' ? /^(rtmps?):\/\//i.exec(url)?.[1] : undefined;
    return scheme ? `${scheme}://***` : '***';
  }
  const path = parsed.pathname;
  const second = path.indexOf('/', 1);
  let shown = path;
  if (second !== -1 && path.length > second + 1) shown = `${path.slice(0, second)}/***`;
  else if (second === -1 && path.length > 1) shown = '/***';
  if (parsed.search) shown += '?***';
  if (parsed.hash) shown += '#***';
  return `${parsed.protocol}//${parsed.host}${shown}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Secrets shorter than this are only removed as part of a URL: replacing every "ab" in every log
// line would make the logs unreadable, and a 3-character key protects nothing anyway.
const MIN_FRAGMENT = 4;
// Ends at whitespace or quotes; trailing punctuation is put back by the replacer because ffmpeg
// writes `rtmp://host/app/key: Connection refused` and `(rtmp://host/app/key)`.
const ANY_RTMP_URL = /rtmps?:\/\/[^\s'"<>`]+/gi;
const TRAILING_PUNCTUATION = /[:;,.)\]}]+$/;

function redactUrlMatch(match: string): string {
  const tail = TRAILING_PUNCTUATION.exec(match)?.[0] ?? '';
  const body = tail ? match.slice(0, -tail.length) : match;
  return redactDestination(body) + tail;
}

/** Hides the stream key of every rtmp(s):// URL in any text, knowing none of them in advance. */
export function redactRtmpUrls(text: string): string {
  return text.includes('://') ? text.replace(ANY_RTMP_URL, redactUrlMatch) : text;
}

/**
 * Returns a function that removes every trace of the URL's secrets from any text (ffmpeg log
 * lines, error messages): the full href in raw and percent-decoded forms, the key path, password,
 * query; and also redacts any other rtmp(s):// URL in the text via a generic pattern. Must be
 * cheap (called per ffmpeg log line).
 */
export function createRedactor(url: URL): (text: string) => string {
  const redacted = redactDestination(url);
  const wholes = new Set<string>([url.href, safeDecode(url.href)]);
  const fragments = new Set<string>();
  const path = url.pathname;
  const second = path.indexOf('/', 1);
  // A lone segment may be the key itself (see redactDestination).
  const key = second === -1 ? path.slice(1) : path.slice(second + 1);
  if (key) {
    for (const piece of [key, ...key.split('/')]) fragments.add(piece).add(safeDecode(piece));
  }
  if (url.password) fragments.add(url.password).add(safeDecode(url.password));
  if (url.search) {
    const query = url.search.slice(1);
    fragments.add(query).add(safeDecode(query));
    for (const pair of query.split('&')) {
      const value = pair.slice(pair.indexOf('=') + 1);
      fragments.add(value).add(safeDecode(value));
    }
  }
  if (url.hash) fragments.add(url.hash.slice(1)).add(safeDecode(url.hash.slice(1)));
  // Longest first so a secret that contains another is removed whole, not in pieces.
  const sortedWholes = [...wholes].filter(Boolean).sort((a, b) => b.length - a.length);
  const sortedFragments = [...fragments].filter((f) => f.length >= MIN_FRAGMENT).sort((a, b) => b.length - a.length);
  const wholePattern = new RegExp(sortedWholes.map(escapeRegExp).join('|'), 'g');
  const fragmentPattern = sortedFragments.length ? new RegExp(sortedFragments.map(escapeRegExp).join('|'), 'g') : undefined;

  return (text: string): string => {
    let out = text;
    // A decoded password can hold spaces, which would cut the generic pattern short: whole forms go first.
    if (out.includes(url.host)) out = out.replace(wholePattern, redacted);
    out = redactRtmpUrls(out);
    if (fragmentPattern) out = out.replace(fragmentPattern, '***');
    return out;
  };
}
