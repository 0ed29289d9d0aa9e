// The camera and microphone pickers of <rtmp-broadcaster>: lists the devices (with names once the
// browser has granted access), follows plugging and unplugging, and remembers the choice.
import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';

/** Where the pickers remember the choice, per kind. */
const STORAGE_KEYS = { videoinput: 'rtmp-broadcaster:camera', audioinput: 'rtmp-broadcaster:microphone' } as const;

/** A kind of device the element can pick. */
export type InputKind = keyof typeof STORAGE_KEYS;

/** What the pickers show and where a choice goes. */
export interface PickerOptions {
  /** `disabled` while a broadcast records the current device and cannot change it. */
  camera: { shown: boolean; label: string; disabled: boolean };
  microphone: { shown: boolean; label: string; disabled: boolean };
  /** After a choice was remembered. */
  onChange(kind: InputKind): void;
}

/** Lists the cameras and microphones, renders their pickers, and stores the choice. */
export class DevicePickerController implements ReactiveController {
  devices: MediaDeviceInfo[] = [];

  readonly #host: ReactiveControllerHost;
  #connection: AbortController | undefined;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {
    this.#connection = new AbortController();
    navigator.mediaDevices?.addEventListener('devicechange', () => void this.refresh(), { signal: this.#connection.signal });
    void this.refresh();
  }

  hostDisconnected(): void {
    this.#connection?.abort();
  }

  /** Lists the devices again: names come only once access was granted. */
  async refresh(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    this.devices = devices.filter((device) => device.deviceId && (device.kind === 'videoinput' || device.kind === 'audioinput'));
    this.#host.requestUpdate();
  }

  /** The camera and microphone pickers (`part="camera-select"`, `part="mic-select"`) in their wrapper. */
  render(options: PickerOptions) {
    const picker = (kind: InputKind, name: string, { label, disabled }: { label: string; disabled: boolean }) => {
      const devices = this.devices.filter((device) => device.kind === kind);
      if (devices.length === 0) return nothing;
      const chosen = storedDevice(kind);
      return html`
        <label class="picker">
          <span class="visually-hidden">${label}</span>
          <select part=${name} class="select" ?disabled=${disabled} @change=${(event: Event) => this.#choose(kind, event, options)}>
            ${devices.map(
              (device, index) =>
                html`<option value=${device.deviceId} ?selected=${device.deviceId === chosen}>${device.label || `${label} ${index + 1}`}</option>`,
            )}
          </select>
        </label>
      `;
    };
    return html`
      <div part="devices" class="devices">
        ${options.camera.shown ? picker('videoinput', 'camera-select', options.camera) : nothing}
        ${options.microphone.shown ? picker('audioinput', 'mic-select', options.microphone) : nothing}
      </div>
    `;
  }

  #choose(kind: InputKind, event: Event, options: PickerOptions): void {
    try {
      localStorage.setItem(STORAGE_KEYS[kind], (event.target as HTMLSelectElement).value);
    } catch {
      // Storage can be off (private browsing, sandboxed frames): the choice lasts until reload.
    }
    options.onChange(kind);
  }
}

/** A constraint for the remembered device (`exact`: browsers may take another for an `ideal` one). */
export function chosenDevice(kind: InputKind): MediaTrackConstraints | undefined {
  const deviceId = storedDevice(kind);
  return deviceId ? { deviceId: { exact: deviceId } } : undefined;
}

/** The deviceId the picker of `kind` remembers, if any. */
function storedDevice(kind: InputKind): string | undefined {
  try {
    return localStorage.getItem(STORAGE_KEYS[kind]) ?? undefined;
  } catch {
    return undefined;
  }
}
