// <rtmp-destination-form>: where <rtmp-broadcaster destination-form> broadcasts, as a streaming
// service hands it out: a server URL (filled in by a preset) and a stream key, kept apart and
// joined as URL + '/' + key. The key is masked (a show toggle reveals it), stays in memory unless
// the page opts in with `remember-key`, and is never put in an event, a message or a log. Loaded
// on demand by rtmp-broadcaster.destination.ts, so pages without the form do not carry it.
import { css, html, LitElement } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { RtmpBroadcasterStrings } from './rtmp-broadcaster.strings.js';
import { en } from './strings/en.js';

/** A streaming service's ingest: the server URL it hands out beside the stream key. */
export interface DestinationPreset {
  id: string;
  label: string;
  url: string;
}

/** The services offered, their ingest URLs as their help pages give them; `custom` is any URL. */
export const DESTINATION_PRESETS: readonly DestinationPreset[] = [
  { id: 'youtube', label: 'YouTube', url: 'rtmp://a.rtmp.youtube.com/live2' },
  { id: 'youtube-rtmps', label: 'YouTube (RTMPS)', url: 'rtmps://a.rtmps.youtube.com:443/live2' },
  { id: 'twitch', label: 'Twitch', url: 'rtmp://live.twitch.tv/app' },
  { id: 'facebook', label: 'Facebook Live', url: 'rtmps://live-api-s.facebook.com:443/rtmp/' },
];

/** The form's words, part of the element's {@link RtmpBroadcasterStrings}. */
export type DestinationFormStrings = Pick<
  RtmpBroadcasterStrings,
  'destination' | 'service' | 'customService' | 'serverUrl' | 'streamKey' | 'showKey' | 'streamKeyHint'
>;

/** Where the stored choices live: the service and URL always; the key only with `remember-key`. */
const STORAGE = { choice: 'rtmp-broadcaster:destination', key: 'rtmp-broadcaster:stream-key' };

/**
 * The destination the client sends: the server URL, then one '/', then the key, whatever slashes
 * either brings (`rtmp://live.twitch.tv/app/` + `/abc` is `rtmp://live.twitch.tv/app/abc`); the
 * URL alone without a key; undefined without a URL.
 */
export function joinDestination(url: string, key: string): string | undefined {
  const server = url.trim();
  const name = key.trim().replace(/^\/+/, '');
  if (!server) return undefined;
  return name ? `${server.replace(/\/+$/, '')}/${name}` : server;
}

function stored(name: string): string | null {
  try {
    return localStorage.getItem(name);
  } catch {
    return null;
  }
}

function store(name: string, value: string | undefined): void {
  try {
    if (value === undefined) localStorage.removeItem(name);
    else localStorage.setItem(name, value);
  } catch {
    // Storage off (private mode, a sandbox): the form still works, it only forgets.
  }
}

/**
 * The destination fields of `<rtmp-broadcaster destination-form>`, in its shadow root.
 *
 * @csspart fieldset - The `<fieldset>`, its legend "Destination".
 * @csspart preset-select - The service picker (`<select>`): YouTube, YouTube (RTMPS), Twitch, Facebook Live, Custom.
 * @csspart url-input - The server URL; a preset fills it in, editing it makes the choice Custom.
 * @csspart key-input - The stream key, `type="password"` until the toggle shows it.
 * @csspart key-toggle - The show-key toggle (`aria-pressed="true"` while the key shows).
 */
