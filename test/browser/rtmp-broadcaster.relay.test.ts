// <rtmp-broadcaster> passing on what the server does, in Chromium: the destinations of its rtmp-url
// attribute, the server's ffmpeg lines and lost destinations as events, and a lost connection to the
// server as Reconnecting…. This is the client's protocol under the element, the same code in every
// browser; the element's own behaviour (attributes, events, controls, the camera) runs in Firefox too
// (rtmp-broadcaster.test.ts).
/// <reference types="mocha" />
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import type { BroadcastState } from '../../client/core.js';
// Registers <rtmp-broadcaster>; the name is used only as a type.
import '../../client/element/rtmp-broadcaster.js';
import type { RtmpBroadcaster } from '../../client/element/rtmp-broadcaster.js';
import { blip, broadcastConfig, refusingDestination, startRequest, stateReached } from './commands.js';
import { part } from './element-parts.js';

describe('<rtmp-broadcaster> relaying the server', () => {
  it('goes to every destination its rtmp-url attribute lists, separated by spaces, and to the one it names as before', async () => {
    const { server, rtmpUrl: first } = await broadcastConfig('element-list-a');
    const { rtmpUrl: second } = await broadcastConfig('element-list-b');
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster server=${server} width="640" height="360" rtmp-url=${`${first}  ${second}`}></rtmp-broadcaster>`,
    );
    expect(element.rtmpUrl).to.deep.equal([first, second]);
    await element.start();
    await element.stop();
    expect((await startRequest('element-list-a'))?.rtmpUrl).to.deep.equal([first, second]);
    element.setAttribute('rtmp-url', first);
    expect(element.rtmpUrl).to.equal(first);
  });

  it('re-dispatches the server’s ffmpeg log lines as rtmp-ffmpeg-output, out of its shadow root', async () => {
    const element = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster></rtmp-broadcaster>`);
    Object.assign(element, await broadcastConfig('element-ffmpeg-output'));
    const output = oneEvent(element, 'rtmp-ffmpeg-output');

    await element.start();
    const event = await output;
    await element.stop();

    expect(event.detail.line).to.be.a('string').that.is.not.empty;
    expect(event).to.include({ bubbles: true, composed: true });
  });

  it('re-dispatches destination-lost as rtmp-destination-lost for a refusing one of its space-separated rtmp-url destinations, and stays live', async () => {
    const { server, rtmpUrl } = await broadcastConfig('element-two-destinations');
    const refusing = await refusingDestination('element-two-destinations-refused');
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster server=${server} width="640" height="360" rtmp-url=${`${rtmpUrl} ${refusing}`}></rtmp-broadcaster>`,
    );
    const lost = oneEvent(element, 'rtmp-destination-lost');

    await element.start();
    const event = await lost;
    expect(event).to.include({ bubbles: true, composed: true });
    expect(event.detail).to.include({ index: 1, retrying: false, remaining: 1 });
    expect(event.detail.error.code).to.equal('DESTINATION_UNREACHABLE');
    expect(element.state).to.equal('live');
    await element.stop();
  });

  it('stays on air and shows Reconnecting… while its connection is down, and its stop button then waits for it to be back', async () => {
    const { server, rtmpUrl } = await broadcastConfig('element-blip', { viaProxy: true });
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
    );
    await element.start();
    const reconnecting = stateReached(element, 'reconnecting');

    await blip(1_000);
    await reconnecting;
    await element.updateComplete;

    expect(element.getAttribute('state')).to.equal('reconnecting');
    expect(element.hasAttribute('live')).to.equal(true, 'a reconnecting broadcast is still on air');
    expect(part(element, 'state').textContent).to.equal('Reconnecting…');
    // A spinner and a countdown, not a frozen Live; the server's silence told from being offline.
    expect(element.shadowRoot!.querySelector('[part~="elapsed"], [part~="badge"]'), 'no frozen live figures').to.equal(null);
    part(element, 'spinner');
    expect(part(element, 'reconnect').textContent).to.match(/^The server stopped answering; trying again, ([1-9]|10) s left$/);
    Object.defineProperty(navigator, 'onLine', { value: false, configurable: true });
    element.requestUpdate();
    await element.updateComplete;
    expect(part(element, 'reconnect').textContent).to.match(/^You are offline; waiting for the network, \d+ s left$/);
    // Were the client to give up now (as it does after 10 s), the help would say why: offline, or the server's silence.
    const lost = () =>
      new CustomEvent('error', { detail: { code: 'DISCONNECTED', message: 'The connection to the broadcast server was lost.' } });
    element.client!.dispatchEvent(lost());
    await element.updateComplete;
    expect(part(element, 'error-help').textContent).to.match(/^This device went offline/);
    delete (navigator as { onLine?: boolean }).onLine;
    element.client!.dispatchEvent(lost());
    await element.updateComplete;
    expect(part(element, 'error-help').textContent).to.match(/^The broadcast server stopped answering/);
    await expect(element).to.be.accessible();
    expect(part(element, 'pause-button').getAttribute('aria-disabled')).to.equal('true');
    expect(part(element, 'stop-button').getAttribute('aria-disabled')).to.equal('false');
    const states: BroadcastState[] = [];
    element.addEventListener('rtmp-statechange', (event) => states.push(event.detail.state));
    const ended = oneEvent(element, 'rtmp-ended');
    part<HTMLButtonElement>(element, 'stop-button').click();
    expect((await ended).detail).to.deep.equal({ reason: 'stopped' });
    expect(states).to.deep.equal(['live', 'stopping', 'ended']);
  });
});
