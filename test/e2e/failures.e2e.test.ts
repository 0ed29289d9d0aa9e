// Every way a client, a hook or ffmpeg can fail ends in a coded error for the client and the
// error hook, with no ffmpeg left behind and other broadcasts untouched.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BroadcastError, type ErrorPayload } from '../../client/protocol.js';
import type { ErrorContext } from '../../server/index.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { childProcesses, waitForNoChildren } from '../helpers/processes.js';
import { probe } from '../helpers/probe.js';
import { useRtmpServer } from '../helpers/suite.js';
import { SHUTDOWN_ENDED, ended, send, sendAll, start, startStack, stop } from '../helpers/stack.js';
import { H264_MIME } from '../helpers/constants.js';

const CHUNK_BYTES = 80_000;

const rtmp = useRtmpServer();

/** A stack whose error hook records what it was told. */
async function stackWithErrorLog(options: Parameters<typeof startStack>[0] = {}) {
  const errors: { context: ErrorContext; error: BroadcastError }[] = [];
  const stack = await startStack({
    allowedDestinations: [rtmp.url('')],
    ...options,
    hooks: { ...options.hooks, error: (context, error) => void errors.push({ context, error }) },
  });
  return { stack, errors };
}

function refused(answer: { ok: boolean; error?: ErrorPayload }): ErrorPayload {
  assert.equal(answer.ok, false, 'the request is refused');
  return answer.error!;
}

describe('destinations', () => {
  const refusedDestinations = [
    'file:///tmp/out.flv',
    '/tmp/out.flv',
    'out.flv',
    'http://127.0.0.1/live/x',
    'pipe:1',
    'concat:a|b',
    'tcp://127.0.0.1:1935',
    '-y',
    'rtmp://127.0.0.1/live/a b',
    'rtmp://127.0.0.1/live/a\nb',
    'rtmp://127.0.0.1/live/a\tb',
    'rtmp://elsewhere.example/live/key',
    'data:text/plain,hello',
    '../relative/out.flv',
    'C:\\out.flv',
    '-f',
    'rtmp://127.0.0.1/live/key -y',
    'not a url at all',
    'rtmp:///live/no-host',
  ];
  for (const rtmpUrl of refusedDestinations) {
    test(`a client asking for ${JSON.stringify(rtmpUrl)} gets DESTINATION_NOT_ALLOWED and no ffmpeg`, async () => {
      const { stack, errors } = await stackWithErrorLog();
      try {
        const socket = await stack.client();
        const error = refused(await start(socket, { mimeType: H264_MIME, rtmpUrl }));
        assert.equal(error.code, 'DESTINATION_NOT_ALLOWED');
        assert.equal(errors[0]?.error.code, 'DESTINATION_NOT_ALLOWED');
        assert.deepEqual(childProcesses('ffmpeg'), []);
      } finally {
        await stack.close();
      }
    });
  }

  test('without an allow-list a client-chosen destination is refused', async () => {
    const { stack } = await stackWithErrorLog({ allowedDestinations: undefined });
    try {
      const socket = await stack.client();
      const error = refused(await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('nolist') }));
      assert.equal(error.code, 'DESTINATION_NOT_ALLOWED');
    } finally {
      await stack.close();
    }
  });

  test('a destination that refuses connections ends the broadcast with DESTINATION_UNREACHABLE', async () => {
    const { stack, errors } = await stackWithErrorLog({ allowedDestinations: ['rtmp://127.0.0.1:1/'] });
    try {
      const socket = await stack.client();
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: 'rtmp://127.0.0.1:1/live/key' })).ok);
      const message = ended(socket);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus'), CHUNK_BYTES)).catch(() => []);
      const { reason, error } = await message;
      assert.equal(reason, 'error');
      assert.equal(error?.code, 'DESTINATION_UNREACHABLE');
      assert.ok(
        errors.some((e) => e.error.code === 'DESTINATION_UNREACHABLE'),
        'the error hook was told',
      );
    } finally {
      await stack.close();
    }
  });
});

