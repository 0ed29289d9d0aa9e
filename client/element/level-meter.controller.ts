// The microphone level meter of <rtmp-broadcaster>: follows the level of a stream's audio with an
// AnalyserNode, ten times a second, and asks the host to render when it changes.
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** Measures the level, 0–100, of the audio of the stream it follows. */
export class LevelMeterController implements ReactiveController {
  /** The level, 0–100, while a stream with audio is followed; undefined otherwise. */
  level: number | undefined;

  readonly #host: ReactiveControllerHost;
  #meter: { context: AudioContext; timer: ReturnType<typeof setInterval> } | undefined;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  /** Follows the first audio track of `stream`; nothing (and no meter) without one. */
  follow(stream: MediaStream | undefined): void {
    this.stop();
    const track = stream?.getAudioTracks()[0];
    if (!track || typeof AudioContext === 'undefined') return;
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const timer = setInterval(() => {
      // Suspended until the page has had a user gesture, in browsers that ask for one.
      if (context.state === 'suspended') void context.resume();
      analyser.getFloatTimeDomainData(samples);
      this.#show(levelOf(samples));
    }, 100);
    this.#meter = { context, timer };
    this.#show(0);
  }

  /** Stops following; the meter goes away. */
  stop(): void {
    if (!this.#meter) return;
    clearInterval(this.#meter.timer);
    void this.#meter.context.close().catch(() => {});
    this.#meter = undefined;
    this.#show(undefined);
  }

  hostDisconnected(): void {
    this.stop();
  }

  #show(level: number | undefined): void {
    if (level === this.level) return;
    this.level = level;
    this.#host.requestUpdate();
  }
}

/** The RMS level of `samples` on a 0–100 scale: -60 dBFS and below reads 0, full scale 100. */
function levelOf(samples: Float32Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  const rms = Math.sqrt(sum / samples.length);
  return rms > 0 ? Math.max(0, Math.min(100, Math.round(((20 * Math.log10(rms) + 60) / 60) * 100))) : 0;
}
