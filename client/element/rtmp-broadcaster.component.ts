// The <rtmp-broadcaster> element: opens the camera or the screen, shows a preview, and broadcasts
// it through a BroadcastClient, whose events it re-dispatches under its own names.
import { html, nothing } from 'lit';
import { query, state } from 'lit/decorators.js';
import { BroadcastClient, type BroadcastState } from '../broadcast-client.js';
import { BroadcastError } from '../protocol.js';
import { BroadcastController } from './controllers/broadcast.controller.js';
import { DevicePickerController } from './device-picker.controller.js';
import { LevelMeterController } from './level-meter.controller.js';
import { MediaSourceController, mediaError, type BroadcastSource } from './media-source.controller.js';
import { stringsOf, type RtmpBroadcasterStrings } from './rtmp-broadcaster.strings.js';
import { RtmpBroadcasterAttributes } from './rtmp-broadcaster.attributes.js';
import { destinationOf, renderDestinationForm } from './rtmp-broadcaster.destination.js';
import { checkMedia, clientOptions, destinationHosts } from './rtmp-broadcaster.options.js';
import styles from './rtmp-broadcaster.styles.js';
import { isRunning, renderBadge, renderControls } from './rtmp-broadcaster.view.js';

export type { BroadcastSource };
export type { MuteChangeDetail, RtmpBroadcasterEventMap } from './rtmp-broadcaster.events.js';

