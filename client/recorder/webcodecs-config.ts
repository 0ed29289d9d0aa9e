// What the WebCodecs recorder asks of the browser's encoders: the H.264 configuration for a track
// (and a test encode, since a supported configuration may still fail on its first frames), and the
// audio codec to use, AAC where the browser encodes it, else Opus.
import { BroadcastError } from '../protocol.js';
import { readsRawAudio } from './frame-sources.js';
import type { MatroskaAudioTrack } from './matroska-writer.js';
import type { RecorderOptions } from './media-recorder.js';
import { decodesOpus, loadsWasmAac } from './webcodecs-audio.js';

/** How long a test encode may take before H.264 counts as not working. */
const PROBE_TIMEOUT_MS = 3_000;

/** The audio WebCodecs can make for a recording, best first: AAC the server copies, else Opus it encodes. */
const AUDIO_CODECS = [
  { codec: 'aac', webCodecs: 'mp4a.40.2', mime: 'mp4a.40.2' },
  { codec: 'opus', webCodecs: 'opus', mime: 'opus' },
] as const;

/**
 * The H.264 codec string for a picture of this size: Constrained Baseline at the lowest level
 * whose frame size (in 16×16 macroblocks) holds it: 3.1 (720p), 4.0 (1080p), 5.1, 5.2.
 */
export function avcCodec(width: number, height: number): string {
  const macroblocks = Math.ceil(width / 16) * Math.ceil(height / 16);
  const level = macroblocks <= 3_600 ? 0x1f : macroblocks <= 8_192 ? 0x28 : macroblocks <= 22_080 ? 0x33 : 0x34;
  return `avc1.42e0${level.toString(16)}`;
}

/** The track's frame size, even (4:2:0 needs it), or 1280×720 when the browser does not say. */
function videoSize(track: MediaStreamTrack): { width: number; height: number } {
  const { width = 1280, height = 720 } = track.getSettings();
  return { width: width & ~1, height: height & ~1 };
}

export function videoConfig(track: MediaStreamTrack, options: RecorderOptions): VideoEncoderConfig {
  const { width, height } = videoSize(track);
  return {
    codec: avcCodec(width, height),
    width,
    height,
    bitrate: options.videoBitsPerSecond,
    bitrateMode: 'constant',
    latencyMode: 'realtime',
    // A canvas captured without a rate reports none (or 0): 30 until frames say otherwise (frame-rate.ts).
    framerate: track.getSettings().frameRate || 30,
    avc: { format: 'avc' },
  };
}

/**
 * Per VideoEncoder (a page may replace it), per config (codec and size): a test frame came out of
 * it (no second test), or its encoder failed during a broadcast (`auto` takes MediaRecorder from then on).
 */
const verdicts = new WeakMap<typeof VideoEncoder, Map<string, 'encodes' | 'failed'>>();

const configKey = (config: VideoEncoderConfig) => `${config.codec} ${config.width}x${config.height}`;

function verdictsOfThisEncoder(): Map<string, 'encodes' | 'failed'> {
  return verdicts.get(VideoEncoder) ?? verdicts.set(VideoEncoder, new Map()).get(VideoEncoder)!;
}

/** The H.264 encoder failed mid-broadcast with `config`: this page's next `auto` broadcasts with it record with MediaRecorder. */
export function encoderFailed(config: VideoEncoderConfig): void {
  if (typeof VideoEncoder !== 'undefined') verdictsOfThisEncoder().set(configKey(config), 'failed');
}

/**
 * Whether this browser encodes H.264 at this track's size: the config is supported *and* a
 * frame comes out (some Linux Firefox builds accept the config, then fail on the first frame).
 * A yes is remembered for the page's next broadcasts; a no is not (a busy page may have been slow);
 * a config whose encoder failed during a broadcast is a no from then on.
 */
export async function canEncodeH264(track: MediaStreamTrack, options: RecorderOptions): Promise<boolean> {
  if (typeof VideoEncoder === 'undefined') return false;
  const config = videoConfig(track, options);
  const key = configKey(config);
  const known = verdictsOfThisEncoder().get(key);
  if (known) return known === 'encodes';
  const works = await encodesAFrame(config);
  // A failure during the test, or meanwhile, is not overwritten; a no is not remembered.
  if (works && !verdictsOfThisEncoder().has(key)) verdictsOfThisEncoder().set(key, 'encodes');
  return works;
}

