// <rtmp-broadcaster> while it goes on air: a preview that never reloads, and a live state that
// means a destination took the broadcast. Runs in Chromium and Firefox with their fake camera and
// microphone, against the real BroadcastServer and nginx-rtmp.
/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
import { RtmpBroadcaster } from '../../client/element/rtmp-broadcaster.js';
import { broadcastConfig, record, silentDestination, stateReached } from './commands.js';

describe('<rtmp-broadcaster> going on air', () => {
  it('never reloads its preview during 10 s live with controls, meter and stats re-rendering it', async () => {
    const { server, rtmpUrl } = await broadcastConfig('element-live-preview');
    const element = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls server=${server} rtmp-url=${rtmpUrl}></rtmp-broadcaster>`);
    const preview = element.shadowRoot!.querySelector<HTMLVideoElement>('[part~="preview"]')!;
    const reloads: string[] = [];
    for (const type of ['emptied', 'abort', 'loadstart']) preview.addEventListener(type, () => reloads.push(type));
    const live = stateReached(element, 'live');
    await element.start();
    await live;
    await element.updateComplete;
    // The first load of the broadcast's stream, then nothing more.
    const firstLoad = reloads.length;
    expect(firstLoad, 'the stream loaded once').to.be.at.most(2);
    // Every render of the element (stats once a second, the meter up to ten times a second).
    let renders = 0;
    const rendering = element as unknown as { update(changed: Map<PropertyKey, unknown>): void };
    const update = rendering.update.bind(element);
    rendering.update = (changed) => {
      renders++;
      update(changed);
    };

    await record(10_000);

    expect(element.state).to.equal('live');
    expect(reloads.slice(firstLoad), 'emptied/abort/loadstart after the first load').to.deep.equal([]);
    expect(preview.videoWidth, 'the preview shows the camera').to.be.above(0);
    expect(preview.paused).to.equal(false);
    expect(renders, 'the element re-rendered meanwhile').to.be.at.least(10);
    await element.stop();
  });

  it('stays connecting against a destination that never speaks RTMP, and ends with its error code, never live', async () => {
    const { server } = await broadcastConfig('element-live-silent');
    const rtmpUrl = await silentDestination('element-live-silent');
    const element = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls server=${server} rtmp-url=${rtmpUrl}></rtmp-broadcaster>`);
    const states: string[] = [];
    element.addEventListener('rtmp-statechange', (event) => states.push(event.detail.state));
    const ended = new Promise<CustomEvent>((resolve) => element.addEventListener('rtmp-ended', resolve as EventListener, { once: true }));

    const outcome = await element.start().then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );

    expect(outcome, 'start() rejects with the code').to.equal('DESTINATION_UNREACHABLE');
    expect(states).to.deep.equal(['connecting', 'error']);
    expect((await ended).detail).to.deep.include({ reason: 'error' });
    expect(element.hasAttribute('live')).to.equal(false);
  });

  it('stops at once when asked while a silent destination keeps it connecting; start() rejects, the end is a stop', async () => {
    const { server } = await broadcastConfig('element-live-silent-stop');
    const rtmpUrl = await silentDestination('element-live-silent-stop');
    const element = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster server=${server} rtmp-url=${rtmpUrl}></rtmp-broadcaster>`);
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
});
