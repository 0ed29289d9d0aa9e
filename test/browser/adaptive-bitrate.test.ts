// Adaptive bitrate end to end: a busy 720p30 picture at 2.5 Mb/s, recorded with WebCodecs, goes
// through a loopback proxy that caps the page's upload at 1.2 Mb/s. The broadcast stays live
// (MediaRecorder's ended with NETWORK_TOO_SLOW after 11 s here), the target bitrate goes under the
// cap, the RTMP server keeps receiving; the cap lifted, the target climbs back near 2.5 Mb/s.
/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { BroadcastClient } from '../../client/core.js';
import type { ClientStats } from '../../client/events.js';
import { eventually } from '../helpers/eventually.js';
import { busyPicture } from './busy-picture.js';
import { broadcastConfig, probeRecording, record, throttleUpload } from './commands.js';

const CONFIGURED = 2_500_000;
const CAP = 1_200_000;
/**
 * Long enough capped for the target to settle under the cap and the queue to drain. The issue's
 * 40 s, in both browsers, is the bench's run of this test (`npm run bench -- --abr`, ABR_CAPPED_MS).
 */
const DEFAULT_CAPPED_MS = 12_000;

describe('Adaptive bitrate (WebCodecs recorder)', () => {
  afterEach(async () => {
    await throttleUpload(null);
  });

  it('through a 1.2 Mb/s uplink a 2.5 Mb/s 720p30 broadcast stays live under the cap, and climbs back once it lifts', async function () {
    const { abrCappedMs: cappedMs = DEFAULT_CAPPED_MS, ...config } = await broadcastConfig('abr', { viaProxy: true });
    this.timeout(75_000 + cappedMs);
    const picture = await busyPicture();
    const client = new BroadcastClient({
      ...config,
      recorder: 'webcodecs',
      videoBitsPerSecond: CONFIGURED,
    });
    const errors: unknown[] = [];
    client.addEventListener('error', (event) => errors.push(event.detail));
    const stats: (ClientStats & { at: number })[] = [];
    client.addEventListener('stats', (event) => stats.push({ ...event.detail, at: performance.now() }));
    try {
      await throttleUpload(CAP);
      await client.start(picture.stream);
      const liveAt = performance.now();
      await record(cappedMs);
      expect(client.state).to.equal('live');
      expect(errors).to.deep.equal([]);
      const capped = stats.filter(({ at }) => at >= liveAt);
      const lowest = Math.min(...capped.map((each) => each.targetVideoBitsPerSecond ?? CONFIGURED));
      expect(lowest).to.be.below(CAP, 'the target went under the cap');
      // The server's ffmpeg kept pushing to the RTMP server all along: its progress kept coming and growing.
      const last = capped.at(-1)!;
      expect(performance.now() - last.at).to.be.below(3_000, 'the server still reports progress');
      const middle = capped.find(({ at }) => at >= liveAt + cappedMs / 2)!;
      expect(last.durationMs - middle.durationMs).to.be.above((last.at - middle.at) * 0.7, 'media reaches the RTMP server in real time');

      await throttleUpload(null);
      const liftedAt = performance.now();
      await eventually(
        () => (client.stats?.targetVideoBitsPerSecond ?? 0) >= CONFIGURED * 0.8,
        20_000,
        () => `the target climbs back (now ${client.stats?.targetVideoBitsPerSecond})`,
      );
      const recoveredMs = performance.now() - liftedAt;
      await record(1_000);
      const stopAsked = performance.now();
      await client.stop();
      const drainMs = performance.now() - stopAsked;
      const onAirSec = (performance.now() - liveAt) / 1_000;
      expect(errors).to.deep.equal([]);
      expect(drainMs).to.be.below(5_000, 'stop() drains within 5 s');

      const received = await probeRecording('abr');
      const times = received.videoPacketTimes;
      const gaps = times.slice(1).map((time, i) => time - times[i]!);
      const steady = capped.filter(({ at }) => at >= liveAt + 5_000);
      const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
      console.log(
        `abr ${navigator.userAgent.includes('Firefox') ? 'firefox' : 'chromium'}: capped ${cappedMs / 1000} s at ${CAP / 1e6} Mb/s: lowest target ${Math.round(lowest / 1000)} kb/s, ` +
          `mean target after 5 s ${Math.round(mean(steady.map((each) => each.targetVideoBitsPerSecond ?? 0)) / 1000)} kb/s, ` +
          `mean server output ${Math.round(mean(steady.map((each) => each.kbps)))} kb/s, max backlog ${Math.max(...capped.map((each) => each.backlogRatio)).toFixed(3)}, ` +
          `max ack delay ${Math.max(...capped.map((each) => each.ackRttMs ?? 0))} ms; back to >= 80 % in ${(recoveredMs / 1000).toFixed(1)} s; ` +
          `stop drained in ${drainMs.toFixed(0)} ms; recording ${received.durationSec.toFixed(1)} s of ${onAirSec.toFixed(1)} s on air, ` +
          `${times.length} frames, longest gap ${Math.max(...gaps).toFixed(2)} s; targets ${stats.map((each) => Math.round((each.targetVideoBitsPerSecond ?? 0) / 1000)).join(' ')}`,
      );
      expect(received.video.codec).to.equal('h264');
      // The publish covers the time on air (the issue: at least 90 %), without a hole.
      expect(received.durationSec).to.be.at.least(onAirSec * 0.9);
      // Measured: at most 0.28 s in Chromium, 1.19 s in Firefox (its encoder hands frames out ~1.5 s late, in bursts).
      expect(Math.max(...gaps)).to.be.below(2, 'no hole in the video at the RTMP server');
    } finally {
      picture.stop();
      if (client.state !== 'ended' && client.state !== 'error') await client.stop().catch(() => {});
    }
  });
});
