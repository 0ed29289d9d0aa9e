// The client's options: defaults applied in one place, and the start request they make.
// (Wrong options and their TypeErrors: test/browser/broadcast-client.protocol.test.ts, in Chromium.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveOptions, startRequest } from '../../client/options.js';
import { DEFAULT_RESUME_WINDOW_MS, REQUEST_DEFAULTS } from '../../client/protocol.js';

const server = 'https://broadcast.example';
const MIME = 'video/webm;codecs=h264,opus';

describe('client options', () => {
  test('fill every default, with the request numbers the server itself defaults to', () => {
    const options = resolveOptions({ server });
    assert.equal(options.videoBitsPerSecond, REQUEST_DEFAULTS.videoBitsPerSecond);
    assert.equal(options.audioBitsPerSecond, REQUEST_DEFAULTS.audioBitsPerSecond);
    assert.equal(options.framerate, REQUEST_DEFAULTS.framerate);
    assert.equal(options.resumeTimeoutMs, DEFAULT_RESUME_WINDOW_MS);
    assert.equal(options.timeslice, undefined, "unset: each recorder's own default applies (client/recorder/create.ts)");
    assert.equal(options.maxInFlightBytes, 1024 * 1024);
    assert.equal(options.maxBacklogBytes, 8 * 1024 * 1024);
    assert.equal(options.replyTimeoutMs, 20_000);
    assert.equal(options.recorder, 'auto');
    assert.equal(options.adaptiveBitrate, true);
    assert.equal(options.minVideoBitsPerSecond, 300_000);
  });

  test('keep what was given and treat undefined as not given', () => {
    const options = resolveOptions({ server, framerate: 25, maxInFlightBytes: undefined });
    assert.equal(options.framerate, 25);
    assert.equal(options.maxInFlightBytes, 1024 * 1024);
  });

  test('make a start request that leaves out the destination and sample rate unless given', () => {
    assert.deepEqual(startRequest(resolveOptions({ server }), MIME), { mimeType: MIME, ...REQUEST_DEFAULTS });
    const request = startRequest(
      resolveOptions({ server, rtmpUrl: ['rtmp://a/live/1', 'rtmp://b/live/2'], audioSampleRate: 48_000, videoBitsPerSecond: 1e6 }),
      MIME,
    );
    assert.deepEqual(request, {
      mimeType: MIME,
      videoBitsPerSecond: 1e6,
      audioBitsPerSecond: REQUEST_DEFAULTS.audioBitsPerSecond,
      framerate: REQUEST_DEFAULTS.framerate,
      rtmpUrl: ['rtmp://a/live/1', 'rtmp://b/live/2'],
      audioSampleRate: 48_000,
    });
  });

  test('throw a TypeError naming the first wrong option', () => {
    assert.throws(() => resolveOptions({ server, framerate: 0 }), {
      name: 'TypeError',
      message: 'Expected `framerate` to be a number from 1 to 120, got `0`',
    });
  });

  test('take a recorder of auto, webcodecs or mediarecorder, and refuse others', () => {
    for (const recorder of ['auto', 'webcodecs', 'mediarecorder'] as const)
      assert.equal(resolveOptions({ server, recorder }).recorder, recorder);
    assert.throws(() => resolveOptions({ server, recorder: 'webrtc' as never }), {
      name: 'TypeError',
      message: "Expected `recorder` to be one of 'auto', 'webcodecs', 'mediarecorder', got `\"webrtc\"`",
    });
  });

  test('take adaptiveBitrate as a boolean and minVideoBitsPerSecond as a positive number', () => {
    assert.equal(resolveOptions({ server, adaptiveBitrate: false }).adaptiveBitrate, false);
    assert.equal(resolveOptions({ server, minVideoBitsPerSecond: 500_000 }).minVideoBitsPerSecond, 500_000);
    assert.throws(() => resolveOptions({ server, adaptiveBitrate: 'no' as never }), {
      name: 'TypeError',
      message: 'Expected `adaptiveBitrate` to be a boolean, got `"no"`',
    });
    assert.throws(() => resolveOptions({ server, minVideoBitsPerSecond: 0 }), {
      name: 'TypeError',
      message: 'Expected `minVideoBitsPerSecond` to be a positive number, got `0`',
    });
  });
});
