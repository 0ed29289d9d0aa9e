// Records a MediaStream into WebM/Matroska (or, in Safari, fragmented MP4) chunks for the server:
// picks the recorder type this browser does best, asks for a keyframe every 2 s, and hands the chunks out in recording order.
import { BroadcastError } from '../protocol.js';
import { chooseMimeType } from './choose.js';

/** Viewers can only join a stream at a keyframe, so one every 2 s keeps joining quick. */
const KEYFRAME_INTERVAL_MS = 2_000;

/**
 * How long a stopped recording may still hand out data after its `stop` event. Firefox, when busy,
 * fires its last `dataavailable` after `stop` (an empty blob comes before `stop` in its place): seen
 * 3 times in 120 stops with both cores loaded, each within the same burst of tasks.
 */
const LATE_DATA_MS = 1_000;

/** Chromium's keyframe option, not yet in TypeScript's DOM types. */
interface KeyframeRecorderOptions extends MediaRecorderOptions {
  videoKeyFrameIntervalDuration?: number;
}

/** How a Recorder records and where its chunks and failures go. */
export interface RecorderOptions {
  videoBitsPerSecond: number;
  audioBitsPerSecond: number;
  /** Milliseconds of media per chunk. */
  timeslice: number;
  /** Receives each chunk's bytes, in recording order. */
  onChunk(chunk: ArrayBuffer): void;
  /** The browser could not record or read a chunk. */
  onError(error: BroadcastError): void;
  /** The recording stopped by itself: every track ended, e.g. the user stopped sharing the screen. */
  onEnd(): void;
}

/** A kind of track the broadcast can silence on its own: the microphone, or the camera/screen. */
export type TrackKind = 'audio' | 'video';

/**
 * A MediaRecorder over clones of a stream's tracks. Pausing disables the clones, so the recorder
 * keeps producing black frames and silence (the RTMP output stays alive) while the page's own
 * tracks, shown in its preview, are untouched. Muting one kind disables only its clones.
 */
export class Recorder {
  readonly kind = 'mediarecorder';
  /** The recorder type asked for; goes in the start request. */
  readonly mimeType: string;
  #recorder: MediaRecorder;
  readonly #recorderOptions: KeyframeRecorderOptions;
  readonly #tracks: MediaStreamTrack[];
  readonly #options: RecorderOptions;
  /** Settles once every chunk so far has been handed out; chains them in order. */
  #delivered: Promise<void> = Promise.resolve();
  #stopRequested = false;
  #discarded = false;
  #paused = false;
  /** Settles once a restart under way has the new recording running. */
  #restarting: Promise<void> | undefined;
  readonly #muted = new Set<TrackKind>();
  /** Recordings that have handed out all they will: anything they fire later is dropped. */
  readonly #finished = new WeakSet<MediaRecorder>();

