// The <rtmp-broadcaster> element: opens the camera or the screen, shows a preview, and broadcasts
// it through a BroadcastClient, whose events it re-dispatches under its own names.
import { html, nothing } from 'lit';
import { query, state } from 'lit/decorators.js';
import { BroadcastClient, type BroadcastState } from '../broadcast-client.js';
import { BroadcastError, type BroadcastStats } from '../protocol.js';
import { DevicePickerController } from './device-picker.controller.js';
import { LevelMeterController } from './level-meter.controller.js';
import { MediaSourceController, mediaError, type BroadcastSource } from './media-source.controller.js';
import { stringsFor, type ErrorMessageKey, type RtmpBroadcasterStrings } from './rtmp-broadcaster.strings.js';
import type { RtmpBroadcasterEventMap } from './rtmp-broadcaster.events.js';
import { RtmpBroadcasterAttributes } from './rtmp-broadcaster.attributes.js';
import { destinationOf, renderDestinationForm } from './rtmp-broadcaster.destination.js';
import { checkMedia, clientOptions } from './rtmp-broadcaster.options.js';
import styles from './rtmp-broadcaster.styles.js';
import { isOnAir, isRunning, renderControls, type ErrorLine } from './rtmp-broadcaster.view.js';

export type { BroadcastSource };
export type { MuteChangeDetail, RtmpBroadcasterEventMap } from './rtmp-broadcaster.events.js';

