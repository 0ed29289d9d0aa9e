// `rtmp-broadcaster/logger`: JSON-lines logs for the BroadcastServer's `logger` option, written by
// pino, which loads only when this is called.
import { redactRtmpUrls } from './destination.js';
import { escapeControlCharacters, type LogFields, type Logger, type LogLevel } from './logger.js';

/** Level and destination of the JSON logs. */
export interface JsonLoggerOptions {
  /** Lowest level written. Default 'info'. Give the BroadcastServer the same `logLevel`: it filters first. */
  level?: LogLevel | 'silent';
  /** Where lines go: a file descriptor, a file path (appended to), or a stream. Default: stdout. */
  destination?: number | string | { write(line: string): unknown };
}

/**
 * A Logger writing one JSON object per line (`level`, ISO `time`, `msg`, then the fields), never
 * a line break inside one. Every string in a line has its rtmp(s):// URLs redacted, though the server already redacts what it
 * logs: a stream key that reaches a log aggregator cannot be taken back.
 */
export async function createJsonLogger(options: JsonLoggerOptions = {}): Promise<Logger> {
  const { level = 'info', destination = 1 } = options;
  const { pino } = await import('pino');
  const target =
    typeof destination === 'object' ? destination : pino.destination({ dest: destination, sync: true, append: true, mkdir: true });
  // JSON escapes newlines but not NEL or U+2028/U+2029, which some viewers break lines on.
  const stream = { write: (line: string) => target.write(escapeControlCharacters(line.slice(0, -1)) + line.slice(-1)) };
  const log = pino(
    {
      name: 'rtmp-broadcaster',
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  const at =
    (method: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (fields === undefined) log[method](redactRtmpUrls(message));
      else log[method](redactDeep(fields, new WeakSet()) as object, redactRtmpUrls(message));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A copy of `value` with every string redacted; errors become plain objects so their message is redacted too. */
function redactDeep(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactRtmpUrls(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (value instanceof Error) {
    return redactDeep({ ...value, type: value.name, message: value.message, stack: value.stack }, seen);
  }
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, seen));
  // What JSON.stringify would write for a URL, a Date or a Buffer.
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return redactDeep(toJSON.call(value), seen);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = redactDeep(item, seen);
  return copy;
}
