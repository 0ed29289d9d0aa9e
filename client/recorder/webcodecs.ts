// Records a MediaStream with WebCodecs: H.264 from VideoEncoder (constant bitrate, realtime, a
// keyframe every 2 s and on request) and AAC (where AudioEncoder has it) or Opus, written live
// into Matroska and handed out in chunks every `timeslice`, like the MediaRecorder recorder.
import type { FrameDivisor } from '../bitrate-controller.js';
import { BroadcastError } from '../protocol.js';
import { FrameFitter } from './fit-frame.js';
import { FrameRateMeter } from './frame-rate.js';
import { audioFrames, backgroundTimer, opusPackets, SourceClock, videoFrames, type FrameSource } from './frame-sources.js';
import { MatroskaWriter } from './matroska-writer.js';
import type { RecorderOptions, TrackKind } from './media-recorder.js';
import { type AudioEncoding, decodedOpus, startAudioEncoder } from './webcodecs-audio.js';
import { audioSetup, blackFrame, blackPixels, encoderFailed, videoConfig, type AudioSetup } from './webcodecs-config.js';

export { avcCodec, canEncodeH264 } from './webcodecs-config.js';

/** Viewers can only join a stream at a keyframe, so one every 2 s keeps joining quick. */
const KEYFRAME_INTERVAL_US = 2_000_000;
/** Frames waiting in the encoder beyond which new ones are dropped: the encoder cannot keep up. */
const MAX_ENCODE_QUEUE = 4;
/**
 * A picture at least this often, whatever the source does. A source may send nothing for seconds:
 * a still screen share or canvas sends frames only when something changes, a camera may take
 * seconds to send its first (Chromium's fake camera once sent none to a new track for 7.5 s and
 * once for over 15 s, where the server ends a broadcast that sends nothing). Meanwhile the last
 * picture (black before the first) is encoded again, so the recording starts, and goes on, with
 * its sound and an unbroken picture. The check runs at each chunk's tick, so it repeats a picture
 * once the next tick would be past this; and at stop, so the picture lasts as long as the sound.
 */
const STILL_US = 500_000;
/**
 * Whether this browser's H.264 VideoEncoder ignores a new bitrate given to configure() mid-stream,
 * so that a new bitrate takes a new encoder: Firefox (ESR 153: asked 300 kb/s 2 s into a busy 720p
 * picture at 2.5 Mb/s, it stayed at 1.9-2.7 Mb/s for the next 8 s, in constant and variable
 * bitrate modes alike; a new encoder made 0.6-0.8 Mb/s, as one started at 300 kb/s does).
 * Its configure() with a new frame rate restarts the encoder instead: the ~40 frames it held come
 * out at once (0.5 s of encoding), then a keyframe outside the 2-s schedule and ~1.4 s with no
 * output while the new one fills its lookahead. Its rate control follows the frames' timestamps
 * (1 Mb/s asked at 15 fps made 899 kb/s with a hint of 30 and 951 with 15), so such browsers are
 * told a frame rate only with a new encoder.
 */
const NEW_ENCODER_FOR_BITRATE = typeof navigator !== 'undefined' && /\bFirefox\//.test(navigator.userAgent);
/**
 * Where a new bitrate takes a new encoder, it starts at the next keyframe of the 2-s schedule (so
 * it costs no keyframe of its own: at 1.2 Mb/s each of Firefox's on a busy 720p picture, 100-140 KB,
 * takes most of a second of the uplink), with a flush of what the old one holds...
 */
const ENCODER_SWAP_MAX_WAIT_MS = KEYFRAME_INTERVAL_US / 1_000;
/** ...and only for a change of at least this much (relative); smaller steps wait until they add up. */
const ENCODER_SWAP_STEP = 0.15;
/** How long Firefox's H.264 encoder holds each frame (its libx264 lookahead: 1.3-1.5 s measured at 30 fps). */
const FIREFOX_ENCODER_HOLD_MS = 1_500;