/**
 * Without `controls` it shows only the preview and the page drives it with `preview()`, `start()`,
 * `pause()`, `resume()` and `stop()`; with `controls` it adds the buttons (a green room first, then
 * one Go live / End broadcast toggle, pause, and mute toggles while on air), an on-air badge, a
 * status line with the upload's health, the microphone meter, device pickers and an error line that
 * says what to do next, in the language of `lang` (English, French). The state is reflected to the
 * `state` attribute and the boolean `live`, `connecting`, `error` and `previewing` attributes, for
 * CSS. After a network drop it is `reconnecting` (still on air) until the server takes the
 * broadcast back or it ends with `rtmp-error`. Tracks the element opened are stopped when the
 * broadcast ends or the element leaves the page (which also stops the broadcast); a page-provided
 * `stream` is left alone. The whole story, with pictures: docs/element.md.
 *
 * @summary Broadcasts the camera or the screen to YouTube, Twitch or any RTMP ingest, through a BroadcastServer.
 *
 * @slot controls - Replaces the built-in buttons (Preview, Go live / End broadcast, Pause/Resume, the mute toggles) (shown with `controls`).
 * @slot status - Replaces the built-in status line: state, elapsed time and bitrate (shown with `controls`).
 *
 * @event {{ state: BroadcastState, previous: BroadcastState }} rtmp-statechange - The broadcast's state changed.
 * @event {{ durationMs: number, frames: number, fps: number, kbps: number, speed: number, destinations?: DestinationStatus[], ackRttMs?: number, backlogRatio: number }} rtmp-stats - Progress from the server, about once a second while live, with the client's `ackRttMs` (a chunk's acknowledgement round trip) and `backlogRatio` (0–1; at 1 `NETWORK_TOO_SLOW`); `destinations` gives each destination's `{ destination, state, retries, durationMs }` (key hidden), in the order given.
 * @event {{ code: ErrorCode, message: string, detail?: string }} rtmp-error - The broadcast failed, or the camera or screen could not be opened (`MEDIA_UNAVAILABLE`); `rtmp-ended` follows. `detail`, what lay underneath (ffmpeg's last log lines, a hook's own error), comes only from a server whose `sendErrorDetails` is on.
 * @event {{ reason: 'stopped' | 'error', error?: { code: ErrorCode, message: string, detail?: string } }} rtmp-ended - The broadcast is over, whatever ended it; once per start.
 * @event {{ audioMuted: boolean, videoMuted: boolean }} rtmp-mutechange - The person pressed the mute-microphone or hide-video button; the detail is what the broadcast carries now. Not fired when the page sets `audioMuted` or `videoMuted`.
 * @event {{ attempt: number, maxAttempts: number, retryInMs: number, error: ErrorPayload, destination?: string, index?: number, remaining?: number, retrying?: boolean }} rtmp-destination-lost - A destination dropped the broadcast: the server reconnects it in `retryInMs`, or gave up on it (`retrying: false`); `index` says which of several, `remaining` how many still take the broadcast.
 * @event {{ attempt: number, destination?: string, index?: number }} rtmp-destination-restored - A dropped destination takes the broadcast again.
 * @event {{ line: string }} rtmp-ffmpeg-output - A line of the server's ffmpeg log, stream key redacted; only from a server whose `sendFfmpegOutput` is on.
 *
 * @csspart base - The wrapper around everything.
 * @csspart preview - The `<video>` showing what is broadcast.
 * @csspart badge - The on-air badge over the preview (LIVE and the elapsed time), with `controls`, while live or paused.
 * @csspart badge-elapsed - The elapsed time (mm:ss) in the badge.
 * @csspart destination-form - The destination form (`destination-form`), under the preview; exports `fieldset`, `preset-select`, `url-input`, `key-input`, `key-toggle`.
 * @csspart bar - The row under the preview holding the controls and the status.
 * @csspart controls - The wrapper around the buttons.
 * @csspart button - Every built-in button.
 * @csspart preview-button - Opens the green room (`preview()`); shown with `controls` until the camera is open.
 * @csspart start-button - The Go live button, the primary action while no broadcast runs.
 * @csspart pause-button - The pause/resume button.
 * @csspart stop-button - The End broadcast button: the same button as Go live, in its place (and keeping the focus) while a broadcast connects, is on air or stops; outlined in the error color, bold.
 * @csspart mic-button - The mute-microphone toggle (`aria-pressed="true"` while muted), shown while on air with audio.
 * @csspart camera-button - The hide-video toggle (`aria-pressed="true"` while hidden), shown while on air.
 * @csspart status - The status line.
 * @csspart state - The state, in the status line.
 * @csspart elapsed - The elapsed time (mm:ss), in the status line.
 * @csspart bitrate - The output bitrate, in the status line (elapsed time and bitrate only while a broadcast runs).
 * @csspart fps - Frames per second written to the destination, in the status line while on air.
 * @csspart delay - The delay to the server (a chunk's acknowledgement round trip), in the status line while on air.
 * @csspart network-warning - Shown while the upload falls behind (a quarter of the send backlog used; full, it ends with `NETWORK_TOO_SLOW`).
 * @csspart spinner - The spinner beside Reconnecting….
 * @csspart reconnect - While reconnecting: why (the server stopped answering, the device is offline, the service dropped the stream) and the seconds left.
 * @csspart summary - After a broadcast that went on air: how long it lasted and its average bitrate, in the status line.
 * @csspart error - The error's own words, from the server, its hooks or the browser (inside the element's one ARIA alert region).
 * @csspart error-help - What went wrong and what to do next, in the element's language, from the error code (inside the element's one ARIA alert region).
 * @csspart meter - The microphone level meter (`role="meter"`, 0–100), while the preview has audio.
 * @csspart meter-level - The filled bar inside the meter.
 * @csspart devices - The wrapper around the device pickers.
 * @csspart camera-select - The camera picker (`<select>`); the choice is remembered in localStorage. On air with the WebCodecs recorder a choice goes out at once, in the same stream; with MediaRecorder it is disabled while a broadcast runs.
 * @csspart mic-select - The microphone picker (`<select>`); the choice is remembered in localStorage. Disabled while a broadcast runs.
 *
 * @cssproperty [--rtmp-broadcaster-accent = #d32f2f] - The Go live button and the on-air dot.
 * @cssproperty [--rtmp-broadcaster-background = #1c1c1e] - The element's background (`#f4f4f5` when the page prefers a light color scheme).
 * @cssproperty [--rtmp-broadcaster-color = #fff] - The text color (`#1c1c1e` in a light color scheme).
 * @cssproperty [--rtmp-broadcaster-error-color = #ffb4ab] - The error message's color (`#b3261e` in a light color scheme).
 * @cssproperty [--rtmp-broadcaster-focus-color = #90caf9] - The focus outline of the buttons (`#1565c0` in a light color scheme).
 * @cssproperty [--rtmp-broadcaster-meter-color = #4caf50] - The microphone level meter's bar (`#2e7d32` in a light color scheme).
 * @cssproperty [--rtmp-broadcaster-radius = 8px] - The corner radius (the buttons take half).
 * @cssproperty [--rtmp-broadcaster-font = 0.875rem/1.4 system-ui, sans-serif] - The font shorthand.
 * @cssproperty [--rtmp-broadcaster-aspect-ratio = 16 / 9] - The preview's aspect ratio.
 */
