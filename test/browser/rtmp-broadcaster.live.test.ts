// <rtmp-broadcaster> while it goes on air: a preview that never reloads, and a live state that
// means a destination took the broadcast. Runs in Chromium and Firefox with their fake camera and
// microphone, against the real BroadcastServer and nginx-rtmp.
/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
import { RtmpBroadcaster } from '../../client/element/rtmp-broadcaster.js';
import { broadcastConfig, record, stateReached } from './commands.js';

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
});
