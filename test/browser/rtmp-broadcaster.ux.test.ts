// <rtmp-broadcaster> for the person going live: error messages that say what to do, its words in
// another language, the microphone meter, and the device pickers. Runs in Chromium and Firefox
// with their fake camera and microphone, against the real BroadcastServer.
/// <reference types="mocha" />
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys, setViewport } from '@web/test-runner-commands';
import { render } from 'lit';
import { stringsFor } from '../../client/element/rtmp-broadcaster.strings.js';
import { renderControls } from '../../client/element/rtmp-broadcaster.view.js';
// Registers <rtmp-broadcaster>; the name is used only as a type.
import '../../client/element/rtmp-broadcaster.js';
import type { RtmpBroadcaster } from '../../client/element/rtmp-broadcaster.js';
import { broadcastConfig, stateReached } from './commands.js';
import { part } from './element-parts.js';

/** Starts the way a person does, from the keyboard, so the page has had a user gesture. */
async function pressStart(element: RtmpBroadcaster): Promise<void> {
  part<HTMLButtonElement>(element, 'start-button').focus();
  await sendKeys({ press: 'Enter' });
}

/** Starts `element` with getUserMedia failing as the browser does for `name`; resolves once the error shows. */
async function failCamera(element: RtmpBroadcaster, name: string): Promise<void> {
  navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Nope', name));
  try {
    await element.start().catch(() => {});
  } finally {
    // The own property shadowed the prototype's method.
    delete (navigator.mediaDevices as Partial<MediaDevices>).getUserMedia;
  }
  await element.updateComplete;
}

/** Whether Web Audio runs here at all: Firefox's AudioContext waits forever for a missing audio output. */
async function audioRuns(): Promise<boolean> {
  const context = new AudioContext();
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000));
  const running = await Promise.race([context.resume().then(() => true), timeout]);
  void context.close().catch(() => {});
  return running;
}

