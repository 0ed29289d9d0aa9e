// Picks and builds the recorder for a broadcast: WebCodecs or MediaRecorder, as the `recorder` option says.
import type { FrameDivisor } from '../bitrate-controller.js';
import { Recorder, type RecorderOptions } from './media-recorder.js';

/** Which recorder a broadcast uses: `auto` takes WebCodecs where this browser really encodes H.264, else MediaRecorder. */
export type RecorderChoice = 'auto' | 'webcodecs' | 'mediarecorder';

/** The recorder choices, for option checks. */
export const RECORDER_CHOICES: readonly RecorderChoice[] = ['auto', 'webcodecs', 'mediarecorder'];

/** What the client needs of a recorder, whichever records. */
export type StreamRecorder = Pick<Recorder, 'mimeType' | 'start' | 'stop' | 'discard' | 'restart' | 'setPaused' | 'setMuted'> & {
  /** Which recorder it is: `auto` hands a failing WebCodecs one over to MediaRecorder before on air. */
  readonly kind: 'mediarecorder' | 'webcodecs';
  /** Aims the video encoder at a new bitrate, and every frame (1), every other (2) or every fourth (4); only recorders that can (WebCodecs). */
  setVideoBitrate?(bitsPerSecond: number, frameDivisor: FrameDivisor): void;
  /** How long a new video bitrate can take to show in what the recorder hands out, in milliseconds (adaptive bitrate waits that long before it lowers again). */
  readonly bitrateEffectMs?: number;
  /** Records another video track from now on, in the same recording; only recorders that can (WebCodecs). */
  replaceVideoTrack?(track: MediaStreamTrack): Promise<void>;
};

/**
 * Milliseconds of media per chunk when the page sets no `timeslice`, per recorder. MediaRecorder's
 * 200 ms was chosen with the bench. The WebCodecs recorder's chunks are its own Matroska blocks (its
 * Clusters start on keyframes, not on chunks): a shorter chunk shortens the delay from glass to
 * ingest, and a longer one costs the server less (each message wakes its Node and its ffmpeg).
 * 150 ms keeps both of issue 18's targets, measured side by side (docs/performance.md): glass to
 * ingest p95 195-232 ms (100 ms: 150-162), server CPU at N = 10 ~0.0056 CPU-s per media-second
 * per broadcast (100 ms: ~0.0062-0.0069).
 */
export const DEFAULT_TIMESLICE = { mediarecorder: 200, webcodecs: 150 } as const;

/**
 * The recorder for `stream`. The WebCodecs one loads on demand, so pages that never use it do
 * not download it. Throws INVALID_MEDIA when the chosen recorder cannot record this stream.
 */
export async function createRecorder(
  choice: RecorderChoice,
  stream: MediaStream,
  given: Omit<RecorderOptions, 'timeslice'> & { timeslice?: number | undefined },
): Promise<StreamRecorder> {
  const options = (kind: keyof typeof DEFAULT_TIMESLICE) => ({ ...given, timeslice: given.timeslice ?? DEFAULT_TIMESLICE[kind] });
  if (choice === 'mediarecorder') return new Recorder(stream, options('mediarecorder'));
  const [video] = stream.getVideoTracks();
  const webcodecs = await import('./webcodecs.js');
  if (choice === 'webcodecs') return webcodecs.WebCodecsRecorder.create(stream, options('webcodecs'));
  if (video && (await webcodecs.canEncodeH264(video, options('webcodecs')))) {
    // Still MediaRecorder if WebCodecs has H.264 but no audio codec the server reads.
    const recorder = await webcodecs.WebCodecsRecorder.create(stream, options('webcodecs')).catch(() => undefined);
    if (recorder) return recorder;
  }
  return new Recorder(stream, options('mediarecorder'));
}
