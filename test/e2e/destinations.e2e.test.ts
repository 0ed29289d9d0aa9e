// One broadcast to several RTMP ingests at once: each gets all of it, a dropped one is reconnected
// alone while the others go on untouched, and only a client list the allow-list fully admits, no
// longer than the server's maximum, is taken.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BroadcastStats, DestinationLostMessage, DestinationRestoredMessage } from '../../client/protocol.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { childProcesses, waitForNoChildren } from '../helpers/processes.js';
import { probe } from '../helpers/probe.js';
import { startRtmpServer, type RtmpServer } from '../helpers/rtmp-server.js';
import { ended, send, sendAll, sendPaced, start, startStack, stop } from '../helpers/stack.js';
import { H264_MIME } from '../helpers/constants.js';

const FPS = 30;

// Two ingests, each its own nginx, so one can go down while the other stays up.
let first: RtmpServer;
let second: RtmpServer;
before(async () => {
  [first, second] = await Promise.all([startRtmpServer(), startRtmpServer()]);
});
after(async () => {
  await Promise.all([first?.close(), second?.close()]);
  await waitForNoChildren('ffmpeg', 5_000);
});

function publishes(rtmp: RtmpServer, stream: string): number {
  return rtmp.events.filter((event) => event.name === stream && event.call === 'publish').length;
}