/**
 * Without `controls` it shows only the preview and the page drives it with `preview()`, `start()`,
 * `pause()`, `resume()` and `stop()`; with `controls` it adds the buttons (a green room first, then
 * one Go live / End broadcast toggle, pause, and mute toggles while on air), a status line, the
 * microphone meter, device pickers and an error line that says what to do next, in the language of
 * `lang` (English, French). The state is reflected to the `state` attribute and the boolean
 * `live`, `connecting`, `error` and `previewing` attributes, for CSS. After a network drop it is
 * `reconnecting` (still on air) until the server takes the broadcast back or it ends with
 * `rtmp-error`. Tracks the element opened are stopped when the broadcast ends or the element leaves
 * the page (which also stops the broadcast); a page-provided `stream` is left alone. The whole
 * story, with pictures: docs/element.md.
 *
 * @summary Broadcasts the camera or the screen to YouTube, Twitch or any RTMP ingest, through a BroadcastServer.
 *
 * @slot controls - Replaces the built-in buttons (Preview, Go live / End broadcast, Pause/Resume, the mute toggles) (shown with `controls`).
 * @slot status - Replaces the built-in status line: state, elapsed time and bitrate (shown with `controls`).
 *
 * @event {{ state: BroadcastState, previous: BroadcastState }} rtmp-statechange - The broadcast's state changed.
 * @event {{ durationMs: number, frames: number, fps: number, kbps: number, speed: number, destinations?: DestinationStatus[] }} rtmp-stats - Progress from the server, about once a second while live; `destinations` gives each destination's `{ destination, state, retries, durationMs }` (key hidden), in the order given.
 * @event {{ code: ErrorCode, message: string, detail?: string }} rtmp-error - The broadcast failed, or the camera or screen could not be opened (`MEDIA_UNAVAILABLE`); `rtmp-ended` follows. `detail`, what lay underneath (ffmpeg's last log lines, a hook's own error), comes only from a server whose `sendErrorDetails` is on.
 * @event {{ reason: 'stopped' | 'error', error?: { code: ErrorCode, message: string, detail?: string } }} rtmp-ended - The broadcast is over, whatever ended it; once per start.
 * @event {{ audioMuted: boolean, videoMuted: boolean }} rtmp-mutechange - The person pressed the mute-microphone or hide-video button; the detail is what the broadcast carries now. Not fired when the page sets `audioMuted` or `videoMuted`.
 * @event {{ attempt: number, maxAttempts: number, retryInMs: number, error: ErrorPayload, destination?: string, index?: number, remaining?: number, retrying?: boolean }} rtmp-destination-lost - A destination dropped the broadcast: the server reconnects it in `retryInMs`, or gave up on it (`retrying: false`); `index` says which of several, `remaining` how many still take the broadcast.
 * @event {{ attempt: number, destination?: string, index?: number }} rtmp-destination-restored - A dropped destination takes the broadcast again.
 * @event {{ line: string }} rtmp-ffmpeg-output - A line of the server's ffmpeg log, stream key redacted; only from a server whose `sendFfmpegOutput` is on.
 *
 * @csspart base - The wrapper around everything.
 * @csspart preview - The `<video>` showing what is broadcast.
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
 * @csspart summary - After a broadcast that went on air: how long it lasted and its average bitrate, in the status line.
 * @csspart error - The error's own words, from the server, its hooks or the browser (inside the element's one ARIA alert region).
 * @csspart error-help - What went wrong and what to do next, in the element's language, from the error code (inside the element's one ARIA alert region).
 * @csspart meter - The microphone level meter (`role="meter"`, 0–100), while the preview has audio.
 * @csspart meter-level - The filled bar inside the meter.
 * @csspart devices - The wrapper around the device pickers.
 * @csspart camera-select - The camera picker (`<select>`); the choice is remembered in localStorage.
 * @csspart mic-select - The microphone picker (`<select>`); the choice is remembered in localStorage.
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

  @state() private broadcastState: BroadcastState = 'idle';
  @state() private stats?: BroadcastStats;
  /** The sum of the bitrates reported while on air and their count, for the end summary's average. */
  #bitrates = { sum: 0, count: 0 };
  @state() private errorLine?: ErrorLine;
  /** What the preview shows: the green room's camera, then what the broadcast records. */
  @state() private broadcastStream?: MediaStream;
  /** In the green room: the camera or screen is open and nothing goes to the server. */
  @state() private previewing = false;

  @query('video', true) private previewVideo!: HTMLVideoElement;

  #client: BroadcastClient | undefined;
  /** The camera or screen the element opened itself; its tracks are stopped when the broadcast ends. */
  readonly #media = new MediaSourceController(this, () => this);
  readonly #meter = new LevelMeterController(this);
  readonly #devices = new DevicePickerController(this);
  /** The camera, screen or microphone being opened for the next broadcast. */
  #opening: Promise<MediaStream> | undefined;

  static override get observedAttributes(): string[] {
    // biome-ignore lint/complexity/noThisInStatic: super's getter must run for this class (Lit finalizes its attributes there), not for LitElement
    return [...super.observedAttributes, 'lang'];
  }

  /** Where the broadcast is in its life; reflected to the `state` attribute. */
  get state(): BroadcastState {
    return this.broadcastState;
  }

  /** The BroadcastClient of the current (or last) broadcast, once one started. */
  get client(): BroadcastClient | undefined {
    return this.#client;
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
    if (isRunning(this.broadcastState)) return;
    checkMedia(this);
    this.errorLine = undefined;
    try {
      const stream = this.stream ?? (await this.#media.open());
      if (!this.isConnected || isRunning(this.broadcastState)) return;
      this.broadcastStream = stream;
      this.#setPreviewing(true);
      // Labels come with the permission the stream just got.
      void this.#devices.refresh();
    } catch (caught) {
      const error = mediaError(this.source, caught);
      this.errorLine = { code: error.code, mediaFailure: (caught as Error | undefined)?.name, message: error.message };
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
    if (isRunning(this.broadcastState)) return Promise.reject(new BroadcastError('ALREADY_STARTED'));
    let client: BroadcastClient;
    const { rtmpUrl, invalid } = destinationOf(this);
    try {
      checkMedia(this);
      client = new BroadcastClient(clientOptions(this, rtmpUrl));
    } catch (error) {
      return Promise.reject(error);
    }
    // Caught before connecting: a URL without its scheme, a service's key left empty.
    if (invalid) return Promise.reject(this.#fail(invalid.error, undefined, invalid.key));
    return this.#start(client);
  }

  /** Sends black frames and silence instead of the stream; the broadcast stays on air. */
  pause(): void {
    this.#currentClient('paused').pause();
  }

  /** Sends the stream again after `pause()`. */
  resume(): void {
    this.#currentClient('resumed').resume();
  }

  /**
   * Sends what is recorded, ends the broadcast, and resolves once the destination has everything.
   * While starting or reconnecting, waits for that first. Resolves at once when nothing is running.
   */
  async stop(): Promise<void> {
    // While the camera opens there is no client yet; once it runs, the client stops even before on air.
    await this.#opening?.catch(() => {});
    await this.#client?.stop();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#reflectState();
    // A failure shows in the error line.
    if (this.autopreview) void this.preview().catch(() => {});
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // The broadcast flushes on its own: the client records clones, not the tracks stopped here.
    void this.stop().catch(() => {});
    this.#setPreviewing(false);
  }

  override attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    super.attributeChangedCallback(name, old, value);
    // `lang` stays the built-in property; the element only re-renders in the new language.
    if (name === 'lang') this.requestUpdate();
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    // Only when the stream changes: Lit sets an object-valued binding on every render, and each
    // assignment reloads the video (black for a moment), ten times a second with the meter on.
    const shown = this.broadcastStream ?? this.stream ?? null;
    if (this.previewVideo.srcObject !== shown) this.previewVideo.srcObject = shown;
    if (changed.has('audioMuted')) this.#client?.setAudioMuted(Boolean(this.audioMuted));
    if (changed.has('videoMuted')) this.#client?.setVideoMuted(Boolean(this.videoMuted));
    if (changed.has('broadcastStream') || changed.has('stream') || changed.has('controls')) {
      this.#meter.follow(this.controls ? (this.broadcastStream ?? this.stream) : undefined);
    }
  }

  async #start(client: BroadcastClient): Promise<void> {
    this.errorLine = undefined;
    this.stats = undefined;
    this.#bitrates = { sum: 0, count: 0 };
    this.#setState('connecting');
    let stream: MediaStream;
    try {
      this.#opening = this.stream ? Promise.resolve(this.stream) : this.#media.open();
      stream = await this.#opening;
      if (!this.isConnected) throw new BroadcastError('NOT_STARTED', 'The element left the page before the broadcast started.');
    } catch (caught) {
      this.#media.release();
      const error = caught instanceof BroadcastError ? caught : mediaError(this.source, caught);
      this.#fail(error, caught instanceof BroadcastError ? undefined : (caught as Error | undefined)?.name);
      throw error;
    }
    this.#client = client;
    client.setAudioMuted(Boolean(this.audioMuted));
    client.setVideoMuted(Boolean(this.videoMuted));
    this.#listen(client);
    this.#setPreviewing(false);
    this.broadcastStream = stream;
    // Labels come with the permission the stream just got.
    void this.#devices.refresh();
    await client.start(stream);
  }

  /** Re-dispatches the client's events under the element's names and follows its state. */
  #listen(client: BroadcastClient): void {
    client.addEventListener('statechange', (event) => this.#setState(event.detail.state));
    client.addEventListener('stats', (event) => {
      this.stats = event.detail;
      if (isOnAir(this.broadcastState)) this.#bitrates = { sum: this.#bitrates.sum + event.detail.kbps, count: this.#bitrates.count + 1 };
      this.#emit('rtmp-stats', event.detail);
    });
    client.addEventListener('error', (event) => {
      this.errorLine = { code: event.detail.code, message: event.detail.message };
      this.#emit('rtmp-error', event.detail);
    });
    client.addEventListener('ended', (event) => {
      this.#media.release();
      this.broadcastStream = undefined;
      this.#emit('rtmp-ended', event.detail);
    });
    client.addEventListener('ffmpeg-output', (event) => this.#emit('rtmp-ffmpeg-output', event.detail));
    client.addEventListener('destination-lost', (event) => this.#emit('rtmp-destination-lost', event.detail));
    client.addEventListener('destination-restored', (event) => this.#emit('rtmp-destination-restored', event.detail));
  }

  #setPreviewing(previewing: boolean): void {
    this.previewing = previewing;
    this.toggleAttribute('previewing', previewing);
  }

  /** The client of the broadcast under way; not the last one's while the next opens the camera. */
  #currentClient(action: 'paused' | 'resumed'): BroadcastClient {
    if (!this.#client || this.#client.state !== this.broadcastState) {
      throw new BroadcastError('NOT_STARTED', `Only a broadcast on air can be ${action}; it is ${this.broadcastState}.`);
    }
    return this.#client;
  }

  /** A failure before the client took over: the element reports it the way the client would. */
  #fail(error: BroadcastError, mediaFailure?: string, helpKey?: ErrorMessageKey): BroadcastError {
    this.#setState('error');
    this.errorLine = { code: error.code, mediaFailure, helpKey, message: error.message };
    const payload = error.toJSON();
    this.#emit('rtmp-error', payload);
    this.#emit('rtmp-ended', { reason: 'error', error: payload });
    return error;
  }

  #setState(state: BroadcastState): void {
    const previous = this.broadcastState;
    if (state === previous) return;
    this.broadcastState = state;
    // At once rather than at the next render, so listeners of the event see the attributes too.
    this.#reflectState();
    this.#emit('rtmp-statechange', { state, previous });
  }

  #reflectState(): void {
    const state = this.broadcastState;
    this.setAttribute('state', state);
    this.toggleAttribute('live', isOnAir(state));
    this.toggleAttribute('connecting', state === 'connecting');
    this.toggleAttribute('error', state === 'error');
  }

  /** The element's words: its language's (its own `lang` or the closest ancestor's), then `strings`. */
  #strings(): RtmpBroadcasterStrings {
    const lang = this.closest('[lang]')?.getAttribute('lang') || document.documentElement.lang || 'en';
    return stringsFor(lang, this.strings);
  }

  #emit<K extends keyof RtmpBroadcasterEventMap>(type: K, detail: RtmpBroadcasterEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  // Each handler ignores a click its button's state does not allow (the buttons are aria-disabled).

  #onStartClick(): void {
    if (isRunning(this.broadcastState)) return;
    // A failed start is shown in the alert below; rtmp-error has already told the page.
    this.start().catch((error: unknown) => {
      if (!(error instanceof BroadcastError)) this.errorLine = { message: error instanceof Error ? error.message : String(error) };
    });
  }

  /** The camera and microphone pickers; disabled while a broadcast records the current devices. */
  #renderDevices(state: BroadcastState, strings: RtmpBroadcasterStrings) {
    return this.#devices.render({
      camera: { shown: this.source === 'camera' && !this.stream, label: strings.camera },
      microphone: { shown: !this.noAudio && !this.stream, label: strings.microphone },
      disabled: isRunning(state),
      onChange: () => {
        // The green room shows the new device at once.
        if (!this.previewing || !this.#media.stream || isRunning(this.broadcastState)) return;
        this.#media.release();
        void this.preview().catch(() => {});
      },
    });
  }

  async #onPreviewClick(): Promise<void> {
    // A failure shows in the error line.
    await this.preview().catch(() => {});
    await this.updateComplete;
    // The button is gone once the camera shows: the focus moves on to the next step, going live.
    if (this.previewing && !this.shadowRoot?.activeElement) this.shadowRoot?.querySelector<HTMLElement>('[part~="start-button"]')?.focus();
  }

  #onPauseClick(): void {
    if (this.broadcastState === 'paused') this.resume();
    else if (this.broadcastState === 'live') this.pause();
  }

  #onMuteClick(kind: 'audio' | 'video'): void {
    if (kind === 'audio') this.audioMuted = !this.audioMuted;
    else this.videoMuted = !this.videoMuted;
    this.#emit('rtmp-mutechange', { audioMuted: this.audioMuted, videoMuted: this.videoMuted });
  }

  override render() {
    const state = this.broadcastState;
    return html`
      <div part="base" class="base">
        <video part="preview" class=${this.videoMuted ? 'preview preview--hidden' : 'preview'} tabindex="-1" muted playsinline autoplay .muted=${true}></video>
        ${renderDestinationForm(this, this.#strings(), isRunning(state))}
        ${
          this.controls
            ? renderControls({
                state,
                strings: this.#strings(),
                previewing: this.previewing,
                pageStream: this.stream !== undefined,
                stats: this.stats,
                averageKbps: this.#bitrates.count ? this.#bitrates.sum / this.#bitrates.count : undefined,
                errorLine: this.errorLine,
                audioMuted: this.audioMuted,
                videoMuted: this.videoMuted,
                hasAudio: (this.broadcastStream?.getAudioTracks().length ?? 0) > 0,
                meterLevel: this.#meter.level,
                devices: this.#renderDevices(state, this.#strings()),
                on: {
                  preview: () => void this.#onPreviewClick(),
                  start: () => this.#onStartClick(),
                  pause: () => this.#onPauseClick(),
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
