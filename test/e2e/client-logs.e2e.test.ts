// What the server shares with clients and operators beyond the broadcast itself: ffmpeg's log,
// error details, the AAC sample rate, and connection/session status.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectionInfo } from '../../server/index.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { probe } from '../helpers/probe.js';
import { useRtmpServer } from '../helpers/suite.js';
import { ended, sendAll, start, startStack, stop } from '../helpers/stack.js';
import { H264_MIME } from '../helpers/constants.js';

const CHUNK_BYTES = 80_000;

const rtmp = useRtmpServer();

describe('ffmpeg output for clients', () => {
  for (const sendFfmpegOutput of [true, false]) {
    test(`with sendFfmpegOutput ${sendFfmpegOutput} the client ${sendFfmpegOutput ? 'gets' : 'does not get'} ffmpeg's redacted log lines`, async () => {
      const key = 'live_4417_SECRETKEY';
      const stack = await startStack({ allowedDestinations: [rtmp.url('')], sendFfmpegOutput });
      try {
        const socket = await stack.client();
        const lines: string[] = [];
        socket.on('ffmpeg-output', (line) => lines.push(line));
        assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url(key) })).ok);
        await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), CHUNK_BYTES));
        await stop(socket);
        if (sendFfmpegOutput) {
          // ffmpeg always warns about the tiny probe size, so there is at least that line.
          assert.ok(
            lines.some((line) => line.includes('analyzeduration')),
            lines.join('\n'),
          );
          assert.ok(!lines.join('\n').includes(key), 'the stream key is redacted');
        } else {
          assert.deepEqual(lines, []);
        }
      } finally {
        await stack.close();
      }
    });
  }
});

describe('error details', () => {
  for (const sendErrorDetails of [true, false]) {
    test(`with sendErrorDetails ${sendErrorDetails} an ffmpeg failure ${sendErrorDetails ? 'carries' : 'hides'} ffmpeg's last lines`, async () => {
      const hookDetails: (string | undefined)[] = [];
      const stack = await startStack({
        allowedDestinations: [rtmp.url('')],
        sendErrorDetails,
        hooks: { error: (_context, error) => void hookDetails.push(error.detail) },
      });
      try {
        const socket = await stack.client();
        const message = ended(socket);
        assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('details') })).ok);
        await sendAll(socket, splitChunks(await makeFixture('garbage'), 10_000)).catch(() => []);
        const { error } = await message;
        assert.equal(error?.code, 'INVALID_MEDIA');
        if (sendErrorDetails) assert.match(error?.detail ?? '', /EBML header parsing failed/);
        else assert.equal(error?.detail, undefined);
        assert.ok(
          hookDetails.some((detail) => detail?.includes('EBML')),
          'the error hook always gets the detail',
        );
      } finally {
        await stack.close();
      }
    });
  }

  test('a start hook that throws a plain Error shares its name only as a detail', async () => {
    const stack = await startStack({
      sendErrorDetails: true,
      hooks: {
        start: () => {
          throw new RangeError('Quota exceeded');
        },
      },
    });
    try {
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: H264_MIME });
      assert.deepEqual(answer, {
        ok: false,
        error: { code: 'UNAUTHORIZED', message: 'Quota exceeded', detail: 'RangeError: Quota exceeded' },
      });
    } finally {
      await stack.close();
    }
  });
});

describe('AAC sample rate', () => {
  test('the client chooses 48 kHz and the destination gets 48 kHz AAC', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      const socket = await stack.client();
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('rate48'), audioSampleRate: 48_000 })).ok);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), CHUNK_BYTES));
      await stop(socket);
      assert.equal((await probe(await rtmp.recording('rate48'))).audio?.sampleRate, 48_000);
    } finally {
      await stack.close();
    }
  });

  test('the server default and a start hook override apply, and a rate AAC cannot carry is refused', async () => {
    const stack = await startStack({
      audioSampleRate: 22_050,
      hooks: {
        start: ({ auth, request }) => ({
          rtmpUrl: rtmp.url(String(auth.stream)),
          ...(auth.override ? { audioSampleRate: 32_000 } : {}),
          ...pickRate(request),
        }),
      },
    });
    try {
      const bad = await stack.client({ stream: 'x' });
      const refused = await start(bad, { mimeType: H264_MIME, audioSampleRate: 12_345 });
      assert.equal(!refused.ok && refused.error.code, 'INVALID_REQUEST');

      for (const [stream, override, expected] of [
        ['rate-default', false, 22_050],
        ['rate-hook', true, 32_000],
      ] as const) {
        const socket = await stack.client({ stream, override });
        assert.ok((await start(socket, { mimeType: H264_MIME })).ok);
        await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), CHUNK_BYTES));
        await stop(socket);
        assert.equal((await probe(await rtmp.recording(stream))).audio?.sampleRate, expected, stream);
      }
    } finally {
      await stack.close();
    }
  });
});

/** The start hook passes the client's own rate through untouched. */
function pickRate(request: { audioSampleRate?: number }) {
  return request.audioSampleRate === undefined ? {} : { audioSampleRate: request.audioSampleRate };
}

describe('connections and sessions', () => {
  test('every new socket is announced with its status, and session(id) follows a broadcast', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      const connections: ConnectionInfo[] = [];
      stack.broadcaster.on('connection', (info) => connections.push(info));
      const socket = await stack.client();
      assert.equal(connections.length, 1);
      assert.equal(connections[0]?.connectionId, socket.id);
      assert.match(connections[0]?.remoteAddress ?? '', /127\.0\.0\.1/);

      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('status') });
      assert.ok(answer.ok);
      const live = stack.broadcaster.session(answer.sessionId);
      assert.equal(live?.state, 'live');
      assert.equal(live?.destination, `${rtmp.url('').replace(/\/$/, '')}/***`);
      assert.equal(typeof live?.pid, 'number');
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), CHUNK_BYTES));
      await stop(socket);
      assert.equal(stack.broadcaster.session(answer.sessionId), undefined);
    } finally {
      await stack.close();
    }
  });
});
