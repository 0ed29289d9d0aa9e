// The server's own log: a tiny leveled facade so operators can plug in pino, winston or console.

/** Severity of a log line, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Fields attached to a log line. Never contains a stream key: the server redacts before logging. */
export type LogFields = Record<string, unknown>;

/** What the server logs through. Any object with these methods works (pino, winston, console). */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Keeps the lines at or above `minLevel` and drops the rest before they reach `sink`. */
export function createLogger(sink: Partial<Logger> | false | undefined, minLevel: LogLevel | 'silent' = 'info'): Logger {
  const target: Partial<Logger> = sink === false ? {} : (sink ?? consoleLogger);
  const floor = minLevel === 'silent' ? LEVELS.length : LEVELS.indexOf(minLevel);
  const pick = (level: LogLevel) => {
    const write = target[level];
    return LEVELS.indexOf(level) >= floor && write ? write.bind(target) : () => {};
  };
  return { debug: pick('debug'), info: pick('info'), warn: pick('warn'), error: pick('error') };
}

const consoleLogger: Logger = {
  debug: (message, fields) => console.debug(format('debug', message, fields)),
  info: (message, fields) => console.info(format('info', message, fields)),
  warn: (message, fields) => console.warn(format('warn', message, fields)),
  error: (message, fields) => console.error(format('error', message, fields)),
};

function format(level: LogLevel, message: string, fields: LogFields | undefined): string {
  const extra = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
  return escapeControlCharacters(`[rtmp-broadcaster] ${level}: ${message}${extra}`);
}

// C0 and C1 controls (newline, carriage return, NEL, terminal escapes) and the Unicode line and
// paragraph separators: what a log viewer may take for the start of another line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * The text with every control character written as an escape (`\n`, `\u0085`), so client-supplied
 * text cannot forge a log line. Safe on JSON too: there these only occur inside strings, as escapes.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, (char) => NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
