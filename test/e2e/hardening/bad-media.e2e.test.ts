// Bad media after a good header (or garbage declared as fMP4) ends as INVALID_MEDIA within 3 s,
// not after the idle timeout while ffmpeg skips what it cannot demux and the acks keep coming.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { H264_MIME, SAFARI_MIME, VP8_MIME } from '../../helpers/constants.js';
import { makeFixture } from '../../helpers/fixtures.js';
import { useRtmpServer } from '../../helpers/suite.js';
import { ended, send, start, startStack } from '../../helpers/stack.js';

const rtmp = useRtmpServer();

/** Sends `header`, then garbage every 100 ms (as a live recorder would) until the broadcast ends; resolves with how long after the first garbage it ended. */
async function endsAfterGarbage(mimeType: string, header: Uint8Array | undefined, name: string) {
  const stack = await startStack({ allowedDestinations: [rtmp.url('')], logLevel: 'error' });
  try {
    const socket = await stack.client();
    const answer = await start(socket, { mimeType, rtmpUrl: rtmp.url(name) });
    assert.ok(answer.ok, JSON.stringify(answer));
    const end = ended(socket);
    let over = false;
    void end.then(() => (over = true));
    if (header) assert.ok((await send(socket, header)).ok);
    const began = Date.now();
    // Bounded: 8 s of garbage (32 KB every 100 ms) at most (the idle timeout is 15 s, ffmpeg keeps acknowledging).
    for (let i = 0; i < 80 && !over; i++) {
      await send(socket, randomBytes(32 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(over, `still running ${Date.now() - began} ms after the garbage began`);
    const message = await end;
    return { message, tookMs: Date.now() - began };
  } finally {
    await stack.close();
  }
}

/** The start of a real recording: its EBML header, tracks and first cluster. */
async function matroskaHeader(kind: 'h264-opus' | 'vp8-opus'): Promise<Uint8Array> {
  const whole = await makeFixture(kind, { seconds: 1 });
  return whole.subarray(0, 6 * 1024);
}

describe('bad media after a good header', () => {
  for (const [mime, kind] of [
    [H264_MIME, 'h264-opus'],
    [VP8_MIME, 'vp8-opus'],
  ] as const) {
    test(`${kind} (${mime}): a valid header followed by garbage ends as INVALID_MEDIA within 3 s`, async () => {
      const { message, tookMs } = await endsAfterGarbage(mime, await matroskaHeader(kind), `garbage-${kind}`);
      assert.equal(message.error?.code, 'INVALID_MEDIA', JSON.stringify(message));
      assert.ok(tookMs < 3_000, `ended after ${tookMs} ms`);
    });
  }

  test('garbage declared as fMP4 ends as INVALID_MEDIA within 3 s', async () => {
    const { message, tookMs } = await endsAfterGarbage(SAFARI_MIME, undefined, 'garbage-fmp4');
    assert.equal(message.error?.code, 'INVALID_MEDIA', JSON.stringify(message));
    assert.ok(tookMs < 3_000, `ended after ${tookMs} ms`);
  });
});
