// Opening the camera or the screen for <rtmp-broadcaster>: one stream the element owns, opened
// once for the green room and the broadcast that follows, and stopped when it is released.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { BroadcastError } from '../protocol.js';
import { chosenDevice } from './device-picker.controller.js';

/** What the element broadcasts: the camera, the screen, or the page's own `stream`. */
export type BroadcastSource = 'camera' | 'screen' | 'none';

/** What to open, read from the host each time. */
export interface SourceSettings {
  source: BroadcastSource;
  noAudio: boolean;
  width: number;
  height: number;
  framerate?: number;
}

/** The camera or screen (and microphone) the element opened itself; its tracks are its to stop. */
export class MediaSourceController implements ReactiveController {
  /** The open stream, until released. */
  stream: MediaStream | undefined;

  readonly #settings: () => SourceSettings;
  #opening: Promise<MediaStream> | undefined;

  constructor(host: ReactiveControllerHost, settings: () => SourceSettings) {
    this.#settings = settings;
    host.addController(this);
  }

  /** The open stream if its tracks still run, else one opened now (once, for callers at the same time). */
  open(): Promise<MediaStream> {
    const open = this.stream;
    if (open?.getTracks().every((track) => track.readyState === 'live')) return Promise.resolve(open);
    this.#opening ??= openSource(this.#settings())
      .then((stream) => (this.stream = stream))
      .finally(() => (this.#opening = undefined));
    return this.#opening;
  }

  /**
   * Opens the remembered camera (the picture only, at the size asked for) and hands its track to
   * `use` (which puts it on air); once `use` took it, it replaces the old camera in the open stream,
   * which is returned, and the old camera is stopped. If `use` fails, the new camera is stopped and
   * the old one goes on. Nothing happens (undefined) without a camera the element opened.
   */
  async switchCamera(use: (track: MediaStreamTrack) => Promise<void>): Promise<MediaStream | undefined> {
    const open = this.stream;
    if (!open || this.#settings().source !== 'camera') return undefined;
    const camera = await navigator.mediaDevices.getUserMedia({
      video: { ...videoConstraints(this.#settings()), ...chosenDevice('videoinput') },
    });
    const [track] = camera.getVideoTracks();
    try {
      await use(track!);
    } catch (error) {
      stopTracks(camera);
      throw error;
    }
    if (this.stream !== open) {
      // Released meanwhile (the broadcast ended): the new camera is no one's.
      stopTracks(camera);
      return undefined;
    }
    for (const old of open.getVideoTracks()) old.stop();
    this.stream = new MediaStream([track!, ...open.getAudioTracks()]);
    return this.stream;
  }

  /** Stops the tracks the element opened. */
  release(): void {
    stopTracks(this.stream);
    this.stream = undefined;
  }

  hostDisconnected(): void {
    this.release();
  }
}

/** Why the camera, microphone or screen did not open, as the browser told it. */
export function mediaError(source: BroadcastSource, caught: unknown): BroadcastError {
  const what = source === 'screen' ? 'the screen or the microphone' : 'the camera or the microphone';
  const reason = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
  return new BroadcastError('MEDIA_UNAVAILABLE', `Could not open ${what} (${reason}).`);
}

/** The picture's size and frame rate asked for. */
function videoConstraints({ width, height, framerate }: SourceSettings): MediaTrackConstraints {
  return {
    width: { ideal: width },
    height: { ideal: height },
    ...(framerate ? { frameRate: { ideal: framerate } } : {}),
  };
}

/** Opens what `source` names, at the size and frame rate asked for, with the remembered devices. */
async function openSource(settings: SourceSettings): Promise<MediaStream> {
  const { source, noAudio } = settings;
  const video = videoConstraints(settings);
  const audio = chosenDevice('audioinput') ?? true;
  if (source === 'camera') {
    const camera = chosenDevice('videoinput');
    const constraints = { video: { ...video, ...camera }, audio: noAudio ? false : audio };
    return navigator.mediaDevices.getUserMedia(constraints).catch((error: unknown) => {
      // A remembered device since unplugged: open the browser's default instead.
      if (!(error instanceof Error && error.name === 'OverconstrainedError') || !(camera || audio !== true)) throw error;
      return navigator.mediaDevices.getUserMedia({ video, audio: !noAudio });
    });
  }
  // The screen first: browsers let getDisplayMedia open only right after a click.
  const screen = await navigator.mediaDevices.getDisplayMedia({ video, audio: false });
  if (noAudio) return screen;
  try {
    const microphone = await navigator.mediaDevices.getUserMedia({ audio });
    return new MediaStream([...screen.getVideoTracks(), ...microphone.getAudioTracks()]);
  } catch (error) {
    stopTracks(screen);
    throw error;
  }
}

function stopTracks(stream: MediaStream | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
