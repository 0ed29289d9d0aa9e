// Hooks are the operator's code and may hang (a database that does not answer): the server waits
// `hookTimeoutMs` at most, a start whose client left or whose server closes is given up at once,
// and neither holds an admission slot; close() waits for the starts in flight.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BroadcastError, StartAck } from '../../../client/protocol.js';
import type { Admission } from '../../../server/index.js';
import { H264_MIME } from '../../helpers/constants.js';
import { eventually } from '../../helpers/eventually.js';
import { childProcesses } from '../../helpers/processes.js';
import { useRtmpServer } from '../../helpers/suite.js';
import { start, startStack } from '../../helpers/stack.js';

const rtmp = useRtmpServer();
const never = () => new Promise<never>(() => {});

/** A gate a test opens when it wants; `entered` counts who waits at it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const state = {
    entered: 0,
    open,
    wait: () => {
      state.entered++;
      return opened;
    },
  };
  return state;
}

describe('hook timeouts', () => {
  test('a start hook that never settles refuses the start as UNAUTHORIZED within hookTimeoutMs, tells the error hook, and frees its slot', async () => {
    let calls = 0;
    const errors: { code: string; message: string; sessionId: string | undefined }[] = [];
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      maxStreams: 1,
      hookTimeoutMs: 300,
      hooks: {
        start: () => (calls++ === 0 ? never() : undefined),
        stop: never,
        error: (context, error: BroadcastError) =>
          void errors.push({ code: error.code, message: error.message, sessionId: context.sessionId }),
      },
    });
    try {
      const socket = await stack.client();
      const began = Date.now();
      const answer = await socket.timeout(5_000).emitWithAck('start', { mimeType: H264_MIME, rtmpUrl: rtmp.url('hung') });
      assert.ok(Date.now() - began < 3_000, `answered after ${Date.now() - began} ms`);
      assert.deepEqual(answer, {
        ok: false,
        error: { code: 'UNAUTHORIZED', message: 'The start hook did not answer within 0.3 s, so the broadcast was refused.' },
      });
      assert.deepEqual(
        errors.map((each) => each.code),
        ['UNAUTHORIZED'],
      );
      assert.match(errors[0]!.message, /did not answer within 0\.3 s/);
      assert.ok(errors[0]!.sessionId);
      assert.deepEqual(stack.broadcaster.sessions(), []);

      const next = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('after-hung') });
      assert.ok(next.ok, JSON.stringify(next));
      assert.deepEqual(
        stack.broadcaster.sessions().map((each) => each.sessionId),
        [next.sessionId],
      );
      // A stop hook that never settles does not hold close() either.
      await stack.broadcaster.close();
      assert.ok(
        stack.logs.some((line) => /the stop hook did not settle within 0\.3 s/.test(line)),
        stack.logs.join('\n'),
      );
    } finally {
      await stack.close();
    }
  });

  test('a record function that never settles refuses the start (INTERNAL) within hookTimeoutMs and frees its slot', async () => {
    let calls = 0;
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      maxStreams: 1,
      hookTimeoutMs: 300,
      record: () => (calls++ === 0 ? never() : undefined),
    });
    try {
      const socket = await stack.client();
      const answer = await socket.timeout(5_000).emitWithAck('start', { mimeType: H264_MIME, rtmpUrl: rtmp.url('record-hung') });
      assert.equal(!answer.ok && answer.error.code, 'INTERNAL', JSON.stringify(answer));
      assert.ok(
        stack.logs.some((line) => /The record function did not answer within 0\.3 s/.test(line)),
        stack.logs.join('\n'),
      );
      const next = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('record-after') });
      assert.ok(next.ok, JSON.stringify(next));
    } finally {
      await stack.close();
    }
  });

  test('maxStreams 2, two hung start hooks whose clients left: the next start is admitted at once', async () => {
    const hung = gate();
    let calls = 0;
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      maxStreams: 2,
      hooks: { start: () => (calls++ < 2 ? hung.wait().then(never) : undefined) },
    });
    try {
      const leaving = [await stack.client(), await stack.client()];
      for (const socket of leaving) socket.emit('start', { mimeType: H264_MIME, rtmpUrl: rtmp.url('leaving') }, () => {});
      await eventually(() => hung.entered === 2, 5_000, 'both start hooks were called');
      for (const socket of leaving) socket.disconnect();
      await eventually(
        () => stack.logs.filter((line) => /left before its broadcast started/.test(line)).length === 2,
        5_000,
        'both starts given up',
      );

      const answer = await start(await stack.client(), { mimeType: H264_MIME, rtmpUrl: rtmp.url('third') });
      assert.ok(answer.ok, JSON.stringify(answer));
      assert.deepEqual(
        stack.broadcaster.sessions().map((each) => each.sessionId),
        [answer.sessionId],
      );
    } finally {
      await stack.close();
    }
  });
});

describe('close() and starts in flight', () => {
  for (const where of ['start hook', 'admission gate'] as const) {
    test(`close() while a start waits at the ${where} resolves once that start is refused; no ffmpeg is left`, async () => {
      const slow = gate();
      const released: string[] = [];
      const admission: Admission = {
        acquire: () => (where === 'admission gate' ? slow.wait() : undefined),
        release: (id) => void released.push(id),
      };
      const stack = await startStack({
        allowedDestinations: [rtmp.url('')],
        admission,
        hooks: { start: () => (where === 'start hook' ? slow.wait().then(() => undefined) : undefined) },
      });
      try {
        const socket = await stack.client();
        const answer: Promise<StartAck> = start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('closing') });
        await eventually(() => slow.entered === 1, 5_000, `the ${where} was reached`);
        const closed = stack.broadcaster.close();
        slow.open();
        await closed;
        assert.deepEqual(stack.broadcaster.sessions(), []);
        assert.deepEqual(childProcesses('ffmpeg'), [], 'no ffmpeg once close() resolved');
        const refused = await answer;
        assert.equal(!refused.ok && refused.error.code, 'SERVER_SHUTDOWN', JSON.stringify(refused));
        assert.equal(released.length, where === 'admission gate' ? 1 : 0, 'a slot the gate gave is given back');
      } finally {
        await stack.close();
      }
    });
  }
});
