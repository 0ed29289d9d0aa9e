// BroadcastClient's protocol with the server, in a real Chromium with a fake camera, against a real
// BroadcastServer, ffmpeg and nginx-rtmp: refusals, timeouts, lost connections and destinations,
// details and options. None of it depends on how the browser records (the client's code is the
// same in every browser), so this file runs in Chromium only (web-test-runner.config.mjs); what
// does depend on the recorder (media, pause, mute, resumes, restarts) is broadcast-client.test.ts,
// run in Chromium and Firefox.
/// <reference types="mocha" />
import { expect, oneEvent } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { BroadcastClient, BroadcastError, ERRORS, type BroadcastState, type EndedMessage } from '../../client/core.js';
import { endedSummary, endedUntilOver, stateReached, statsWhere, useCamera } from './client-events.js';
import { blip, broadcastConfig, probeRecording, refusingDestination, serverLog } from './commands.js';

describe('BroadcastClient protocol', () => {
  const camera = useCamera();

  it('replaceVideoTrack() is refused with MediaRecorder, and the broadcast goes on', async () => {
    const client = new BroadcastClient({ ...(await broadcastConfig('mediarecorder-replace')), recorder: 'mediarecorder' });
    await client.start(camera());
    expect(client.canReplaceVideoTrack).to.equal(false);
    const other = camera().getVideoTracks()[0]!.clone();
    try {
      const refusal = await client.replaceVideoTrack(other).then(
        () => undefined,
        (error: BroadcastError) => error,
      );
      expect(refusal?.code).to.equal('INVALID_REQUEST');
      expect(refusal?.message).to.match(/only the WebCodecs recorder/);
      expect(client.state).to.equal('live');
    } finally {
      other.stop();
      await client.stop();
    }
    expect(client.state).to.equal('ended');
  });

  it('ends with the server’s code when the server refuses to resume, and a stop() waiting for the reconnection rejects with it', async () => {
    const config = await broadcastConfig('resume-refused', { viaProxy: true });
    const client = new BroadcastClient({ ...config, auth: { wrongResumeToken: true } });
    const states: BroadcastState[] = [];
    client.addEventListener('statechange', (event) => states.push(event.detail.state));
    const ended: EndedMessage[] = [];
    client.addEventListener('ended', (event) => ended.push(event.detail));
    await client.start(camera());
    const reconnecting = stateReached(client, 'reconnecting');

    await blip(500);
    await reconnecting;
    const error = await client.stop().catch((caught: unknown) => caught);

    expect(error).to.be.an.instanceOf(BroadcastError).with.property('code', 'NOT_STARTED');
    expect(states).to.deep.equal(['connecting', 'live', 'reconnecting', 'error']);
    expect(ended.map(endedSummary)).to.deep.equal(['error NOT_STARTED']);
  });

  it('ends with NETWORK_TOO_SLOW instead of piling up chunks the server does not acknowledge', async () => {
    const config = await broadcastConfig('stalled');
    const client = new BroadcastClient({ ...config, auth: { stallData: true }, maxInFlightBytes: 1, maxBacklogBytes: 64 * 1024 });
    const ended = oneEvent(client, 'ended');

    // Nothing reaches a destination, so the broadcast never goes on air: start() rejects.
    const error = await client.start(camera()).catch((caught: unknown) => caught);

    expect(error).to.be.an.instanceOf(BroadcastError).with.property('code', 'NETWORK_TOO_SLOW');
    expect((await ended).detail).to.deep.equal({
      reason: 'error',
      error: { code: 'NETWORK_TOO_SLOW', message: ERRORS.NETWORK_TOO_SLOW },
    });
    expect(client.state).to.equal('error');
  });

  it('receives ffmpeg’s log lines from the server as ffmpeg-output events during a broadcast', async () => {
    const client = new BroadcastClient(await broadcastConfig('ffmpeg-output'));
    const lines: string[] = [];
    client.addEventListener('ffmpeg-output', (event) => lines.push(event.detail.line));
    const firstLine = oneEvent(client, 'ffmpeg-output');

    await client.start(camera());
    const { detail } = await firstLine;
    await client.stop();

    expect(detail.line).to.be.a('string').that.is.not.empty;
    expect(lines.length).to.be.at.least(1);
    expect(lines.every((line) => typeof line === 'string' && line.trim() !== '')).to.equal(true, lines.join('\n'));
  });

  it('asks for the AAC sample rate given as audioSampleRate, and the destination gets 48 kHz audio', async () => {
    const client = new BroadcastClient({ ...(await broadcastConfig('sample-rate')), audioSampleRate: 48_000 });

    await client.start(camera());
    await statsWhere(client, (stats) => stats.durationMs >= 1_000);
    await client.stop();

    const received = await probeRecording('sample-rate');
    expect(received.audio).to.include({ codec: 'aac', sampleRate: 48_000 });
  });

  it('carries what lay underneath an error as `detail`, in the error event and the rejection, from a server that shares it', async () => {
    // The test server's start hook picks an http:// destination, which the server cannot use.
    const client = new BroadcastClient({ ...(await broadcastConfig('error-detail')), auth: { unusableDestination: true } });
    const failed = oneEvent(client, 'error');

    const error = await client.start(camera()).catch((caught: unknown) => caught);

    const expected = {
      code: 'INTERNAL',
      message: 'The server chose a destination it cannot use.',
      detail: 'Only rtmp:// and rtmps:// destinations are allowed (got http:).',
    };
    expect(error).to.be.an.instanceOf(BroadcastError).and.include(expected);
    expect((await failed).detail).to.deep.equal(expected);
  });

  it('throws a TypeError naming the option and the value when an option is wrong', () => {
    const server = 'http://127.0.0.1:1';
    const wrong: [options: unknown, message: string][] = [
      [{ server, framerate: 0 }, 'Expected `framerate` to be a number from 1 to 120, got `0`'],
      [{ server, videoBitsPerSecond: '2M' }, 'Expected `videoBitsPerSecond` to be a number from 100000 to 50000000, got `"2M"`'],
      [{ server, audioBitsPerSecond: 1_000_000 }, 'Expected `audioBitsPerSecond` to be a number from 16000 to 512000, got `1000000`'],
      [{ server, framerate: NaN }, 'Expected `framerate` to be a number from 1 to 120, got `NaN`'],
      [
        { server, audioSampleRate: 48 },
        'Expected `audioSampleRate` to be one of 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, got `48`',
      ],
      [
        { server, audioSampleRate: '48000' },
        'Expected `audioSampleRate` to be one of 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, got `"48000"`',
      ],
      [{ server, timeslice: -250 }, 'Expected `timeslice` to be a positive number, got `-250`'],
      [{ server, maxBacklogBytes: Infinity }, 'Expected `maxBacklogBytes` to be a positive number, got `Infinity`'],
      [{ server, resumeTimeoutMs: 0 }, 'Expected `resumeTimeoutMs` to be a positive number, got `0`'],
      [{ server, replyTimeoutMs: '20s' }, 'Expected `replyTimeoutMs` to be a positive number, got `"20s"`'],
      [{}, 'Expected `server` to be the URL of a BroadcastServer, got `undefined`'],
      [{ server, rtmpUrl: 42 }, 'Expected `rtmpUrl` to be an RTMP URL, got `42`'],
      [{ server, rtmpUrl: [] }, 'Expected `rtmpUrl` to be a non-empty list of RTMP URLs, got `[]`'],
      [{ server, rtmpUrl: ['rtmp://a/live/k', 5] }, 'Expected `rtmpUrl` to be a non-empty list of RTMP URLs, got `["rtmp://a/live/k", 5]`'],
      [{ server, auth: 'token' }, 'Expected `auth` to be an object, got `"token"`'],
    ];
    for (const [options, message] of wrong) {
      expect(() => new BroadcastClient(options as ConstructorParameters<typeof BroadcastClient>[0])).to.throw(TypeError, message);
    }
    expect(new BroadcastClient({ server }).state).to.equal('idle');
    expect(new BroadcastClient({ server, audioSampleRate: 48_000, framerate: 120, audioBitsPerSecond: 16_000 }).state).to.equal('idle');
  });

  it('to several destinations: one that refuses is reported by destination-lost and given up on, while the broadcast stays live at the other', async () => {
    const config = await broadcastConfig('two-destinations');
    const refusing = await refusingDestination('two-destinations-refused');
    const client = new BroadcastClient({ ...config, rtmpUrl: [config.rtmpUrl, refusing] });
    const states: BroadcastState[] = [];
    client.addEventListener('statechange', (event) => states.push(event.detail.state));
    const ended = endedUntilOver(client, config.rtmpUrl);
    const lost = oneEvent(client, 'destination-lost');

    await client.start(camera());
    const { detail } = await lost;
    expect(detail).to.include({ index: 1, retrying: false, remaining: 1 });
    expect(detail.error.code).to.equal('DESTINATION_UNREACHABLE');
    expect(detail.destination).to.match(/^rtmp:\/\/127\.0\.0\.1:\d+\/live\/\*\*\*$/, 'the stream key stays hidden');
    const stats = await statsWhere(client, (report) => report.durationMs >= 2_000);
    expect(stats.destinations?.map(({ state }) => state)).to.deep.equal(['live', 'failed']);
    await client.stop();

    expect(states).to.deep.equal(['connecting', 'live', 'stopping', 'ended'], 'never reconnecting: the other destination had it all along');
    expect(await ended).to.deep.equal([{ reason: 'stopped' }]);
    const received = await probeRecording('two-destinations');
    expect(received.video).to.include({ codec: 'h264' });
    expect(received.durationSec).to.be.at.least(1.5);
  });

  describe('emits ended exactly once per broadcast', () => {
    it('when the server’s start hook refuses it, and start() rejects with the hook’s code and message', async () => {
      const config = await broadcastConfig('ended-refused');
      const client = new BroadcastClient({ ...config, auth: { refuse: true } });
      const ended = endedUntilOver(client, config.rtmpUrl);

      const error = await client.start(camera()).catch((caught: unknown) => caught);

      expect(error).to.be.an.instanceOf(BroadcastError).and.include({ code: 'UNAUTHORIZED', message: 'Refused by test hook' });
      expect(client.state).to.equal('error');
      expect(await ended).to.deep.equal([{ reason: 'error', error: { code: 'UNAUTHORIZED', message: 'Refused by test hook' } }]);
    });

    it('when the server ends it with an error: the destination went away for good', async () => {
      const config = await broadcastConfig('ended-destination-gone');
      const client = new BroadcastClient(config);
      const states: BroadcastState[] = [];
      client.addEventListener('statechange', (event) => states.push(event.detail.state));
      const ended = endedUntilOver(client, config.rtmpUrl);
      const failed = oneEvent(client, 'error');

      await client.start(camera());
      await statsWhere(client, (stats) => stats.durationMs >= 500); // on air at the destination
      await executeServerCommand('destination-down');
      try {
        expect((await failed).detail.code).to.equal('DESTINATION_UNREACHABLE');
        expect((await ended).map(endedSummary)).to.deep.equal(['error DESTINATION_UNREACHABLE']);
      } finally {
        await executeServerCommand('destination-up');
      }
      expect(client.state).to.equal('error');
      const log = states.includes('reconnecting') ? '' : await serverLog(client.sessionId ?? 'no session');
      expect(states).to.deep.equal(
        ['connecting', 'live', 'reconnecting', 'error'],
        `the server tried to reconnect it first; it logged:\n${log}`,
      );
    });

    it('when the connection to the server is lost mid-stream and does not come back within resumeTimeoutMs, as DISCONNECTED', async () => {
      const config = await broadcastConfig('ended-server-gone');
      const client = new BroadcastClient({ ...config, resumeTimeoutMs: 1_000 });
      const states: BroadcastState[] = [];
      client.addEventListener('statechange', (event) => states.push(event.detail.state));
      const ended = endedUntilOver(client, config.rtmpUrl);

      await client.start(camera());
      await oneEvent(client, 'stats');
      await executeServerCommand('kill-server');

      expect(await ended).to.deep.equal([{ reason: 'error', error: { code: 'DISCONNECTED', message: ERRORS.DISCONNECTED } }]);
      expect(client.state).to.equal('error');
      expect(states).to.deep.equal(['connecting', 'live', 'reconnecting', 'error']);
      await client.stop();
      expect(client.state).to.equal('error', 'stop() after the end changes nothing');
    });

    it('when the server never answers start, as INTERNAL after replyTimeoutMs, and start() rejects with it', async () => {
      const config = await broadcastConfig('ended-no-start-answer');
      const client = new BroadcastClient({ ...config, auth: { holdStart: true }, replyTimeoutMs: 1_000 });
      const ended = endedUntilOver(client, config.rtmpUrl);
      const startedAt = performance.now();

      const error = await client.start(camera()).catch((caught: unknown) => caught);

      const expected = { code: 'INTERNAL', message: 'The broadcast server did not answer `start` within 1 s.' };
      expect(error).to.be.an.instanceOf(BroadcastError).and.include(expected);
      expect(performance.now() - startedAt).to.be.within(900, 5_000);
      expect(client.state).to.equal('error');
      expect(await ended).to.deep.equal([{ reason: 'error', error: expected }]);
    });

    it('when the server never answers stop, as INTERNAL after replyTimeoutMs, and stop() rejects with it', async () => {
      const config = await broadcastConfig('ended-no-stop-answer');
      const client = new BroadcastClient({ ...config, auth: { ignoreStop: true }, replyTimeoutMs: 1_000 });
      const ended: EndedMessage[] = [];
      client.addEventListener('ended', (event) => ended.push(event.detail));

      await client.start(camera());
      await oneEvent(client, 'stats');
      const error = await client.stop().catch((caught: unknown) => caught);

      const expected = { code: 'INTERNAL', message: 'The broadcast server did not answer `stop` within 1 s.' };
      expect(error).to.be.an.instanceOf(BroadcastError).and.include(expected);
      expect(client.state).to.equal('error');
      expect(ended).to.deep.equal([{ reason: 'error', error: expected }]);
    });

    it('when ffmpeg exits because the destination refuses the connection', async () => {
      const { server } = await broadcastConfig('ended-refusing-destination');
      const rtmpUrl = await refusingDestination('ended-refusing-destination');
      const client = new BroadcastClient({ server, rtmpUrl });
      const ended = endedUntilOver(client, rtmpUrl);

      const error = await client.start(camera()).catch((caught: unknown) => caught);

      expect(error, 'never on air: start() rejects').to.be.an.instanceOf(BroadcastError).with.property('code', 'DESTINATION_UNREACHABLE');
      expect((await ended).map(endedSummary)).to.deep.equal(['error DESTINATION_UNREACHABLE']);
      expect(client.state).to.equal('error');
    });
  });
});
