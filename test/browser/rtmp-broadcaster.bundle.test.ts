// <rtmp-broadcaster> as a CDN user gets it: the built dist/rtmp-broadcaster.min.js alone on the
// page (this file has its own page and imports no element source), broadcasting the fake camera
// and the fake screen through the real server to the real RTMP server. Run `npm run build` first.
/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
import type { RtmpBroadcaster } from '../../client/element/rtmp-broadcaster.js';
import { broadcastConfig, expectedVideoMode, probeRecording, record } from './commands.js';

/** By URL, so the test runner serves the built file as it is. */
const BUNDLE = '/dist/rtmp-broadcaster.min.js';

/** What the element broadcasts, as its preview shows it. */
function previewTrack(element: RtmpBroadcaster): MediaStreamTrack {
  const preview = element.shadowRoot!.querySelector('video')!;
  return (preview.srcObject as MediaStream).getVideoTracks()[0]!;
}

describe('<rtmp-broadcaster> from the CDN bundle', () => {
  before(async () => {
    const bundle = (await import(BUNDLE)) as { RtmpBroadcaster: CustomElementConstructor };
    expect(customElements.get('rtmp-broadcaster')).to.equal(bundle.RtmpBroadcaster, 'the bundle registered the element');
  });

  it('streams 2 s of the camera at 1280x720 and the destination gets H.264, copied (the default recorder encodes it in both test browsers), with AAC audio', async () => {
    const { server, rtmpUrl } = await broadcastConfig('bundle-camera');
    const element = await fixture<RtmpBroadcaster>(html`
      <rtmp-broadcaster server=${server} rtmp-url=${rtmpUrl} width="1280" height="720"></rtmp-broadcaster>
    `);

    await element.start();
    expect(element.state).to.equal('live');
    expect(element.client!.videoMode).to.equal(expectedVideoMode);
    await record(2_000);
    await element.stop();
    expect(element.state).to.equal('ended');

    const received = await probeRecording('bundle-camera');
    expect(received.video.codec).to.equal('h264');
    expect(received.video.width).to.equal(1280);
    expect(received.video.height).to.equal(720);
    expect(received.audio?.codec).to.equal('aac');
    expect(received.durationSec).to.be.at.least(1.5);
  });

  it('streams 2 s of the screen with the microphone and the destination gets it at the captured size', async () => {
    const { server, rtmpUrl } = await broadcastConfig('bundle-screen');
    const element = await fixture<RtmpBroadcaster>(html`
      <rtmp-broadcaster server=${server} rtmp-url=${rtmpUrl} source="screen" width="1280" height="720"></rtmp-broadcaster>
    `);

    if (navigator.userAgent.includes('Firefox')) {
      // Screen capture is Chromium's part of this test: Firefox has no fake screen (its
      // fake-media prefs cover getUserMedia only; getDisplayMedia finds nothing to share and also
      // wants a user gesture). Firefox checks the documented failure instead: start() rejects
      // with MEDIA_UNAVAILABLE (the bundle's own BroadcastError) and nothing goes live.
      const error = await element.start().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.include({ name: 'BroadcastError', code: 'MEDIA_UNAVAILABLE' });
      expect(element.state).to.not.equal('live');
      return;
    }
    await element.start();
    const { width, height, displaySurface } = previewTrack(element).getSettings();
    expect(displaySurface).to.equal('monitor', 'getDisplayMedia opened the (fake) screen');
    expect(element.client!.videoMode).to.equal('copy');
    await record(2_000);
    await element.stop();

    const received = await probeRecording('bundle-screen');
    expect(received.video.codec).to.equal('h264');
    expect([received.video.width, received.video.height]).to.deep.equal([width, height]);
    expect(received.audio?.codec).to.equal('aac');
    expect(received.durationSec).to.be.at.least(1.5);
  });
});
