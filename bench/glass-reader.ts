// The glass bench's viewer: one ffmpeg playing a stream from nginx-rtmp (subscribed before the
// publish) with no input buffering, printing each video packet as it is demuxed (-debug_ts) and
// each decoded frame's pts (showinfo), and writing the top strip of each frame as gray bytes to a
// pipe. So each frame has: when its packet reached the viewer (Date.now() as the line was read),
// when its picture came out of the decoder, and the wall-clock time drawn into it (bench/glass-page.ts).
import { spawn } from 'node:child_process';
import { CODE_HEIGHT, readCode } from './glass-page.js';

/** One video packet as the viewer saw it. */
export interface GlassFrame {
  /** pts in ms (FLV's time base). */
  pts: number;
  /** Date.now() when the packet was demuxed. */
  arrivedAt: number;
  /** Date.now() when its picture came out of the decoder (and the pipe), if it did. */
  decodedAt?: number;
  /** The epoch-ms time drawn into the picture, if it carried a readable code. */
  drawnAt?: number;
}

export interface GlassReader {
  readonly frames: GlassFrame[];
  /** Stops ffmpeg; resolves once it exited. */
  close(): Promise<void>;
}

const PACKET = /demuxer -> ist_index:\d+ type:video .*?pkt_pts:(-?\d+) /;
const SHOWINFO = /Parsed_showinfo_\d+ @ \w+\] n: *\d+ pts: *(-?\d+) .*? s:(\d+)x(\d+) /;

/** Plays `url` until close(); the ffmpeg process is the caller's to close. */
export function startGlassReader(url: string): GlassReader {
  // -threads 1: no frame threading, whose decoder holds frames back; the strip alone goes to the pipe.
  // Probing waits for both streams (a live FLV may show its audio first); that first second is not measured.
  const ffmpeg = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostats', '-loglevel', 'info', '-debug_ts'],
      ...['-fflags', 'nobuffer', '-flags', 'low_delay', '-probesize', '1000000', '-analyzeduration', '1000000', '-threads', '1'],
      ...['-rtmp_live', 'live', '-i', url, '-map', '0:v:0', '-copyts'],
      ...[
        '-vf',
        `crop=iw:${CODE_HEIGHT}:0:0,showinfo`,
        '-fps_mode',
        'passthrough',
        '-flush_packets',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'gray',
        'pipe:1',
      ],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const frames: GlassFrame[] = [];
  const byPts = new Map<number, GlassFrame>();
  // Decoded frames announced by showinfo and not yet read off the pipe, in order.
  const pending: { pts: number; width: number; height: number }[] = [];
  let text = '';
  ffmpeg.stderr.setEncoding('utf8');
  ffmpeg.stderr.on('data', (data: string) => {
    const now = Date.now();
    text += data;
    // -debug_ts lines can share a line with others: split on newlines, and match anywhere in each.
    const lines = text.split('\n');
    text = lines.pop() ?? '';
    for (const line of lines) {
      const packet = PACKET.exec(line);
      if (packet) {
        const frame: GlassFrame = { pts: Number(packet[1]), arrivedAt: now };
        frames.push(frame);
        byPts.set(frame.pts, frame);
      }
      const shown = SHOWINFO.exec(line);
      if (shown) pending.push({ pts: Number(shown[1]), width: Number(shown[2]), height: Number(shown[3]) });
    }
    drain();
  });
  let bytes: Buffer = Buffer.alloc(0);
  ffmpeg.stdout.on('data', (data: Buffer) => {
    bytes = bytes.length === 0 ? data : Buffer.concat([bytes, data]);
    drain();
  });
  function drain(): void {
    const now = Date.now();
    for (;;) {
      const next = pending[0];
      if (!next || bytes.length < next.width * next.height) return;
      pending.shift();
      const gray = bytes.subarray(0, next.width * next.height);
      bytes = bytes.subarray(next.width * next.height);
      const frame = byPts.get(next.pts);
      if (!frame) continue;
      frame.decodedAt = now;
      frame.drawnAt = readCode(gray, next.width, next.height);
    }
  }
  const exited = new Promise<void>((resolve) => ffmpeg.once('close', () => resolve()));
  return {
    frames,
    async close() {
      if (ffmpeg.exitCode === null) ffmpeg.kill('SIGTERM');
      const timer = setTimeout(() => ffmpeg.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