describe('hooks', () => {
  test('the start hook chooses the destination, sees the handshake auth, and is awaited', async () => {
    const stack = await startStack({
      hooks: {
        start: async ({ auth }) => {
          await new Promise((resolve) => setImmediate(resolve));
          if (auth.token !== 'let-me-in') throw new Error('Bad token');
          return { rtmpUrl: rtmp.url('from-hook') };
        },
      },
    });
    try {
      const stranger = await stack.client({ token: 'nope' });
      const error = refused(await start(stranger, { mimeType: H264_MIME }));
      assert.deepEqual(error, { code: 'UNAUTHORIZED', message: 'Bad token' });

      const friend = await stack.client({ token: 'let-me-in' });
      assert.ok((await start(friend, { mimeType: H264_MIME })).ok);
      await sendAll(friend, splitChunks(await makeFixture('h264-opus', { seconds: 2 }), CHUNK_BYTES));
      assert.deepEqual(await stop(friend), { ok: true });
      const received = await probe(await rtmp.recording('from-hook'));
      assert.equal(received.video?.codec, 'h264');
    } finally {
      await stack.close();
    }
  });

  test('a BroadcastError thrown by the start hook reaches the client with its own code and message', async () => {
    const { stack, errors } = await stackWithErrorLog({
      hooks: {
        start: () => {
          throw new BroadcastError('TOO_MANY_STREAMS', 'Your plan allows one broadcast.');
        },
      },
    });
    try {
      const socket = await stack.client();
      const error = refused(await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('x') }));
      assert.deepEqual(error, { code: 'TOO_MANY_STREAMS', message: 'Your plan allows one broadcast.' });
      assert.equal(errors[0]?.error.code, 'TOO_MANY_STREAMS');
      assert.equal(typeof errors[0]?.context.sessionId, 'string');
    } finally {
      await stack.close();
    }
  });

  test('a start hook may override the bitrates and frame rate it is given', async () => {
    const stack = await startStack({
      hooks: { start: () => ({ rtmpUrl: rtmp.url('override'), audioBitsPerSecond: 64_000 }) },
    });
    try {
      const socket = await stack.client();
      assert.ok((await start(socket, { mimeType: H264_MIME, audioBitsPerSecond: 256_000 })).ok);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 3 }), CHUNK_BYTES));
      await stop(socket);
      const received = await probe(await rtmp.recording('override'));
      assert.ok(received.audio && received.audio.bitRate !== undefined, 'audio bitrate probed');
      assert.ok(received.audio.bitRate! <= 80_000, `AAC at ${received.audio.bitRate} b/s, asked 64 kb/s`);
    } finally {
      await stack.close();
    }
  });

  test('a hook that throws in stop or error never takes the server down', async () => {
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      hooks: {
        stop: () => {
          throw new Error('stop hook broke');
        },
        error: async () => {
          throw new Error('error hook broke');
        },
      },
    });
    try {
      const socket = await stack.client();
      refused(await send(socket, new Uint8Array(4))); // an error, so the error hook runs
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('hooks-throw') })).ok);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 2 }), CHUNK_BYTES));
      assert.deepEqual(await stop(socket), { ok: true });
      assert.ok(stack.logs.some((line) => line.includes('the stop hook threw')));
      const again = await stack.client();
      assert.ok((await start(again, { mimeType: H264_MIME, rtmpUrl: rtmp.url('hooks-throw-2') })).ok, 'still serving');
    } finally {
      await stack.close();
    }
  });
});

