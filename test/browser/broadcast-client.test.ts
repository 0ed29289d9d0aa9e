// BroadcastClient in a real Chromium with a fake camera and microphone, against a real
// BroadcastServer whose ffmpeg publishes to a real nginx-rtmp; ffprobe checks what arrived.
/// <reference types="mocha" />
import { expect, oneEvent } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { BroadcastClient, BroadcastError, ERRORS, type BroadcastState, type BroadcastStats, type EndedMessage } from '../../client/core.js';
import { broadcastConfig, openCamera, probeRecording, record, stopTracks } from './commands.js';

/** Resolves with the first stats report from the server that satisfies `test`. */
function statsWhere(client: BroadcastClient, test: (stats: BroadcastStats) => boolean): Promise<BroadcastStats> {
  return new Promise((resolve) => {
    const check = (event: CustomEvent<BroadcastStats>) => {
      if (!test(event.detail)) return;
      client.removeEventListener('stats', check);
      resolve(event.detail);
    };
    client.addEventListener('stats', check);
  });
}

describe('BroadcastClient', () => {
  let camera: MediaStream | undefined;

  beforeEach(async () => {
    camera = await openCamera();
  });

  afterEach(() => {
    stopTracks(camera);
    camera = undefined;
  });

  it('streams the camera for 5 s and the destination gets its H.264 copied, with AAC audio, at 1280x720', async () => {
    const client = new BroadcastClient(await broadcastConfig('camera'));
    await client.start(camera!);
    expect(client.state).to.equal('live');
    expect(client.videoMode).to.equal('copy');
    expect(client.sessionId).to.be.a('string');

    await record(5_000);
    await client.stop();
    expect(client.state).to.equal('ended');

    const received = await probeRecording('camera');
    expect(received.video.codec).to.equal('h264');
    expect(received.video.width).to.equal(1280);
    expect(received.video.height).to.equal(720);
    expect(received.audio?.codec).to.equal('aac');
    expect(received.durationSec).to.be.at.least(4);
    // The recorder asks for a keyframe every 2 s, so viewers joining mid-stream wait no longer.
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

    await client.start(camera!);
    const beforePause = await statsWhere(client, (stats) => stats.durationMs >= 1_000);
    client.pause();
    // The destination keeps receiving (black frames and silence) for 2 s of media while paused.
    await statsWhere(client, (stats) => stats.durationMs >= beforePause.durationMs + 2_000);
    expect(client.state).to.equal('paused');
    expect(camera!.getTracks().every((track) => track.enabled && track.readyState === 'live')).to.equal(true, 'the page’s own tracks are untouched');
    client.resume();
    const afterResume = client.stats!.durationMs;
    await statsWhere(client, (stats) => stats.durationMs >= afterResume + 1_000);
    await client.stop();

    expect(states).to.deep.equal(['connecting', 'live', 'paused', 'live', 'stopping', 'ended']);
    expect(ended).to.deep.equal([{ reason: 'stopped' }]);
    const received = await probeRecording('pause');
    expect(received.durationSec).to.be.at.least((afterResume + 1_000) / 1_000 - 0.5);
  });

  it('rejects a start the server’s start hook refuses with the hook’s code and message', async () => {
    const client = new BroadcastClient({ ...(await broadcastConfig('refused')), auth: { refuse: true } });
    const ended = oneEvent(client, 'ended');

    const error = await client.start(camera!).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    expect(error).to.be.an.instanceOf(BroadcastError);
    expect((error as BroadcastError).code).to.equal('UNAUTHORIZED');
    expect((error as BroadcastError).message).to.equal('Refused by test hook');
    expect(client.state).to.equal('error');
    expect((await ended).detail).to.deep.equal({
      reason: 'error',
      error: { code: 'UNAUTHORIZED', message: 'Refused by test hook' },
    });
  });

  it('ends in error with DISCONNECTED and one ended event when the server goes away mid-stream', async () => {
    const client = new BroadcastClient(await broadcastConfig('server-gone'));
    const ended: EndedMessage[] = [];
    client.addEventListener('ended', (event) => ended.push(event.detail));
    const failed = oneEvent(client, 'error');

    await client.start(camera!);
    await oneEvent(client, 'stats');
    await executeServerCommand('kill-server');

    expect((await failed).detail).to.deep.equal({ code: 'DISCONNECTED', message: ERRORS.DISCONNECTED });
    expect(client.state).to.equal('error');
    await client.stop();
    expect(client.state).to.equal('error');
    expect(ended).to.deep.equal([{ reason: 'error', error: { code: 'DISCONNECTED', message: ERRORS.DISCONNECTED } }]);
  });

  it('ends in error with the server’s code when the destination goes away mid-stream', async () => {
    const client = new BroadcastClient(await broadcastConfig('destination-gone'));
    const failed = oneEvent(client, 'error');
    const ended = oneEvent(client, 'ended');

    await client.start(camera!);
    await oneEvent(client, 'stats');
    await executeServerCommand('cut-destination');

    const { code } = (await failed).detail;
    expect(code).to.equal('DESTINATION_UNREACHABLE');
    expect((await ended).detail).to.include({ reason: 'error' });
    expect(client.state).to.equal('error');
  });

  it('ends with NETWORK_TOO_SLOW instead of piling up chunks the server does not acknowledge', async () => {
    const config = await broadcastConfig('stalled');
    const client = new BroadcastClient({ ...config, auth: { stallData: true }, maxInFlightBytes: 1, maxBacklogBytes: 64 * 1024 });
    const ended = oneEvent(client, 'ended');

    await client.start(camera!);

    expect((await ended).detail).to.deep.equal({
      reason: 'error',
      error: { code: 'NETWORK_TOO_SLOW', message: ERRORS.NETWORK_TOO_SLOW },
    });
    expect(client.state).to.equal('error');
  });

  it('throws a TypeError naming the option and the value when an option is wrong', () => {
    const server = 'http://127.0.0.1:1';
    const wrong: [options: unknown, message: string][] = [
      [{ server, framerate: 0 }, 'Expected `framerate` to be a positive number, got `0`'],
      [{ server, videoBitsPerSecond: '2M' }, 'Expected `videoBitsPerSecond` to be a positive number, got `"2M"`'],
      [{ server, timeslice: -250 }, 'Expected `timeslice` to be a positive number, got `-250`'],
      [{ server, maxBacklogBytes: Infinity }, 'Expected `maxBacklogBytes` to be a positive number, got `Infinity`'],
      [{}, 'Expected `server` to be the URL of a BroadcastServer, got `undefined`'],
      [{ server, rtmpUrl: 42 }, 'Expected `rtmpUrl` to be an RTMP URL, got `42`'],
      [{ server, auth: 'token' }, 'Expected `auth` to be an object, got `"token"`'],
    ];
    for (const [options, message] of wrong) {
      expect(() => new BroadcastClient(options as ConstructorParameters<typeof BroadcastClient>[0])).to.throw(TypeError, message);
    }
    expect(new BroadcastClient({ server }).state).to.equal('idle');
  });
});
