// The broadcast behind <rtmp-broadcaster>: holds its BroadcastClient, follows its state, stats and
// errors, re-dispatches its events under the element's names and reflects the state attributes.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { BroadcastClient, BroadcastState, ClientStats } from '../../broadcast-client.js';
import { BroadcastError, DEFAULT_RESUME_WINDOW_MS } from '../../protocol.js';
import type { RtmpBroadcasterEventMap } from '../rtmp-broadcaster.events.js';
import type { ErrorMessageKey } from '../rtmp-broadcaster.strings.js';
import { isOnAir, type ErrorLine } from '../rtmp-broadcaster.view.js';

type Host = ReactiveControllerHost & HTMLElement;

/** The state of the current (or last) broadcast, as the element shows it. */
export class BroadcastController implements ReactiveController {
  state: BroadcastState = 'idle';
  stats: ClientStats | undefined;
  errorLine: ErrorLine | undefined;
  /** The client of the current (or last) broadcast. */
  client: BroadcastClient | undefined;
  /** The sum of the bitrates reported while on air and their count, for the end summary's average. */
  #bitrates = { sum: 0, count: 0 };

  /** While reconnecting: when the next try (a dropped destination) or the deadline comes, and a 1 s ticker. */
  #reconnect: { until: number; destination: boolean; ticker: ReturnType<typeof setInterval> } | undefined;
  /** When the server last said it retries a dropped destination. */
  #nextTry = 0;

  readonly #host: Host;
  readonly #onEnded: () => void;

  /** `onEnded` runs when the client's broadcast is over, before `rtmp-ended` goes out. */
  constructor(host: Host, onEnded: () => void) {
    this.#host = host;
    this.#onEnded = onEnded;
    host.addController(this);
  }

  hostConnected(): void {
    this.#reflect();
  }

  hostDisconnected(): void {
    clearInterval(this.#reconnect?.ticker);
  }

  /** While reconnecting: the seconds left, and why (offline read from `navigator.onLine` at each tick). */
  get reconnect(): { seconds: number; cause: 'destination' | 'offline' | 'server' } | undefined {
    if (!this.#reconnect) return undefined;
    const seconds = Math.max(0, Math.ceil((this.#reconnect.until - Date.now()) / 1000));
    return { seconds, cause: this.#reconnect.destination ? 'destination' : navigator.onLine ? 'server' : 'offline' };
  }

  /** The average of the bitrates reported while on air; undefined before any. */
  get averageKbps(): number | undefined {
    return this.#bitrates.count ? this.#bitrates.sum / this.#bitrates.count : undefined;
  }

  /** What the controls show of the broadcast. */
  get view() {
    return { stats: this.stats, averageKbps: this.averageKbps, errorLine: this.errorLine, reconnect: this.reconnect };
  }

  /** Shows `line` in the error alert (undefined clears it). */
  showError(line: ErrorLine | undefined): void {
    this.errorLine = line;
    this.#host.requestUpdate();
  }

  /** A new broadcast begins: no error, no figures, connecting. */
  begin(): void {
    this.stats = undefined;
    this.#bitrates = { sum: 0, count: 0 };
    this.showError(undefined);
    this.setState('connecting');
  }

  /** Takes `client` as the current broadcast and follows its events. */
  follow(client: BroadcastClient): void {
    this.client = client;
    client.addEventListener('statechange', (event) => this.setState(event.detail.state));
    client.addEventListener('stats', (event) => {
      this.stats = event.detail;
      if (isOnAir(this.state)) this.#bitrates = { sum: this.#bitrates.sum + event.detail.kbps, count: this.#bitrates.count + 1 };
      this.#host.requestUpdate();
      this.emit('rtmp-stats', event.detail);
    });
    client.addEventListener('error', (event) => {
      // A lost connection is the server's silence unless the device itself is offline.
      const offline = event.detail.code === 'DISCONNECTED' && navigator.onLine === false;
      this.showError({ code: event.detail.code, message: event.detail.message, ...(offline ? { helpKey: 'OFFLINE' as const } : {}) });
      this.emit('rtmp-error', event.detail);
    });
    client.addEventListener('ended', (event) => {
      this.#onEnded();
      this.emit('rtmp-ended', event.detail);
    });
    client.addEventListener('ffmpeg-output', (event) => this.emit('rtmp-ffmpeg-output', event.detail));
    client.addEventListener('destination-lost', (event) => {
      this.#nextTry = Date.now() + event.detail.retryInMs;
      if (this.#reconnect) this.#reconnect = { ...this.#reconnect, until: this.#nextTry, destination: true };
      this.emit('rtmp-destination-lost', event.detail);
    });
    client.addEventListener('destination-restored', (event) => this.emit('rtmp-destination-restored', event.detail));
  }

  /** The client of the broadcast under way; not the last one's while the next opens the camera. */
  current(action: 'paused' | 'resumed'): BroadcastClient {
    if (!this.client || this.client.state !== this.state) {
      throw new BroadcastError('NOT_STARTED', `Only a broadcast on air can be ${action}; it is ${this.state}.`);
    }
    return this.client;
  }

  /** The Pause/Resume button: ignored unless live or paused (the button is aria-disabled then). */
  togglePause(): void {
    if (this.state === 'paused') this.current('resumed').resume();
    else if (this.state === 'live') this.current('paused').pause();
  }

  /** A failure before the client took over: reported the way the client would. */
  fail(error: BroadcastError, mediaFailure?: string, helpKey?: ErrorMessageKey): BroadcastError {
    this.setState('error');
    this.showError({ code: error.code, mediaFailure, helpKey, message: error.message });
    const payload = error.toJSON();
    this.emit('rtmp-error', payload);
    this.emit('rtmp-ended', { reason: 'error', error: payload });
    return error;
  }

  setState(state: BroadcastState): void {
    const previous = this.state;
    if (state === previous) return;
    this.state = state;
    this.#followReconnect(state);
    // At once rather than at the next render, so listeners of the event see the attributes too.
    this.#reflect();
    this.#host.requestUpdate();
    this.emit('rtmp-statechange', { state, previous });
  }

  emit<K extends keyof RtmpBroadcasterEventMap>(type: K, detail: RtmpBroadcasterEventMap[K]['detail']): void {
    this.#host.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /** Starts the reconnecting countdown on entering the state, and stops it on leaving. */
  #followReconnect(state: BroadcastState): void {
    if (state !== 'reconnecting') {
      clearInterval(this.#reconnect?.ticker);
      this.#reconnect = undefined;
      return;
    }
    const destination = this.#nextTry > Date.now();
    const until = destination ? this.#nextTry : Date.now() + DEFAULT_RESUME_WINDOW_MS;
    this.#reconnect = { until, destination, ticker: setInterval(() => this.#host.requestUpdate(), 1000) };
  }

  #reflect(): void {
    const host = this.#host;
    host.setAttribute('state', this.state);
    host.toggleAttribute('live', isOnAir(this.state));
    host.toggleAttribute('connecting', this.state === 'connecting');
    host.toggleAttribute('error', this.state === 'error');
  }
}
