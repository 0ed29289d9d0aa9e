// <rtmp-broadcaster destination-form>: service presets, a server URL and a masked stream key joined
// into the destination, which goes live on the real nginx-rtmp; the key never shows in the status,
// the error line, the events or the server's log. Runs in Chromium and Firefox.
/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys, setViewport } from '@web/test-runner-commands';
// Registers <rtmp-broadcaster>; the name is used only as a type.
import '../../client/element/rtmp-broadcaster.js';
import { joinDestination, type RtmpDestinationForm } from '../../client/element/destination-form.js';
import type { RtmpBroadcaster } from '../../client/element/rtmp-broadcaster.js';
import { broadcastConfig, refusingDestination, rtmpEvents, serverLog, stateReached } from './commands.js';

function formOf(element: RtmpBroadcaster): RtmpDestinationForm {
  return element.shadowRoot!.querySelector('rtmp-destination-form')!;
}

function field<T extends HTMLElement>(element: RtmpBroadcaster, part: string): T {
  return formOf(element).shadowRoot!.querySelector<T>(`[part~="${part}"]`)!;
}

/** Types into a field as a person would: its value, then the `input` (or `change`) event. */
async function fill(element: RtmpBroadcaster, part: string, value: string): Promise<void> {
  const input = field<HTMLInputElement | HTMLSelectElement>(element, part);
  input.value = value;
  input.dispatchEvent(new Event(input instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
  await formOf(element).updateComplete;
}

/** Every text the element shows (input values are not text), and every event's detail. */
function watch(element: RtmpBroadcaster): { said: () => string } {
  const details: unknown[] = [];
  const texts: string[] = [];
  for (const type of ['rtmp-statechange', 'rtmp-stats', 'rtmp-error', 'rtmp-ended', 'rtmp-destination-lost']) {
    element.addEventListener(type, (event) => {
      details.push((event as CustomEvent).detail);
      texts.push(element.shadowRoot!.textContent ?? '');
    });
  }
  return { said: () => `${JSON.stringify(details)}\n${texts.join('\n')}\n${element.shadowRoot!.textContent}` };
}

/** A key no other test uses, and that no other text contains by chance. */
function secretKey(name: string): string {
  return `${navigator.userAgent.includes('Firefox') ? 'firefox' : 'chromium'}-${name}-k3y${Math.random().toString(36).slice(2, 10)}`;
}

describe('<rtmp-broadcaster destination-form>', () => {
  beforeEach(() => localStorage.clear());

  it('joins the server URL and the key with one slash', () => {
    expect(joinDestination('rtmp://live.twitch.tv/app', 'abc')).to.equal('rtmp://live.twitch.tv/app/abc');
    expect(joinDestination('rtmps://live-api-s.facebook.com:443/rtmp/', 'FB-1')).to.equal('rtmps://live-api-s.facebook.com:443/rtmp/FB-1');
    expect(joinDestination(' rtmp://h/app// ', ' /k ')).to.equal('rtmp://h/app/k');
    expect(joinDestination('rtmp://h/app/k', '')).to.equal('rtmp://h/app/k');
    expect(joinDestination('', 'k')).to.equal(undefined);
  });

  it('fills the server URL from the preset; an edited URL makes the choice Custom; labelled fields in a fieldset', async () => {
    const element = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls destination-form></rtmp-broadcaster>`);
    await formOf(element).updateComplete;
    const url = field<HTMLInputElement>(element, 'url-input');
    const select = field<HTMLSelectElement>(element, 'preset-select');
    // Nothing chosen yet: no URL, so the page's `rtmp-url` or the server decides.
    expect(select.value).to.equal('custom');
    expect(url.value).to.equal('');
    const presets: Record<string, string> = {
      youtube: 'rtmp://a.rtmp.youtube.com/live2',
      'youtube-rtmps': 'rtmps://a.rtmps.youtube.com:443/live2',
      twitch: 'rtmp://live.twitch.tv/app',
      facebook: 'rtmps://live-api-s.facebook.com:443/rtmp/',
    };
    for (const [preset, expected] of Object.entries(presets)) {
      await fill(element, 'preset-select', preset);
      expect(url.value, preset).to.equal(expected);
    }
    expect([...select.options].map((option) => option.textContent)).to.deep.equal([
      'YouTube',
      'YouTube (RTMPS)',
      'Twitch',
      'Facebook Live',
      'Custom',
    ]);
    await fill(element, 'url-input', 'rtmp://ingest.example.com/live');
    expect(select.value).to.equal('custom');

    const root = formOf(element).shadowRoot!;
    expect(root.querySelector('fieldset legend')?.textContent).to.equal('Destination');
    for (const control of root.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) {
      expect(control.labels?.[0]?.textContent?.trim(), control.getAttribute('part')!).to.be.oneOf(['Service', 'Server URL', 'Stream key']);
    }
    await expect(element).to.be.accessible();
    // The choice of service and URL is remembered, never the key without remember-key.
    expect(JSON.parse(localStorage.getItem('rtmp-broadcaster:destination')!)).to.deep.equal({
      preset: 'custom',
      url: 'rtmp://ingest.example.com/live',
    });
  });

  it('masks the key; the show toggle reveals it with aria-pressed; it is stored only with remember-key', async () => {
    const element = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls destination-form lang="fr"></rtmp-broadcaster>`);
    await formOf(element).updateComplete;
    const key = field<HTMLInputElement>(element, 'key-input');
    const toggle = field<HTMLButtonElement>(element, 'key-toggle');
    expect(key.type).to.equal('password');
    expect(toggle.getAttribute('aria-pressed')).to.equal('false');
    expect(toggle.textContent).to.equal('Afficher la clé');
    await fill(element, 'key-input', 'secret-1');
    toggle.click();
    await formOf(element).updateComplete;
    expect(key.type).to.equal('text');
    expect(toggle.getAttribute('aria-pressed')).to.equal('true');
    expect(key.value).to.equal('secret-1');
    await expect(element, 'with the key shown').to.be.accessible();
    toggle.click();
    await formOf(element).updateComplete;
    expect(key.type).to.equal('password');
    expect(JSON.stringify({ ...localStorage }), 'nothing stores the key').to.not.include('secret-1');

    const remembering = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls destination-form remember-key></rtmp-broadcaster>`);
    await formOf(remembering).updateComplete;
    await fill(remembering, 'key-input', 'secret-2');
    expect(localStorage.getItem('rtmp-broadcaster:stream-key')).to.equal('secret-2');
    const again = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls destination-form remember-key></rtmp-broadcaster>`);
    await formOf(again).updateComplete;
    expect(field<HTMLInputElement>(again, 'key-input').value).to.equal('secret-2');
    // A page that stops opting in forgets the stored key.
    again.rememberKey = false;
    await again.updateComplete;
    await formOf(again).updateComplete;
    expect(localStorage.getItem('rtmp-broadcaster:stream-key')).to.equal(null);
  });

  it('is operable by keyboard: Tab goes service, URL, key, show-key toggle; Enter presses the toggle', async () => {
    const element = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls destination-form></rtmp-broadcaster>`);
    await formOf(element).updateComplete;
    const focused = () => formOf(element).shadowRoot!.activeElement?.getAttribute('part');
    field(element, 'preset-select').focus();
    expect(focused()).to.equal('preset-select');
    for (const part of ['url-input', 'key-input', 'key-toggle']) {
      await sendKeys({ press: 'Tab' });
      expect(focused()).to.equal(part);
    }
    await sendKeys({ press: 'Enter' });
    await formOf(element).updateComplete;
    expect(field(element, 'key-toggle').getAttribute('aria-pressed')).to.equal('true');
    expect(field<HTMLInputElement>(element, 'key-input').type).to.equal('text');
  });

  it('catches a URL without rtmp:// and a service without its key before connecting, naming no key', async () => {
    const element = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls destination-form></rtmp-broadcaster>`);
    await formOf(element).updateComplete;
    const watched = watch(element);
    const codes: string[] = [];
    element.addEventListener('rtmp-error', (event) => codes.push(event.detail.code));

    await fill(element, 'preset-select', 'twitch');
    const noKey = await element.start().catch((error: { code: string }) => error.code);
    expect(noKey).to.equal('INVALID_REQUEST');
    await element.updateComplete;
    const help = () => element.shadowRoot!.querySelector('[part~="error-help"]')!.textContent;
    expect(help()).to.match(/^Paste the stream key/);

    const key = secretKey('scheme');
    await fill(element, 'url-input', 'a.rtmp.youtube.com/live2');
    await fill(element, 'key-input', key);
    const noScheme = await element.start().catch((error: { code: string }) => error.code);
    expect(noScheme).to.equal('INVALID_REQUEST');
    await element.updateComplete;
    expect(help()).to.match(/^The stream URL must start with rtmp:\/\/ or rtmps:\/\//);
    expect(codes).to.deep.equal(['INVALID_REQUEST', 'INVALID_REQUEST']);
    await expect(element, 'in the error state').to.be.accessible();
    expect(watched.said()).to.not.include(key);
  });

  it('goes live on nginx-rtmp under the key with preset Custom; status, events and the server log never show the key', async () => {
    const { server, rtmpUrl } = await broadcastConfig('destination-form-live');
    // The test server's URL is rtmp://host:port/live/<stream>: the form gets the app URL, and the stream name as the key.
    const key = rtmpUrl.slice(rtmpUrl.lastIndexOf('/') + 1);
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls destination-form server=${server} width="640" height="360"></rtmp-broadcaster>`,
    );
    await formOf(element).updateComplete;
    await fill(element, 'preset-select', 'custom');
    // A trailing slash on the URL still joins with one slash.
    await fill(element, 'url-input', `${rtmpUrl.slice(0, rtmpUrl.lastIndexOf('/'))}/`);
    await fill(element, 'key-input', key);
    const watched = watch(element);
    const live = stateReached(element, 'live');

    await element.start();
    await live;
    await element.updateComplete;
    expect(field<HTMLElement>(element, 'fieldset').matches(':disabled'), 'locked while on air').to.equal(true);
    await element.stop();

    expect(await rtmpEvents('destination-form-live'), 'nginx-rtmp got the publish under the key').to.include('publish');
    expect(watched.said()).to.not.include(key);
    expect(await serverLog(key), "the server's log").to.equal('');
  });

  it('keeps the key out of a refused destination’s error, events and error line', async () => {
    const { server } = await broadcastConfig('destination-form-refused');
    const refusing = await refusingDestination('destination-form-refused');
    const key = refusing.slice(refusing.lastIndexOf('/') + 1);
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls destination-form server=${server} width="640" height="360"></rtmp-broadcaster>`,
    );
    await formOf(element).updateComplete;
    await fill(element, 'url-input', refusing.slice(0, refusing.lastIndexOf('/')));
    await fill(element, 'key-input', key);
    const watched = watch(element);
    const error = new Promise<CustomEvent>((resolve) => element.addEventListener('rtmp-error', resolve as EventListener, { once: true }));

    const code = await element.start().then(
      () => 'resolved',
      (caught: { code?: string; message?: string }) => {
        expect(caught.message ?? '').to.not.include(key);
        return caught.code;
      },
    );
    expect(code).to.equal('DESTINATION_UNREACHABLE');
    expect((await error).detail.code).to.equal('DESTINATION_UNREACHABLE');
    await element.updateComplete;
    expect(element.shadowRoot!.querySelector('[part~="error"]')!.textContent).to.not.equal('');
    expect(watched.said()).to.not.include(key);
  });

  it('fits a 360 px wide phone: every field inside the element and the viewport', async () => {
    await setViewport({ width: 360, height: 740 });
    try {
      const element = await fixture<RtmpBroadcaster>(
        html`<rtmp-broadcaster controls destination-form style="margin: 0; max-width: 100%"></rtmp-broadcaster>`,
      );
      await formOf(element).updateComplete;
      const host = element.getBoundingClientRect();
      for (const part of ['preset-select', 'url-input', 'key-input', 'key-toggle']) {
        const box = field(element, part).getBoundingClientRect();
        expect(box.width, part).to.be.above(0);
        expect(box.left, part).to.be.at.least(host.left);
        expect(box.right, part).to.be.at.most(Math.min(host.right, 360) + 0.5);
      }
    } finally {
      await setViewport({ width: 800, height: 600 });
    }
  });
});
