// <rtmp-broadcaster> while it goes on air: a preview that never reloads, and a live state that
// means a destination took the broadcast. Runs in Chromium and Firefox with their fake camera and
// microphone, against the real BroadcastServer and nginx-rtmp.
/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
// Registers <rtmp-broadcaster>; the name is used only as a type.
import '../../client/element/rtmp-broadcaster.js';
import type { RtmpBroadcaster } from '../../client/element/rtmp-broadcaster.js';
import { broadcastConfig, record, silentDestination, stateReached } from './commands.js';
import { part } from './element-parts.js';

describe('<rtmp-broadcaster> going on air', () => {
  it('never reloads its preview during 4 s live with controls, meter and stats re-rendering it', async () => {
    const { server, rtmpUrl } = await broadcastConfig('element-live-preview');
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
    );
    const preview = part<HTMLVideoElement>(element, 'preview');
    const reloads: string[] = [];
    for (const type of ['emptied', 'abort', 'loadstart']) preview.addEventListener(type, () => reloads.push(type));
    const live = stateReached(element, 'live');
    await element.start();
    await live;
    await element.updateComplete;
    // The first load of the broadcast's stream, then nothing more.
    const firstLoad = reloads.length;
    expect(firstLoad, 'the stream loaded once').to.be.at.most(2);
    // Every render of the element: stats once a second, the meter up to ten times a second when the
    // level changes (Chromium's fake microphone beeps; Firefox's is a steady tone, so its meter holds).
    let renders = 0;
    const rendering = element as unknown as { update(changed: Map<PropertyKey, unknown>): void };
    const update = rendering.update.bind(element);
    rendering.update = (changed) => {
      renders++;
      update(changed);
    };

    await record(4_000);

    expect(element.state).to.equal('live');
    expect(reloads.slice(firstLoad), 'emptied/abort/loadstart after the first load').to.deep.equal([]);
    expect(preview.videoWidth, 'the preview shows the camera').to.be.above(0);
    expect(preview.paused).to.equal(false);
    expect(renders, 'the element re-rendered meanwhile').to.be.at.least(3);
    await element.stop();
  });

  it('stays connecting against a destination that never speaks RTMP, and ends with its error code, never live', async () => {
    const { server } = await broadcastConfig('element-live-silent');
    const rtmpUrl = await silentDestination('element-live-silent');
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
    );
    const states: string[] = [];
    element.addEventListener('rtmp-statechange', (event) => states.push(event.detail.state));
    const ended = new Promise<CustomEvent>((resolve) => element.addEventListener('rtmp-ended', resolve as EventListener, { once: true }));

    const started = element.start().then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    await element.updateComplete;
    // The host only, never the path or key; the audit while connecting.
    const status = element.shadowRoot!.querySelector('[part~="state"]')!.textContent;
    expect(status).to.equal(`Connecting to ${rtmpUrl.split('/')[2]}…`);
    await expect(element).to.be.accessible();
    const outcome = await started;

    expect(outcome, 'start() rejects with the code').to.equal('DESTINATION_UNREACHABLE');
    expect(states).to.deep.equal(['connecting', 'error']);
    expect((await ended).detail).to.deep.include({ reason: 'error' });
    expect(element.hasAttribute('live')).to.equal(false);
  });

  it('stops at once when asked while a silent destination keeps it connecting; start() rejects, the end is a stop', async () => {
    const { server } = await broadcastConfig('element-live-silent-stop');
    const rtmpUrl = await silentDestination('element-live-silent-stop');
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
    );
    const states: string[] = [];
    element.addEventListener('rtmp-statechange', (event) => states.push(event.detail.state));
    const ended = new Promise<CustomEvent>((resolve) => element.addEventListener('rtmp-ended', resolve as EventListener, { once: true }));
    const starting = element.start().then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    // Recording runs meanwhile: the server gets media, no destination takes it.
    await record(2000);
    expect(element.state).to.equal('connecting');

    const asked = performance.now();
    await element.stop();

    expect(performance.now() - asked, 'ms to stop').to.be.below(1000);
    expect(await starting).to.equal('NOT_STARTED');
    expect((await ended).detail).to.deep.equal({ reason: 'stopped' });
    expect(states).to.deep.equal(['connecting', 'stopping', 'ended']);
  });

  describe('the green room', () => {
    let opened = 0;
    const getUserMedia = navigator.mediaDevices.getUserMedia;
    beforeEach(() => {
      opened = 0;
      navigator.mediaDevices.getUserMedia = (constraints) => {
        opened++;
        return getUserMedia.call(navigator.mediaDevices, constraints);
      };
    });
    afterEach(() => {
      // The own property shadowed the prototype's method.
      delete (navigator.mediaDevices as Partial<MediaDevices>).getUserMedia;
    });

    it('opens the camera and microphone from the Preview button, sends nothing, and goes live with the same tracks', async () => {
      const { server, rtmpUrl } = await broadcastConfig('element-green-room');
      const element = await fixture<RtmpBroadcaster>(
        html`<rtmp-broadcaster controls server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
      );
      const preview = part<HTMLVideoElement>(element, 'preview');
      const button = part<HTMLButtonElement>(element, 'preview-button');
      expect(button.textContent!.trim()).to.equal('Preview');

      button.focus();
      await sendKeys({ press: 'Enter' });
      await waitFor(() => element.isPreviewing);
      await element.updateComplete;

      expect(element.hasAttribute('previewing')).to.equal(true);
      expect(element.shadowRoot!.querySelector('[part~="state"]')!.textContent).to.equal('Preview, not on air');
      expect(element.state, 'nothing goes to the server').to.equal('idle');
      expect(element.client).to.equal(undefined);
      const shown = preview.srcObject as MediaStream;
      expect(shown.getVideoTracks()).to.have.length(1);
      expect(shown.getAudioTracks()).to.have.length(1);
      expect(element.shadowRoot!.querySelector('[part~="preview-button"]'), 'the button has done its work').to.equal(null);
      await expect(element).to.be.accessible();

      const live = stateReached(element, 'live');
      await element.start();
      await live;
      await element.updateComplete;

      expect(opened, 'one getUserMedia: no second prompt').to.equal(1);
      expect(preview.srcObject, 'the same stream, no black gap').to.equal(shown);
      expect(shown.getTracks().every((track) => track.readyState === 'live')).to.equal(true);
      expect(element.hasAttribute('previewing')).to.equal(false);
      await element.stop();
      expect(
        shown.getTracks().every((track) => track.readyState === 'ended'),
        'its tracks stop at the end',
      ).to.equal(true);
    });

    it('opens on its own with autopreview, and a failure to open shows in the error line', async () => {
      const element = await fixture<RtmpBroadcaster>(
        html`<rtmp-broadcaster controls autopreview server="http://127.0.0.1:1"></rtmp-broadcaster>`,
      );
      await waitFor(() => element.isPreviewing);
      expect(opened).to.equal(1);
      expect(element.state).to.equal('idle');
      element.remove();

      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Nope', 'NotAllowedError'));
      const refused = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls server="http://127.0.0.1:1"></rtmp-broadcaster>`);
      const error = await refused.preview().catch((caught: unknown) => caught);
      await refused.updateComplete;
      expect(error).to.have.property('code', 'MEDIA_UNAVAILABLE');
      expect(refused.shadowRoot!.querySelector('[part~="error-help"]')!.textContent).to.match(
        /^The browser was not allowed to use the camera/,
      );
      expect(refused.isPreviewing).to.equal(false);
      await expect(refused).to.be.accessible();
    });
  });
});

/** Resolves once `condition` holds, checking every 50 ms for up to 5 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 50) {
    if (waited > 5000) throw new Error(`Still not true after 5 s: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
