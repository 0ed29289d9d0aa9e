// Reads ffmpeg's `-progress` output: blocks of `key=value` lines, each closed by
// `progress=continue` or, once at the end, `progress=end`.

import { StringDecoder } from 'node:string_decoder';
import type { BroadcastStats } from '../../client/protocol.js';

// A line is a few dozen bytes; anything this long without a newline is not progress output, and
// holding on to it would let a broken stream grow memory without bound.
const MAX_PENDING = 64 * 1024;

/** parseFloat reads ` 484.7kbits/s` and `1.01x` as numbers; `N/A`, negatives and garbage become 0. */
function toNumber(value: string): number {
  const n = parseFloat(value);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** `HH:MM:SS.micro`, only needed when neither out_time_us nor out_time_ms is there. */
function clockToMs(value: string): number {
  const parts = value.trim().split(':');
  if (parts.length !== 3) return 0;
  const seconds = Number(parts[0]) * 3600 + Number(parts[1]) * 60 + Number(parts[2]);
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : 0;
}

/**
 * Incremental parser for `-progress` output: feed it raw chunks (Buffer|string, may split lines
 * anywhere); calls onStats for every complete block (ended=true for `progress=end`). Missing/N/A
 * values become 0. kbps from `bitrate=1234.5kbits/s`, durationMs from out_time_us (fallback
 * out_time_ms, which ffmpeg also reports in microseconds), speed from `speed=1.01x`, fps, frames
 * from `frame`. Cheap: no regex per line if avoidable.
 */
export function createProgressParser(onStats: (stats: BroadcastStats, ended: boolean) => void): (chunk: Buffer | string) => void {
  // Decodes across chunk boundaries, so a split multi-byte character never turns into U+FFFD twice.
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let frames = 0;
  let fps = 0;
  let kbps = 0;
  let speed = 0;
  let outTimeUs: string | undefined;
  let outTimeMs: string | undefined;
  let outTime: string | undefined;

  const reset = () => {
    frames = fps = kbps = speed = 0;
    outTimeUs = outTimeMs = outTime = undefined;
  };

  const durationMs = (): number => {
    // out_time_ms is microseconds too (a long-standing ffmpeg quirk), hence the same division.
    const micros = toNumber(outTimeUs ?? outTimeMs ?? '');
    if (micros > 0) return Math.round(micros / 1000);
    return outTime !== undefined ? clockToMs(outTime) : 0;
  };

  const line = (text: string) => {
    const equals = text.indexOf('=');
    if (equals <= 0) return;
    const value = text.slice(equals + 1);
    switch (text.slice(0, equals).trim()) {
      case 'frame':
        frames = Math.round(toNumber(value));
        break;
      case 'fps':
        fps = toNumber(value);
        break;
      case 'bitrate':
        kbps = toNumber(value);
        break;
      case 'speed':
        speed = toNumber(value);
        break;
      case 'out_time_us':
        outTimeUs = value;
        break;
      case 'out_time_ms':
        outTimeMs = value;
        break;
      case 'out_time':
        outTime = value;
        break;
      case 'progress': {
        const stats: BroadcastStats = { durationMs: durationMs(), frames, fps, kbps, speed };
        const ended = value.trim() === 'end';
        reset();
        onStats(stats, ended);
        break;
      }
    }
  };

  return (chunk: Buffer | string) => {
    const text = pending + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const lines = text.split('\n');
    const rest = lines.pop() ?? '';
    // Updated before any callback runs, so a throwing onStats cannot make a line be read twice.
    pending = rest.length > MAX_PENDING ? '' : rest;
    for (const raw of lines) line(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
  };
}
