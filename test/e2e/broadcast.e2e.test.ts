// End to end: a real socket.io client sends recorder-like media to a real BroadcastServer, whose
// real ffmpeg publishes to a real nginx-rtmp on loopback; ffprobe checks what arrived.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import type { BroadcastStats } from '../../client/protocol.js';
import { BroadcastServer, type StopSummary } from '../../server/index.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { keyframeTimes, probe } from '../helpers/probe.js';
import { useRtmpServer } from '../helpers/suite.js';
import { ended, sendAll, start, startStack, stop } from '../helpers/stack.js';
import { H264_MIME, VP8_MIME } from '../helpers/constants.js';

const CHUNK_BYTES = 80_000; // about 250 ms of 2.5 Mb/s media, like a recorder timeslice

const rtmp = useRtmpServer();

describe('a broadcast reaches the RTMP server', () => {
  test('H.264 + Opus is copied as H.264 and becomes AAC at the destination', async () => {
    const summaries: StopSummary[] = [];
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      hooks: { stop: (_context, summary) => void summaries.push(summary) },
    });
    try {
      const media = await makeFixture('h264-opus');
      const socket = await stack.client();
      const stats: BroadcastStats[] = [];
      socket.on('stats', (s) => stats.push(s));
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('copy') });
      assert.equal(answer.ok, true);
      assert.ok(answer.ok && answer.video === 'copy');
      const endedMessage = ended(socket);
      const acks = await sendAll(socket, splitChunks(media, CHUNK_BYTES));
      assert.ok(
        acks.every((ack) => ack.ok),
        'every chunk acknowledged',
      );
      assert.deepEqual(await stop(socket), { ok: true });
      assert.deepEqual(await endedMessage, { reason: 'stopped' });

      const received = await probe(await rtmp.recording('copy'), { countFrames: true });
      assert.equal(received.video?.codec, 'h264');
      assert.equal(received.video?.profile, 'Constrained Baseline');
      assert.equal(received.video?.width, 1280);
      assert.equal(received.video?.height, 720);
      assert.equal(received.audio?.codec, 'aac');
      assert.equal(received.audio?.sampleRate, 44_100);
      assert.equal(received.audio?.channels, 2, 'stereo Opus stays stereo');
      assert.ok(Math.abs(received.durationSec - 5) <= 0.5, `duration ${received.durationSec} s is 5 s ± 10 %`);
      assert.ok((received.video?.frames ?? 0) >= 145, `frames ${received.video?.frames} of 150`);

      assert.equal(summaries.length, 1);
      assert.equal(summaries[0]?.reason, 'stopped');
      assert.equal(summaries[0]?.bytesIn, media.byteLength);
      assert.deepEqual(stack.broadcaster.sessions(), []);
    } finally {
      await stack.close();
    }
  });

  test("AAC keeps the microphone's channels unless the audioChannels option or the start hook forces them", async () => {
    const broadcast = async (stack: Awaited<ReturnType<typeof startStack>>, channels: 1 | 2, name: string) => {
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url(name) });
      assert.equal(answer.ok, true, name);
      const endedMessage = ended(socket);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 2, audioChannels: channels }), CHUNK_BYTES));
      assert.deepEqual(await stop(socket), { ok: true });
      assert.deepEqual(await endedMessage, { reason: 'stopped' }, name);
      const received = await probe(await rtmp.recording(name));
      assert.equal(received.audio?.codec, 'aac', name);
      return received.audio?.channels;
    };
    // Default ('source'); the hook forces mono for the streams it names.
    const keeping = await startStack({
      allowedDestinations: [rtmp.url('')],
      hooks: {
        start: ({ request }) => {
          const url = String(request.rtmpUrl);
          return url.includes('hook-mono') ? { audioChannels: 1 } : url.includes('hook-six') ? { audioChannels: 6 as never } : undefined;
        },
      },
    });
    try {
      assert.equal(await broadcast(keeping, 1, 'channels-mono'), 1, 'a mono microphone stays mono');
      assert.equal(await broadcast(keeping, 2, 'channels-hook-mono'), 1, 'the start hook mixes stereo down to mono');
      const refused = await start(await keeping.client(), { mimeType: H264_MIME, rtmpUrl: rtmp.url('channels-hook-six') });
      assert.ok(!refused.ok && refused.error.code === 'INTERNAL', JSON.stringify(refused));
    } finally {
      await keeping.close();
    }
    assert.throws(
      () => new BroadcastServer(createServer(), { audioChannels: 3 as never }),
      /Expected `audioChannels` to be one of source, 1, 2, got `3`/,
    );
    const stereo = await startStack({ allowedDestinations: [rtmp.url('')], audioChannels: 2 });
    try {
      assert.equal(await broadcast(stereo, 1, 'channels-forced-stereo'), 2, 'audioChannels: 2 makes mono stereo');
    } finally {
      await stereo.close();
    }
  });

  test('VP8 is transcoded to H.264 with a keyframe at least every 2.5 s', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      // Made before the start: encoding VP8 can take longer than the server's idle timeout on a busy machine.
      const chunks = splitChunks(await makeFixture('vp8-opus'), CHUNK_BYTES);
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: VP8_MIME, rtmpUrl: rtmp.url('vp8'), framerate: 30 });
      assert.ok(answer.ok && answer.video === 'transcode');
      await sendAll(socket, chunks);
      assert.deepEqual(await stop(socket), { ok: true });

      const file = await rtmp.recording('vp8');
      const received = await probe(file);
      assert.equal(received.video?.codec, 'h264');
      assert.equal(received.audio?.codec, 'aac');
      assert.ok(Math.abs(received.durationSec - 5) <= 0.5, `duration ${received.durationSec}`);
      const keys = await keyframeTimes(file);
      const gaps = keys.slice(1).map((t, i) => t - (keys[i] ?? 0));
      assert.ok(keys.length >= 3 && gaps.every((gap) => gap <= 2.5), `keyframes at ${keys.join(', ')}`);
    } finally {
      await stack.close();
    }
  });

  test('a stream without audio is published as video only', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      const chunks = splitChunks(await makeFixture('h264-noaudio'), CHUNK_BYTES);
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: 'video/x-matroska;codecs=avc1', rtmpUrl: rtmp.url('mute') });
      assert.ok(answer.ok && answer.video === 'copy');
      await sendAll(socket, chunks);
      assert.deepEqual(await stop(socket), { ok: true });
      const received = await probe(await rtmp.recording('mute'));
      assert.equal(received.video?.codec, 'h264');
      assert.equal(received.audio, undefined);
      assert.ok(Math.abs(received.durationSec - 5) <= 0.5, `duration ${received.durationSec}`);
    } finally {
      await stack.close();
    }
  });

  test('stats arrive about once a second from ffmpeg progress', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      const socket = await stack.client();
      const stats: BroadcastStats[] = [];
      socket.on('stats', (s) => stats.push(s));
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('stats') })).ok);
      // Paced at real time so ffmpeg runs long enough to report more than once.
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 3 }), 40_000);
      const paceMs = 3_000 / chunks.length;
      for (const chunk of chunks) {
        await sendAll(socket, [chunk]);
        await new Promise((resolve) => setTimeout(resolve, paceMs));
      }
      await stop(socket);
      assert.ok(stats.length >= 2, `${stats.length} stats messages`);
      const last = stats.at(-1)!;
      assert.ok(last.frames > 0 && last.durationMs > 1_000 && last.kbps > 0, JSON.stringify(last));
    } finally {
      await stack.close();
    }
  });
});
