// BroadcastClient in a real Chromium with a fake camera and microphone, against a real
// BroadcastServer whose ffmpeg publishes to a real nginx-rtmp; ffprobe checks what arrived.
/// <reference types="mocha" />
import { expect, oneEvent } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { BroadcastClient, type BroadcastState, type EndedMessage } from '../../client/core.js';
import { endedUntilOver, stateReached, statsWhere, useCamera } from './client-events.js';
import {
  blip,
  broadcastConfig,
  HD,
  mediaRecorderVideoMode,
  openCamera,
  probeLevels,
  probeRecording,
  record,
  recordsH264,
  rtmpEvents,
  serverLog,
  startRequest,
  stopTracks,
} from './commands.js';

/** The stretches (seconds) where every audio frame is silent (peak under -60 dBFS), in order. */
function silences(audio: { time: number; peakDb: number | null }[]): { from: number; to: number }[] {
  const runs: { from: number; to: number }[] = [];
  let current: { from: number; to: number } | undefined;
  for (const { time, peakDb } of audio) {
    if (peakDb === null || peakDb < -60) {
      if (current) current.to = time;
      else {
        current = { from: time, to: time };
        runs.push(current);
      }
    } else {
      current = undefined;
    }
  }
  return runs;
}

describe('BroadcastClient', () => {
  const camera = useCamera();

  // MediaRecorder, which `auto` falls back to: H.264 copied in Chromium, VP8 transcoded in Firefox.
  // The default recorder (`auto`: WebCodecs in both test browsers) has the same test in webcodecs.test.ts.
  it(`streams the camera for 5 s with mediarecorder and the destination gets H.264 (${mediaRecorderVideoMode === 'copy' ? 'copied' : 'transcoded from VP8'}) with AAC audio, at 1280x720`, async () => {
    const stream = 'camera-mediarecorder';
    const client = new BroadcastClient({ ...(await broadcastConfig(stream)), recorder: 'mediarecorder' });
    // The fake camera is one device: opened again at another size, it keeps the first one's.
    stopTracks(camera());
    const hd = await openCamera(HD);
    try {
      await client.start(hd);
      expect(client.state).to.equal('live');
      expect(client.videoMode).to.equal(mediaRecorderVideoMode);
      expect(client.sessionId).to.be.a('string');
      expect((await startRequest(stream))?.mimeType).to.match(/^video\/webm;codecs=(h264|vp8),opus$/);

      await record(5_000);
      await client.stop();
      expect(client.state).to.equal('ended');
    } finally {
      stopTracks(hd);
    }

    const received = await probeRecording(stream);
    expect(received.video.codec).to.equal('h264');
    expect(received.video.width).to.equal(1280);
    expect(received.video.height).to.equal(720);
    expect(received.audio?.codec).to.equal('aac');
    expect(received.durationSec).to.be.at.least(4);
    // A keyframe every 2 s, so viewers joining mid-stream wait no longer: Chromium's MediaRecorder
    // makes them; Firefox's makes one at the start and the server's transcode the rest.
    const gaps = received.keyframeTimes.slice(1).map((time, i) => time - received.keyframeTimes[i]!);
    expect(gaps.length).to.be.at.least(2);
    expect(Math.max(...gaps)).to.be.at.most(2.5, `keyframes at ${received.keyframeTimes.join(', ')} s`);
  });

  it('goes through connecting, live, paused, live, stopping and ended, and media keeps flowing while paused', async () => {
    const client = new BroadcastClient(await broadcastConfig('pause'));
    const states: BroadcastState[] = [];
    client.addEventListener('statechange', (event) => states.push(event.detail.state));
    const ended: EndedMessage[] = [];
    client.addEventListener('ended', (event) => ended.push(event.detail));

    await client.start(camera());
    const beforePause = await statsWhere(client, (stats) => stats.durationMs >= 1_000);
    client.pause();
    // The destination keeps receiving (black frames and silence) for 2 s of media while paused.
    await statsWhere(client, (stats) => stats.durationMs >= beforePause.durationMs + 2_000);
    expect(client.state).to.equal('paused');
    expect(
      camera()
        .getTracks()
        .every((track) => track.enabled && track.readyState === 'live'),
    ).to.equal(true, 'the page’s own tracks are untouched');
    client.resume();
    const afterResume = client.stats!.durationMs;
    await statsWhere(client, (stats) => stats.durationMs >= afterResume + 1_000);
    await client.stop();

    expect(states).to.deep.equal(['connecting', 'live', 'paused', 'live', 'stopping', 'ended']);
    expect(ended).to.deep.equal([{ reason: 'stopped' }]);
    const received = await probeRecording('pause');
    expect(received.durationSec).to.be.at.least((afterResume + 1_000) / 1_000 - 0.5);
  });

  it('hides the video (black frames) and mutes the microphone (silence) each on its own while the broadcast stays on air', async function () {
    this.timeout(60_000);
    const client = new BroadcastClient(await broadcastConfig('mute'));
    const states: BroadcastState[] = [];
    client.addEventListener('statechange', (event) => states.push(event.detail.state));
    /** The output time (s) once `seconds` more of media have reached the destination. */
    const after = async (seconds: number) => {
      const from = client.stats?.durationMs ?? 0;
      return (await statsWhere(client, (stats) => stats.durationMs >= from + seconds * 1_000)).durationMs / 1_000;
    };

    await client.start(camera());
    const startedAt = performance.now();
    // Each toggle's wall-clock time: the recording's timestamps are the browser's capture times, so
    // a span between two toggles is measured in them, whatever the server's lag. The output time
    // from the stats at a toggle only bounds where its effect can start in the recording.
    // Each span long enough to tell from the slack below: the mute's silence from the fake
    // microphone's gaps (under 1.2 s), a hidden span from a late frame (about 0.5 s).
    const hidden = await after(2);
    client.setVideoMuted(true);
    const hideAt = performance.now();
    expect(client.videoMuted).to.equal(true);
    await after(2.5);
    client.setVideoMuted(false);
    client.setAudioMuted(true);
    const showAt = performance.now();
    expect([client.audioMuted, client.videoMuted]).to.deep.equal([true, false]);
    await after(2.5);
    client.setAudioMuted(false);
    const unmuteAt = performance.now();
    await after(2);
    const wallSec = (performance.now() - startedAt) / 1_000;
    await client.stop();

    expect(states).to.deep.equal(['connecting', 'live', 'stopping', 'ended']);
    expect(
      camera()
        .getTracks()
        .every((track) => track.enabled),
    ).to.equal(true, 'the page’s own tracks are untouched');
    const { frames, audio } = await probeLevels('mute');
    const list = frames.map(({ time, luma }) => `${time.toFixed(2)}:${Math.round(luma)}`).join(' ');
    const black = frames.filter((frame) => frame.luma < 30);
    expect(black.length).to.be.above(0, `black frames (brightest luma per frame ${list})`);
    const [hiddenAt, lastBlack] = [black[0]!.time, black.at(-1)!.time];
    const shownAt = frames.find((frame) => frame.time > lastBlack)!.time;
    for (const frame of frames) {
      if (frame.time < hiddenAt || frame.time >= shownAt)
        expect(frame.luma).to.be.above(60, `the camera shows at ${frame.time} s (${list})`);
      else expect(frame.luma).to.be.below(30, `black at ${frame.time} s, all the while hidden (${list})`);
    }
    expect(hiddenAt).to.be.at.least(hidden, `hidden at ${hiddenAt} s, not before the stats said ${hidden} s (${list})`);
    // The transcoded output runs at a constant frame rate, repeating the last black frame until the
    // browser's next frame: Firefox's come ~0.7 s apart while the track is disabled, so the camera
    // can show that much later in the recording than the toggle.
    const REPEAT_SLACK = 0.7;
    // A browser short of CPU (the suites run side by side) may capture the first frame after a
    // toggle late, or drop a few: each end of a span is known to about half a second.
    const CAPTURE_SLACK = 0.5;
    const hiddenSec = (showAt - hideAt) / 1_000;
    const mutedSec = (unmuteAt - showAt) / 1_000;
    expect(shownAt - hiddenAt).to.be.within(
      hiddenSec - 2 * CAPTURE_SLACK,
      hiddenSec + CAPTURE_SLACK + REPEAT_SLACK,
      'hidden for as long as it was asked',
    );
    // Firefox records a disabled video track at about 1.5 frames per second, Chromium at full rate.
    expect(black.length).to.be.at.least(Math.floor(shownAt - hiddenAt), 'frames keep coming while hidden');
    // The microphone: one long silence, from about when the video came back, as long as it was muted;
    // elsewhere it is heard at least every second (Chromium's fake microphone beeps, Firefox's hums),
    // so the silence may run on into the quiet around a beep, up to about a second each side.
    const BEEP_GAP = 0.9;
    const runs = silences(audio);
    const describeRuns = runs.map(({ from, to }) => `${from.toFixed(2)}–${to.toFixed(2)}`).join(', ');
    const longest = runs.reduce((a, b) => (b.to - b.from > a.to - a.from ? b : a), { from: 0, to: 0 });
    expect(longest.to - longest.from).to.be.within(
      mutedSec - 2 * CAPTURE_SLACK,
      mutedSec + 2 * BEEP_GAP,
      `muted for as long as it was asked, ${mutedSec.toFixed(2)} s (silences ${describeRuns} s)`,
    );
    expect(longest.from).to.be.within(
      shownAt - BEEP_GAP - REPEAT_SLACK - CAPTURE_SLACK,
      shownAt + 2 * CAPTURE_SLACK,
      `muted when the video came back (silences ${describeRuns} s)`,
    );
    for (const run of runs.filter((run) => run !== longest))
      expect(run.to - run.from).to.be.below(1.2, `heard outside the mute (silences ${describeRuns} s)`);
    // One publish, no hole: the broadcast went on through both.
    expect((await rtmpEvents('mute')).filter((call) => call === 'publish')).to.have.length(1, 'one publish');
    const received = await probeRecording('mute');
    expect(received.durationSec).to.be.closeTo(wallSec, wallSec * 0.15);
    const times = received.videoPacketTimes;
    expect(Math.max(...times.slice(1).map((time, i) => time - times[i]!))).to.be.below(recordsH264 ? 0.5 : 1.1, 'no frames missing');
  });

  it('starts muted when told before start(), keeps the choice through pause and resume, and throws a TypeError for a non-boolean', async function () {
    // Firefox's recorder sets up its audio encoder from the first sound it gets, or after 5 s without.
    this.timeout(45_000);
    const client = new BroadcastClient(await broadcastConfig('start-muted'));
    client.setAudioMuted(true);
    expect(() => client.setVideoMuted('yes' as unknown as boolean)).to.throw(TypeError, 'Expected `muted` to be a boolean, got `"yes"`');

    await client.start(camera());
    await statsWhere(client, (stats) => stats.durationMs >= 1_500);
    client.pause();
    client.resume();
    // The camera records 3 s after resume(). Not measured in the server's stats: they follow what
    // ffmpeg has read, which in Firefox lags the capture by seconds (its recorder holds everything
    // until its audio encoder starts, 5 s without sound) and then catches up faster than real time,
    // so 3 s of stats after resume() could be under 2 s of recording.
    const AFTER_RESUME_SEC = 3;
    await record(AFTER_RESUME_SEC * 1_000);
    await client.stop();

    expect(client.audioMuted).to.equal(true);
    const { durationSec } = await probeRecording('start-muted');
    const { frames, audio } = await probeLevels('start-muted');
    expect(audio.length).to.be.above(0);
    expect(silences(audio)).to.deep.equal(
      [{ from: audio[0]!.time, to: audio.at(-1)!.time }],
      'silent from the first frame to the last, through pause() and resume()',
    );
    // The recording's timestamps are capture times, so its last seconds are what the camera recorded
    // after resume(): they show the camera (pause() turned it black for a few frames only). Half a
    // second of slack for a loaded browser's first frame after resume().
    const list = frames.map(({ time, luma }) => `${time.toFixed(2)}:${Math.round(luma)}`).join(' ');
    const afterResume = frames.filter((frame) => frame.time > durationSec - (AFTER_RESUME_SEC - 0.5));
    expect(afterResume.length).to.be.above(0);
    expect(Math.min(...afterResume.map((frame) => frame.luma))).to.be.above(60, `the video is back after resume() (${list})`);
  });

  it('rides out a 3 s network blip: it reconnects, resumes, and the destination gets one publish with every frame', async function () {
    this.timeout(45_000);
    // Chunks reach the server 400 ms after they are sent, so the cut catches some on their way.
    const client = new BroadcastClient({ ...(await broadcastConfig('blip', { viaProxy: true })), auth: { dataDelayMs: 400 } });
    const states: BroadcastState[] = [];
    client.addEventListener('statechange', (event) => states.push(event.detail.state));
    const fps = camera().getVideoTracks()[0]!.getSettings().frameRate!;

    // Recording starts before the destination takes it, and start() resolves only then.
    const startedAt = performance.now();
    await client.start(camera());
    await record(2_000);
    const reconnecting = stateReached(client, 'reconnecting');
    const back = stateReached(client, 'live');
    await blip(3_000);
    const awayMs = (await back) - (await reconnecting);
    await record(2_000);
    const wallSec = (performance.now() - startedAt) / 1_000;
    await client.stop();

    expect(states).to.deep.equal(['connecting', 'live', 'reconnecting', 'live', 'stopping', 'ended']);
    expect(awayMs).to.be.within(2_900, 6_000, 'reconnected soon after the line came back');
    const received = await probeRecording('blip');
    expect((await rtmpEvents('blip')).filter((call) => call === 'publish')).to.have.length(1, 'one publish');
    // The recorder went on during the blip and what it recorded went out after it.
    expect(received.durationSec).to.be.closeTo(wallSec, wallSec * 0.1);
    const times = received.videoPacketTimes;
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    expect(Math.max(...gaps)).to.be.below(0.5, 'no frames missing');
    // A chunk written twice would add frames or send the timestamps back. (No lower bound on the
    // count: the gaps above find missing media, and a loaded Firefox captures ~11 of 30 fps.)
    expect(Math.min(...gaps)).to.be.above(0, 'timestamps only go forward');
    expect(times.length).to.be.at.most(received.durationSec * fps * 1.1);
  });

  it('rides out a destination that restarts: reconnecting, then live again within 5 s, one ended at the stop', async () => {
    const config = await broadcastConfig('destination-restarts');
    const client = new BroadcastClient(config);
    const states: BroadcastState[] = [];
    client.addEventListener('statechange', (event) => states.push(event.detail.state));
    const destinationEvents: string[] = [];
    client.addEventListener('destination-lost', ({ detail }) =>
      destinationEvents.push(
        `lost ${detail.index} ${detail.error.code} retrying=${detail.retrying} remaining=${detail.remaining} attempt=${detail.attempt}`,
      ),
    );
    client.addEventListener('destination-restored', ({ detail }) =>
      destinationEvents.push(`restored ${detail.index} attempt=${detail.attempt}`),
    );
    const ended = endedUntilOver(client, config.rtmpUrl);
    const errors: string[] = [];
    client.addEventListener('error', ({ detail }) => errors.push(`${detail.code}: ${detail.message}`));

    await client.start(camera());
    const sessionId = client.sessionId ?? 'no session';
    await statsWhere(client, (stats) => stats.durationMs >= 500); // on air at the destination
    const lostAt = oneEvent(client, 'statechange').then(() => Date.now());
    await executeServerCommand('cut-destination');
    // Live again, or a failure that says what happened (not a test timeout).
    const back = await new Promise<number>((resolve, reject) => {
      // The assertion below is 5 s; past 15 s, fail with what is known rather than at mocha's timeout.
      const stuck = setTimeout(
        () =>
          reject(
            new Error(
              `still ${client.state} 15 s after the cut: states ${states.join(' ')}; ${destinationEvents.join('; ')}; errors ${errors.join('; ')}`,
            ),
          ),
        15_000,
      );
      client.addEventListener('statechange', function listener(event) {
        const { state } = event.detail;
        if (state !== 'live' && state !== 'error' && state !== 'ended') return;
        client.removeEventListener('statechange', listener);
        clearTimeout(stuck);
        if (state === 'live') resolve(Date.now());
        else
          void serverLog(sessionId).then((log) =>
            reject(
              new Error(
                `${state}, not live again: states ${states.join(' ')}; ${destinationEvents.join('; ')}; errors ${errors.join('; ')}; server: ${log}`,
              ),
            ),
          );
      });
    });
    expect(back - (await lostAt)).to.be.below(5_000);
    // The new ffmpeg publishes 3 s of media: the recording (nginx's file of the second publish) must be whole.
    await statsWhere(client, (stats) => stats.durationMs >= 3_000);
    await client.stop();

    expect(states).to.deep.equal(['connecting', 'live', 'reconnecting', 'live', 'stopping', 'ended']);
    expect(destinationEvents).to.deep.equal(['lost 0 DESTINATION_UNREACHABLE retrying=true remaining=0 attempt=1', 'restored 0 attempt=1']);
    expect(await ended).to.deep.equal([{ reason: 'stopped' }]);
    expect((await rtmpEvents('destination-restarts')).filter((call) => call === 'publish')).to.have.length(2);
    const received = await probeRecording('destination-restarts');
    expect(received.video).to.include({ codec: 'h264' });
    // Video from the first moment of the new publish on, with keyframes every 2 s: the new ffmpeg
    // started at a keyframe (Firefox's recording restarted for it) instead of waiting for one.
    const [first, ...times] = received.videoPacketTimes;
    const keyframes = received.keyframeTimes;
    expect(received.durationSec).to.be.at.least(2.5);
    expect(keyframes[0]! - first!).to.be.below(0.1, `keyframes at ${keyframes.join(', ')} s`);
    // No hole in the video either: waiting for the next keyframe would leave up to 2 s. A browser
    // short of CPU (the suites run side by side on 2 cores) drops camera frames for half a second.
    const gaps = [first!, ...times].slice(1).map((time, i) => time - [first!, ...times][i]!);
    expect(Math.max(...gaps)).to.be.below(recordsH264 ? 0.8 : 1.1, `largest gap between video packets`);
    expect(Math.max(...keyframes.slice(1).map((time, i) => time - keyframes[i]!))).to.be.at.most(
      2.5,
      `keyframes at ${keyframes.join(', ')} s`,
    );
  });

  describe('emits ended exactly once per broadcast', () => {
    it('when it is stopped', async () => {
      const config = await broadcastConfig('ended-stopped');
      const client = new BroadcastClient(config);
      const ended = endedUntilOver(client, config.rtmpUrl);

      await client.start(camera());
      await client.stop();

      expect(await ended).to.deep.equal([{ reason: 'stopped' }]);
    });

    it('when a video-only broadcast is stopped right after it started, before any frame reached the destination', async () => {
      const config = await broadcastConfig('ended-stopped-video-only');
      const client = new BroadcastClient(config);
      const ended = endedUntilOver(client, config.rtmpUrl);
      const video = new MediaStream(camera().getVideoTracks());

      await client.start(video);
      await client.stop();

      expect(await ended).to.deep.equal([{ reason: 'stopped' }]);
      expect(client.state).to.equal('ended');
    });
  });
});