async function encodesAFrame(config: VideoEncoderConfig): Promise<boolean> {
  try {
    if (!(await VideoEncoder.isConfigSupported(config)).supported) return false;
  } catch {
    return false;
  }
  return new Promise<boolean>((resolve) => {
    const done = (works: boolean): void => {
      clearTimeout(timer);
      if (encoder.state !== 'closed') encoder.close();
      resolve(works);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    const encoder = new VideoEncoder({
      output: (_chunk, metadata) => done(metadata?.decoderConfig?.description !== undefined),
      error: () => done(false),
    });
    try {
      encoder.configure(config);
      const frame = blackFrame(blackPixels(config.width, config.height), config.width, config.height, 0);
      encoder.encode(frame, { keyFrame: true });
      frame.close();
      void encoder.flush().catch(() => done(false));
    } catch {
      done(false);
    }
  });
}

/**
 * How a sound track is encoded where raw audio can be read: AAC by AudioEncoder where the browser
 * has it, else AAC by the WASM encoder (`wasm`), else Opus by AudioEncoder; where raw audio cannot
 * be read (`config` absent), Opus by an audio-only MediaRecorder.
 */
export interface AudioSetup {
  config?: AudioEncoderConfig;
  /** AAC by the WASM encoder (webcodecs-audio.ts loads it), where AudioEncoder has no AAC. */
  wasm?: boolean;
  /** Read as Opus from an audio-only MediaRecorder and decoded (Firefox), for the WASM encoder. */
  fromOpus?: boolean;
  track: MatroskaAudioTrack;
  mime: string;
}

export async function audioSetup(track: MediaStreamTrack, options: RecorderOptions): Promise<AudioSetup> {
  const settings = track.getSettings();
  const channels = Math.min(Math.max(settings.channelCount ?? 2, 1), 2);
  if (!readsRawAudio()) {
    if (!MediaRecorder.isTypeSupported('audio/webm;codecs=opus'))
      throw new BroadcastError('INVALID_MEDIA', 'This browser can read no audio for WebCodecs.');
    // Firefox: its Opus, decoded, becomes AAC by the WASM encoder where it can run.
    const config = { codec: 'mp4a.40.2', sampleRate: 48_000, numberOfChannels: channels, bitrate: options.audioBitsPerSecond };
    if (wasmRuns() && (await decodesOpus(channels)) && (await loadsWasmAac()))
      return { config, mime: 'mp4a.40.2', track: { codec: 'aac', sampleRate: 48_000, channels }, wasm: true, fromOpus: true };
    return { mime: 'opus', track: { codec: 'opus', sampleRate: 48_000, channels } };
  }
  for (const { codec, webCodecs, mime } of AUDIO_CODECS) {
    // AAC encoders take 44.1 or 48 kHz; Opus always runs at 48 kHz.
    const sampleRate = codec === 'aac' && settings.sampleRate === 44_100 ? 44_100 : 48_000;
    const config: AudioEncoderConfig = { codec: webCodecs, sampleRate, numberOfChannels: channels, bitrate: options.audioBitsPerSecond };
    const track: MatroskaAudioTrack = { codec, sampleRate, channels };
    try {
      if ((await AudioEncoder.isConfigSupported(config)).supported) return { config, mime, track };
    } catch {
      // Not this codec.
    }
    if (codec === 'aac' && wasmRuns() && (await loadsWasmAac())) return { config, mime, track, wasm: true };
  }
  throw new BroadcastError('INVALID_MEDIA', 'This browser encodes neither AAC nor Opus with WebCodecs.');
}

/** Whether the WASM AAC encoder can run here: WebAssembly in a worker. */
function wasmRuns(): boolean {
  return typeof WebAssembly === 'object' && typeof Worker === 'function';
}

/** A black I420 picture: Y 16, U and V 128 (studio range). */
export function blackPixels(width: number, height: number): Uint8Array {
  const luma = width * height;
  return new Uint8Array(luma * 1.5).fill(16, 0, luma).fill(128, luma);
}

export function blackFrame(pixels: Uint8Array, width: number, height: number, timestamp: number): VideoFrame {
  return new VideoFrame(pixels, { format: 'I420', codedWidth: width, codedHeight: height, timestamp });
}