describe('<rtmp-broadcaster> for the person going live', () => {
  afterEach(() => {
    localStorage.removeItem('rtmp-broadcaster:camera');
    localStorage.removeItem('rtmp-broadcaster:microphone');
  });

  it('explains a refusal by the server and what to do next, above the server’s own words', async () => {
    const element = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls></rtmp-broadcaster>`);
    Object.assign(element, await broadcastConfig('element-ux-refused'), { auth: { refuse: true } });
    const failed = oneEvent(element, 'rtmp-error');

    part<HTMLButtonElement>(element, 'start-button').click();
    await failed;
    await element.updateComplete;

    expect(part(element, 'error-help').closest('[role="alert"]'), 'inside the one alert region').to.not.equal(null);
    expect(part(element, 'error-help').textContent).to.equal(
      'The server refused to start this broadcast. Check that you are signed in and allowed to go live, then try again.',
    );
    expect(part(element, 'error').textContent).to.equal('Refused by test hook');
    await expect(element).to.be.accessible();
  });

  it('tells a camera it may not use from one that is missing or busy', async () => {
    const element = await fixture<RtmpBroadcaster>(html`<rtmp-broadcaster controls server="http://127.0.0.1:1"></rtmp-broadcaster>`);

    await failCamera(element, 'NotAllowedError');
    expect(part(element, 'error-help').textContent).to.equal(
      'The browser was not allowed to use the camera or microphone. Allow them in the address bar, then press Go live again.',
    );
    await failCamera(element, 'NotFoundError');
    expect(part(element, 'error-help').textContent).to.equal('No camera or microphone was found. Plug one in, then press Go live again.');
    await failCamera(element, 'NotReadableError');
    expect(part(element, 'error-help').textContent).to.match(/^The camera or microphone is busy in another application\./);
    // The browser's raw words are not shown; the page has them in rtmp-error.
    expect(part(element, 'error').textContent).to.equal('');
  });

  it('speaks French under lang="fr", and takes the page’s own words from `strings`', async () => {
    const host = await fixture<HTMLDivElement>(
      html`<div lang="fr"><rtmp-broadcaster controls server="http://127.0.0.1:1"></rtmp-broadcaster></div>`,
    );
    const element = host.querySelector('rtmp-broadcaster')!;
    await element.updateComplete;
    expect(part(element, 'start-button').textContent!.trim()).to.equal('Passer en direct');
    expect(part(element, 'state').textContent).to.equal('Prêt');

    await failCamera(element, 'NotAllowedError');
    expect(part(element, 'error-help').textContent).to.match(/^Le navigateur n'a pas le droit d'utiliser la caméra/);

    element.strings = { start: 'En direct !', errors: { MEDIA_DENIED: 'Autorisez la caméra.' } };
    await element.updateComplete;
    expect(part(element, 'start-button').textContent!.trim()).to.equal('En direct !');
    expect(part(element, 'pause-button').textContent!.trim()).to.equal('Pause');
    expect(part(element, 'error-help').textContent).to.equal('Autorisez la caméra.');

    // Its own lang wins over the page's, and English is the fallback for languages it lacks.
    element.setAttribute('lang', 'de');
    await element.updateComplete;
    expect(part(element, 'state').textContent).to.equal('Error');
    expect(part(element, 'start-button').textContent!.trim()).to.equal('En direct !');
  });

  it('shows the microphone level in a meter that rises while the fake microphone plays', async () => {
    // Without an audio output device (Firefox in a container) Web Audio never runs: the meter is
    // then shown at rest, which this test checks instead of the level.
    const audio = await audioRuns();
    const { server, rtmpUrl } = await broadcastConfig('element-ux-meter');
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
    );
    expect(element.shadowRoot!.querySelector('[part~="meter"]')).to.equal(null);
    const live = stateReached(element, 'live');
    await pressStart(element);
    await live;
    await element.updateComplete;

    const meter = part(element, 'meter');
    expect(meter.getAttribute('role')).to.equal('meter');
    if (!audio) {
      expect(meter.getAttribute('aria-valuenow')).to.equal('0');
      await element.stop();
      return;
    }
    // Chromium's fake microphone beeps; Firefox's plays a tone: either rises above silence within seconds.
    let loudest = 0;
    for (let waited = 0; waited < 5000 && loudest === 0; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      loudest = Math.max(loudest, Number(meter.getAttribute('aria-valuenow')));
    }
    expect(loudest).to.be.above(0);
    await expect(element).to.be.accessible();

    await element.stop();
    await element.updateComplete;
    expect(element.shadowRoot!.querySelector('[part~="meter"]')).to.equal(null);
  });

  it('mutes the microphone and hides the video from toggle buttons while live, and the page can do the same', async () => {
    const { server, rtmpUrl } = await broadcastConfig('element-ux-mute');
    const host = await fixture<HTMLDivElement>(
      html`<div lang="fr"><rtmp-broadcaster controls server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster></div>`,
    );
    const element = host.querySelector('rtmp-broadcaster')!;
    await element.updateComplete;
    expect(element.shadowRoot!.querySelector('[part~="mic-button"], [part~="camera-button"]'), 'no toggles before going live').to.equal(
      null,
    );
    const changes: unknown[] = [];
    host.addEventListener('rtmp-mutechange', (event) => changes.push(event.detail));
    const live = stateReached(element, 'live');
    await pressStart(element);
    await live;
    await element.updateComplete;

    const mic = part<HTMLButtonElement>(element, 'mic-button');
    const camera = part<HTMLButtonElement>(element, 'camera-button');
    expect([mic.textContent!.trim(), camera.textContent!.trim()]).to.deep.equal(['Couper le micro', 'Masquer la vidéo']);
    expect([mic.getAttribute('aria-pressed'), camera.getAttribute('aria-pressed')]).to.deep.equal(['false', 'false']);

    camera.focus();
    await sendKeys({ press: 'Enter' });
    await element.updateComplete;
    expect(camera.getAttribute('aria-pressed')).to.equal('true');
    expect(element.videoMuted).to.equal(true);
    expect(element.hasAttribute('video-muted')).to.equal(true);
    expect(element.client!.videoMuted).to.equal(true);
    expect(element.shadowRoot!.activeElement, 'the pressed toggle keeps the focus').to.equal(camera);
    mic.click();
    await element.updateComplete;
    expect(mic.getAttribute('aria-pressed')).to.equal('true');
    expect(element.client!.audioMuted).to.equal(true);
    expect(changes).to.deep.equal([
      { audioMuted: false, videoMuted: true },
      { audioMuted: true, videoMuted: true },
    ]);
    await expect(element).to.be.accessible();

    // The page's own changes reach the broadcast and the buttons, and fire no event: the person did nothing.
    element.removeAttribute('audio-muted');
    element.videoMuted = false;
    await element.updateComplete;
    expect([element.client!.audioMuted, element.client!.videoMuted]).to.deep.equal([false, false]);
    expect([mic.getAttribute('aria-pressed'), camera.getAttribute('aria-pressed')]).to.deep.equal(['false', 'false']);
    expect(changes).to.have.length(2);
    expect(element.state).to.equal('live');

    await element.stop();
    await element.updateComplete;
    expect(element.shadowRoot!.querySelector('[part~="mic-button"], [part~="camera-button"]'), 'no toggles once ended').to.equal(null);
  });

  it('starts a broadcast already muted when its audio-muted attribute is set, and shows no microphone toggle without audio', async () => {
    const { server, rtmpUrl } = await broadcastConfig('element-ux-start-muted');
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls no-audio audio-muted server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
    );
    await element.start();
    await element.updateComplete;

    expect(element.client!.audioMuted).to.equal(true);
    expect(element.shadowRoot!.querySelector('[part~="mic-button"]')).to.equal(null);
    expect(part(element, 'camera-button').textContent!.trim()).to.equal('Hide video');
    await oneEvent(element, 'rtmp-stats');
    await element.stop();
  });

  it('lists the cameras and microphones after the first start and remembers the choice', async () => {
    const { server, rtmpUrl } = await broadcastConfig('element-ux-devices');
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
    );
    await element.start();
    await element.updateComplete;

    const devices = await navigator.mediaDevices.enumerateDevices();
    const microphones = devices.filter((device) => device.kind === 'audioinput' && device.deviceId);
    const cameras = devices.filter((device) => device.kind === 'videoinput' && device.deviceId);
    // Both browsers list their fake devices once the permission is granted.
    expect(microphones.length, 'fake microphones listed').to.be.above(0);
    expect(cameras.length, 'fake cameras listed').to.be.above(0);
    const cameraSelect = part<HTMLSelectElement>(element, 'camera-select');
    const micSelect = part<HTMLSelectElement>(element, 'mic-select');
    expect([...cameraSelect.options].map((option) => option.value)).to.deep.equal(cameras.map((device) => device.deviceId));
    expect([...micSelect.options].map((option) => option.value)).to.deep.equal(microphones.map((device) => device.deviceId));
    // With the permission granted, they carry the browser's names.
    expect([...micSelect.options].map((option) => option.textContent)).to.deep.equal(microphones.map((device) => device.label));
    expect(micSelect.disabled).to.equal(true);

    await element.stop();
    await element.updateComplete;
    expect(micSelect.disabled).to.equal(false);
    const last = microphones.at(-1)!.deviceId;
    micSelect.value = last;
    micSelect.dispatchEvent(new Event('change'));
    expect(localStorage.getItem('rtmp-broadcaster:microphone')).to.equal(last);

    // The next start opens the chosen microphone, and a new element shows it chosen.
    const again = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
    );
    await again.start();
    await again.updateComplete;
    const preview = part<HTMLVideoElement>(again, 'preview').srcObject as MediaStream;
    expect(preview.getAudioTracks()[0]!.getSettings().deviceId).to.equal(last);
    expect(part<HTMLSelectElement>(again, 'mic-select').value).to.equal(last);
    await again.stop();
  });

  it('catches a stream URL without rtmp:// before connecting, and says so without showing the key', async () => {
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls server="http://127.0.0.1:1" rtmp-url="a.rtmp.youtube.com/live2/secret-key"></rtmp-broadcaster>`,
    );
    const errors: unknown[] = [];
    element.addEventListener('rtmp-error', (event) => errors.push(event.detail));

    const error = await element.start().catch((caught: unknown) => caught);
    await element.updateComplete;

    expect(error).to.have.property('code', 'INVALID_REQUEST');
    expect(element.client, 'nothing connected').to.equal(undefined);
    expect(errors).to.deep.equal([{ code: 'INVALID_REQUEST', message: 'The stream URL must start with rtmp:// or rtmps://.' }]);
    expect(part(element, 'error-help').textContent).to.match(
      /^The stream URL must start with rtmp:\/\/ or rtmps:\/\/\. Copy the server URL/,
    );
    expect(element.shadowRoot!.textContent).to.not.include('secret-key');
    await expect(element).to.be.accessible();

    element.setAttribute('lang', 'fr');
    await element.updateComplete;
    expect(part(element, 'error-help').textContent).to.match(/^L'URL du flux doit commencer par rtmp:\/\/ ou rtmps:\/\//);
  });

  it('keeps every control inside itself and a 360×740 screen: idle, in the green room and live', async () => {
    await setViewport({ width: 360, height: 740 });
    try {
      const { server, rtmpUrl } = await broadcastConfig('element-phone');
      const element = await fixture<RtmpBroadcaster>(
        html`<rtmp-broadcaster controls server=${server} width="640" height="360" rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
      );
      const outside = () => {
        const host = element.getBoundingClientRect();
        return [...element.shadowRoot!.querySelectorAll('button, select, [part~="meter"], [part~="badge"]')]
          .map((control) => ({ name: control.getAttribute('part'), box: control.getBoundingClientRect() }))
          .filter(
            ({ box }) =>
              box.left < host.left ||
              box.right > host.right ||
              box.top < host.top ||
              box.bottom > host.bottom ||
              box.left < 0 ||
              box.right > 360,
          )
          .map(({ name }) => name);
      };
      expect(outside(), 'idle').to.deep.equal([]);
      await element.preview();
      await element.updateComplete;
      expect(outside(), 'in the green room').to.deep.equal([]);
      await element.start();
      await element.updateComplete;
      expect(outside(), 'live').to.deep.equal([]);
      await element.stop();
    } finally {
      await setViewport({ width: 800, height: 600 });
    }
  });

  it('warns while the upload falls behind, from a quarter of the send backlog; while reconnecting, says what it waits for', async () => {
    const container = document.createElement('div');
    const noop = () => {};
    const show = (backlogRatio: number, reconnect?: { seconds: number; cause: 'destination' | 'offline' | 'server' }) => {
      const stats = { durationMs: 5000, frames: 150, fps: 30, kbps: 2500, speed: 1, ackRttMs: 40, backlogRatio };
      const view = {
        state: reconnect ? 'reconnecting' : 'live',
        strings: stringsFor('en'),
        previewing: false,
        pageStream: false,
        stats,
        hosts: '',
        reconnect,
      };
      const on = { preview: noop, start: noop, pause: noop, stop: noop, mute: noop };
      render(
        renderControls({
          ...view,
          averageKbps: 2500,
          errorLine: undefined,
          audioMuted: false,
          videoMuted: false,
          hasAudio: false,
          meterLevel: undefined,
          devices: html``,
          on,
        } as Parameters<typeof renderControls>[0]),
        container,
      );
      return container.querySelector('[part~="network-warning"]')?.textContent;
    };

    expect(show(0.1)).to.equal(undefined);
    expect(show(0.5)).to.equal('Your connection is falling behind: close other uploads or lower the quality.');
    expect(container.querySelector('[part~="delay"]')!.textContent).to.equal('40 ms delay');
    const waiting = (cause: 'destination' | 'offline' | 'server') => {
      show(0, { seconds: 3, cause });
      return container.querySelector('[part~="reconnect"]')?.textContent;
    };
    expect(waiting('destination')).to.equal('The streaming service dropped the broadcast; next try in 3 s');
    expect(waiting('server')).to.equal('The server stopped answering; trying again, 3 s left');
    expect(waiting('offline')).to.equal('You are offline; waiting for the network, 3 s left');
    expect(container.querySelector('[part~="spinner"]'), 'a spinner while reconnecting').to.not.equal(null);
  });
});
