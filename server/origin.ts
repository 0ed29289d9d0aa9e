// Which web pages may open a connection. Browsers send an Origin header on WebSocket handshakes
// but CORS does not apply to WebSockets, so the server must check it itself.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Origins allowed to connect besides the server's own: exact origins, patterns, a predicate, or '*' for any. */
export type AllowedOrigins = '*' | ReadonlyArray<string | RegExp> | ((origin: string) => boolean);

/**
 * True when the handshake may proceed: requests without an Origin header (not from a browser
 * page) and same-origin pages on an IP address or `localhost` always may; other pages, including
 * same-origin ones on a DNS name, only when `allowed` admits their origin.
 */
export function isAllowedOrigin(request: Pick<IncomingMessage, 'headers'>, allowed: AllowedOrigins | undefined): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (isSameOrigin(origin, request.headers.host)) return true;
  if (allowed === undefined) return false;
  if (allowed === '*') return true;
  if (typeof allowed === 'function') return allowed(origin) === true;
  return allowed.some((entry) => (typeof entry === 'string' ? sameOriginString(entry, origin) : testPattern(entry, origin)));
}

/** The same list in the form socket.io's `cors.origin` takes, for HTTP long-polling. */
export function corsOrigin(
  allowed: AllowedOrigins,
):
  | string
  | boolean
  | (string | RegExp)[]
  | ((origin: string | undefined, callback: (error: Error | null, allow?: boolean) => void) => void) {
  if (allowed === '*') return '*';
  if (typeof allowed === 'function') return (origin, callback) => callback(null, origin !== undefined && allowed(origin) === true);
  return [...allowed];
}

// DNS rebinding: a page on a name its owner points at the operator's address sends that name as
// both Origin and Host, so a matching pair proves nothing for a DNS name. It does for an IP
// literal (no name was resolved) and for localhost (browsers never ask DNS for it).
function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const page = new URL(origin);
    return page.host.toLowerCase() === host.toLowerCase() && isUnforgeableHost(page.hostname);
  } catch {
    return false;
  }
}

function isUnforgeableHost(hostname: string): boolean {
  return hostname === 'localhost' || isIP(hostname.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

function sameOriginString(entry: string, origin: string): boolean {
  try {
    return new URL(entry).origin === new URL(origin).origin;
  } catch {
    return false;
  }
}

function testPattern(pattern: RegExp, origin: string): boolean {
  pattern.lastIndex = 0;
  const matched = pattern.test(origin);
  pattern.lastIndex = 0;
  return matched;
}

/** Origins a socket.io `cors.origin` setting admits, so operators who set only `cors` keep working. */
export function originsFromCors(cors: { origin?: unknown } | undefined): AllowedOrigins | undefined {
  const origin = cors?.origin;
  if (origin === true || origin === '*') return '*';
  if (typeof origin === 'string' || origin instanceof RegExp) return [origin];
  if (Array.isArray(origin))
    return origin.filter((entry): entry is string | RegExp => typeof entry === 'string' || entry instanceof RegExp);
  return undefined;
}
