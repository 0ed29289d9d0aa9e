// Frames from a track for WebCodecs, without requestAnimationFrame: MediaStreamTrackProcessor
// where the browser has it (Chromium); elsewhere (Firefox) a video element's
// requestVideoFrameCallback for pictures and an audio-only MediaRecorder's Opus packets for sound.
import { WebmBlockReader } from './webm-blocks.js';

/** Receives each frame; the receiver owns it and must close it. */
export type FrameSink<T> = (frame: T) => void;

/** A running source of frames; `stop()` ends it and releases what it opened. */
export interface FrameSource {
  /** Stops; a source that hands out its last data after that resolves once it has. */
  stop(): void | Promise<void>;
}

/** Chromium's MediaStreamTrackProcessor, not yet in TypeScript's DOM types. */
interface TrackProcessor<T> {
  readonly readable: ReadableStream<T>;
}
type TrackProcessorConstructor = new (init: { track: MediaStreamTrack }) => TrackProcessor<VideoFrame | AudioData>;

function trackProcessor(): TrackProcessorConstructor | undefined {
  return (globalThis as { MediaStreamTrackProcessor?: TrackProcessorConstructor }).MediaStreamTrackProcessor;
}

/**
 * Re-times a source's frames on one clock shared by every source of a recording (microseconds
 * since `origin`, a `performance.now()`): the source's own spacing is kept, and its first frame
 * is placed when it arrived. Audio and video clocks differ between browsers and APIs.
 */
export class SourceClock {
  #offset: number | undefined;
  constructor(private readonly originMs: number) {}

  /** The shared-clock time, in microseconds, of a frame the source stamped `sourceUs`. */
  time(sourceUs: number): number {
    this.#offset ??= (performance.now() - this.originMs) * 1000 - sourceUs;
    return sourceUs + this.#offset;
  }
}

/** Video frames of `track`, stamped on `clock`. `onEnd` runs if the track ends by itself. */
export async function videoFrames(
  track: MediaStreamTrack,
  clock: SourceClock,
  sink: FrameSink<VideoFrame>,
  onEnd: () => void,
): Promise<FrameSource> {
  const Processor = trackProcessor();
  if (Processor) {
    return readAll(
      new Processor({ track }).readable as ReadableStream<VideoFrame>,
      (frame) => {
        const timestamp = clock.time(frame.timestamp);
        const restamped = new VideoFrame(frame, { timestamp });
        frame.close();
        sink(restamped);
      },
      onEnd,
    );
  }
  return videoElementFrames(track, clock, sink, onEnd);
}

/** Whether raw audio can be read from a track here (Chromium); elsewhere see {@link opusPackets}. */
export function readsRawAudio(): boolean {
  return trackProcessor() !== undefined;
}

/** Audio of `track` as planar-float AudioData of `channels` channels, stamped on `clock`; needs {@link readsRawAudio}. */
export function audioFrames(track: MediaStreamTrack, channels: number, clock: SourceClock, sink: FrameSink<AudioData>): FrameSource {
  const Processor = trackProcessor()!;
  return readAll(
    new Processor({ track }).readable as ReadableStream<AudioData>,
    (data) => sink(restampAudio(data, channels, clock.time(data.timestamp))),
    () => {},
  );
}

function readAll<T>(readable: ReadableStream<T>, each: (value: T) => void, onEnd: () => void): FrameSource {
  const reader = readable.getReader();
  let stopped = false;
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        each(value);
      }
    } catch {
      // A stopped track or a cancelled reader: the end either way.
    }
    if (!stopped) onEnd();
  })();
  return {
    stop() {
      stopped = true;
      void reader.cancel().catch(() => {});
    },
  };
}

/**
 * Frames of a playing, detached video element, one per new picture (requestVideoFrameCallback),
 * stamped by the picture's media time. Firefox stops calling back in a hidden tab (0.4 frames a
 * second measured, bench/glass.ts), so a Worker's timer, which is not throttled there, also ticks at
 * the track's frame rate and, while the page is hidden and no callback came for two frame intervals,
 * takes the element's current picture at each tick, stamped by the media clock carried on from the last frame.
 */