export class RtmpDestinationForm extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    fieldset {
      min-inline-size: 0;
      margin: 0;
      border: 0;
      padding: 0.75em 0.75em 0;
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(min(100%, 12em), 1fr));
      gap: 0.5em 1em;
    }
    legend {
      padding: 0.75em 0 0;
      font-weight: 600;
      float: left;
      grid-column: 1 / -1;
    }
    .field,
    .hint {
      display: grid;
      gap: 0.25em;
      min-width: 0;
    }
    .hint {
      grid-column: 1 / -1;
      margin: 0;
      opacity: 0.8;
      font-size: 0.9em;
    }
    .row {
      display: flex;
      gap: 0.5em;
      min-width: 0;
    }
    input,
    select,
    button {
      font: inherit;
      color: inherit;
      background: transparent;
      border: 1px solid currentColor;
      border-radius: calc(var(--rtmp-broadcaster-radius, 8px) / 2);
      padding: 0.35em 0.5em;
      min-width: 0;
    }
    select option {
      color: CanvasText;
      background: Canvas;
    }
    input {
      flex: 1;
    }
    button {
      cursor: pointer;
      padding-inline: 0.8em;
    }
    button[aria-pressed='true'] {
      color: var(--rtmp-broadcaster-background, var(--_background, #1c1c1e));
      background: var(--rtmp-broadcaster-color, var(--_color, #fff));
    }
    input:focus-visible,
    select:focus-visible,
    button:focus-visible {
      outline: 2px solid var(--rtmp-broadcaster-focus-color, var(--_focus-color, #90caf9));
      outline-offset: 2px;
    }
    fieldset:disabled {
      opacity: 0.6;
    }
  `;

  /** The element's words; English when the page sets none. */
  @property({ attribute: false }) strings: DestinationFormStrings = en;

  /** Keeps the stream key in localStorage; without it the key lives only in this page. */
  @property({ attribute: 'remember-key', type: Boolean }) rememberKey = false;

  /** Locks the fields while a broadcast runs. */
  @property({ type: Boolean, reflect: true }) disabled = false;

  /** The chosen service: a preset's id, or `custom` (the first choice: no URL, so `rtmp-url` or the server decides). */
  @state() preset = 'custom';
  @state() private url = '';
  @state() private key = '';
  @state() private keyShown = false;

  /** The destination the broadcast goes to: URL + '/' + key; undefined while the URL is empty. */
  get destination(): string | undefined {
    return joinDestination(this.url, this.key);
  }

  /** A service was picked (not Custom) and its key is still empty. */
  get missingKey(): boolean {
    return this.preset !== 'custom' && !this.key.trim();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const choice = stored(STORAGE.choice);
    if (choice) {
      try {
        const { preset, url } = JSON.parse(choice) as { preset?: unknown; url?: unknown };
        if (typeof preset === 'string' && typeof url === 'string') Object.assign(this, { preset, url });
      } catch {
        // A broken entry is ignored.
      }
    }
    if (this.rememberKey) this.key = stored(STORAGE.key) ?? '';
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('preset') || changed.has('url')) store(STORAGE.choice, JSON.stringify({ preset: this.preset, url: this.url }));
    // Without `remember-key`, a key stored earlier is forgotten too.
    if (changed.has('key') || changed.has('rememberKey')) store(STORAGE.key, this.rememberKey && this.key ? this.key : undefined);
  }

  #onPreset(event: Event): void {
    this.preset = (event.target as HTMLSelectElement).value;
    const preset = DESTINATION_PRESETS.find(({ id }) => id === this.preset);
    if (preset) this.url = preset.url;
  }

  #onUrl(event: Event): void {
    this.url = (event.target as HTMLInputElement).value;
    // An edited preset URL is a custom one.
    if (DESTINATION_PRESETS.find(({ id }) => id === this.preset)?.url !== this.url.trim()) this.preset = 'custom';
  }

  override render() {
    const strings = this.strings;
    return html`
      <fieldset part="fieldset" ?disabled=${this.disabled}>
        <legend>${strings.destination}</legend>
        <div class="field">
          <label for="preset">${strings.service}</label>
          <select id="preset" part="preset-select" .value=${this.preset} @change=${this.#onPreset}>
            ${DESTINATION_PRESETS.map(({ id, label }) => html`<option value=${id} ?selected=${id === this.preset}>${label}</option>`)}
            <option value="custom" ?selected=${this.preset === 'custom'}>${strings.customService}</option>
          </select>
        </div>
        <div class="field">
          <label for="url">${strings.serverUrl}</label>
          <input
            id="url"
            part="url-input"
            type="url"
            inputmode="url"
            autocomplete="off"
            spellcheck="false"
            placeholder="rtmp://"
            .value=${this.url}
            @input=${this.#onUrl}
          />
        </div>
        <div class="field">
          <label for="key">${strings.streamKey}</label>
          <span class="row">
            <input
              id="key"
              part="key-input"
              type=${this.keyShown ? 'text' : 'password'}
              autocomplete="off"
              autocapitalize="off"
              spellcheck="false"
              aria-describedby="hint"
              .value=${this.key}
              @input=${(event: Event) => {
                this.key = (event.target as HTMLInputElement).value;
              }}
            />
            <button
              part="key-toggle"
              type="button"
              aria-controls="key"
              aria-pressed=${this.keyShown ? 'true' : 'false'}
              @click=${() => {
                this.keyShown = !this.keyShown;
              }}
            >${strings.showKey}</button>
          </span>
        </div>
        <p id="hint" class="hint">${strings.streamKeyHint}</p>
      </fieldset>
    `;
  }
}

if (!customElements.get('rtmp-destination-form')) customElements.define('rtmp-destination-form', RtmpDestinationForm);

declare global {
  interface HTMLElementTagNameMap {
    'rtmp-destination-form': RtmpDestinationForm;
  }
}
