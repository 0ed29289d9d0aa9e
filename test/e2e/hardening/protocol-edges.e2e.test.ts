// Messages that are almost right get an answer that says so, instead of being taken for something
// else: `data` with a string where `{ seq }` goes, a `resume` that is not an object, a broadcast
// mixing numbered and unnumbered chunks (which would have had bytes written twice), and `start`,
// `resume` or `stop` whose callback is not where the server looked for it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Ack, ResumeAck } from '../../../client/protocol.js';
import { H264_MIME } from '../../helpers/constants.js';
import { makeFixture, splitChunks } from '../../helpers/fixtures.js';
import { useRtmpServer } from '../../helpers/suite.js';
import { send, start, startStack, type ClientSocket, type Stack } from '../../helpers/stack.js';

const rtmp = useRtmpServer();
const ANSWER_MS = 10_000;

/** Sends `data` with whatever arguments, and the ack last. */
function sendRaw(socket: ClientSocket, ...args: unknown[]): Promise<Ack> {
  return (socket.timeout(ANSWER_MS) as unknown as { emitWithAck(event: string, ...a: unknown[]): Promise<Ack> }).emitWithAck(
    'data',
    ...args,
  );
}

async function started(stack: Stack, stream: string): Promise<{ socket: ClientSocket; sessionId: string }> {
  const socket = await stack.client();
  const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url(stream) });
  assert.ok(answer.ok, JSON.stringify(answer));
  return { socket, sessionId: answer.sessionId };
}

describe('protocol edge cases', () => {
  test('each gets INVALID_REQUEST, and nothing of a refused chunk reaches ffmpeg', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 20_000);
      assert.ok(chunks.length >= 3);

      // A string where `{ seq }` goes is not taken for a chunk without one.
      const stringy = await started(stack, 'edge-string');
      const answer = await sendRaw(stringy.socket, chunks[0], 'seq-0');
      assert.equal(!answer.ok && answer.error.code, 'INVALID_REQUEST', JSON.stringify(answer));
      assert.equal(stack.broadcaster.session(stringy.sessionId)?.bytesIn, 0);
      const listed = await sendRaw(stringy.socket, chunks[0], [0]);
      assert.equal(!listed.ok && listed.error.code, 'INVALID_REQUEST', JSON.stringify(listed));

      // Numbered first: an unnumbered chunk after is refused (it could not be told from a resend).
      const numbered = await started(stack, 'edge-numbered');
      assert.deepEqual(await sendRaw(numbered.socket, chunks[0], { seq: 0 }), { ok: true });
      const before = stack.broadcaster.session(numbered.sessionId)!.bytesIn;
      const unnumbered = await send(numbered.socket, chunks[1]);
      assert.equal(!unnumbered.ok && unnumbered.error.code, 'INVALID_REQUEST', JSON.stringify(unnumbered));
      assert.match(!unnumbered.ok ? unnumbered.error.message : '', /every chunk must have a `seq`/);
      assert.equal(stack.broadcaster.session(numbered.sessionId)!.bytesIn, before, 'the refused chunk was not written');
      assert.deepEqual(await sendRaw(numbered.socket, chunks[1], { seq: 1 }), { ok: true });

      // Unnumbered first: a numbered chunk after is refused too.
      const plain = await started(stack, 'edge-plain');
      assert.deepEqual(await send(plain.socket, chunks[0]), { ok: true });
      const late = await sendRaw(plain.socket, chunks[1], { seq: 0 });
      assert.equal(!late.ok && late.error.code, 'INVALID_REQUEST', JSON.stringify(late));
      assert.deepEqual(await send(plain.socket, chunks[1]), { ok: true });

      // A resume that is not an object is malformed, not "nothing to resume".
      const resumer = await stack.client();
      for (const request of ['token', 42, null, [numbered.sessionId]]) {
        const refused: ResumeAck = await resumer.timeout(ANSWER_MS).emitWithAck('resume', request as never);
        assert.equal(!refused.ok && refused.error.code, 'INVALID_REQUEST', `${JSON.stringify(request)}: ${JSON.stringify(refused)}`);
      }
      const unknown: ResumeAck = await resumer.timeout(ANSWER_MS).emitWithAck('resume', { sessionId: 'nope', resumeToken: 'nope' });
      assert.equal(!unknown.ok && unknown.error.code, 'NOT_STARTED');

      // Only a callback, or a payload where none goes: still answered.
      const raw = resumer.timeout(ANSWER_MS) as unknown as {
        emitWithAck(event: string, ...a: unknown[]): Promise<{ ok: boolean; error?: { code: string } }>;
      };
      assert.equal((await raw.emitWithAck('start')).error?.code, 'INVALID_REQUEST', 'start with only a callback');
      assert.equal((await raw.emitWithAck('resume')).error?.code, 'INVALID_REQUEST', 'resume with only a callback');
      assert.equal((await raw.emitWithAck('stop', { now: true })).error?.code, 'NOT_STARTED', 'stop with a payload');
      const stopping = numbered.socket.timeout(ANSWER_MS) as unknown as typeof raw;
      assert.deepEqual(await stopping.emitWithAck('stop', { now: true }), { ok: true }, 'stop with a payload stops');
    } finally {
      await stack.close();
    }
  });
});
