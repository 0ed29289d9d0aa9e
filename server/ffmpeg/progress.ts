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

/** `value` to 1/`per` (as ffmpeg prints them: fps to 0.01, kbit/s to 0.1), never negative. */
function round(value: number, per: number): number {
  return Math.max(0, Math.round(value * per) / per);
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
 * values become 0. durationMs from out_time_us (fallback out_time_ms, which ffmpeg also reports in
 * microseconds, then out_time), speed from `speed=1.01x`, frames from `frame`.
 *
 * kbps and fps are over the last period: the bytes (`total_size`) and frames written since the
 * previous block, per second of media written since then. ffmpeg's own `bitrate` and `fps` are
 * averages since the start (fps over wall time, 0 in the first second), so they hide what a
 * bitrate change does for minutes; `bitrate` is used only where `total_size` is missing. A period
 * that wrote no media reports 0 for both, but the last block keeps the period before it. Cheap: no regex per line.
 */
export function createProgressParser(onStats: (stats: BroadcastStats, ended: boolean) => void): (chunk: Buffer | string) => void {
  // Decodes across chunk boundaries, so a split multi-byte character never turns into U+FFFD twice.
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let frames = 0;
  let kbps = 0;
  let totalBytes: number | undefined;
  let speed = 0;
  // Where the previous period ended: media time, frames and bytes written by then.
  let since = { durationMs: 0, frames: 0, bytes: 0 };
  let last = { fps: 0, kbps: 0 };
  let outTimeUs: string | undefined;
  let outTimeMs: string | undefined;
  let outTime: string | undefined;

  const reset = () => {
    frames = kbps = speed = 0;
    totalBytes = undefined;
    outTimeUs = outTimeMs = outTime = undefined;
  };

  const durationMs = (): number => {
    // out_time_ms is microseconds too (a long-standing ffmpeg quirk), hence the same division.
    const micros = toNumber(outTimeUs ?? outTimeMs ?? '');
    if (micros > 0) return Math.round(micros / 1000);
    return outTime !== undefined ? clockToMs(outTime) : 0;
  };

  /** fps and kbps since the previous block (see above); moves the period's start to now. */
  const overPeriod = (ended: boolean): { fps: number; kbps: number } => {
    const now = { durationMs: durationMs(), frames, bytes: totalBytes ?? since.bytes };
    const elapsedMs = now.durationMs - since.durationMs;
    if (elapsedMs <= 0) {
      // Nothing new on the media clock (or ffmpeg's clock went back): nothing written this period.
      // The last block, written as ffmpeg ends, keeps the period before it: the broadcast's last figures.
      if (elapsedMs < 0) since = now;
      return ended ? last : { fps: 0, kbps: 0 };
    }
    const period = {
      fps: round(((now.frames - since.frames) * 1000) / elapsedMs, 100),
      // bits per millisecond = kilobits per second.
      kbps: totalBytes === undefined ? kbps : round(((now.bytes - since.bytes) * 8) / elapsedMs, 10),
    };
    since = now;
    last = period;
    return period;
  };

  const line = (text: string) => {
    const equals = text.indexOf('=');
    if (equals <= 0) return;
    const value = text.slice(equals + 1);
    switch (text.slice(0, equals).trim()) {
      case 'frame':
        frames = Math.round(toNumber(value));
        break;
      case 'bitrate':
        kbps = toNumber(value);
        break;
      case 'total_size':
        totalBytes = value.trim() === 'N/A' ? undefined : toNumber(value);
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
        const ended = value.trim() === 'end';
        const stats: BroadcastStats = { durationMs: durationMs(), frames, ...overPeriod(ended), speed };
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
