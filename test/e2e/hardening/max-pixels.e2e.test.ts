// `maxPixels` is a BroadcastServer option: a transcoded broadcast whose frames are bigger ends with
// INVALID_MEDIA naming the size and the limit, before its decoder allocates them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VP8_MIME } from '../../helpers/constants.js';
import { makeFixture, splitChunks } from '../../helpers/fixtures.js';
import { useRtmpServer } from '../../helpers/suite.js';
import { ended, send, start, startStack } from '../../helpers/stack.js';

const rtmp = useRtmpServer();

test('a VP8 broadcast of 320x240 on a server with maxPixels 160x120 ends as INVALID_MEDIA naming both', async () => {
  const stack = await startStack({ allowedDestinations: [rtmp.url('')], maxPixels: 160 * 120 });
  try {
    const socket = await stack.client();
    const answer = await start(socket, { mimeType: VP8_MIME, rtmpUrl: rtmp.url('max-pixels') });
    assert.ok(answer.ok, JSON.stringify(answer));
    const chunks = splitChunks(await makeFixture('vp8-opus', { seconds: 1, width: 320, height: 240 }), 20_000);
    const end = ended(socket);
    const began = Date.now();
    for (const chunk of chunks) {
      if (!(await send(socket, chunk)).ok) break;
    }
    const message = await end;
    const tookMs = Date.now() - began;
    assert.equal(message.error?.code, 'INVALID_MEDIA', JSON.stringify(message));
    assert.match(message.error?.message ?? '', /320x240, more than the 19200 pixels/);
    // At the first frame, not at the idle timeout (15 s) while ffmpeg drops every frame.
    assert.ok(tookMs < 8_000, `ended after ${tookMs} ms`);
  } finally {
    await stack.close();
  }
});
