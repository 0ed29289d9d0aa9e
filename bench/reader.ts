// A viewer of one stream: ffprobe plays it live from nginx and prints every video packet, which is
// timestamped here on arrival. Tracing each packet's pts back to the chunk that carried it gives the
// chunk-to-output delay: socket.io, the server, ffmpeg, RTMP to nginx and nginx to a viewer.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Fixture } from './fixtures.js';
import { now, type PublisherTrace } from './publisher.js';
import { round, spread, type Spread } from './stats.js';

/** One video packet as the viewer received it. */
export interface ReceivedPacket {
  ptsMs: number;
  keyframe: boolean;
  /** Arrival time, from {@link now}. */
  at: number;
}

export interface Reader {
  pid: number | undefined;
  readonly packets: ReceivedPacket[];
  stop(): Promise<void>;
}

/**
 * Starts playing `url` (before its publisher starts, so nginx holds the subscription). ffprobe
 * must read some data to find the streams; `nobuffer` drops what it read meanwhile instead of
 * printing it late, so the first ~0.5 s of the stream are not seen and every packet seen is live.
 * stdbuf makes ffprobe's stdout line-buffered: a pipe is otherwise flushed every 4 KiB.
 */
export function startReader(url: string): Reader {
  const child = spawn(
    'stdbuf',
    [
      '-oL',
      'ffprobe',
      '-v',
      'error',
      '-fflags',
      'nobuffer',
      '-probesize',
      '300000',
      '-analyzeduration',
      '0',
      '-rtmp_live',
      'live',
      '-select_streams',
      'v:0',
      '-show_entries',
      'packet=pts,flags',
      '-of',
      'csv=p=0',
      url,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const packets: ReceivedPacket[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const at = now();
    const [pts, flags = ''] = line.trim().split(',');
    if (pts && pts !== 'N/A') packets.push({ ptsMs: Number(pts), keyframe: flags.includes('K'), at });
  });
  return {
    pid: child.pid,
    packets,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** How late the viewer got each video frame. */
export interface DelayReport {
  stream: string;
  packets: number;
  /** Packets whose pts matched no frame that was sent (should be 0). */
  unmatched: number;
  /** ffmpeg's output pts minus the recording's pts (constant for a stream). */
  offsetMs: number;
  /** Arrival at the viewer minus when the chunk carrying the frame was sent (steady state). */
  chunkToViewerMs: Spread;
  /** Arrival minus when the frame was captured, if the recorder ran in real time: adds the timeslice wait. */
  captureToViewerMs: Spread;
  /** Frames that waited more than half a timeslice after their chunk was sent (for the next chunk), in %. */
  heldPercent: number;
  /** Every frame's chunk→viewer and capture→viewer delay, to pool over repeated runs (not written to results.json). */
  samples: { chunkToViewerMs: number[]; captureToViewerMs: number[] };
}

/**
 * Maps the viewer's packets to the frames and chunks `trace` sent. Only chunks due from
 * `steadyFrom` on count: before, the delay is that of ffmpeg still starting (or of the other
 * publishers' ffmpegs starting beside it), which the start latency already reports.
 */
export function measureDelay(
  packets: readonly ReceivedPacket[],
  fixture: Fixture,
  trace: PublisherTrace,
  steadyFrom: number,
): DelayReport | undefined {
  const firstKey = packets.find((packet) => packet.keyframe);
  if (!firstKey || trace.sentAt.length === 0) return undefined;
  // Timestamps are shifted by ffmpeg (start time, AAC priming): align the first keyframe seen with
  // the latest keyframe sent at or before it. Keyframes are 2 s apart, far more than any shift.
  const sentKeys = fixture.videoFrames.filter((frame) => frame.keyframe && frame.ptsMs <= firstKey.ptsMs + 100);
  const offsetMs = firstKey.ptsMs - (sentKeys.at(-1)?.ptsMs ?? 0);
  const framePts = new Set(fixture.videoFrames.map((frame) => frame.ptsMs));
  const { chunks } = fixture;
  const began = trace.dueAt[0]! - (chunks[0]!.endMs - chunks[0]!.startMs);

  const toChunk: number[] = [];
  const toCapture: number[] = [];
  let unmatched = 0;
  for (const packet of packets) {
    const pts = packet.ptsMs - offsetMs;
    // FLV keeps milliseconds and Matroska too, but either side may round the other way.
    const frame = [pts, pts - 1, pts + 1].find((candidate) => framePts.has(candidate));
    const index = frame === undefined ? -1 : chunks.findIndex((chunk) => frame >= chunk.startMs && frame < chunk.endMs);
    const sentAt = trace.sentAt[index];
    if (frame === undefined || sentAt === undefined) {
      unmatched++;
      continue;
    }
    if (trace.dueAt[index]! < steadyFrom) continue;
    toChunk.push(packet.at - sentAt);
    toCapture.push(packet.at - (began + frame - chunks[0]!.startMs));
  }
  const held = toChunk.filter((ms) => ms > fixture.timesliceMs / 2).length;
  return {
    stream: trace.stream,
    packets: packets.length,
    unmatched,
    offsetMs,
    chunkToViewerMs: spread(toChunk),
    captureToViewerMs: spread(toCapture),
    heldPercent: round((held / Math.max(1, toChunk.length)) * 100, 1),
    samples: { chunkToViewerMs: toChunk, captureToViewerMs: toCapture },
  };
}