describe('protocol misuse', () => {
  test('data before start gets NOT_STARTED, as does stop', async () => {
    const { stack, errors } = await stackWithErrorLog();
    try {
      const socket = await stack.client();
      assert.equal(refused(await send(socket, new Uint8Array([1, 2, 3]))).code, 'NOT_STARTED');
      assert.equal(refused(await stop(socket)).code, 'NOT_STARTED');
      assert.deepEqual(
        errors.map((e) => e.error.code),
        ['NOT_STARTED', 'NOT_STARTED'],
      );
    } finally {
      await stack.close();
    }
  });

  test('a second start on a live socket gets ALREADY_STARTED and never a second ffmpeg', async () => {
    const { stack } = await stackWithErrorLog();
    try {
      const socket = await stack.client();
      const request = { mimeType: H264_MIME, rtmpUrl: rtmp.url('twice') };
      const [first, second] = await Promise.all([start(socket, request), start(socket, request)]);
      assert.equal(first.ok, true);
      assert.equal(refused(second).code, 'ALREADY_STARTED');
      assert.equal(refused(await start(socket, request)).code, 'ALREADY_STARTED');
      assert.equal(childProcesses('ffmpeg').length, 1);
      assert.equal(stack.broadcaster.sessions().length, 1);
    } finally {
      await stack.close();
    }
  });

  test('stop twice: the second gets NOT_STARTED, and the socket may start a new broadcast', async () => {
    const { stack } = await stackWithErrorLog();
    try {
      const socket = await stack.client();
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('again1') })).ok);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), CHUNK_BYTES));
      assert.deepEqual(await stop(socket), { ok: true });
      assert.equal(refused(await stop(socket)).code, 'NOT_STARTED');
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('again2') })).ok);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), CHUNK_BYTES));
      assert.deepEqual(await stop(socket), { ok: true });
      assert.equal((await probe(await rtmp.recording('again2'))).video?.codec, 'h264');
    } finally {
      await stack.close();
    }
  });

  test('malformed start requests get INVALID_REQUEST naming the field', async () => {
    const { stack } = await stackWithErrorLog();
    try {
      const socket = await stack.client();
      const cases: [unknown, RegExp][] = [
        [null, /object/],
        ['video/webm', /object/],
        [{}, /mimeType/],
        [{ mimeType: 42 }, /mimeType/],
        [{ mimeType: 'x'.repeat(300) }, /mimeType/],
        [{ mimeType: 'audio/ogg' }, /not supported/],
        [{ mimeType: H264_MIME, rtmpUrl: 5 }, /rtmpUrl/],
        [{ mimeType: H264_MIME, rtmpUrl: rtmp.url('x'), videoBitsPerSecond: -1 }, /videoBitsPerSecond/],
        [{ mimeType: H264_MIME, rtmpUrl: rtmp.url('x'), framerate: 'fast' }, /framerate/],
        [{ mimeType: H264_MIME, rtmpUrl: rtmp.url('x'), audioBitsPerSecond: Infinity }, /audioBitsPerSecond/],
        [{ mimeType: H264_MIME, rtmpUrl: rtmp.url('x'), audioSampleRate: '48000' }, /audioSampleRate/],
        [{ mimeType: H264_MIME, rtmpUrl: rtmp.url('x'), videoBitsPerSecond: [2_500_000] }, /videoBitsPerSecond/],
        [{ mimeType: ['video/webm'] }, /mimeType/],
        [{ mimeType: H264_MIME, rtmpUrl: `rtmp://127.0.0.1/live/${'k'.repeat(3_000)}` }, /rtmpUrl.*2048/],
        [{ mimeType: H264_MIME, rtmpUrl: { href: rtmp.url('x') } }, /rtmpUrl/],
      ];
      for (const [request, message] of cases) {
        const error = refused(await start(socket, request));
        assert.equal(error.code, 'INVALID_REQUEST', JSON.stringify(request));
        assert.match(error.message, message);
      }
      assert.deepEqual(childProcesses('ffmpeg'), []);
    } finally {
      await stack.close();
    }
  });

  test('a chunk over the size limit gets CHUNK_TOO_LARGE and a non-binary one INVALID_REQUEST', async () => {
    const { stack } = await stackWithErrorLog({ maxChunkBytes: 1_000 });
    try {
      const socket = await stack.client();
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('big') })).ok);
      assert.equal(refused(await send(socket, new Uint8Array(1_001))).code, 'CHUNK_TOO_LARGE');
      assert.equal(refused(await send(socket, 'not media')).code, 'INVALID_REQUEST');
      assert.deepEqual(await send(socket, new Uint8Array(0)), { ok: true }, 'an empty chunk is harmless');
    } finally {
      await stack.close();
    }
  });

  test('maxStreams refuses the next start with TOO_MANY_STREAMS, also for starts at the same moment', async () => {
    const { stack } = await stackWithErrorLog({ maxStreams: 2 });
    try {
      const sockets = await Promise.all([stack.client(), stack.client(), stack.client()]);
      const answers = await Promise.all(sockets.map((s, i) => start(s, { mimeType: H264_MIME, rtmpUrl: rtmp.url(`limit${i}`) })));
      assert.equal(answers.filter((a) => a.ok).length, 2);
      assert.equal(refused(answers.find((a) => !a.ok)!).code, 'TOO_MANY_STREAMS');
      assert.equal(childProcesses('ffmpeg').length, 2);
    } finally {
      await stack.close();
    }
  });

  test('unknown events and junk arguments are ignored and the server keeps serving', async () => {
    const { stack } = await stackWithErrorLog();
    try {
      const socket = await stack.client();
      (socket as unknown as { emit(...args: unknown[]): void }).emit('launch-missiles', { now: true });
      (socket as unknown as { emit(...args: unknown[]): void }).emit('start', { mimeType: H264_MIME }); // no ack
      (socket as unknown as { emit(...args: unknown[]): void }).emit('data');
      // A round trip after the junk: the server has handled all of it and still answers in order.
      assert.equal(refused(await send(socket, new Uint8Array(1))).code, 'NOT_STARTED');
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('junk') })).ok);
      const other = await stack.client();
      assert.equal(refused(await start(other, { mimeType: H264_MIME })).code, 'INVALID_REQUEST');
    } finally {
      await stack.close();
    }
  });

  test('a stop before ffmpeg could read a stream (only the start of the recording’s header came) ends cleanly, not as INVALID_MEDIA', async () => {
    const { stack, errors } = await stackWithErrorLog();
    try {
      const socket = await stack.client();
      // Firefox stopped right after start with a video-only stream sends ~200 bytes: the EBML
      // header and no complete Tracks. ffmpeg then fails on the input's end, which is no bad media.
      const header = (await makeFixture('h264-opus', { seconds: 1 })).subarray(0, 217);
      for (const bytes of [new Uint8Array(0), header]) {
        assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('stopped-early') })).ok);
        const message = ended(socket);
        if (bytes.byteLength > 0) assert.deepEqual(await send(socket, bytes), { ok: true });
        assert.deepEqual(await stop(socket), { ok: true }, `${bytes.byteLength} bytes, then stop`);
        assert.deepEqual(await message, { reason: 'stopped' });
      }
      assert.deepEqual(errors, [], 'the error hook was not told');
    } finally {
      await stack.close();
    }
  });
});