function videoElementFrames(track: MediaStreamTrack, clock: SourceClock, sink: FrameSink<VideoFrame>, onEnd: () => void): FrameSource {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  let stopped = false;
  // The last frame handed out: its media time (µs) and when (performance.now()).
  let lastUs = Number.NEGATIVE_INFINITY;
  let lastAt = 0;
  const grab = (sourceUs: number): void => {
    if (stopped || sourceUs <= lastUs) return;
    try {
      sink(new VideoFrame(video, { timestamp: clock.time(sourceUs) }));
      lastUs = sourceUs;
      lastAt = performance.now();
    } catch {
      // No picture yet (0×0): the next callback will have one.
    }
  };
  // When requestVideoFrameCallback last called back: the timer takes over while it is silent.
  let calledBackAt = 0;
  const onFrame = (_now: number, metadata: VideoFrameCallbackMetadata): void => {
    if (stopped) return;
    calledBackAt = performance.now();
    grab(metadata.mediaTime * 1_000_000);
    video.requestVideoFrameCallback(onFrame);
  };
  const intervalMs = 1000 / (track.getSettings().frameRate || 30);
  const timer = backgroundTimer(intervalMs, () => {
    // Only while hidden: in front, the callbacks alone decide (a busy page's late callbacks are not gaps).
    const silent = performance.now() - calledBackAt > 2 * intervalMs;
    if (document.visibilityState === 'hidden' && lastUs > Number.NEGATIVE_INFINITY && silent) {
      grab(lastUs + (performance.now() - lastAt) * 1000);
    }
  });
  const ended = (): void => {
    if (!stopped) onEnd();
  };
  track.addEventListener('ended', ended);
  // Not awaited: play() settles only once the track sends its first picture, which a still canvas
  // or a slow camera may not do for seconds; the recording goes on meanwhile (webcodecs.ts, STILL_US).
  video.play().catch(() => {});
  video.requestVideoFrameCallback(onFrame);
  return {
    stop() {
      stopped = true;
      timer?.terminate();
      track.removeEventListener('ended', ended);
      video.pause();
      video.srcObject = null;
    },
  };
}

/** Calls `tick` every `intervalMs` from a Worker's timer (unthrottled in a hidden tab); undefined where no Worker can start (a CSP without blob: workers). */
export function backgroundTimer(intervalMs: number, tick: () => void): { terminate(): void } | undefined {
  const code = `setInterval(() => postMessage(0), ${Math.max(10, Math.round(intervalMs))})`;
  if (typeof Worker === 'undefined') return undefined;
  const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
  try {
    const worker = new Worker(url);
    worker.onmessage = tick;
    return {
      terminate() {
        worker.terminate();
        URL.revokeObjectURL(url);
      },
    };
  } catch {
    URL.revokeObjectURL(url);
    return undefined;
  }
}

/**
 * Opus packets of `track` from an audio-only MediaRecorder, read out of its WebM as they come, every
 * `timeslice` ms: where there is no MediaStreamTrackProcessor (Firefox), this needs no AudioContext,
 * which Firefox runs only with an audio output device. The WebM's time 0 is placed at the
 * recorder's start. Disabling `track` records silence.
 */
export function opusPackets(
  track: MediaStreamTrack,
  timeslice: number,
  clock: SourceClock,
  sink: (data: Uint8Array, timestampUs: number) => void,
): Promise<FrameSource> {
  const recorder = new MediaRecorder(new MediaStream([track]), { mimeType: 'audio/webm;codecs=opus' });
  const reader = new WebmBlockReader();
  // Blobs are read in order: each read waits for the one before.
  let reading = Promise.resolve();
  recorder.addEventListener('dataavailable', (event) => {
    const bytes = event.data.arrayBuffer();
    reading = reading.then(async () => {
      for (const frame of reader.push(new Uint8Array(await bytes))) sink(frame.data, clock.time(frame.timestampUs));
    });
  });
  return new Promise((resolve, reject) => {
    recorder.addEventListener(
      'start',
      () => {
        clock.time(0);
        resolve({
          // The last packets (up to a timeslice of them) come in a blob after stop(): wait for them.
          stop: () =>
            recorder.state === 'inactive'
              ? reading
              : new Promise<void>((done) => {
                  recorder.addEventListener('stop', () => done(reading.catch(() => {})), { once: true });
                  recorder.stop();
                }),
        });
      },
      { once: true },
    );
    recorder.addEventListener('error', (event) => reject((event as ErrorEvent).error), { once: true });
    recorder.start(timeslice);
  });
}

/**
 * `data` with a new timestamp (AudioData's is read-only), copied as planar float with `channels`
 * channels: a mono track fills both of a stereo encoder's, a third channel and more are left out.
 */
function restampAudio(data: AudioData, channels: number, timestamp: number): AudioData {
  const { numberOfFrames, sampleRate } = data;
  const numberOfChannels = channels;
  const samples = new Float32Array(numberOfFrames * numberOfChannels);
  for (let c = 0; c < numberOfChannels; c++) {
    const planeIndex = Math.min(c, data.numberOfChannels - 1);
    data.copyTo(samples.subarray(c * numberOfFrames, (c + 1) * numberOfFrames), { planeIndex, format: 'f32-planar' });
  }
  data.close();
  return new AudioData({ format: 'f32-planar', sampleRate, numberOfFrames, numberOfChannels, timestamp, data: samples });
}
