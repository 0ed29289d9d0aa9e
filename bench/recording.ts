// What reached the ingest: nginx records every stream to FLV; counting its packets (no decoding,
// so a hundred recordings take seconds) tells whether every frame sent went out.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Frames and media spans of one FLV recording. */
export interface RecordingContents {
  videoFrames: number;
  /** First video pts to last plus one frame, in seconds. */
  videoSeconds: number;
  audioSeconds: number;
}

function span(times: { pts: number; duration: number }[]): number {
  if (times.length === 0) return 0;
  const first = Math.min(...times.map((t) => t.pts));
  const end = Math.max(...times.map((t) => t.pts + t.duration));
  return end - first;
}

/** Reads the packets of `file` (a recording nginx wrote) with ffprobe. */
export async function readRecording(file: string): Promise<RecordingContents> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'packet=codec_type,pts_time,duration_time', '-of', 'csv=p=0', file],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const video: { pts: number; duration: number }[] = [];
  const audio: { pts: number; duration: number }[] = [];
  for (const line of stdout.split('\n')) {
    const [type, pts, duration] = line.trim().split(',');
    const time = { pts: Number(pts), duration: Number(duration) || 0 };
    if (!Number.isFinite(time.pts)) continue;
    if (type === 'video') video.push(time);
    else if (type === 'audio') audio.push(time);
  }
  // FLV gives video packets no duration: one frame interval stands in for the last one's.
  const frame = video.length > 1 ? span(video) / (video.length - 1) : 0;
  return {
    videoFrames: video.length,
    videoSeconds: span(video) + frame,
    audioSeconds: span(audio),
  };
}
