// A client that disconnects on purpose (socket.disconnect(): socket.io's `client namespace
// disconnect`) will not resume: its broadcast ends at once and its slot is free, while a lost
// transport keeps the resume window. A client resuming from another address shows it in sessions().
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { io as connect } from 'socket.io-client';
import type { ResumeAck } from '../../../client/protocol.js';
import type { StopSummary } from '../../../server/index.js';
import { H264_MIME } from '../../helpers/constants.js';
import { eventually } from '../../helpers/eventually.js';
import { makeFixture, splitChunks } from '../../helpers/fixtures.js';
import { useRtmpServer } from '../../helpers/suite.js';
import { sendAll, start, startStack, type ClientSocket } from '../../helpers/stack.js';

const rtmp = useRtmpServer();

describe('disconnections', () => {
  test('an explicit disconnect ends the broadcast at once (no resume window) and frees its slot', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')], maxStreams: 1, resumeWindowMs: 10_000 });
    const ends: StopSummary[] = [];
    stack.broadcaster.on('session-end', (_info, summary) => ends.push(summary));
    try {
      const first = await stack.client();
      const answer = await start(first, { mimeType: H264_MIME, rtmpUrl: rtmp.url('explicit') });
      assert.ok(answer.ok, JSON.stringify(answer));
      const left = Date.now();
      first.disconnect();
      await eventually(() => stack.broadcaster.sessions().length === 0, 5_000, 'the broadcast ended well within the 10 s window');
      const tookMs = Date.now() - left;
      assert.equal(ends.length, 1);
      assert.equal(ends[0]!.reason, 'disconnected');
      assert.ok(tookMs < 5_000, `${tookMs} ms`);

      const next = await start(await stack.client(), { mimeType: H264_MIME, rtmpUrl: rtmp.url('explicit-next') });
      assert.ok(next.ok, `the slot is free again: ${JSON.stringify(next)}`);
    } finally {
      await stack.close();
    }
  });

  test('a lost transport keeps the resume window; a resume from another address shows it in sessions()', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')], maxStreams: 1, resumeWindowMs: 10_000 });
    try {
      const first = await stack.client();
      const answer = await start(first, { mimeType: H264_MIME, rtmpUrl: rtmp.url('lost') });
      assert.ok(answer.ok, JSON.stringify(answer));
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 40_000);
      await sendAll(first, chunks.slice(0, 2));
      assert.equal(stack.broadcaster.session(answer.sessionId)?.remoteAddress, '127.0.0.1');
      // The transport goes without a goodbye, as a network drop does.
      first.io.engine.close();
      await eventually(() => stack.logs.some((line) => /waiting for it to resume/.test(line)), 5_000, 'the server noticed the drop');
      assert.equal(stack.broadcaster.session(answer.sessionId)?.state, 'live', 'kept for the resume window');

      // engine.io hands `localAddress` to the WebSocket: the same client, from another loopback address.
      const fromElsewhere = { transports: ['websocket'], reconnection: false, forceNew: true, localAddress: '127.0.0.2' };
      const back: ClientSocket = connect(stack.origin, fromElsewhere);
      try {
        await new Promise<void>((resolve, reject) => {
          back.once('connect', resolve);
          back.once('connect_error', reject);
        });
        const resumed: ResumeAck = await back
          .timeout(10_000)
          .emitWithAck('resume', { sessionId: answer.sessionId, resumeToken: answer.resumeToken });
        assert.ok(resumed.ok, JSON.stringify(resumed));
        assert.equal(stack.broadcaster.session(answer.sessionId)?.remoteAddress, '127.0.0.2');
        assert.deepEqual(
          stack.broadcaster.sessions().map((each) => each.remoteAddress),
          ['127.0.0.2'],
        );
      } finally {
        back.disconnect();
      }
    } finally {
      await stack.close();
    }
  });
});
