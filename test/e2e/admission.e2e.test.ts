// The core's `admission` hook, which the cluster and Redis integrations plug into: asked before
// ffmpeg starts with what it may know (no stream key), able to refuse with a code, and given every
// slot back: when the broadcast ends, and when the start fails after the slot was taken.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import { BroadcastError, BroadcastServer, type Admission, type AdmissionRequest } from '../../server/index.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { probe } from '../helpers/probe.js';
import { useRtmpServer } from '../helpers/suite.js';
import { sendAll, start, startStack, stop } from '../helpers/stack.js';
import { H264_MIME } from '../helpers/constants.js';

const rtmp = useRtmpServer();

/** A gate that records what it is asked, refusing with `refuse` when set. */
function recordingGate(refuse?: () => never) {
  const acquired: AdmissionRequest[] = [];
  const released: string[] = [];
  let onRelease: (() => void) | undefined;
  const gate: Admission = {
    acquire(request) {
      if (refuse) refuse();
      acquired.push(request);
    },
    async release(sessionId) {
      released.push(sessionId);
      onRelease?.();
    },
  };
  const nextRelease = () => new Promise<void>((resolve) => (onRelease = resolve));
  return { gate, acquired, released, nextRelease };
}

describe('the admission hook', () => {
  test('takes a slot before the broadcast starts, with the destination redacted, and gives it back when it ends', async () => {
    const { gate, acquired, released } = recordingGate();
    const stack = await startStack({ allowedDestinations: [rtmp.url('')], admission: gate });
    try {
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('admission-key') });
      assert.ok(answer.ok);
      assert.equal(acquired.length, 1);
      const [request] = acquired;
      assert.equal(request!.sessionId, answer.sessionId);
      assert.equal(request!.destination, rtmp.url('***'));
      assert.equal(request!.remoteAddress, stack.broadcaster.session(answer.sessionId)!.remoteAddress);
      assert.ok(Math.abs(request!.requestedAt - Date.now()) < 10_000);
      assert.deepEqual(released, [], 'held while live');

      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 80_000));
      assert.deepEqual(await stop(socket), { ok: true });
      assert.deepEqual(released, [answer.sessionId], 'given back by the time the stop is answered');
      assert.equal((await probe(await rtmp.recording('admission-key'))).video.codec, 'h264');
    } finally {
      await stack.close();
    }
  });

  test('a refusal reaches the client with its code, and no ffmpeg starts', async () => {
    const { gate, released } = recordingGate(() => {
      throw new BroadcastError('TOO_MANY_STREAMS', 'The cluster already runs 2 broadcast(s), as many as it allows.');
    });
    const stack = await startStack({ allowedDestinations: [rtmp.url('')], admission: gate });
    try {
      const answer = await start(await stack.client(), { mimeType: H264_MIME, rtmpUrl: rtmp.url('admission-refused') });
      assert.deepEqual(answer, {
        ok: false,
        error: { code: 'TOO_MANY_STREAMS', message: 'The cluster already runs 2 broadcast(s), as many as it allows.' },
      });
      assert.deepEqual(stack.broadcaster.sessions(), []);
      assert.deepEqual(released, [], 'nothing was taken');
    } finally {
      await stack.close();
    }
  });

  test('a gate that fails (its store is down) refuses with INTERNAL', async () => {
    const { gate } = recordingGate(() => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    });
    const stack = await startStack({ allowedDestinations: [rtmp.url('')], admission: gate });
    try {
      const answer = await start(await stack.client(), { mimeType: H264_MIME, rtmpUrl: rtmp.url('admission-down') });
      assert.equal(!answer.ok && answer.error.code, 'INTERNAL');
      assert.ok(
        stack.logs.some((line) => line.includes('ECONNREFUSED')),
        'the cause is in the server log',
      );
    } finally {
      await stack.close();
    }
  });

  test('a start that fails after the slot was taken gives it back', async () => {
    const { gate, acquired, released, nextRelease } = recordingGate();
    const stack = await startStack({ allowedDestinations: [rtmp.url('')], admission: gate, ffmpegPath: '/nonexistent/ffmpeg' });
    try {
      const releasing = nextRelease();
      const answer = await start(await stack.client(), { mimeType: H264_MIME, rtmpUrl: rtmp.url('admission-noffmpeg') });
      assert.equal(!answer.ok && answer.error.code, 'FFMPEG_NOT_FOUND');
      await releasing;
      assert.deepEqual(released, [acquired[0]!.sessionId]);
    } finally {
      await stack.close();
    }
  });

  test('an admission that is not a gate is a TypeError at construction', () => {
    assert.throws(() => new BroadcastServer(createServer(), { admission: { acquire() {} } as unknown as Admission }), {
      name: 'TypeError',
      message: 'Expected `admission` to be an object with `acquire` and `release` functions',
    });
  });
});
