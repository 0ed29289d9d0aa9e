// Reads what a media file really contains with ffprobe, so tests assert on
// the recording nginx wrote rather than on what the code meant to send.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The first video stream of a probed file. */
export interface ProbeVideo {
  codec: string;
  /** e.g. 'Constrained Baseline', 'High'; '' when the codec has no profiles (VP8). */
  profile: string;
  width: number;
  height: number;
  pixFmt: string;
  /** Measured from packet sizes over the stream's time span (b/s), not from metadata. */
  bitRate: number;
  /** Decoded frame count; only with `{ countFrames: true }`. */
  frames?: number;
}

/** The first audio stream of a probed file. */
export interface ProbeAudio {
  codec: string;
  profile: string;
  sampleRate: number;
  channels: number;
  /** Measured from packet sizes over the stream's time span (b/s), not from metadata. */
  bitRate: number;
}

/** What `probe` reports about a media file. */
export interface ProbeResult {
  /** ffprobe's format_name, e.g. 'flv', 'matroska,webm'. */
  format: string;
  video: ProbeVideo;
  audio: ProbeAudio | undefined;
  /** Container duration, else (live-style Matroska states none) the span of all packets; NaN if neither. */
  durationSec: number;
}

interface RawStream {
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  sample_rate?: string;
  channels?: number;
  nb_read_frames?: string;
  index?: number;
}

interface RawPacket {
  stream_index?: number;
  size?: string;
  pts_time?: string;
  duration_time?: string;
}

interface RawProbe {
  streams?: RawStream[];
  packets?: RawPacket[];
  format?: { format_name?: string; duration?: string };
}

// First pts .. last pts + its duration, and payload bytes, of the packets of
// stream `index` (all streams when undefined).
function packetSpan(packets: RawPacket[], index?: number): { seconds: number; bytes: number } {
  let bytes = 0;
  let first = Infinity;
  let end = -Infinity;
  for (const p of packets) {
    if (index !== undefined && p.stream_index !== index) continue;
    bytes += Number(p.size ?? 0);
    const pts = Number(p.pts_time);
    if (!Number.isFinite(pts)) continue;
    first = Math.min(first, pts);
    end = Math.max(end, pts + (Number(p.duration_time) || 0));
  }
  return { seconds: end > first ? end - first : NaN, bytes };
}

function measuredBitRate(packets: RawPacket[], index: number | undefined): number {
  if (index === undefined) return NaN;
  const { seconds, bytes } = packetSpan(packets, index);
  return Math.round((bytes * 8) / seconds);
}

async function ffprobe(args: string[]): Promise<string> {
  // Recordings with many packets print megabytes of JSON/CSV.
  const { stdout } = await run('ffprobe', ['-v', 'error', ...args], { maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/** Probes `file` (throws if it has no video stream). countFrames decodes the whole video, so it is slower. */
export async function probe(file: string, opts: { countFrames?: boolean } = {}): Promise<ProbeResult> {
  const raw = JSON.parse(
    await ffprobe([
      '-show_format',
      '-show_streams',
      // nginx-rtmp recordings carry no bitrate metadata, so measure it.
      '-show_entries',
      'packet=stream_index,size,pts_time,duration_time',
      ...(opts.countFrames ? ['-count_frames'] : []),
      '-of',
      'json',
      file,
    ]),
  ) as RawProbe;
  const streams = raw.streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video');
  const a = streams.find((s) => s.codec_type === 'audio');
  if (!v) throw new Error(`${file} has no video stream (streams: ${streams.map((s) => s.codec_name).join(', ') || 'none'})`);
  const video: ProbeVideo = {
    codec: v.codec_name ?? '',
    profile: v.profile ?? '',
    width: v.width ?? 0,
    height: v.height ?? 0,
    pixFmt: v.pix_fmt ?? '',
    bitRate: measuredBitRate(raw.packets ?? [], v.index),
  };
  if (opts.countFrames) video.frames = Number(v.nb_read_frames);
  const audio: ProbeAudio | undefined = a && {
    codec: a.codec_name ?? '',
    profile: a.profile ?? '',
    sampleRate: Number(a.sample_rate),
    channels: a.channels ?? 0,
    bitRate: measuredBitRate(raw.packets ?? [], a.index),
  };
  const duration = raw.format?.duration;
  return {
    format: raw.format?.format_name ?? '',
    video,
    audio,
    durationSec: duration === undefined ? packetSpan(raw.packets ?? []).seconds : Number(duration),
  };
}

/** Presentation times (seconds, ascending) of the video keyframes in `file`, read from packet flags without decoding. */
export async function keyframeTimes(file: string): Promise<number[]> {
  const out = await ffprobe(['-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file]);
  const times: number[] = [];
  for (const line of out.split('\n')) {
    const [pts, flags] = line.trim().split(',');
    if (flags?.includes('K') && pts && pts !== 'N/A') times.push(Number(pts));
  }
  return times.sort((x, y) => x - y);
}

/** Presentation times (seconds, ascending) of every video packet in `file`: one per frame, so gaps show frames that never arrived. */
export async function videoPacketTimes(file: string): Promise<number[]> {
  const out = await ffprobe(['-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file]);
  return out
    .split('\n')
    .map((line) => line.trim())
    .filter((pts) => pts !== '' && pts !== 'N/A')
    .map(Number)
    .sort((x, y) => x - y);
}

/**
 * Brightest luma (0–255) of each decoded video frame of `file`, with its time: black frames stay
 * near 16, a picture has bright parts. With `crop` (ffmpeg's crop filter: `w:h:x:y`, expressions
 * of `iw` and `ih`), of that part of each frame.
 */
export async function lumaTimeline(file: string, crop?: string): Promise<{ time: number; luma: number }[]> {
  if (crop !== undefined && !/^[\w*/+.-]+(:[\w*/+.-]+){3}$/.test(crop)) throw new Error(`not a crop: ${crop}`);
  const { stdout } = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostats',
      '-v',
      'error',
      '-i',
      file,
      '-an',
      '-vf',
      `${crop ? `crop=${crop},` : ''}signalstats,metadata=print:key=lavfi.signalstats.YMAX:file=-`,
      '-f',
      'null',
      '-',
    ],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return [...stdout.matchAll(/pts_time:(\S+)\s+lavfi\.signalstats\.YMAX=([\d.]+)/g)].map((match) => ({
    time: Number(match[1]),
    luma: Number(match[2]),
  }));
}

/** Peak level (dBFS; -inf for digital silence) of each decoded audio frame of `file`, with its time (ffmpeg's astats). */
export async function loudnessTimeline(file: string): Promise<{ time: number; peakDb: number }[]> {
  const { stdout } = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostats',
      '-v',
      'error',
      '-i',
      file,
      '-vn',
      '-af',
      'astats=metadata=1:reset=1,ametadata=print:key=lavfi.astats.Overall.Peak_level:file=-',
      '-f',
      'null',
      '-',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return [...stdout.matchAll(/pts_time:(\S+)\s+lavfi\.astats\.Overall\.Peak_level=(\S+)/g)].map((match) => ({
    time: Number(match[1]),
    peakDb: match[2] === '-inf' ? -Infinity : Number(match[2]),
  }));
}