  /** Throws INVALID_MEDIA when this browser cannot record anything the server reads. */
  constructor(stream: MediaStream, options: RecorderOptions) {
    this.#options = options;
    const hasAudio = stream.getAudioTracks().length > 0;
    const mimeType = chooseMimeType(hasAudio, (type) => MediaRecorder.isTypeSupported(type));
    if (!mimeType) {
      throw new BroadcastError(
        'INVALID_MEDIA',
        'This browser cannot record WebM, Matroska or MP4 with H.264, which the broadcast server needs.',
      );
    }
    this.mimeType = mimeType;
    this.#tracks = stream.getTracks().map((track) => track.clone());
    this.#recorderOptions = {
      mimeType,
      videoBitsPerSecond: options.videoBitsPerSecond,
      audioBitsPerSecond: options.audioBitsPerSecond,
      videoKeyFrameIntervalDuration: KEYFRAME_INTERVAL_MS,
    };
    try {
      this.#recorder = this.#createRecorder();
    } catch (caught) {
      this.#stopTracks();
      throw new BroadcastError('INVALID_MEDIA', `The browser cannot record this stream: ${describe(caught)}`);
    }
  }

  /** A MediaRecorder over the clones; its events count only while it is the current one. */
  #createRecorder(): MediaRecorder {
    const recorder = new MediaRecorder(new MediaStream(this.#tracks), this.#recorderOptions);
    const options = this.#options;
    recorder.addEventListener('dataavailable', (event) => {
      if (!this.#finished.has(recorder)) this.#onData(event.data);
    });
    recorder.addEventListener('error', (event) => {
      if (recorder !== this.#recorder) return;
      options.onError(new BroadcastError('INVALID_MEDIA', `The browser stopped recording: ${describe((event as ErrorEvent).error)}`));
    });
    recorder.addEventListener('stop', () => {
      if (recorder === this.#recorder && !this.#stopRequested) options.onEnd();
    });
    return recorder;
  }

  /** Starts recording; resolves once the browser has, rejects with INVALID_MEDIA if it cannot. */
  start(): Promise<void> {
    const started = new Promise<void>((resolve) => this.#recorder.addEventListener('start', () => resolve(), { once: true }));
    try {
      this.#recorder.start(this.#options.timeslice);
    } catch (caught) {
      return Promise.reject(new BroadcastError('INVALID_MEDIA', `The browser cannot record this stream: ${describe(caught)}`));
    }
    return started;
  }

  /** Paused, the recording carries black frames and silence instead of the tracks' content. */
  setPaused(paused: boolean): void {
    this.#paused = paused;
    this.#applyEnabled();
  }

  /** Muted, the recording carries silence (audio) or black frames (video) for that kind only. */
  setMuted(kind: TrackKind, muted: boolean): void {
    if (muted) this.#muted.add(kind);
    else this.#muted.delete(kind);
    this.#applyEnabled();
  }

  #applyEnabled(): void {
    for (const track of this.#tracks) track.enabled = !this.#paused && !this.#muted.has(track.kind as TrackKind);
  }

  /**
   * Ends the current recording and starts a new one on the same tracks, so the next chunks open a
   * new WebM or MP4 stream (header, then a keyframe): what a server needs to start a new ffmpeg,
   * since browsers make no keyframe on demand (Firefox makes one only at the start of a recording).
   * The old recording's last chunk is handed out first.
   */
  restart(): Promise<void> {
    this.#restarting ??= this.#restart().finally(() => (this.#restarting = undefined));
    return this.#restarting;
  }

  async #restart(): Promise<void> {
    const previous = this.#recorder;
    if (this.#stopRequested || previous.state === 'inactive') return;
    const next = this.#createRecorder();
    this.#recorder = next;
    // The old recording's last data first: the new one opens with its own header.
    await this.#stopRecording(previous);
    if (this.#stopRequested) return;
    const started = new Promise<void>((resolve) => next.addEventListener('start', () => resolve(), { once: true }));
    next.start(this.#options.timeslice);
    await started;
  }

  /** Stops recording; resolves once the last chunk has been handed out. */
  async stop(): Promise<void> {
    await this.#restarting;
    this.#stopRequested = true;
    if (this.#recorder.state !== 'inactive') await this.#stopRecording(this.#recorder);
    this.#finished.add(this.#recorder);
    this.#stopTracks();
    await this.#delivered;
  }

  /**
   * Stops one recording and resolves once it has fired its last data. That is the blob before
   * `stop`, unless that blob is empty: then Firefox may still fire the data it took from it (see
   * LATE_DATA_MS), which is waited for.
   */
  async #stopRecording(recorder: MediaRecorder): Promise<void> {
    let lastSize = 0;
    const onData = (event: BlobEvent) => (lastSize = event.data.size);
    recorder.addEventListener('dataavailable', onData);
    await new Promise((resolve) => {
      recorder.addEventListener('stop', resolve, { once: true });
      recorder.stop();
    });
    recorder.removeEventListener('dataavailable', onData);
    if (lastSize === 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          recorder.removeEventListener('dataavailable', done);
          resolve();
        };
        const timer = setTimeout(done, LATE_DATA_MS);
        recorder.addEventListener('dataavailable', done);
      });
    }
    this.#finished.add(recorder);
  }

  /** Stops at once and hands out nothing more. */
  discard(): void {
    this.#discarded = true;
    this.#stopRequested = true;
    if (this.#recorder.state !== 'inactive') this.#recorder.stop();
    this.#stopTracks();
  }

  #onData(blob: Blob): void {
    if (blob.size === 0 || this.#discarded) return;
    // Reading starts at once; handing out waits for every earlier chunk, so order holds.
    const bytes = blob.arrayBuffer();
    this.#delivered = this.#delivered.then(async () => {
      try {
        const chunk = await bytes;
        if (!this.#discarded) this.#options.onChunk(chunk);
      } catch (caught) {
        this.#options.onError(new BroadcastError('INVALID_MEDIA', `The browser could not read a recorded chunk: ${describe(caught)}`));
      }
    });
  }

  #stopTracks(): void {
    for (const track of this.#tracks) track.stop();
  }
}

function describe(caught: unknown): string {
  return caught instanceof Error ? caught.message : String(caught);
}
