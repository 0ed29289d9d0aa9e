// The WebCodecs recorder in real Chromium and Firefox with their fake cameras, against the real
// BroadcastServer and nginx-rtmp: H.264 made in the browser reaches RTMP copied, in both.
/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { BroadcastClient } from '../../client/core.js';
import { WebCodecsRecorder } from '../../client/recorder/webcodecs.js';
import { WebmBlockReader } from '../../client/recorder/webm-blocks.js';
import { busyPicture } from './busy-picture.js';
import { useCamera } from './client-events.js';
import {
  broadcastConfig,
  HD,
  mediaRecorderVideoMode,
  openCamera,
  probeLevels,
  probeRecording,
  record,
  rtmpEvents,
  serverLog,
  startRequest,
  stopTracks,
} from './commands.js';

/**
 * Runs `body` with the page's VideoEncoder replaced by one that fails with an EncodingError at the
 * first frame for which `fails(n)` says so (`n` counts each encoder's frames from 1); the frames
 * before it are encoded as usual, those after it dropped.
 */
async function withEncoderFailing(fails: (n: number) => boolean, body: () => Promise<void>): Promise<void> {
  const RealEncoder = globalThis.VideoEncoder;
  class FailingEncoder extends RealEncoder {
    readonly #error: (error: DOMException) => void;
    #encoded = 0;
    #failed = false;
    constructor(init: VideoEncoderInit) {
      super(init);
      this.#error = init.error;
    }
    override encode(frame: VideoFrame, options?: VideoEncoderEncodeOptions): void {
      if (!this.#failed && !fails(++this.#encoded)) return super.encode(frame, options);
      frame.close();
      if (this.#failed) return;
      this.#failed = true;
      queueMicrotask(() => this.#error(new DOMException('Encoding task failed.', 'EncodingError')));
    }
  }
  globalThis.VideoEncoder = FailingEncoder;
  try {
    await body();
  } finally {
    globalThis.VideoEncoder = RealEncoder;
  }
}

/** Whether an H.264 frame in AVC form (4-byte lengths before each NAL unit) holds an IDR picture. */
function isIdr(frame: Uint8Array): boolean {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  for (let at = 0; at + 5 <= frame.byteLength; at += 4 + view.getUint32(at)) {
    if ((frame[at + 4]! & 0x1f) === 5) return true;
  }
  return false;
}

describe('BroadcastClient with recorder: webcodecs', () => {
  const camera = useCamera();

  it('streams the camera for 5 s with the default recorder (auto: WebCodecs in both test browsers) as H.264 and AAC the server copies, at 1280x720, a keyframe at least every 2.5 s', async () => {
    // Where AudioEncoder has no AAC (Chromium and Firefox on Linux) the WASM encoder makes it,
    // from the raw audio (Chromium) or from Opus decoded (Firefox), loaded on demand.
    const native = await AudioEncoder.isConfigSupported({ codec: 'mp4a.40.2', sampleRate: 48_000, numberOfChannels: 2, bitrate: 128_000 })
      .then(({ supported }) => supported === true)
      .catch(() => false);
    // No `recorder`: the default, `auto`, takes WebCodecs where H.264 encoding works, as here.
    const client = new BroadcastClient(await broadcastConfig('webcodecs'));
    // Recording starts inside start(), which resolves only once the destination took the broadcast.
    // The fake camera is one device: opened again at another size, it keeps the first one's.
    stopTracks(camera());
    const hd = await openCamera(HD);
    const startedAt = performance.now();
    let sessionId: string;
    try {
      await client.start(hd);
      expect(client.state).to.equal('live');
      expect(client.videoMode).to.equal('copy');
      sessionId = client.sessionId!;
      expect(sessionId).to.be.a('string');
      await record(5_000);
      await client.stop();
      expect(client.state).to.equal('ended');
    } finally {
      stopTracks(hd);
    }
    const wallSec = (performance.now() - startedAt) / 1_000;

    const request = await startRequest('webcodecs');
    expect(request?.mimeType).to.equal('video/x-matroska;codecs=avc1,mp4a.40.2');
    const started = (await serverLog(sessionId)).split('\n').find((line) => line.includes('broadcast started'));
    expect(started).to.include('"audio":"copy"', 'the server copies the audio');
    const wasmLoaded = performance.getEntriesByType('resource').some(({ name }) => name.includes('wasm-aac'));
    expect(wasmLoaded).to.equal(!native, 'the WASM chunk is fetched only where the browser has no AAC');
    const received = await probeRecording('webcodecs');
    // The audio runs as long as the picture, its last moments too, and carries the microphone's sound.
    const { audio } = await probeLevels('webcodecs');
    const audioEnd = audio.at(-1)?.time ?? 0;
    const videoEnd = received.videoPacketTimes.at(-1) ?? 0;
    // Firefox's audio comes through an audio-only MediaRecorder (Opus, decoded, then AAC): under the
    // suites' load its last ~0.1 s was missing twice in ~10 CI runs (audio ending 0.100 and 0.109 s
    // before the last picture), so it gets 0.2 s; Chromium's comes from the track itself.
    const tail = navigator.userAgent.includes('Firefox') ? 0.2 : 0.1;
    expect(audioEnd).to.be.within(videoEnd - tail, received.durationSec + 0.1, `audio ends ${audioEnd} s, video ${videoEnd} s`);
    expect(audio.some(({ peakDb }) => peakDb !== null && peakDb > -40)).to.equal(true, 'sound, not silence');
    expect(received.video.codec).to.equal('h264');
    expect([received.video.width, received.video.height]).to.deep.equal([1280, 720]);
    expect(received.audio?.codec).to.equal('aac');
    expect(received.durationSec).to.be.within(4, wallSec + 0.5);
    const gaps = received.keyframeTimes.slice(1).map((time, i) => time - received.keyframeTimes[i]!);
    expect(gaps.length).to.be.at.least(2, `keyframes at ${received.keyframeTimes.join(', ')} s`);
    expect(Math.max(...gaps)).to.be.at.most(2.5, `keyframes at ${received.keyframeTimes.join(', ')} s`);
    const fps = received.videoPacketTimes.length / received.durationSec;
    // Printed for the report: the frame rate the browser's encoder kept up with.
    console.log(
      `webcodecs ${navigator.userAgent.includes('Firefox') ? 'firefox' : 'chromium'}: ${received.videoPacketTimes.length} frames in ${received.durationSec.toFixed(2)} s (${fps.toFixed(1)} fps), ${(received.video.bitRate / 1000).toFixed(0)} kb/s video, request ${request?.mimeType}`,
    );
    expect(fps).to.be.at.least(10, 'frames keep coming');
  });

  // Firefox at 360p and 1 Mb/s: it records a busy 720p canvas at 16-17 frames a second on this
  // 2-core machine even when it is quiet (12-15 under the suites' load, where its bitrate went 16-18 %
  // over), 18-22 at 360p; what is tested is the bitrate the encoder keeps, not what the machine can
  // draw. Chromium at 720p and 2.5 Mb/s (at 360p and 1 Mb/s its encoder ran 9-12 % over, near the
  // bound). Measured: Chromium 2.43-2.48 Mb/s, Firefox 0.92-0.97 Mb/s, loaded or not.
  it('without a cap, a busy picture at 2.5 Mb/s (720p30; Firefox 1 Mb/s, 360p30) reaches the RTMP server within 15 % of it', async function () {
    this.timeout(60_000);
    const firefox = navigator.userAgent.includes('Firefox');
    const configured = firefox ? 1_000_000 : 2_500_000;
    const picture = firefox ? await busyPicture(640, 360) : await busyPicture();
    const client = new BroadcastClient({
      ...(await broadcastConfig('webcodecs-bitrate')),
      recorder: 'webcodecs',
      videoBitsPerSecond: configured,
    });
    const targets: number[] = [];
    client.addEventListener('stats', (event) => targets.push(event.detail.targetVideoBitsPerSecond ?? 0));
    try {
      await client.start(picture.stream);
      await record(6_000);
      await client.stop();
    } finally {
      picture.stop();
    }

    const received = await probeRecording('webcodecs-bitrate');
    const kbps = (bits: number) => Math.round(bits / 1000);
    const fps = received.videoPacketTimes.length / received.durationSec;
    const detail = `${kbps(received.video.bitRate)} kb/s, ${fps.toFixed(1)} fps over ${received.durationSec.toFixed(2)} s; targets ${targets.map(kbps).join(' ')} kb/s`;
    console.log(`webcodecs bitrate ${navigator.userAgent.includes('Firefox') ? 'firefox' : 'chromium'}: ${detail}`);
    expect(received.video.codec).to.equal('h264');
    expect(received.video.bitRate).to.be.within(configured * 0.85, configured * 1.15, detail);
  });

  it('pausing sends black frames and silence, and the broadcast stays one publish', async function () {
    this.timeout(60_000);
    const client = new BroadcastClient({ ...(await broadcastConfig('webcodecs-pause')), recorder: 'webcodecs' });
    await client.start(camera());
    await record(2_000);
    client.pause();
    await record(2_500);
    client.resume();
    await record(2_000);
    await client.stop();

    const { frames, audio } = await probeLevels('webcodecs-pause');
    const list = frames.map(({ time, luma }) => `${time.toFixed(2)}:${Math.round(luma)}`).join(' ');
    const black = frames.filter((frame) => frame.luma < 30);
    // 2.5 s paused at the camera's rate; a loaded machine may drop a few.
    expect(black.length).to.be.at.least(30, `black frames while paused (${list})`);
    expect(frames.at(-1)!.luma).to.be.above(60, `the camera is back after resume (${list})`);
    const during = audio.filter(({ time }) => time > black[0]!.time + 0.2 && time < black.at(-1)!.time - 0.2);
    expect(during.length).to.be.above(0);
    expect(during.every(({ peakDb }) => peakDb === null || peakDb < -60)).to.equal(true, 'silence while paused');
    expect((await rtmpEvents('webcodecs-pause')).filter((call) => call === 'publish')).to.have.length(1, 'one publish');
  });

  // A still screen share or canvas sends a frame only when its picture changes, and a camera may
  // take seconds to send its first: the recording neither waits for a picture nor stops without one.
  it('goes live before the source sends a picture, and repeats the last picture while it sends none', async function () {
    this.timeout(40_000);
    const canvas = Object.assign(document.createElement('canvas'), { width: 640, height: 360 });
    // captureStream(0): the canvas sends a frame only when asked (requestFrame), none before.
    const captured = canvas.captureStream(0);
    const [still] = captured.getVideoTracks() as CanvasCaptureMediaStreamTrack[];
    // Firefox asks the stream (CanvasCaptureMediaStream), Chromium the track.
    const requestFrame = () =>
      typeof still!.requestFrame === 'function'
        ? still!.requestFrame()
        : (captured as MediaStream & { requestFrame(): void }).requestFrame();
    const client = new BroadcastClient({ ...(await broadcastConfig('webcodecs-still')), recorder: 'webcodecs' });
    try {
      // start() resolves once the destination took the broadcast: it did without a picture.
      await client.start(new MediaStream([still!, ...camera().getAudioTracks()]));
      await record(1_500);
      const context = canvas.getContext('2d')!;
      context.fillStyle = 'white';
      context.fillRect(0, 0, canvas.width, canvas.height);
      requestFrame();
      await record(3_000);
      await client.stop();
    } finally {
      still!.stop();
    }
    expect(client.state).to.equal('ended');

    const { frames, audio } = await probeLevels('webcodecs-still');
    const list = frames.map(({ time, luma }) => `${time.toFixed(2)}:${Math.round(luma)}`).join(' ');
    const gaps = frames.slice(1).map(({ time }, i) => time - frames[i]!.time);
    expect(frames[0]!.luma).to.be.below(30, `black until the first picture (${list})`);
    const white = frames.filter(({ luma }) => luma > 200);
    expect(white.length).to.be.at.least(5, `the one picture sent, repeated (${list})`);
    expect(frames.at(-1)!.luma).to.be.above(200, `still shown at the end (${list})`);
    expect(frames.at(-1)!.time - white[0]!.time).to.be.at.least(2.5, list);
    // A repeat every 0.5 s; a busy machine's timers run late.
    expect(Math.max(...gaps)).to.be.at.most(1, list);
    // At stop the last picture is encoded once more: it lasts as long as the sound, not to its last repeat.
    expect(frames.at(-1)!.time).to.be.within(
      audio.at(-1)!.time - 0.3,
      audio.at(-1)!.time + 0.3,
      `the picture runs as long as the sound (${list})`,
    );
  });

  // Another camera or the screen instead of the camera; then a phone turned to portrait, a shared
  // window resized: the recording keeps its size, and the encoder would stretch a new shape to it.
  it('replaceVideoTrack() changes the picture on air in the same stream, and a new shape is fitted inside with black bars, not stretched', async function () {
    this.timeout(40_000);
    const page = camera();
    // The new picture: black at first (the fake camera's has bright parts), then white and portrait.
    const canvas = Object.assign(document.createElement('canvas'), { width: 640, height: 360 });
    let color = 'black';
    const paint = () => {
      const context = canvas.getContext('2d')!;
      context.fillStyle = color;
      context.fillRect(0, 0, canvas.width, canvas.height);
    };
    paint();
    const painter = setInterval(paint, 33);
    const [picture] = canvas.captureStream(30).getVideoTracks();
    const client = new BroadcastClient({ ...(await broadcastConfig('webcodecs-replaced')), recorder: 'webcodecs' });
    const errors: unknown[] = [];
    client.addEventListener('error', ({ detail }) => errors.push(detail));
    try {
      await client.start(page);
      expect(client.canReplaceVideoTrack).to.equal(true);
      await record(1_500);
      await client.replaceVideoTrack(picture!);
      await record(1_500);
      // Landscape to portrait: 360×640 inside the camera's 640×360 is 202×360, with 219 px of black on each side.
      color = 'white';
      Object.assign(canvas, { width: 360, height: 640 });
      paint();
      await record(2_000);
      // The page's tracks are the page's: the client stopped neither.
      expect([page.getVideoTracks()[0]!.readyState, picture!.readyState]).to.deep.equal(['live', 'live']);
      await client.stop();
    } finally {
      clearInterval(painter);
      picture!.stop();
    }
    expect(errors).to.deep.equal([]);
    expect(client.canReplaceVideoTrack).to.equal(false);
    const received = await probeRecording('webcodecs-replaced');
    expect([received.video.width, received.video.height]).to.deep.equal([640, 360]);
    // Each frame whole, its left eighth (x 0–80: a bar once turned) and an eighth in the middle (x 280–360).
    const [whole, left, middle] = await Promise.all([
      probeLevels('webcodecs-replaced'),
      probeLevels('webcodecs-replaced', 'iw/8:ih:0:0'),
      probeLevels('webcodecs-replaced', 'iw/8:ih:iw*7/16:0'),
    ]);
    const frames = whole.frames.map(({ time, luma }, i) => ({ time, luma, left: left.frames[i]!.luma, middle: middle.frames[i]!.luma }));
    const list = frames
      .map(({ time, luma, left, middle }) => `${time.toFixed(2)}:${Math.round(luma)}/${Math.round(left)}/${Math.round(middle)}`)
      .join(' ');
    const end = frames.at(-1)!.time;
    const gaps = frames.slice(1).map(({ time }, i) => time - frames[i]!.time);
    expect(
      frames.filter(({ time }) => time < 1).every(({ luma }) => luma > 60),
      `the camera first (${list})`,
    ).to.equal(true);
    expect(frames.filter(({ luma }) => luma < 30).length, `then the black picture (${list})`).to.be.at.least(10);
    const turned = frames.filter(({ time }) => time > end - 1);
    expect(turned.length).to.be.at.least(10, list);
    expect(
      turned.every(({ left, middle }) => left < 40 && middle > 200),
      `at the end a black bar at the edge and the white picture in the middle (${list})`,
    ).to.equal(true);
    // No break: a frame, or the last picture again, at least every 0.5 s (a busy machine's timers run late: 0.72 s once in a CI soak).
    expect(Math.max(...gaps)).to.be.at.most(1, `no break (${list})`);
  });

  // What adaptive bitrate relies on. Firefox's encoder ignores a new bitrate in configure(): there the recorder starts a new encoder.
  it('aims at a new bitrate mid-stream (a busy picture at 2.5 Mb/s, then 300 kb/s, comes out at under half the rate); in Firefox neither its new encoder nor a halved frame rate makes a keyframe outside the 2-s schedule', async function () {
    this.timeout(30_000);
    const picture = await busyPicture(640, 360);
    const reader = new WebmBlockReader();
    // Video bytes per media-second (the video is the recording's track 1), and the keyframes' times.
    const perSecond: number[] = [];
    const keyframesUs: number[] = [];
    const errors: unknown[] = [];
    const recorder = await WebCodecsRecorder.create(picture.stream, {
      // Firefox's encoder makes 0.4–0.8 Mb/s when asked for 300 kb/s (and ~1.4 for 1.5): start high enough to tell.
      videoBitsPerSecond: 2_500_000,
      audioBitsPerSecond: 64_000,
      timeslice: 150,
      onChunk: (chunk) => {
        for (const { track, timestampUs, data } of reader.push(new Uint8Array(chunk))) {
          const second = Math.floor(timestampUs / 1_000_000);
          if (track !== 1) continue;
          perSecond[second] = (perSecond[second] ?? 0) + data.byteLength;
          if (isIdr(data)) keyframesUs.push(timestampUs);
        }
      },
      onError: (error) => errors.push(error),
      onEnd: () => errors.push('ended'),
    });
    try {
      await recorder.start();
      await record(3_000);
      recorder.setVideoBitrate(300_000, 1);
      await record(1_500);
      // Every other frame, the bitrate unchanged: Firefox's encoder, told a new frame rate, would
      // restart (a keyframe there, its held frames at once); elsewhere the hint changes in place.
      recorder.setVideoBitrate(300_000, 2);
      await record(2_000);
      await recorder.stop();
    } finally {
      picture.stop();
    }
    expect(errors).to.deep.equal([]);
    const kbps = perSecond.map((bytes) => Math.round((bytes * 8) / 1000));
    // Media-seconds 1–2 at the first bitrate; 4–5, a second after the change (in Firefox the new encoder's, from the keyframe at 4 s).
    const mean = (seconds: number[]) => seconds.reduce((sum, second) => sum + (kbps[second] ?? 0), 0) / seconds.length;
    expect(mean([4, 5]), `kb/s each media-second: ${kbps.join(' ')}`).to.be.below(mean([1, 2]) / 2);
    // Where the encoder makes keyframes only when asked (Firefox's x264), each from 1 s on comes 2 s
    // after the one before: the new encoder starts on the schedule's at 4 s (before, on one of its
    // own at ~3 s), and the halved frame rate at 4.5 s restarts nothing (before, a keyframe at
    // ~4.5 s). (The first keyframe is flushed at once to go live, and after a flush x264 starts
    // over on a keyframe: a second one 1-2 frames later.)
    // Chromium's software encoder adds keyframes of its own on this picture at 300 kb/s (seven in
    // 3.5 s measured) and changes bitrate and frame rate in place: nothing of ours to see in them.
    if (!navigator.userAgent.includes('Firefox')) return;
    const keyframes = keyframesUs.filter((us) => us >= 1_000_000).map((us) => (us / 1_000_000).toFixed(2));
    const gaps = keyframes.slice(1).map((at, i) => Number(at) - Number(keyframes[i]));
    expect(gaps.length, `keyframes at ${keyframes.join(' ')} s`).to.be.at.least(2);
    // 2 s to the first frame at or past it: a frame interval more (66 ms at every other frame), or
    // a few under load (Firefox's capture has dropped to ~11 fps in CI).
    for (const gap of gaps) expect(gap, `keyframes at ${keyframes.join(' ')} s`).to.be.within(1.95, 2.5);
  });

  // `auto` taking WebCodecs where it works is the default recorder's test in broadcast-client.test.ts.
  it('auto falls back to MediaRecorder where the H.264 config is said to be supported but the first frame fails', async () => {
    // As Firefox does on some Linux machines: isConfigSupported() says yes, then encoding errors.
    await withEncoderFailing(
      (n) => n === 1,
      async () => {
        const supported = await VideoEncoder.isConfigSupported({ codec: 'avc1.42E01F', width: 1280, height: 720 });
        expect(supported.supported).to.equal(true);
        const client = new BroadcastClient({ ...(await broadcastConfig('webcodecs-auto-fails')), recorder: 'auto' });
        await client.start(camera());
        expect(client.videoMode).to.equal(mediaRecorderVideoMode);
        await record(1_000);
        await client.stop();
        expect(client.state).to.equal('ended');
      },
    );
    expect((await startRequest('webcodecs-auto-fails'))?.mimeType).to.match(/^video\/webm;codecs=(h264|vp8),opus$/);
    expect((await probeRecording('webcodecs-auto-fails')).video.codec).to.equal('h264');
  });

  it('auto goes on with MediaRecorder, in the same start(), where the encoder passes the test frame and fails on the first real ones', async function () {
    this.timeout(40_000);
    const errors: unknown[] = [];
    const states: string[] = [];
    // The test frame is its encoder's first: it passes; the broadcast's encoder fails at its second frame, before anything is on air.
    await withEncoderFailing(
      (n) => n === 2,
      async () => {
        const client = new BroadcastClient({ ...(await broadcastConfig('webcodecs-first-frames')), recorder: 'auto' });
        client.addEventListener('error', ({ detail }) => errors.push(detail));
        client.addEventListener('statechange', ({ detail }) => states.push(detail.state));
        await client.start(camera());
        expect(client.videoMode).to.equal(mediaRecorderVideoMode);
        await record(2_000);
        await client.stop();
      },
    );
    expect(errors).to.deep.equal([], 'the page is told of no error');
    expect(states).to.deep.equal(['connecting', 'live', 'stopping', 'ended']);
    expect((await startRequest('webcodecs-first-frames'))?.mimeType).to.match(/^video\/webm;codecs=(h264|vp8),opus$/);
    const received = await probeRecording('webcodecs-first-frames');
    expect(received.video.codec).to.equal('h264');
    expect(received.durationSec).to.be.above(1.5);
  });

  it('auto takes MediaRecorder in this page once the H.264 encoder failed during a broadcast', async function () {
    this.timeout(40_000);
    // An encoder that passes auto's test frame and fails at the first frame once the broadcast is on air.
    let onAir = false;
    await withEncoderFailing(
      () => onAir,
      async () => {
        const first = new BroadcastClient({ ...(await broadcastConfig('webcodecs-fails-midway')), recorder: 'auto' });
        const failed = new Promise<string>((resolve) =>
          first.addEventListener('error', ({ detail }) => resolve(detail.code), { once: true }),
        );
        await first.start(camera());
        onAir = true;
        expect(await failed).to.equal('INVALID_MEDIA');
        expect((await startRequest('webcodecs-fails-midway'))?.mimeType).to.match(/^video\/x-matroska;codecs=avc1,/);

        const second = new BroadcastClient({ ...(await broadcastConfig('webcodecs-fails-midway-again')), recorder: 'auto' });
        await second.start(camera());
        expect(second.videoMode).to.equal(mediaRecorderVideoMode);
        await record(1_000);
        await second.stop();
      },
    );
    expect((await startRequest('webcodecs-fails-midway-again'))?.mimeType).to.match(/^video\/webm;codecs=(h264|vp8),opus$/);
  });

  it('restart() hands out a new recording (EBML header, then a keyframe Cluster) within 0.5 s', async function () {
    this.timeout(30_000);
    const chunks: { at: number; bytes: Uint8Array }[] = [];
    const errors: unknown[] = [];
    const recorder = await WebCodecsRecorder.create(camera(), {
      videoBitsPerSecond: 2_500_000,
      audioBitsPerSecond: 128_000,
      timeslice: 200,
      onChunk: (chunk) => chunks.push({ at: performance.now(), bytes: new Uint8Array(chunk) }),
      onError: (error) => errors.push(error),
      onEnd: () => errors.push('ended'),
    });
    await recorder.start();
    // Restarts count from a running recording: its first header and keyframe are out.
    while (chunks.length === 0) await record(100);
    await record(500);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const asked = performance.now();
      const from = chunks.length;
      await recorder.restart();
      await record(300);
      const opened = chunks.slice(from).find(({ bytes }) => startsWithEbml(bytes));
      expect(opened, `restart ${i}: a chunk opens a new recording`).to.not.equal(undefined);
      delays.push(opened!.at - asked);
      // EBML header … Cluster, then the first SimpleBlock: the video track, flagged keyframe.
      const cluster = indexOf(opened!.bytes, [0x1f, 0x43, 0xb6, 0x75]);
      const block = indexOf(opened!.bytes, [0xa3], cluster);
      const track = opened!.bytes[block + (opened!.bytes[block + 1]! & 0x80 ? 2 : 3)];
      expect(track).to.equal(0x81, 'the new Cluster opens with video');
      await record(500);
    }
    await recorder.stop();
    console.log(`webcodecs restart: new recording handed out after ${delays.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    expect(errors).to.deep.equal([]);
    // Firefox ESR's H.264 encoder holds ~40 frames until flushed; the recorder flushes after a
    // restart's keyframe, so it comes out at once there too.
    expect(Math.max(...delays)).to.be.below(500);
  });
});

function startsWithEbml(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3;
}

function indexOf(bytes: Uint8Array, pattern: number[], from = 0): number {
  for (let i = from; i + pattern.length <= bytes.length; i++) if (pattern.every((byte, j) => bytes[i + j] === byte)) return i;
  return -1;
}
