// The hook of the destination form in <rtmp-broadcaster>: renders <rtmp-destination-form> when the
// `destination-form` attribute is on (loading its module on demand: its own file beside the CDN
// bundle), and tells `start()` where to broadcast and what to refuse before connecting.
import { html, nothing } from 'lit';
import { BroadcastError } from '../protocol.js';
import type { DestinationFormStrings } from './destination-form.js';
import type { RtmpBroadcasterAttributes } from './rtmp-broadcaster.attributes.js';
import { missingScheme } from './rtmp-broadcaster.options.js';
import type { ErrorMessageKey } from './rtmp-broadcaster.strings.js';

/** The form's module is on its way (or here). */
let loaded = false;

/** The form inside <rtmp-broadcaster>, with `destination-form`; its parts are exported. */
export function renderDestinationForm(host: RtmpBroadcasterAttributes, strings: DestinationFormStrings, disabled: boolean) {
  if (!host.destinationForm) return nothing;
  // Defines <rtmp-destination-form>, which then upgrades in place. A failed load leaves `rtmp-url` in use.
  if (!loaded) {
    loaded = true;
    import('./destination-form.js').catch(() => {
      loaded = false;
    });
  }
  return html`<rtmp-destination-form
    part="destination-form"
    exportparts="fieldset, preset-select, url-input, key-input, key-toggle"
    .strings=${strings}
    ?remember-key=${host.rememberKey}
    ?disabled=${disabled}
  ></rtmp-destination-form>`;
}

/**
 * Where `start()` broadcasts: the destination form's URL + '/' + key when the form has a URL, else
 * `rtmp-url`; and what is wrong with it, caught before connecting (the message names no key).
 */
export function destinationOf(host: RtmpBroadcasterAttributes): {
  rtmpUrl: string | string[] | undefined;
  invalid?: { key: ErrorMessageKey; error: BroadcastError };
} {
  const form = host.destinationForm ? host.renderRoot.querySelector('rtmp-destination-form') : null;
  const rtmpUrl = form?.destination ?? host.rtmpUrl;
  if (form?.destination && form.missingKey) {
    return { rtmpUrl, invalid: { key: 'MISSING_KEY', error: new BroadcastError('INVALID_REQUEST', 'The stream key is empty.') } };
  }
  if (missingScheme(rtmpUrl)) {
    const error = new BroadcastError('INVALID_REQUEST', 'The stream URL must start with rtmp:// or rtmps://.');
    return { rtmpUrl, invalid: { key: 'MISSING_SCHEME', error } };
  }
  return { rtmpUrl };
}
