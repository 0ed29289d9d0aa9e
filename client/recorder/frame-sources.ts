// Raw frames from a track for WebCodecs, without requestAnimationFrame: MediaStreamTrackProcessor
// where the browser has it (Chromium); elsewhere (Firefox) a video element's
// requestVideoFrameCallback for pictures and an AudioWorklet for sound.

/** Receives each frame; the receiver owns it and must close it. */
export type FrameSink<T> = (frame: T) => void;

/** A running source of frames; `stop()` ends it and releases what it opened. */
export interface FrameSource {
  stop(): void;
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
export async function videoFrames(track: MediaStreamTrack, clock: SourceClock, sink: FrameSink<VideoFrame>, onEnd: () => void): Promise<FrameSource> {
  const Processor = trackProcessor();
  if (Processor) {
    return readAll(new Processor({ track }).readable as ReadableStream<VideoFrame>, (frame) => {
      const timestamp = clock.time(frame.timestamp);
      const restamped = new VideoFrame(frame, { timestamp });
      frame.close();
      sink(restamped);
    }, onEnd);
  }
  return videoElementFrames(track, clock, sink, onEnd);
}

/** Audio of `track` as planar-float AudioData of `channels` channels, stamped on `clock`. */
export async function audioFrames(track: MediaStreamTrack, sampleRate: number, channels: number, clock: SourceClock, sink: FrameSink<AudioData>): Promise<FrameSource> {
  const Processor = trackProcessor();
  if (Processor) {
    return readAll(new Processor({ track }).readable as ReadableStream<AudioData>, (data) => sink(restampAudio(data, channels, clock.time(data.timestamp))), () => {});
  }
  return workletAudio(track, sampleRate, channels, clock, sink);
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
 * stamped by the picture's media time. Firefox keeps calling back in a background tab, unlike
 * requestAnimationFrame.
 */
async function videoElementFrames(track: MediaStreamTrack, clock: SourceClock, sink: FrameSink<VideoFrame>, onEnd: () => void): Promise<FrameSource> {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  let stopped = false;
  const onFrame = (_now: number, metadata: VideoFrameCallbackMetadata): void => {
    if (stopped) return;
    try {
      sink(new VideoFrame(video, { timestamp: clock.time(metadata.mediaTime * 1_000_000) }));
    } catch {
      // No picture yet (0×0): the next callback will have one.
    }
    video.requestVideoFrameCallback(onFrame);
  };
  const ended = (): void => {
    if (!stopped) onEnd();
  };
  track.addEventListener('ended', ended);
  await video.play();
  video.requestVideoFrameCallback(onFrame);
  return {
    stop() {
      stopped = true;
      track.removeEventListener('ended', ended);
      video.pause();
      video.srcObject = null;
    },
  };
}

/** Samples per AudioData from the worklet: 20 ms at 48 kHz, an Opus frame. */
const WORKLET_BATCH = 960;

/** Copies its input to the main thread in batches of WORKLET_BATCH frames, planar. */
const WORKLET_SOURCE = `registerProcessor('rtmp-broadcaster-capture', class extends AudioWorkletProcessor {
  constructor() { super(); this.parts = []; this.frames = 0; }
  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0) {
      this.parts.push(input.map((channel) => channel.slice()));
      this.frames += input[0].length;
      if (this.frames >= ${WORKLET_BATCH}) {
        const channels = this.parts[0].length;
        const planes = [];
        for (let c = 0; c < channels; c++) {
          const plane = new Float32Array(this.frames);
          let at = 0;
          for (const part of this.parts) { plane.set(part[c] ?? part[0], at); at += part[0].length; }
          planes.push(plane);
        }
        this.port.postMessage(planes, planes.map((plane) => plane.buffer));
        this.parts = []; this.frames = 0;
      }
    }
    return true;
  }
});`;

/** The track's sound through an AudioContext at `sampleRate` and an AudioWorklet, as AudioData. */
async function workletAudio(track: MediaStreamTrack, sampleRate: number, channels: number, clock: SourceClock, sink: FrameSink<AudioData>): Promise<FrameSource> {
  const context = new AudioContext({ sampleRate });
  const url = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: 'text/javascript' }));
  try {
    await context.audioWorklet.addModule(url);
  } finally {
    URL.revokeObjectURL(url);
  }
  const source = context.createMediaStreamSource(new MediaStream([track]));
  const node = new AudioWorkletNode(context, 'rtmp-broadcaster-capture', {
    numberOfOutputs: 0,
    // The graph mixes the track to the encoder's channel count.
    channelCount: channels,
    channelCountMode: 'explicit',
  });
  let frames = 0;
  node.port.onmessage = (event: MessageEvent<Float32Array[]>) => {
    const planes = event.data;
    const length = planes[0]!.length;
    const data = new Float32Array(length * planes.length);
    planes.forEach((plane, c) => data.set(plane, c * length));
    sink(new AudioData({ format: 'f32-planar', sampleRate, numberOfFrames: length, numberOfChannels: planes.length, timestamp: clock.time((frames * 1e6) / sampleRate), data }));
    frames += length;
  };
  source.connect(node);
  await context.resume();
  return {
    stop() {
      node.port.onmessage = null;
      source.disconnect();
      void context.close();
    },
  };
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
