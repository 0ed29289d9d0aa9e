// End to end: the server's `on-air` message comes once a destination took the broadcast, once
// per broadcast, before the first stats that show it live, and never from a destination that
// does not answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BroadcastStats, OnAirMessage } from '../../client/protocol.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { useRtmpServer } from '../helpers/suite.js';
import { ended, sendAll, start, startStack, stop } from '../helpers/stack.js';

const H264_MIME = 'video/x-matroska;codecs=avc1,opus';
const CHUNK_BYTES = 80_000;

const rtmp = useRtmpServer();

describe('the on-air message', () => {
  test('comes once, when the destination took the broadcast, before stats show it live', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      const socket = await stack.client();
      const seen: string[] = [];
      const onAir: OnAirMessage[] = [];
      socket.on('on-air', (message) => {
        onAir.push(message);
        seen.push('on-air');
      });
      socket.on('stats', (stats: BroadcastStats) => seen.push(`stats ${stats.destinations?.[0]?.state}`));
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('on-air') })).ok);
      const endedMessage = ended(socket);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 3 }), CHUNK_BYTES));
      assert.deepEqual(await stop(socket), { ok: true });
      await endedMessage;

      assert.equal(onAir.length, 1, seen.join(', '));
      assert.equal(onAir[0]!.destinations[0]!.state, 'live');
      assert.ok(!onAir[0]!.destinations[0]!.destination.includes('on-air'), 'the stream key is hidden');
      const firstLive = seen.indexOf('stats live');
      assert.ok(seen.indexOf('on-air') >= 0 && seen.indexOf('on-air') < firstLive, seen.join(', '));
    } finally {
      await stack.close();
    }
  });

  test('never comes from a destination that refuses the connection', async () => {
    const refusing = 'rtmp://127.0.0.1:9/live/';
    const stack = await startStack({ allowedDestinations: [refusing] });
    try {
      const socket = await stack.client();
      let onAir = 0;
      socket.on('on-air', () => onAir++);
      const endedMessage = ended(socket);
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: `${refusing}never` })).ok);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), CHUNK_BYTES)).catch(() => {});
      const message = await endedMessage;
      assert.equal(message.error?.code, 'DESTINATION_UNREACHABLE');
      assert.equal(onAir, 0);
    } finally {
      await stack.close();
    }
  });
});
