// Numbers a start hook returns go into ffmpeg's argv: they get the same bounds as a client's
// request, and one outside them refuses the start with a message naming the field and the range.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REQUEST_LIMITS } from '../../../client/protocol.js';
import { buildFfmpegArgs } from '../../../server/ffmpeg/args.js';
import { TRANSCODE } from './transcode-options.js';
import { useRtmpServer } from '../../helpers/suite.js';
import { start, startStack } from '../../helpers/stack.js';

const rtmp = useRtmpServer();

describe('numbers in argv', () => {
  test('buildFfmpegArgs refuses values outside the request limits instead of passing them to ffmpeg', () => {
    assert.throws(() => buildFfmpegArgs({ ...TRANSCODE, framerate: 1e6 }), /`framerate` must be a number from 1 to 120 \(got 1000000\)/);
    assert.throws(
      () => buildFfmpegArgs({ ...TRANSCODE, videoBitsPerSecond: 1e12 }),
      /`videoBitsPerSecond` must be a number from 100000 to 50000000/,
    );
    assert.throws(
      () => buildFfmpegArgs({ ...TRANSCODE, audioBitsPerSecond: 5_000_000 }),
      /`audioBitsPerSecond` must be a number from 16000 to 512000/,
    );
    assert.throws(() => buildFfmpegArgs({ ...TRANSCODE, audioSampleRate: 1_000_000 }), /`audioSampleRate` must be one of 8000, .*48000/);
    for (const [field, [min, max]] of Object.entries(REQUEST_LIMITS)) {
      assert.doesNotThrow(() => buildFfmpegArgs({ ...TRANSCODE, [field]: min }), field);
      assert.doesNotThrow(() => buildFfmpegArgs({ ...TRANSCODE, [field]: max }), field);
    }
  });

  test('a start hook returning framerate 1e6 gets the start refused, with the reason in the log, and no ffmpeg', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')], hooks: { start: () => ({ framerate: 1e6 }) } });
    const spawned: string[] = [];
    stack.broadcaster.on('session-start', (info) => spawned.push(info.sessionId));
    try {
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: 'video/webm;codecs=vp8,opus', rtmpUrl: rtmp.url('hook-numbers') });
      assert.equal(!answer.ok && answer.error.code, 'INTERNAL', JSON.stringify(answer));
      assert.ok(
        stack.logs.some((line) => /framerate` must be a number from 1 to 120/.test(line)),
        stack.logs.join('\n'),
      );
      assert.deepEqual(spawned, []);
      assert.deepEqual(stack.broadcaster.sessions(), []);
    } finally {
      await stack.close();
    }
  });
});