/**
 * Records with WebCodecs into live Matroska. Pausing or muting replaces the frames with black
 * frames or silence (the RTMP output stays alive); the page's own tracks are never touched.
 * `restart()` makes a keyframe at once and hands out a new header before it: a new recording
 * for the server, without stopping the encoders.
 */
export class WebCodecsRecorder {
  readonly kind = 'webcodecs';
  /** The recorder type, sent in the start request: Matroska with H.264 and AAC or Opus. */
  readonly mimeType: string;
  readonly #options: RecorderOptions;
  /** The clone of the picture's track being recorded: frames from any other (a replaced one) are dropped. */
  #videoTrack: MediaStreamTrack;
  readonly #audioTrack: MediaStreamTrack | undefined;
  readonly #videoConfig: VideoEncoderConfig;
  readonly #audio: AudioSetup | undefined;
  #videoEncoder: VideoEncoder | undefined;
  /** The bitrate the current encoder was configured with. */
  #encoderBitrate = 0;
  /** A replaced encoder handing out the frames it held (see NEW_ENCODER_FOR_BITRATE); the current one's wait. */
  #draining: { encoder: VideoEncoder; done: Promise<void>; held: [EncodedVideoChunk, EncodedVideoChunkMetadata | undefined][] } | undefined;
  #audioEncoder: AudioEncoding | undefined;
  #writer: MatroskaWriter | undefined;
  #sources: FrameSource[] = [];
  /** The one of #sources that gives the picture. */
  #videoSource: FrameSource | undefined;
  /** Settles once the last replaceVideoTrack() is done. */
  #replacing: Promise<void> = Promise.resolve();
  /** Bytes written since the last chunk was handed out. */
  #pending: Uint8Array[] = [];
  #flushTimer: { terminate(): void } | undefined;
  #lastKeyframeUs = -Infinity;
  #keyframeRequested = false;
  /** Settles restart() once the keyframe asked for has been written behind a new header. */
  #restarted: (() => void) | undefined;
  #restarting: Promise<void> | undefined;
  #headerDue = true;
  #paused = false;
  readonly #muted = new Set<TrackKind>();
  #stopped = false;
  #discarded = false;
  /** 2 (or 4) while adaptive bitrate cuts the frame rate: only every other (or every fourth) frame is encoded. */
  #frameDivisor: FrameDivisor = 1;
  #framesSeen = 0;
  /** When the recording's clock starts (a performance.now()); its timestamps are microseconds from it. */
  #origin = 0;
  /** When the last frame came from the source, or was repeated, on the recording's clock. */
  #lastFrameUs = 0;
  /** The last frame's timestamp given to the encoder: timestamps only go forward. */
  #lastEncodedUs = -Infinity;
  /** The source's last picture, repeated while the source sends none (see STILL_US). */
  #lastPicture: VideoFrame | undefined;
  /** The bitrate the encoder aims at now (adaptive bitrate moves it). */
  #bitrate: number;
  /** The frame rate the encoder is told: the rate frames really reach it (frame-rate.ts). */
  #framerate: number;
  readonly #frameRate = new FrameRateMeter();
  /** A black picture's pixels, made at the first pause or video mute. */
  #blackPixels: Uint8Array | undefined;
  /** Fits a picture whose shape changed (a phone turned, a window resized) inside the recording's size. */
  readonly #fitter: FrameFitter;

  /** Throws INVALID_MEDIA without a video track or when this browser encodes no audio codec the server reads. */
  static async create(stream: MediaStream, options: RecorderOptions): Promise<WebCodecsRecorder> {
    const [video] = stream.getVideoTracks();
    if (!video) throw new BroadcastError('INVALID_MEDIA', 'The WebCodecs recorder needs a video track.');
    const [audio] = stream.getAudioTracks();
    const audioParts = audio ? await audioSetup(audio, options) : undefined;
    return new WebCodecsRecorder(video, audio, audioParts, options);
  }

