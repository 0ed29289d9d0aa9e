// An RTMP ingest that restarts mid-broadcast: the server reconnects it with a new ffmpeg (fed the
// recording's header, then media from the next Cluster that opens on a keyframe: these clients
// say they cannot restart their recording) and the broadcast goes on by itself.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { DestinationLostMessage } from '../../client/protocol.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { waitForNoChildren } from '../helpers/processes.js';
import { keyframeTimes, probe } from '../helpers/probe.js';
import { startRtmpServer } from '../helpers/rtmp-server.js';
import { ended, send, sendPaced, start, startStack, stop } from '../helpers/stack.js';
import { H264_MIME } from '../helpers/constants.js';

after(async () => {
  await waitForNoChildren('ffmpeg', 5_000);
});

describe('a destination that drops a live broadcast', () => {
  test('is reconnected within 5 s without anyone acting, and the broadcast goes on', async () => {
    const rtmp = await startRtmpServer();
    const stack = await startStack({ allowedDestinations: [rtmp.url('')], destinationRetryDelayMs: 300 });
    try {
      const socket = await stack.client();
      socket.on('restart-recording', (ack) => ack({ ok: false }));
      const lost: DestinationLostMessage[] = [];
      socket.on('destination-lost', (message) => lost.push(message));
      const restored = new Promise<number>((resolve) => socket.once('destination-restored', () => resolve(Date.now())));
      const seconds = 8;
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds }), 40_000);
      const third = Math.floor(chunks.length / 3);

      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('restarts') })).ok);
      await sendPaced(socket, chunks.slice(0, third), seconds, chunks.length);
      await rtmp.published('restarts');
      const cutAt = Date.now();
      await rtmp.stop();
      await rtmp.start();
      // Media keeps coming at its pace while the server reconnects.
      await sendPaced(socket, chunks.slice(third), seconds, chunks.length);
      assert.ok((await restored) - cutAt < 5_000, 'reconnected within 5 s');
      assert.equal(lost.length, 1);
      assert.equal(lost[0]?.error.code, 'DESTINATION_UNREACHABLE');
      assert.deepEqual(await stop(socket), { ok: true });

      const publishes = rtmp.events.filter((event) => event.name === 'restarts' && event.call === 'publish');
      assert.equal(publishes.length, 2, 'published again after the restart');
      const file = await rtmp.recording('restarts');
      const received = await probe(file);
      assert.equal(received.video?.codec, 'h264');
      assert.equal(received.audio?.codec, 'aac');
      assert.ok(received.durationSec >= 2, `the rest of the broadcast arrived (${received.durationSec} s)`);
      const keys = await keyframeTimes(file);
      assert.ok(keys.length > 0, 'the reconnected stream has keyframes');
    } finally {
      await stack.close();
      await rtmp.close();
    }
  });

  test('ends with DESTINATION_UNREACHABLE once the retries are spent', async () => {
    const rtmp = await startRtmpServer();
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      destinationRetries: 2,
      destinationRetryDelayMs: 100,
      destinationTimeoutMs: 2_000,
    });
    try {
      const socket = await stack.client();
      socket.on('restart-recording', (ack) => ack({ ok: false }));
      const attempts: number[] = [];
      socket.on('destination-lost', (message) => attempts.push(message.attempt));
      const message = ended(socket);
      const seconds = 4;
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds }), 40_000);
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('gone-for-good') })).ok);
      const half = Math.floor(chunks.length / 2);
      await sendPaced(socket, chunks.slice(0, half), seconds, chunks.length);
      await rtmp.published('gone-for-good');
      await rtmp.stop();
      // Keep sending until the server gives up: every ack still comes.
      const rest = chunks.slice(half);
      let over = false;
      void message.then(() => (over = true));
      for (let i = 0; !over; i++) {
        assert.equal(typeof (await send(socket, rest[i % rest.length]!)).ok, 'boolean');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const outcome = await message;
      assert.equal(outcome?.error?.code, 'DESTINATION_UNREACHABLE');
      assert.deepEqual(attempts, [1, 2]);
      assert.deepEqual(stack.broadcaster.sessions(), []);
    } finally {
      await stack.close();
      await rtmp.close();
    }
  });
});