describe('a broadcast to several destinations', () => {
  test('reaches every destination whole: same codecs, every frame, the full duration', async () => {
    const stack = await startStack({ allowedDestinations: [first.url(''), second.url('')] });
    try {
      const socket = await stack.client();
      const seconds = 4;
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds }), 64_000);
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: [first.url('both'), second.url('both')] });
      assert.ok(answer.ok, JSON.stringify(answer));
      assert.ok((await sendAll(socket, chunks)).every((ack) => ack.ok));
      await Promise.all([first.published('both'), second.published('both')]);
      assert.deepEqual(await stop(socket), { ok: true });

      for (const rtmp of [first, second]) {
        const received = await probe(await rtmp.recording('both'), { countFrames: true });
        assert.equal(received.video.codec, 'h264');
        assert.equal(received.audio?.codec, 'aac');
        assert.equal(received.video.frames, seconds * FPS, `every frame reached port ${rtmp.port}`);
        assert.ok(
          Math.abs(received.durationSec - seconds) < 0.3,
          `the whole broadcast reached port ${rtmp.port} (${received.durationSec} s)`,
        );
        assert.equal(publishes(rtmp, 'both'), 1);
      }
    } finally {
      await stack.close();
    }
  });

  test('goes on at the others while a dropped destination is reconnected alone, shown per destination in sessions() and stats', async () => {
    const stack = await startStack({ allowedDestinations: [first.url(''), second.url('')], destinationRetryDelayMs: 1_000 });
    try {
      const socket = await stack.client();
      const lost: DestinationLostMessage[] = [];
      socket.on('destination-lost', (message) => lost.push(message));
      const restored = new Promise<DestinationRestoredMessage>((resolve) => socket.once('destination-restored', resolve));
      const serverLost = new Promise<unknown[]>((resolve) => stack.broadcaster.once('destination-lost', (...args) => resolve(args)));
      const seconds = 10;
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds }), 40_000);
      const third = Math.floor(chunks.length / 3);
      const urls = [first.url('one-drops?key=secret-one'), second.url('other-stays')];
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: urls })).ok);
      await sendPaced(socket, chunks.slice(0, third), seconds, chunks.length);
      await Promise.all([first.published('one-drops'), second.published('other-stays')]);

      const [session] = stack.broadcaster.sessions();
      assert.deepEqual(
        session?.destinations.map(({ destination, state, retries }) => ({ destination, state, retries })),
        [
          { destination: `rtmp://127.0.0.1:${first.port}/live/***?***`, state: 'live', retries: 0 },
          { destination: `rtmp://127.0.0.1:${second.port}/live/***`, state: 'live', retries: 0 },
        ],
      );
      assert.doesNotMatch(JSON.stringify(session), /secret-one|one-drops|other-stays/, 'no stream key in sessions()');

      // Media keeps coming at its pace through the drop and the reconnection.
      const sending = sendPaced(socket, chunks.slice(third), seconds, chunks.length);
      await first.stop();
      const [, , , , which] = await serverLost;
      assert.deepEqual(which, { index: 0, destination: `rtmp://127.0.0.1:${first.port}/live/***?***`, retrying: true });
      const during = stack.broadcaster.sessions()[0];
      assert.equal(during?.state, 'live', 'the broadcast itself is still live');
      assert.deepEqual(
        during?.destinations.map(({ state }) => state),
        ['reconnecting', 'live'],
      );
      const stats = await new Promise<BroadcastStats>((resolve) => socket.once('stats', resolve));
      assert.deepEqual(
        stats.destinations?.map(({ state }) => state),
        ['reconnecting', 'live'],
      );
      await first.start();
      const back = await restored;
      await sending;
      assert.deepEqual(back, { attempt: back.attempt, index: 0, destination: `rtmp://127.0.0.1:${first.port}/live/***?***` });
      assert.ok(lost.length >= 1);
      assert.ok(
        lost.every((message) => message.index === 0 && message.remaining === 1 && message.retrying),
        'only the dropped one, while the other had the broadcast',
      );
      assert.equal(lost[0]?.error.code, 'DESTINATION_UNREACHABLE');
      assert.deepEqual(
        stack.broadcaster.sessions()[0]?.destinations.map(({ state, retries }) => [state, retries]),
        [
          ['live', back.attempt],
          ['live', 0],
        ],
      );
      assert.deepEqual(await stop(socket), { ok: true });

      const stayed = await probe(await second.recording('other-stays'), { countFrames: true });
      assert.equal(publishes(second, 'other-stays'), 1, 'the other destination was never interrupted');
      assert.equal(stayed.video.frames, seconds * FPS, 'and got every frame');
      assert.equal(publishes(first, 'one-drops'), 2, 'the dropped destination was published to again');
      const rejoined = await probe(await first.recording('one-drops'));
      assert.equal(rejoined.video.codec, 'h264');
      assert.equal(rejoined.audio?.codec, 'aac');
      assert.ok(rejoined.durationSec >= 2, `the rest of the broadcast reached it again (${rejoined.durationSec} s)`);
    } finally {
      await first.start();
      await stack.close();
    }
  });

  test('ends with DESTINATION_UNREACHABLE only once every destination is gone for good', async () => {
    const stack = await startStack({ allowedDestinations: [first.url(''), second.url(''), 'rtmp://127.0.0.1:1/'], destinationRetries: 0 });
    try {
      const socket = await stack.client();
      const lost: DestinationLostMessage[] = [];
      socket.on('destination-lost', (message) => lost.push(message));
      const refused = new Promise<DestinationLostMessage>((resolve) => socket.once('destination-lost', resolve));
      const message = ended(socket);
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 4 }), 40_000);
      // The first destination refuses at once; the second takes the broadcast until its ingest goes.
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: ['rtmp://127.0.0.1:1/live/nobody', second.url('last-one')] })).ok);
      const half = Math.floor(chunks.length / 2);
      assert.ok((await sendAll(socket, chunks.slice(0, half))).every((ack) => ack.ok));
      await second.published('last-one');
      // The refusal may come after the other destination took the broadcast (its ffmpeg ends late on a busy machine).
      const refusal = await refused;
      assert.deepEqual([refusal.index, refusal.retrying, refusal.remaining], [0, false, 1]);
      assert.equal(lost.length, 1);
      assert.equal(stack.broadcaster.sessions().length, 1, 'one refusing destination does not end the broadcast');
      await second.stop();
      let over = false;
      void message.then(() => (over = true));
      const rest = chunks.slice(half);
      for (let i = 0; !over; i++) {
        await send(socket, rest[i % rest.length]!);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal((await message).error?.code, 'DESTINATION_UNREACHABLE');
      assert.deepEqual(stack.broadcaster.sessions(), []);
    } finally {
      await second.start();
      await stack.close();
    }
  });

  test('is refused when the list is longer than maxDestinations, and no ffmpeg starts', async () => {
    const stack = await startStack({ allowedDestinations: [first.url('')], maxDestinations: 2 });
    try {
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: [first.url('a'), first.url('b'), first.url('c')] });
      assert.equal(answer.ok, false);
      assert.equal(!answer.ok && answer.error.code, 'INVALID_REQUEST');
      assert.match(!answer.ok ? answer.error.message : '', /at most 2 destination/);
      assert.deepEqual(childProcesses('ffmpeg'), []);
    } finally {
      await stack.close();
    }
  });

  test('is refused whole when the allow-list does not admit one of the client’s destinations', async () => {
    const stack = await startStack({ allowedDestinations: [first.url('')] });
    try {
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: [first.url('fine'), second.url('not-allowed')] });
      assert.equal(answer.ok, false);
      assert.equal(!answer.ok && answer.error.code, 'DESTINATION_NOT_ALLOWED');
      assert.match(!answer.ok ? answer.error.message : '', new RegExp(`127\\.0\\.0\\.1:${second.port}/live/\\*\\*\\*`));
      assert.deepEqual(childProcesses('ffmpeg'), []);
      assert.equal(first.events.filter((event) => event.name === 'fine').length, 0, 'the allowed one was not published to either');
    } finally {
      await stack.close();
    }
  });

  test('from the start hook is trusted, whatever the allow-list says', async () => {
    const stack = await startStack({ hooks: { start: () => ({ rtmpUrl: [first.url('hook-a'), second.url('hook-b')] }) } });
    try {
      const socket = await stack.client();
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 2 }), 64_000);
      assert.ok((await start(socket, { mimeType: H264_MIME })).ok);
      assert.ok((await sendAll(socket, chunks)).every((ack) => ack.ok));
      assert.deepEqual(await stop(socket), { ok: true });
      assert.equal((await probe(await first.recording('hook-a'))).video.codec, 'h264');
      assert.equal((await probe(await second.recording('hook-b'))).video.codec, 'h264');
    } finally {
      await stack.close();
    }
  });
});