  private constructor(
    video: MediaStreamTrack,
    audio: MediaStreamTrack | undefined,
    audioParts: AudioSetup | undefined,
    options: RecorderOptions,
  ) {
    this.#options = options;
    this.#videoTrack = video.clone();
    this.#audioTrack = audio?.clone();
    this.#videoConfig = videoConfig(video, options);
    this.#fitter = new FrameFitter(this.#videoConfig.width, this.#videoConfig.height);
    this.#bitrate = this.#videoConfig.bitrate ?? options.videoBitsPerSecond;
    this.#framerate = this.#videoConfig.framerate ?? 30;
    this.#audio = audioParts;
    this.mimeType = `video/x-matroska;codecs=avc1${audioParts ? `,${audioParts.mime}` : ''}`;
  }

  /** Starts the encoders and the frame sources; rejects with INVALID_MEDIA if the browser cannot. */
  async start(): Promise<void> {
    try {
      this.#videoEncoder = this.#newVideoEncoder(this.#videoConfig);
      const audioConfig = this.#audio?.config;
      if (this.#audio && audioConfig) {
        this.#audioEncoder = await startAudioEncoder(
          { ...this.#audio, config: audioConfig },
          (data, timestamp) => this.#writeAudio(data, timestamp),
          (error) => this.#fail(error),
        );
      }
      const origin = performance.now();
      this.#origin = origin;
      this.#videoSource = await this.#pictureOf(this.#videoTrack);
      this.#sources.push(this.#videoSource);
      if (this.#audioTrack && audioConfig) {
        const clock = new SourceClock(origin);
        const channels = audioConfig.numberOfChannels;
        const encode = (data: AudioData) => this.#encodeAudio(data);
        this.#sources.push(
          this.#audio?.fromOpus
            ? await decodedOpus(this.#audioTrack, channels, this.#options.timeslice, clock, encode, (error) => this.#fail(error))
            : audioFrames(this.#audioTrack, channels, clock, encode),
        );
      } else if (this.#audioTrack) {
        this.#sources.push(
          await opusPackets(this.#audioTrack, this.#options.timeslice, new SourceClock(origin), (data, timestamp) =>
            this.#writeAudio(data, timestamp),
          ),
        );
      }
    } catch (caught) {
      this.discard();
      throw new BroadcastError('INVALID_MEDIA', `The browser cannot encode this stream: ${describe(caught)}`);
    }
    // The page's timer, and while the page is hidden a Worker's too: a hidden tab's own timers run
    // once a second (Firefox), which would send a chunk a second. The page's timer stays the one
    // that counts, so a Worker that cannot start (a CSP without blob: workers) changes nothing.
    const tick = () => {
      this.#keepPictureGoing();
      this.#flush();
    };
    const page = setInterval(tick, this.#options.timeslice);
    const hidden = backgroundTimer(this.#options.timeslice, () => {
      if (document.visibilityState === 'hidden') tick();
    });
    this.#flushTimer = {
      terminate() {
        clearInterval(page);
        hidden?.terminate();
      },
    };
  }

  /**
   * Records `track` (another camera, the screen) from now on instead of the current picture, in the
   * same recording: its frames follow on the recording's clock, a picture of another shape is
   * fitted inside the recording's size, and the last picture is repeated until its first frame.
   * A clone is recorded: the page's tracks are untouched. Rejects with MEDIA_UNAVAILABLE if the
   * browser cannot read `track`; the current picture goes on then.
   */
  replaceVideoTrack(track: MediaStreamTrack): Promise<void> {
    // One at a time: each replaces the picture the one before it left.
    const replacing = this.#replacing.then(() => this.#replaceVideoTrack(track));
    this.#replacing = replacing.catch(() => {});
    return replacing;
  }

  async #replaceVideoTrack(track: MediaStreamTrack): Promise<void> {
    if (this.#stopped) return;
    const previous = this.#videoTrack;
    const clone = track.clone();
    // From here the old source's frames are dropped: its last picture repeats until the new one comes.
    this.#videoTrack = clone;
    let source: FrameSource;
    try {
      source = await this.#pictureOf(clone);
    } catch (caught) {
      clone.stop();
      if (this.#stopped) previous.stop();
      else this.#videoTrack = previous;
      throw new BroadcastError('MEDIA_UNAVAILABLE', `The browser cannot record this picture: ${describe(caught)}`);
    }
    previous.stop();
    if (this.#stopped) {
      // Stopped meanwhile: the old source and the clone were stopped with the others, not this one.
      void source.stop();
      return;
    }
    const replaced = this.#videoSource;
    this.#videoSource = source;
    this.#sources = [source, ...this.#sources.filter((each) => each !== replaced)];
    await replaced?.stop();
  }

  /** The frames of `track` (a clone of the picture's), stamped on the recording's clock, while it is the one recorded. */
  #pictureOf(track: MediaStreamTrack): Promise<FrameSource> {
    const current = () => track === this.#videoTrack;
    return videoFrames(
      track,
      new SourceClock(this.#origin),
      (frame) => (current() ? this.#sourceFrame(frame) : frame.close()),
      // A replaced track's end is no end of the broadcast; the recorded one's is (a screen share the person stopped).
      () => {
        if (current()) this.#ended();
      },
    );
  }

  /** Paused, the recording carries black frames and silence instead of the tracks' content. */
  setPaused(paused: boolean): void {
    this.#paused = paused;
    this.#silenceRecordedAudio();
  }

  /** Muted, the recording carries silence (audio) or black frames (video) for that kind only. */
  setMuted(kind: TrackKind, muted: boolean): void {
    if (muted) this.#muted.add(kind);
    else this.#muted.delete(kind);
    this.#silenceRecordedAudio();
  }

  /** Audio recorded by MediaRecorder is silenced at its (cloned) track: disabled, it records silence. */
  #silenceRecordedAudio(): void {
    if (this.#audioTrack && !this.#audio?.config) this.#audioTrack.enabled = !this.#paused && !this.#muted.has('audio');
  }

  /**
   * Makes the next frame a keyframe and writes a new header before it, so the next chunks open a
   * new recording the server can start a new ffmpeg on; resolves once that keyframe is written.
   */
  restart(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#restarting ??= new Promise<void>((resolve) => {
      this.#restarted = resolve;
      this.#keyframeRequested = true;
      this.#headerDue = true;
    }).finally(() => (this.#restarting = undefined));
    return this.#restarting;
  }

  /**
   * How long a new bitrate can take to show in the chunks: in Firefox, the wait for its new encoder
   * and the frames the old one holds (adaptive bitrate lowering again meanwhile would take the late
   * frames for an encoder above its target: measured in test/client/bitrate-controller.test.ts);
   * elsewhere configure() takes it at once.
   */
  readonly bitrateEffectMs = NEW_ENCODER_FOR_BITRATE ? ENCODER_SWAP_MAX_WAIT_MS + FIREFOX_ENCODER_HOLD_MS : 0;

  /** Aims the H.264 encoder at a new bitrate mid-stream, with every frame (1), every other (2) or every fourth (4). */
  setVideoBitrate(bitsPerSecond: number, frameDivisor: FrameDivisor): void {
    if (frameDivisor !== this.#frameDivisor) {
      // Every other frame dropped (or no longer): half (or twice) the rate, measured anew from there.
      this.#framerate = Math.max(1, (this.#framerate * this.#frameDivisor) / frameDivisor);
      this.#frameRate.reset();
    }
    this.#bitrate = Math.round(bitsPerSecond);
    this.#frameDivisor = frameDivisor;
    this.#reconfigure();
  }

  /** An H.264 encoder configured with `config`, its frames handed to the writer in order. */
  #newVideoEncoder(config: VideoEncoderConfig): VideoEncoder {
    const encoder: VideoEncoder = new VideoEncoder({
      output: (chunk, metadata) => {
        const draining = this.#draining;
        if (encoder === this.#videoEncoder && draining) draining.held.push([chunk, metadata]);
        // A replaced encoder's frames come before the current one's; none of them after a restart's new header is due.
        else if (encoder === this.#videoEncoder || !this.#headerDue) this.#onVideo(chunk, metadata);
      },
      error: (error) => {
        // A replaced encoder's failure loses only the frames it held.
        if (encoder !== this.#videoEncoder) return;
        encoderFailed(this.#videoConfig);
        this.#fail(error);
      },
    });
    encoder.configure(config);
    this.#encoderBitrate = config.bitrate ?? this.#bitrate;
    return encoder;
  }

  /**
   * Tells the encoder the current bitrate and frame rate, mid-stream; where a new bitrate needs a
   * new encoder (see NEW_ENCODER_FOR_BITRATE), both go to the next new encoder, at the next keyframe.
   */
  #reconfigure(): void {
    const encoder = this.#videoEncoder;
    if (this.#stopped || !encoder || encoder.state !== 'configured') return;
    if (!NEW_ENCODER_FOR_BITRATE) encoder.configure(this.#currentConfig());
  }

  /** Whether the next keyframe should start a new encoder: the bitrate changed enough, where that takes one. */
  #newEncoderDue(): boolean {
    if (!NEW_ENCODER_FOR_BITRATE || this.#draining) return false;
    return Math.abs(this.#bitrate - this.#encoderBitrate) >= ENCODER_SWAP_STEP * this.#encoderBitrate;
  }

  /**
   * Replaces the encoder by one at the current bitrate and frame rate, for a keyframe. The old one
   * hands out what it holds (Firefox's ~40 frames) before the new one's frames.
   */
  #swapEncoder(): VideoEncoder {
    const old = this.#videoEncoder!;
    const held: [EncodedVideoChunk, EncodedVideoChunkMetadata | undefined][] = [];
    const done = old
      .flush()
      .catch(() => undefined)
      .then(() => {
        if (old.state !== 'closed') old.close();
        this.#draining = undefined;
        for (const [chunk, metadata] of held) this.#onVideo(chunk, metadata);
      });
    this.#draining = { encoder: old, done, held };
    this.#videoEncoder = this.#newVideoEncoder(this.#currentConfig());
    return this.#videoEncoder;
  }

  /** The encoder's config with the bitrate and frame rate it aims at now. */
  #currentConfig(): VideoEncoderConfig {
    return { ...this.#videoConfig, bitrate: this.#bitrate, framerate: this.#framerate };
  }

  /** Stops recording; resolves once the encoders' last frames have been handed out. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    // A still source's last picture runs to the end, not to its last repeat.
    this.#keepPictureGoing(1_000_000 / this.#framerate);
    this.#stopped = true;
    const draining = this.#stopSources();
    try {
      // The sources' last audio goes to the audio encoder before it is flushed.
      await Promise.all([this.#draining?.done, this.#videoEncoder?.flush(), draining.then(() => this.#audioEncoder?.flush())]);
    } catch (caught) {
      if (!this.#discarded)
        this.#options.onError(new BroadcastError('INVALID_MEDIA', `The browser could not finish encoding: ${describe(caught)}`));
    }
    this.#flush();
    this.#close();
  }

  /** Stops at once and hands out nothing more. */
  discard(): void {
    this.#discarded = true;
    this.#stopped = true;
    this.#stopSources();
    this.#close();
  }

  /** A frame from the source: kept as the last picture, measured, and encoded unless the frame rate is halved. */
  #sourceFrame(captured: VideoFrame): void {
    const encoder = this.#videoEncoder;
    if (this.#stopped || !encoder || encoder.state !== 'configured') {
      captured.close();
      return;
    }
    this.#lastFrameUs = Math.max(this.#lastFrameUs, captured.timestamp);
    this.#lastPicture?.close();
    this.#lastPicture = captured.clone();
    if (this.#frameDivisor > 1 && this.#framesSeen++ % this.#frameDivisor !== 0) {
      captured.close();
      return;
    }
    // The source's rate, measured before the encoder's backlog drops any: measured after, each new
    // hint stalled Firefox's encoder, fewer frames went in, and the hint swung between 10 and 30.
    const framerate = this.#frameRate.frame(captured.timestamp, this.#framerate, (this.#videoConfig.framerate ?? 30) / this.#frameDivisor);
    if (framerate !== undefined) {
      this.#framerate = framerate;
      this.#reconfigure();
    }
    this.#encodeVideo(captured);
  }

  /**
   * Encodes the last picture again (black before the first) if the source sent none for `stillUs`:
   * by default, long enough that waiting for the next tick would leave more than STILL_US between
   * pictures (with long chunks, half of it: a camera's frames are never that far apart).
   */
  #keepPictureGoing(stillUs = Math.max(STILL_US / 2, STILL_US - this.#options.timeslice * 1000)): void {
    const encoder = this.#videoEncoder;
    if (this.#stopped || !encoder || encoder.state !== 'configured') return;
    const now = (performance.now() - this.#origin) * 1000;
    if (now - this.#lastFrameUs < stillUs) return;
    this.#lastFrameUs = now;
    this.#encodeVideo(this.#lastPicture ? new VideoFrame(this.#lastPicture, { timestamp: now }) : this.#blackFrame(now));
  }

  /** A black picture of the encoder's size at `timestamp`; its pixels are made once. */
  #blackFrame(timestamp: number): VideoFrame {
    const { width, height } = this.#videoConfig;
    this.#blackPixels ??= blackPixels(width, height);
    return blackFrame(this.#blackPixels, width, height, timestamp);
  }

  /**
   * Encodes a frame (black instead while paused or video is muted; a picture whose shape changed,
   * fitted inside the recording's size); a keyframe every 2 s, on request, and to open a recording.
   */
  #encodeVideo(captured: VideoFrame): void {
    let encoder = this.#videoEncoder!;
    if (encoder.encodeQueueSize > MAX_ENCODE_QUEUE || captured.timestamp <= this.#lastEncodedUs) {
      captured.close();
      return;
    }
    this.#lastEncodedUs = captured.timestamp;
    let frame: VideoFrame;
    if (this.#paused || this.#muted.has('video')) {
      frame = this.#blackFrame(captured.timestamp);
      captured.close();
    } else {
      frame = this.#fitter.fit(captured);
    }
    const keyFrame = this.#keyframeRequested || frame.timestamp - this.#lastKeyframeUs >= KEYFRAME_INTERVAL_US;
    if (keyFrame) {
      this.#keyframeRequested = false;
      this.#lastKeyframeUs = frame.timestamp;
    }
    // A new recording's keyframe (the first, or a restart's) goes out at once, so the server can
    // publish without waiting: Firefox's H.264 encoder holds ~40 frames (x264's lookahead, ~1.3 s)
    // until flushed. Flushing what it holds costs ~0.6 s of encoding; on a restart those frames
    // belong to the recording being replaced, so they are dropped and the keyframe alone is flushed.
    const opening = keyFrame && this.#headerDue;
    if (opening && this.#restarted) {
      encoder.reset();
      encoder.configure(this.#currentConfig());
      this.#encoderBitrate = this.#bitrate;
    } else if (keyFrame && this.#newEncoderDue()) encoder = this.#swapEncoder();
    encoder.encode(frame, { keyFrame });
    frame.close();
    if (opening) encoder.flush().catch(() => undefined);
  }

  #encodeAudio(data: AudioData): void {
    const encoder = this.#audioEncoder;
    // After stop(), the sources' last audio still comes (a stopping source's stop() waits for it).
    if (this.#discarded || !encoder) {
      data.close();
      return;
    }
    if (this.#paused || this.#muted.has('audio')) {
      const { sampleRate, numberOfFrames, numberOfChannels, timestamp } = data;
      data.close();
      data = new AudioData({
        format: 'f32-planar',
        sampleRate,
        numberOfFrames,
        numberOfChannels,
        timestamp,
        data: new Float32Array(numberOfFrames * numberOfChannels),
      });
    }
    encoder.encode(data);
    data.close();
  }

  #onVideo(chunk: EncodedVideoChunk, metadata: EncodedVideoChunkMetadata | undefined): void {
    const description = metadata?.decoderConfig?.description;
    if (!this.#writer) {
      if (!description) return;
      const { width, height } = this.#videoConfig;
      this.#writer = new MatroskaWriter({
        video: { width, height, avcC: bytesOf(description) },
        ...(this.#audio ? { audio: this.#audio.track } : {}),
      });
    }
    const keyframe = chunk.type === 'key';
    if (keyframe && this.#headerDue) {
      // A new recording begins a chunk: the server recognizes it by its first bytes.
      this.#flush();
      this.#pending.push(this.#writer.header());
      this.#headerDue = false;
    }
    if (this.#headerDue) return;
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    this.#pending.push(this.#writer.video(data, chunk.timestamp, keyframe));
    if (keyframe && this.#restarted) {
      // The server is waiting for this new recording: it goes out now, not at the next tick.
      this.#flush();
      this.#restarted();
      this.#restarted = undefined;
    }
  }

  #writeAudio(data: Uint8Array, timestampUs: number): void {
    if (!this.#writer || this.#headerDue || this.#discarded) return;
    this.#pending.push(this.#writer.audio(data, timestampUs));
  }

  /** Hands out what was written since the last chunk, as one chunk. */
  #flush(): void {
    const parts = this.#pending.filter((part) => part.byteLength > 0);
    this.#pending = [];
    if (parts.length === 0 || this.#discarded) return;
    const chunk = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
    let at = 0;
    for (const part of parts) {
      chunk.set(part, at);
      at += part.byteLength;
    }
    this.#options.onChunk(chunk.buffer);
  }

  #fail(error: Error): void {
    if (this.#stopped) return;
    this.discard();
    this.#options.onError(new BroadcastError('INVALID_MEDIA', `The browser stopped encoding: ${error.message}`));
  }

  /** The video track ended by itself (e.g. the user stopped sharing the screen). */
  #ended(): void {
    if (!this.#stopped) this.#options.onEnd();
  }

  /** Resolves once the sources handed out their last data (Firefox's Opus: its last blob), at most 1 s. */
  #stopSources(): Promise<unknown> {
    const stopped = Promise.all(this.#sources.map((source) => source.stop()));
    this.#sources = [];
    this.#videoTrack.stop();
    this.#audioTrack?.stop();
    return Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  }

  #close(): void {
    this.#flushTimer?.terminate();
    this.#lastPicture?.close();
    this.#lastPicture = undefined;
    if (this.#videoEncoder && this.#videoEncoder.state !== 'closed') this.#videoEncoder.close();
    if (this.#draining && this.#draining.encoder.state !== 'closed') this.#draining.encoder.close();
    this.#audioEncoder?.close();
    this.#restarted?.();
    this.#restarted = undefined;
  }
}

function bytesOf(source: AllowSharedBufferSource): Uint8Array {
  return source instanceof ArrayBuffer || source instanceof SharedArrayBuffer
    ? new Uint8Array(source.slice(0))
    : new Uint8Array(source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength));
}

function describe(caught: unknown): string {
  return caught instanceof Error ? caught.message : String(caught);
}