export class RtmpBroadcaster extends RtmpBroadcasterAttributes {
  static override styles = styles;

  /** What the preview shows: the green room's camera, then what the broadcast records. */
  @state() private broadcastStream?: MediaStream;
  /** In the green room: the camera or screen is open and nothing goes to the server. */
  @state() private previewing = false;

  @query('video', true) private previewVideo!: HTMLVideoElement;

  /** The broadcast: its client, state, figures and error line. */
  readonly #broadcast = new BroadcastController(this, () => {
    this.#media.release();
    this.broadcastStream = undefined;
  });
  /** The camera or screen the element opened itself; its tracks are stopped when the broadcast ends. */
  readonly #media = new MediaSourceController(this, () => this);
  readonly #meter = new LevelMeterController(this);
  readonly #devices = new DevicePickerController(this);
  /** The camera, screen or microphone being opened for the next broadcast. */
  #opening: Promise<MediaStream> | undefined;

  /** Where the broadcast is in its life; reflected to the `state` attribute. */
  get state(): BroadcastState {
    return this.#broadcast.state;
  }

  /** The BroadcastClient of the current (or last) broadcast, once one started. */
  get client(): BroadcastClient | undefined {
    return this.#broadcast.client;
  }

  /** In the green room: the preview shows the camera (or screen) and microphone; nothing is sent. */
  get isPreviewing(): boolean {
    return this.previewing;
  }

  /**
   * Opens the green room: the camera or the screen per `source` (unless `stream` is set) and the
   * microphone, shown in the preview with the level meter and the device pickers; nothing goes to
   * the server. `start()` then broadcasts these very tracks (no second permission prompt). Rejects
   * with `MEDIA_UNAVAILABLE` when they cannot be opened (shown in the error line), or a TypeError
   * naming a wrong attribute. Does nothing while a broadcast runs.
   */
  async preview(): Promise<void> {
    if (isRunning(this.#broadcast.state)) return;
    checkMedia(this);
    this.#broadcast.showError(undefined);
    try {
      const stream = this.stream ?? (await this.#media.open());
      if (!this.isConnected || isRunning(this.#broadcast.state)) return;
      this.broadcastStream = stream;
      this.#setPreviewing(true);
      // Labels come with the permission the stream just got.
      void this.#devices.refresh();
    } catch (caught) {
      const error = mediaError(this.source, caught);
      this.#broadcast.showError({ code: error.code, mediaFailure: (caught as Error | undefined)?.name, message: error.message });
      throw error;
    }
  }

  /**
   * Opens the camera or the screen per `source` (unless `stream` is set, or the green room has
   * them open already), connects, and goes live.
   * Resolves once live; rejects with the BroadcastError that stopped it (also dispatched as
   * `rtmp-error`), or at once with a TypeError naming a wrong attribute or option.
   */
  start(): Promise<void> {
    if (isRunning(this.#broadcast.state)) return Promise.reject(new BroadcastError('ALREADY_STARTED'));
    let client: BroadcastClient;
    const { rtmpUrl, invalid } = destinationOf(this);
    try {
      checkMedia(this);
      client = new BroadcastClient(clientOptions(this, rtmpUrl));
    } catch (error) {
      return Promise.reject(error);
    }
    // Caught before connecting: a URL without its scheme, a service's key left empty.
    if (invalid) return Promise.reject(this.#broadcast.fail(invalid.error, undefined, invalid.key));
    return this.#start(client);
  }

  /** Sends black frames and silence instead of the stream; the broadcast stays on air. */
  pause(): void {
    this.#broadcast.current('paused').pause();
  }

  /** Sends the stream again after `pause()`. */
  resume(): void {
    this.#broadcast.current('resumed').resume();
  }

  /**
   * Sends what is recorded, ends the broadcast, and resolves once the destination has everything.
   * While starting or reconnecting, waits for that first. Resolves at once when nothing is running.
   */
  async stop(): Promise<void> {
    // While the camera opens there is no client yet; once it runs, the client stops even before on air.
    await this.#opening?.catch(() => {});
    await this.#broadcast.client?.stop();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // A failure shows in the error line.
    if (this.autopreview) void this.preview().catch(() => {});
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // The broadcast flushes on its own: the client records clones, not the tracks stopped here.
    void this.stop().catch(() => {});
    this.#setPreviewing(false);
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    // Only when the stream changes: Lit sets an object-valued binding on every render, and each
    // assignment reloads the video (black for a moment), ten times a second with the meter on.
    const shown = this.broadcastStream ?? this.stream ?? null;
    if (this.previewVideo.srcObject !== shown) this.previewVideo.srcObject = shown;
    if (changed.has('audioMuted')) this.#broadcast.client?.setAudioMuted(Boolean(this.audioMuted));
    if (changed.has('videoMuted')) this.#broadcast.client?.setVideoMuted(Boolean(this.videoMuted));
    if (changed.has('broadcastStream') || changed.has('stream') || changed.has('controls')) {
      this.#meter.follow(this.controls ? (this.broadcastStream ?? this.stream) : undefined);
    }
  }

  async #start(client: BroadcastClient): Promise<void> {
    this.#broadcast.begin();
    let stream: MediaStream;
    try {
      this.#opening = this.stream ? Promise.resolve(this.stream) : this.#media.open();
      stream = await this.#opening;
      if (!this.isConnected) throw new BroadcastError('NOT_STARTED', 'The element left the page before the broadcast started.');
    } catch (caught) {
      this.#media.release();
      const error = caught instanceof BroadcastError ? caught : mediaError(this.source, caught);
      this.#broadcast.fail(error, caught instanceof BroadcastError ? undefined : (caught as Error | undefined)?.name);
      throw error;
    }
    client.setAudioMuted(Boolean(this.audioMuted));
    client.setVideoMuted(Boolean(this.videoMuted));
    this.#broadcast.follow(client);
    this.#setPreviewing(false);
    this.broadcastStream = stream;
    // Labels come with the permission the stream just got.
    void this.#devices.refresh();
    await client.start(stream);
  }

  #setPreviewing(previewing: boolean): void {
    this.previewing = previewing;
    this.toggleAttribute('previewing', previewing);
  }

  // Each handler ignores a click its button's state does not allow (the buttons are aria-disabled).

  #onStartClick(): void {
    if (isRunning(this.#broadcast.state)) return;
    // A failed start is shown in the alert below; rtmp-error has already told the page.
    this.start().catch((error: unknown) => {
      if (!(error instanceof BroadcastError))
        this.#broadcast.showError({ message: error instanceof Error ? error.message : String(error) });
    });
  }

  /**
   * The camera and microphone pickers; disabled while a broadcast records the current devices, but
   * for the camera on air with the WebCodecs recorder, which can take another in the same stream.
   */
  #renderDevices(state: BroadcastState, strings: RtmpBroadcasterStrings) {
    const running = isRunning(state);
    const cameraOnAir = this.#broadcast.client?.canReplaceVideoTrack ?? false;
    return this.#devices.render({
      camera: { shown: this.source === 'camera' && !this.stream, label: strings.camera, disabled: running && !cameraOnAir },
      microphone: { shown: !this.noAudio && !this.stream, label: strings.microphone, disabled: running },
      onChange: (kind) => {
        if (kind === 'videoinput' && isRunning(this.#broadcast.state)) {
          void this.#switchCamera();
          return;
        }
        // The green room shows the new device at once.
        if (!this.previewing || !this.#media.stream || isRunning(this.#broadcast.state)) return;
        this.#media.release();
        void this.preview().catch(() => {});
      },
    });
  }

  /** On air, the camera just picked goes out in place of the one before; if it cannot, the error line says why and the old one goes on. */
  async #switchCamera(): Promise<void> {
    const client = this.#broadcast.client;
    if (!client?.canReplaceVideoTrack) return;
    try {
      const stream = await this.#media.switchCamera((track) => client.replaceVideoTrack(track));
      if (stream && this.#broadcast.client === client && isRunning(this.#broadcast.state)) {
        this.broadcastStream = stream;
        this.#broadcast.showError(undefined);
      }
    } catch (caught) {
      const error = caught instanceof BroadcastError ? caught : mediaError('camera', caught);
      const mediaFailure = caught instanceof BroadcastError ? undefined : (caught as Error | undefined)?.name;
      this.#broadcast.showError({ code: error.code, mediaFailure, message: error.message });
    }
  }

  async #onPreviewClick(): Promise<void> {
    // A failure shows in the error line.
    await this.preview().catch(() => {});
    await this.updateComplete;
    // The button is gone once the camera shows: the focus moves on to the next step, going live.
    if (this.previewing && !this.shadowRoot?.activeElement) this.shadowRoot?.querySelector<HTMLElement>('[part~="start-button"]')?.focus();
  }

  #onMuteClick(kind: 'audio' | 'video'): void {
    if (kind === 'audio') this.audioMuted = !this.audioMuted;
    else this.videoMuted = !this.videoMuted;
    this.#broadcast.emit('rtmp-mutechange', { audioMuted: this.audioMuted, videoMuted: this.videoMuted });
  }

  override render() {
    const { state } = this.#broadcast;
    const strings = stringsOf(this);
    return html`
      <div part="base" class="base">
        <video part="preview" class=${this.videoMuted ? 'preview preview--hidden' : 'preview'} tabindex="-1" muted playsinline autoplay .muted=${true}></video>
        ${this.controls ? renderBadge(state, this.#broadcast.stats, strings) : nothing}
        ${renderDestinationForm(this, strings, isRunning(state))}
        ${
          this.controls
            ? renderControls({
                state,
                strings,
                previewing: this.previewing,
                pageStream: this.stream !== undefined,
                ...this.#broadcast.view,
                hosts: destinationHosts(destinationOf(this).rtmpUrl),
                audioMuted: this.audioMuted,
                videoMuted: this.videoMuted,
                hasAudio: (this.broadcastStream?.getAudioTracks().length ?? 0) > 0,
                meterLevel: this.#meter.level,
                devices: this.#renderDevices(state, strings),
                on: {
                  preview: () => void this.#onPreviewClick(),
                  start: () => this.#onStartClick(),
                  pause: () => this.#broadcast.togglePause(),
                  stop: () => void this.stop().catch(() => {}),
                  mute: (kind) => this.#onMuteClick(kind),
                },
              })
            : nothing
        }
      </div>
    `;
  }
}
