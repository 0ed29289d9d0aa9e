// What the server accepts in a start request: everything on the wire is untrusted, and each refusal
// is INVALID_REQUEST naming the field.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BroadcastError } from '../../client/protocol.js';
import { validateStartRequest } from '../../server/validate.js';
import { H264_MIME } from '../helpers/constants.js';

/** Asserts that `raw` is refused with INVALID_REQUEST, its message naming `field`. */
function refused(raw: unknown, field: RegExp): void {
  assert.throws(
    () => validateStartRequest(raw),
    (error: unknown) => error instanceof BroadcastError && error.code === 'INVALID_REQUEST' && field.test(error.message),
  );
}

describe('validateStartRequest', () => {
  test('returns a clean copy with only the known fields', () => {
    const raw = {
      mimeType: H264_MIME,
      rtmpUrl: ['rtmp://a.example/live/k'],
      videoBitsPerSecond: 1_000_000,
      framerate: 30,
      audioSampleRate: 48_000,
      extra: 'ignored',
    };
    const request = validateStartRequest(raw);
    assert.deepEqual(request, {
      mimeType: H264_MIME,
      rtmpUrl: ['rtmp://a.example/live/k'],
      videoBitsPerSecond: 1_000_000,
      framerate: 30,
      audioSampleRate: 48_000,
    });
    assert.notEqual(request.rtmpUrl, raw.rtmpUrl, 'the list is copied, not shared with the socket');
  });

  test('a request that is not an object is refused', () => {
    for (const raw of [undefined, null, 'start', 42, [H264_MIME]]) refused(raw, /object/);
  });

  test('mimeType must be a short, non-empty string', () => {
    refused({}, /mimeType/);
    refused({ mimeType: '' }, /mimeType/);
    refused({ mimeType: 'x'.repeat(257) }, /mimeType/);
    assert.equal(validateStartRequest({ mimeType: 'x'.repeat(256) }).mimeType.length, 256);
  });

  test('rtmpUrl is one URL string or a list of 1 to 64, each of bounded length', () => {
    refused({ mimeType: H264_MIME, rtmpUrl: 42 }, /rtmpUrl/);
    refused({ mimeType: H264_MIME, rtmpUrl: [] }, /rtmpUrl/);
    refused({ mimeType: H264_MIME, rtmpUrl: Array.from({ length: 65 }, (_, i) => `rtmp://h/live/${i}`) }, /rtmpUrl/);
    refused({ mimeType: H264_MIME, rtmpUrl: ['rtmp://h/live/a', 7] }, /rtmpUrl\[1\]/);
    refused({ mimeType: H264_MIME, rtmpUrl: `rtmp://h/live/${'k'.repeat(2048)}` }, /rtmpUrl/);
  });

  test('numbers must be finite and within their limits', () => {
    refused({ mimeType: H264_MIME, videoBitsPerSecond: 99_999 }, /videoBitsPerSecond/);
    refused({ mimeType: H264_MIME, audioBitsPerSecond: '128000' }, /audioBitsPerSecond/);
    refused({ mimeType: H264_MIME, framerate: Number.NaN }, /framerate/);
    refused({ mimeType: H264_MIME, framerate: 121 }, /framerate/);
    refused({ mimeType: H264_MIME, audioSampleRate: 44_000 }, /audioSampleRate/);
  });
});
