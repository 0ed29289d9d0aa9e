// ffmpeg's log (stderr) as whole, redacted lines, with the last few kept: they explain an exit.
import type { Readable } from 'node:stream';

const LOG_TAIL_LINES = 20;

/** Reads `stderr` line by line (ffmpeg ends progress lines with \r), redacts each, keeps the tail. */
export class LogLines {
  /** The last lines logged, oldest first. */
  readonly tail: string[] = [];

  constructor(stderr: Readable, redact: (text: string) => string, onLine: (line: string) => void) {
    const take = (raw: string) => {
      if (!raw.trim()) return;
      const line = redact(raw);
      this.tail.push(line);
      if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
      onLine(line);
    };
    let partial = '';
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => {
      const lines = (partial + text).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      lines.forEach(take);
    });
    stderr.on('end', () => take(partial));
  }
}
