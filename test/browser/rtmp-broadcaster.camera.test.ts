// <rtmp-broadcaster>'s camera picker on air: with the WebCodecs recorder another camera goes out
// in the same stream (the client's replaceVideoTrack()); with MediaRecorder the picker waits for
// the end. Chromium only, like the client's protocol tests: the element's part is the same in every
// browser, and the recorder's replacement runs in both in webcodecs.test.ts.
/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
// Registers <rtmp-broadcaster>; the name is used only as a type.
import '../../client/element/rtmp-broadcaster.js';
import type { RtmpBroadcaster } from '../../client/element/rtmp-broadcaster.js';
import { eventually } from '../helpers/eventually.js';
import { broadcastConfig, probeLevels, record, stateReached } from './commands.js';
import { part } from './element-parts.js';

describe('<rtmp-broadcaster>: another camera on air', () => {
  // The fake devices are one camera: a second one, whose picture is a black canvas, is added to what the page sees.
  const SECOND = 'second-test-camera';
  const canvas = Object.assign(document.createElement('canvas'), { width: 1280, height: 720 });
  let painter: ReturnType<typeof setInterval> | undefined;
  let second: MediaStreamTrack | undefined;
  beforeEach(() => {
    const paint = () => canvas.getContext('2d')!.fillRect(0, 0, canvas.width, canvas.height);
    paint();
    painter = setInterval(paint, 33);
    const devices = MediaDevices.prototype.enumerateDevices;
    const getUserMedia = MediaDevices.prototype.getUserMedia;
    navigator.mediaDevices.enumerateDevices = async () => {
      const listed = await devices.call(navigator.mediaDevices);
      const camera = listed.find(({ kind }) => kind === 'videoinput')!;
      return [...listed, { ...camera.toJSON(), deviceId: SECOND, label: 'Second camera', toJSON: () => ({}) } as MediaDeviceInfo];
    };
    navigator.mediaDevices.getUserMedia = (constraints) => {
      const video = constraints?.video;
      if (typeof video === 'object' && (video.deviceId as ConstrainDOMStringParameters | undefined)?.exact === SECOND) {
        second = canvas.captureStream(30).getVideoTracks()[0]!;
        return Promise.resolve(new MediaStream([second]));
      }
      return getUserMedia.call(navigator.mediaDevices, constraints);
    };
  });
  afterEach(() => {
    clearInterval(painter);
    second?.stop();
    // The own properties shadowed the prototype's methods; the choice is forgotten for the next tests.
    delete (navigator.mediaDevices as Partial<MediaDevices>).enumerateDevices;
    delete (navigator.mediaDevices as Partial<MediaDevices>).getUserMedia;
    localStorage.removeItem('rtmp-broadcaster:camera');
  });

  it('goes out in place of the first, in the same stream, when picked while live (WebCodecs)', async function () {
    this.timeout(40_000);
    const { server, rtmpUrl } = await broadcastConfig('element-camera-switch');
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls recorder="webcodecs" server=${server} rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
    );
    const live = stateReached(element, 'live');
    await element.start();
    await live;
    await element.updateComplete;
    const root = element.shadowRoot!;
    const preview = root.querySelector<HTMLVideoElement>('[part~="preview"]')!;
    const first = (preview.srcObject as MediaStream).getVideoTracks()[0]!;
    const picker = root.querySelector<HTMLSelectElement>('[part~="camera-select"]')!;
    expect(picker.disabled, 'the camera picker, on air').to.equal(false);
    expect(root.querySelector<HTMLSelectElement>('[part~="mic-select"]')!.disabled, 'the microphone picker, on air').to.equal(true);
    await record(1_500);

    picker.value = SECOND;
    picker.dispatchEvent(new Event('change'));
    await eventually(() => (preview.srcObject as MediaStream).getVideoTracks()[0] === second, 5_000, 'the preview shows the second camera');
    expect(first.readyState, 'the first camera, let go').to.equal('ended');
    await record(2_000);
    expect(element.state).to.equal('live');
    await element.stop();

    await expectBrightThenBlack('element-camera-switch');
  });

  it('cannot be picked while live with MediaRecorder, which records a fixed set of tracks', async () => {
    const { server, rtmpUrl } = await broadcastConfig('element-camera-fixed');
    const element = await fixture<RtmpBroadcaster>(
      html`<rtmp-broadcaster controls recorder="mediarecorder" server=${server} rtmp-url=${rtmpUrl}></rtmp-broadcaster>`,
    );
    const live = stateReached(element, 'live');
    await element.start();
    await live;
    await element.updateComplete;
    expect(part<HTMLSelectElement>(element, 'camera-select').disabled).to.equal(true);
    await element.stop();
  });
});

/** The recording of `stream` is bright for its first second, black for its last, with no break in between. */
export async function expectBrightThenBlack(stream: string): Promise<void> {
  const { frames } = await probeLevels(stream);
  const list = frames.map(({ time, luma }) => `${time.toFixed(2)}:${Math.round(luma)}`).join(' ');
  const end = frames.at(-1)!.time;
  const gaps = frames.slice(1).map(({ time }, i) => time - frames[i]!.time);
  expect(end).to.be.above(3, list);
  expect(
    frames.filter(({ time }) => time < 1).every(({ luma }) => luma > 60),
    `the first picture first (${list})`,
  ).to.equal(true);
  const last = frames.filter(({ time }) => time > end - 1);
  expect(last.length).to.be.at.least(10, list);
  expect(
    last.every(({ luma }) => luma < 30),
    `the new picture at the end (${list})`,
  ).to.equal(true);
  // No break: a frame, or the last picture again, at least every 0.5 s (a busy machine's timers run late: 0.72 s once in a CI soak).
  expect(Math.max(...gaps)).to.be.at.most(1, `no break (${list})`);
}