describe('ffmpeg failures', () => {
  test('media ffmpeg cannot read ends the broadcast with INVALID_MEDIA while another goes on', async () => {
    const { stack, errors } = await stackWithErrorLog();
    try {
      const [bad, good] = await Promise.all([stack.client(), stack.client()]);
      assert.ok((await start(bad, { mimeType: H264_MIME, rtmpUrl: rtmp.url('garbage') })).ok);
      assert.ok((await start(good, { mimeType: H264_MIME, rtmpUrl: rtmp.url('survivor') })).ok);
      const badEnded = ended(bad);
      await sendAll(bad, splitChunks(await makeFixture('garbage'), 10_000)).catch(() => []);
      const { error } = await badEnded;
      assert.equal(error?.code, 'INVALID_MEDIA');
      assert.ok(
        errors.some((e) => e.error.code === 'INVALID_MEDIA'),
        'the error hook was told',
      );

      await sendAll(good, splitChunks(await makeFixture('h264-opus'), CHUNK_BYTES));
      assert.deepEqual(await stop(good), { ok: true });
      const received = await probe(await rtmp.recording('survivor'));
      assert.ok(Math.abs(received.durationSec - 5) <= 0.5);
    } finally {
      await stack.close();
    }
  });

  test('a missing ffmpeg gets FFMPEG_NOT_FOUND with how to install it', async () => {
    const { stack, errors } = await stackWithErrorLog({ ffmpegPath: '/nonexistent/ffmpeg' });
    try {
      const socket = await stack.client();
      const error = refused(await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('x') }));
      assert.equal(error.code, 'FFMPEG_NOT_FOUND');
      assert.match(error.message, /install/i);
      assert.equal(errors[0]?.error.code, 'FFMPEG_NOT_FOUND');
    } finally {
      await stack.close();
    }
  });

  test('any other ffmpeg exit is FFMPEG_EXITED with the last meaningful log line', async () => {
    // A stand-in binary that fails the way an ffmpeg build without a needed encoder would.
    const dir = await mkdtemp(join(tmpdir(), 'fake-ffmpeg-'));
    const path = join(dir, 'ffmpeg');
    await writeFile(path, '#!/bin/sh\necho "[aac @ 0x1] Unknown encoder \'aac\'" >&2\nexit 3\n');
    await chmod(path, 0o755);
    const { stack } = await stackWithErrorLog({ ffmpegPath: path });
    try {
      const socket = await stack.client();
      const message = ended(socket);
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('x') })).ok);
      const { error } = await message;
      assert.equal(error?.code, 'FFMPEG_EXITED');
      assert.match(error!.message, /Unknown encoder/);
    } finally {
      await stack.close();
    }
  });

  test('an ffmpeg that exits cleanly on its own, unasked, ends the broadcast as FFMPEG_EXITED with its last words, not as stopped', async () => {
    // A stand-in binary that takes some media, says something and exits 0 while the client still sends.
    const dir = await mkdtemp(join(tmpdir(), 'fake-ffmpeg-'));
    const path = join(dir, 'ffmpeg');
    await writeFile(path, '#!/bin/sh\nhead -c 100000 > /dev/null\necho "[matroska,webm @ 0x1] the input looked finished" >&2\nexit 0\n');
    await chmod(path, 0o755);
    const { stack, errors } = await stackWithErrorLog({ ffmpegPath: path, sendErrorDetails: true });
    try {
      const socket = await stack.client();
      const message = ended(socket);
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('gone-quiet') })).ok);
      // A chunk that finds ffmpeg gone is told why, never NOT_STARTED ahead of the `ended` that says why.
      let endedSeen = false;
      socket.on('ended', () => (endedSeen = true));
      const early: string[] = [];
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 2 }), 10_000);
      const acks: Promise<unknown>[] = [];
      for (let i = 0; i < chunks.length; i++) {
        if (i >= 4) await acks[i - 4];
        acks.push(
          send(socket, chunks[i]).then(
            (ack) => !ack.ok && !endedSeen && early.push(ack.error.code),
            () => {},
          ),
        );
      }
      await Promise.all(acks);
      const { reason, error } = await message;
      assert.ok(!early.includes('NOT_STARTED'), `refused before \`ended\`: ${early.join(', ')}`);
      assert.equal(reason, 'error');
      assert.equal(error?.code, 'FFMPEG_EXITED');
      assert.match(error!.message, /on its own/);
      assert.match(error!.detail ?? '', /the input looked finished/, 'what ffmpeg said last comes as the detail');
      assert.ok(
        errors.some((e) => e.error.code === 'FFMPEG_EXITED'),
        'the error hook was told',
      );
    } finally {
      await stack.close();
    }
  });

  test('a client that stops sending ends with IDLE_TIMEOUT and its ffmpeg exits', async () => {
    const { stack } = await stackWithErrorLog({ idleTimeoutMs: 600 });
    try {
      const socket = await stack.client();
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('idle') })).ok);
      const message = ended(socket);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), CHUNK_BYTES));
      assert.equal((await message).error?.code, 'IDLE_TIMEOUT');
      await waitForNoChildren('ffmpeg', 5_000);
    } finally {
      await stack.close();
    }
  });

  test('a chunk that waited unread while the server was busy past the idle timeout is taken, not ended as idle', async () => {
    const { stack } = await stackWithErrorLog({ idleTimeoutMs: 400 });
    try {
      const [first, second, ...rest] = splitChunks(await makeFixture('h264-opus', { seconds: 2 }), CHUNK_BYTES);
      const socket = await stack.client();
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('busy') })).ok);
      assert.ok((await send(socket, first)).ok);
      // The chunk leaves the client (its binary attachment after a nextTick); then the process,
      // server included, is busy for longer than the idle timeout, as in a herd of ffmpeg spawns.
      // When the loop comes back, the idle timer is due before the socket is read.
      const answer = send(socket, second);
      for (let tick = 0; tick < 3; tick++) await new Promise((resolve) => process.nextTick(resolve));
      const busyUntil = performance.now() + 800;
      while (performance.now() < busyUntil);
      assert.deepEqual(await answer, { ok: true });
      const message = ended(socket);
      assert.ok((await sendAll(socket, rest)).every((ack) => ack.ok));
      assert.deepEqual(await stop(socket), { ok: true });
      assert.equal((await message).error, undefined);
    } finally {
      await stack.close();
    }
  });
});

