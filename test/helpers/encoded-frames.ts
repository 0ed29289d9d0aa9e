// Real encoded frames, as WebCodecs' encoders hand them out, made at test time with ffmpeg: H.264
// access units in AVC format with their avcC, raw AAC frames, Opus packets.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One encoded frame and whether a decoder can start at it. */
export interface EncodedFrame {
  data: Uint8Array;
  keyframe: boolean;
}

/** An H.264 stream as VideoEncoder makes it with `avc: { format: 'avc' }`. */
export interface H264Stream {
  avcC: Uint8Array;
  frames: EncodedFrame[];
}

async function ffmpeg(args: string[]): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args, '-'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** `frames` frames of a test picture from libx264, a keyframe every `gop` frames, no B-frames (as a realtime encoder). */
export async function h264Frames(frames: number, gop: number, width = 320, height = 240): Promise<H264Stream> {
  const annexB = await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${width}x${height}:rate=30`,
    '-frames:v',
    String(frames),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-bf',
    '0',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-x264-params',
    'aud=1',
    '-pix_fmt',
    'yuv420p',
    '-f',
    'h264',
  ]);
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  const units: Uint8Array[][] = [];
  for (const nal of splitAnnexB(annexB)) {
    const type = nal[0]! & 0x1f;
    if (type === 9)
      units.push([]); // access unit delimiter: a new frame
    else if (type === 7) sps = nal;
    else if (type === 8) pps = nal;
    else units.at(-1)!.push(nal);
  }
  if (!sps || !pps) throw new Error('libx264 wrote no SPS/PPS');
  const avcC = new Uint8Array([
    1,
    sps[1]!,
    sps[2]!,
    sps[3]!,
    0xff,
    0xe1,
    sps.length >> 8,
    sps.length & 0xff,
    ...sps,
    1,
    pps.length >> 8,
    pps.length & 0xff,
    ...pps,
  ]);
  return {
    avcC,
    frames: units.map((nals) => ({
      data: Buffer.concat(nals.flatMap((nal) => [lengthPrefix(nal.length), nal])),
      keyframe: nals.some((nal) => (nal[0]! & 0x1f) === 5),
    })),
  };
}

/** `seconds` of a tone as raw AAC-LC frames (1024 samples each), without their ADTS headers. */
export async function aacFrames(seconds: number, sampleRate = 48_000, channels = 2): Promise<Uint8Array[]> {
  const adts = await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=${sampleRate}`,
    '-t',
    String(seconds),
    '-ac',
    String(channels),
    '-c:a',
    'aac',
    '-f',
    'adts',
  ]);
  const frames: Uint8Array[] = [];
  for (let at = 0; at + 7 <= adts.length; ) {
    const length = ((adts[at + 3]! & 0x03) << 11) | (adts[at + 4]! << 3) | (adts[at + 5]! >> 5);
    const headerLength = adts[at + 1]! & 0x01 ? 7 : 9; // protection_absent
    frames.push(adts.subarray(at + headerLength, at + length));
    at += length;
  }
  return frames;
}

/** `seconds` of a tone as 20 ms Opus packets at 48 kHz, and the OpusHead libopus wrote. */
export async function opusPackets(seconds: number, channels = 2): Promise<{ head: Uint8Array; packets: Uint8Array[] }> {
  const ogg = await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    String(seconds),
    '-ac',
    String(channels),
    '-c:a',
    'libopus',
    '-frame_duration',
    '20',
    '-f',
    'ogg',
  ]);
  const packets: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  for (let at = 0; at < ogg.length; ) {
    const segments = ogg[at + 26]!;
    const lacing = ogg.subarray(at + 27, at + 27 + segments);
    let body = at + 27 + segments;
    for (const length of lacing) {
      pending.push(ogg.subarray(body, body + length));
      body += length;
      if (length < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    at = body;
  }
  // The first two packets are OpusHead and OpusTags.
  return { head: packets[0]!, packets: packets.slice(2) };
}

function splitAnnexB(stream: Buffer): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 3 <= stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((start, n) => {
    let end = n + 1 < starts.length ? starts[n + 1]! - 3 : stream.length;
    while (end > start && stream[end - 1] === 0) end--; // a 4-byte start code's leading zero
    return stream.subarray(start, end);
  });
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(length);
  return prefix;
}