describe('cleanup', () => {
  test('with no resume window, a client that disconnects mid-stream has its ffmpeg gone within 5 s', async () => {
    // The stop hook runs after `session-end` (it may take its time): the test waits for the hook itself.
    let stopped!: (reason: string) => void;
    const stopReason = new Promise<string>((resolve) => (stopped = resolve));
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      resumeWindowMs: 0,
      hooks: { stop: (_c, summary) => void stopped(summary.reason) },
    });
    try {
      const socket = await stack.client();
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('vanish') })).ok);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 2 }), CHUNK_BYTES));
      assert.equal(childProcesses('ffmpeg').length, 1);
      const done = new Promise((resolve) => stack.broadcaster.once('session-end', resolve));
      socket.disconnect();
      await waitForNoChildren('ffmpeg', 5_000);
      await done;
      assert.equal(await stopReason, 'disconnected');
      assert.deepEqual(stack.broadcaster.sessions(), []);
    } finally {
      await stack.close();
    }
  });

  test('close() ends live broadcasts gracefully, telling their clients SERVER_SHUTDOWN, and resolves once every ffmpeg has exited', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      const sockets = await Promise.all([stack.client(), stack.client()]);
      const media = splitChunks(await makeFixture('h264-opus', { seconds: 3 }), CHUNK_BYTES);
      for (const [i, socket] of sockets.entries()) {
        assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url(`closing${i}`) })).ok);
        await sendAll(socket, media);
      }
      const messages = sockets.map(ended);
      const disconnected = sockets.map((socket) => new Promise((resolve) => socket.once('disconnect', resolve)));
      assert.equal(childProcesses('ffmpeg').length, 2);
      await stack.broadcaster.close();
      assert.deepEqual(childProcesses('ffmpeg'), []);
      assert.deepEqual(await Promise.all(messages), [SHUTDOWN_ENDED, SHUTDOWN_ENDED]);
      assert.deepEqual(await Promise.all(disconnected), ['io server disconnect', 'io server disconnect']);
      await assert.rejects(
        stack.client(),
        (error: Error & { data?: { code?: string } }) => error.data?.code === 'SERVER_SHUTDOWN',
        'new connections are refused',
      );
      for (const i of [0, 1]) {
        const received = await probe(await rtmp.recording(`closing${i}`));
        assert.ok(Math.abs(received.durationSec - 3) <= 0.3, `flushed recording ${received.durationSec} s`);
      }
    } finally {
      await stack.close();
    }
  });

  test('the stream key appears nowhere the server logs or reports', async () => {
    const key = 'sk_live_8f3Kq9SECRET';
    const seen: unknown[] = [];
    const { stack, errors } = await stackWithErrorLog({ allowedDestinations: ['rtmp://127.0.0.1:1/', rtmp.url('')] });
    stack.broadcaster.on('session-start', (info) => seen.push(info));
    stack.broadcaster.on('session-end', (info, summary) => seen.push(info, summary));
    stack.broadcaster.on('ffmpeg-output', (_id, line) => seen.push(line));
    stack.broadcaster.on('stats', (_id, stats) => seen.push(stats));
    try {
      const good = await stack.client();
      good.onAny((...args) => seen.push(args));
      assert.ok((await start(good, { mimeType: H264_MIME, rtmpUrl: rtmp.url(key) })).ok);
      await sendAll(good, splitChunks(await makeFixture('h264-opus', { seconds: 2 }), CHUNK_BYTES));
      seen.push(stack.broadcaster.sessions());
      assert.match(JSON.stringify(stack.broadcaster.sessions()), /live\/\*\*\*/);
      await stop(good);

      const unreachable = await stack.client();
      unreachable.onAny((...args) => seen.push(args));
      const message = ended(unreachable);
      assert.ok((await start(unreachable, { mimeType: H264_MIME, rtmpUrl: `rtmp://127.0.0.1:1/live/${key}` })).ok);
      await sendAll(unreachable, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), CHUNK_BYTES)).catch(() => []);
      seen.push(await message);

      const disallowed = await stack.client();
      seen.push(await start(disallowed, { mimeType: H264_MIME, rtmpUrl: `rtmp://evil.example/live/${key}` }));
      seen.push(errors.map((e) => [e.error.message, e.error.code]));

      const everything = JSON.stringify(seen) + stack.logs.join('\n');
      assert.ok(stack.logs.length > 5 && seen.length > 5, 'something was recorded');
      assert.ok(!everything.includes(key), 'stream key leaked');
      assert.ok(!everything.includes(encodeURIComponent(key)), 'encoded stream key leaked');
    } finally {
      await stack.close();
    }
  });
});
