// Who may connect and how much: page origins, connection rate and broadcasts per address, and
// the longest broadcast.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { io as connect, Manager } from 'socket.io-client';
import type { BroadcastServerOptions } from '../../server/index.js';
import { isAllowedOrigin } from '../../server/origin.js';
import { RateLimiter } from '../../server/rate-limit.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { probe } from '../helpers/probe.js';
import { useRtmpServer } from '../helpers/suite.js';
import { ended, send, sendAll, start, startStack } from '../helpers/stack.js';
import { H264_MIME } from '../helpers/constants.js';

const rtmp = useRtmpServer();

/** Connects as a browser page on `origin` would; resolves with 'connected' or the refusal's code. */
async function connectFrom(serverOrigin: string, origin?: string): Promise<string> {
  const socket = connect(serverOrigin, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(origin ? { extraHeaders: { origin } } : {}),
  });
  try {
    return await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (error: Error & { data?: { code?: string } }) => resolve(error.data?.code ?? error.message));
    });
  } finally {
    socket.disconnect();
  }
}

async function withStack(options: BroadcastServerOptions, run: (stack: Awaited<ReturnType<typeof startStack>>) => Promise<void>) {
  const stack = await startStack(options);
  try {
    await run(stack);
  } finally {
    await stack.close();
  }
}

describe('origins', () => {
  test('by default only the server’s own pages and non-browser clients may connect', async () => {
    await withStack({}, async (stack) => {
      const reported: string[] = [];
      stack.broadcaster.on('error', (error) => reported.push(error.code));
      assert.equal(await connectFrom(stack.origin), 'connected', 'no Origin header');
      assert.equal(await connectFrom(stack.origin, stack.origin), 'connected', 'same origin');
      assert.equal(await connectFrom(stack.origin, 'https://evil.example'), 'ORIGIN_NOT_ALLOWED');
      assert.deepEqual(reported, ['ORIGIN_NOT_ALLOWED'], 'the refusal is reported to the operator');
    });
  });

  test('allowedOrigins admits the listed pages and no others', async () => {
    await withStack({ allowedOrigins: ['https://app.example', /^https:\/\/[a-z]+\.partner\.example$/] }, async (stack) => {
      assert.equal(await connectFrom(stack.origin, 'https://app.example'), 'connected');
      assert.equal(await connectFrom(stack.origin, 'https://shop.partner.example'), 'connected');
      assert.equal(await connectFrom(stack.origin, 'https://app.example.evil.net'), 'ORIGIN_NOT_ALLOWED');
      assert.equal(await connectFrom(stack.origin, 'http://app.example'), 'ORIGIN_NOT_ALLOWED', 'scheme matters');
    });
  });

  test('an operator who set only cors.origin has those pages admitted too', async () => {
    await withStack({ cors: { origin: 'https://app.example' } }, async (stack) => {
      assert.equal(await connectFrom(stack.origin, 'https://app.example'), 'connected');
      assert.equal(await connectFrom(stack.origin, 'https://other.example'), 'ORIGIN_NOT_ALLOWED');
    });
  });

  test('isAllowedOrigin reads predicates and wildcards', () => {
    const request = (origin: string) => ({ headers: { origin, host: 'broadcast.example' } });
    assert.equal(isAllowedOrigin(request('https://broadcast.example'), undefined), false, 'a DNS name could be rebinding: list it');
    assert.equal(isAllowedOrigin(request('https://broadcast.example'), ['https://broadcast.example']), true);
    assert.equal(isAllowedOrigin(request('https://a.example'), '*'), true);
    assert.equal(
      isAllowedOrigin(request('https://a.example'), (origin) => origin.endsWith('.example')),
      true,
    );
    assert.equal(
      isAllowedOrigin(request('https://a.test'), (origin) => origin.endsWith('.example')),
      false,
    );
    assert.equal(isAllowedOrigin(request('null'), ['https://a.example']), false);
  });
});

describe('per-address limits', () => {
  test('maxConnectionsPerMinute refuses the next connection with RATE_LIMITED', async () => {
    await withStack({ maxConnectionsPerMinute: 3 }, async (stack) => {
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await connectFrom(stack.origin));
      assert.deepEqual(results, ['connected', 'connected', 'connected', 'RATE_LIMITED']);
    });
  });

  test('maxConnectionsPerMinute counts connections that never join the namespace: past twice the limit (at least the limit + 10) they are refused', async () => {
    await withStack({ maxConnectionsPerMinute: 5 }, async (stack) => {
      const managers: Manager[] = [];
      const outcomes: string[] = [];
      try {
        for (let i = 0; i < 20; i++) {
          // An engine.io connection alone: it never sends the namespace's CONNECT, so the namespace's check never runs.
          const manager = new Manager(stack.origin, { transports: ['websocket'], reconnection: false, autoConnect: false });
          managers.push(manager);
          outcomes.push(await new Promise<string>((resolve) => manager.open((error) => resolve(error ? 'refused' : 'open'))));
        }
      } finally {
        for (const manager of managers) manager.engine?.close();
      }
      assert.deepEqual(outcomes, [...Array(15).fill('open'), ...Array(5).fill('refused')]);
    });
  });

  test('connection refusals reach the error hook, with the address they came from', async () => {
    const hooked: Array<{ code: string; remoteAddress: string; sessionId: string | undefined }> = [];
    const error: NonNullable<BroadcastServerOptions['hooks']>['error'] = (context, refusal) =>
      void hooked.push({ code: refusal.code, remoteAddress: context.remoteAddress, sessionId: context.sessionId });
    await withStack({ maxConnectionsPerMinute: 1, hooks: { error } }, async (stack) => {
      assert.equal(await connectFrom(stack.origin, 'https://evil.example'), 'ORIGIN_NOT_ALLOWED');
      assert.equal(await connectFrom(stack.origin), 'connected');
      assert.equal(await connectFrom(stack.origin), 'RATE_LIMITED');
    });
    assert.deepEqual(
      hooked.map(({ code }) => code),
      ['ORIGIN_NOT_ALLOWED', 'RATE_LIMITED'],
    );
    for (const each of hooked) {
      assert.match(each.remoteAddress, /127\.0\.0\.1/);
      assert.equal(each.sessionId, undefined, 'a refused connection has no broadcast');
    }
  });

  test('the rate limiter forgets hits older than its window', () => {
    const limiter = new RateLimiter(2, 1_000);
    assert.deepEqual(
      [limiter.take('a', 0), limiter.take('a', 10), limiter.take('a', 20), limiter.take('b', 20)],
      [true, true, false, true],
    );
    assert.equal(limiter.take('a', 1_011), true);
  });

  test('maxStreamsPerAddress refuses a second broadcast from the same address', async () => {
    await withStack({ allowedDestinations: [rtmp.url('')], maxStreamsPerAddress: 1 }, async (stack) => {
      const [first, second] = await Promise.all([stack.client(), stack.client()]);
      const answers = await Promise.all([
        start(first, { mimeType: H264_MIME, rtmpUrl: rtmp.url('per-address-1') }),
        start(second, { mimeType: H264_MIME, rtmpUrl: rtmp.url('per-address-2') }),
      ]);
      assert.equal(answers.filter((answer) => answer.ok).length, 1);
      const refused = answers.find((answer) => !answer.ok);
      assert.equal(refused && !refused.ok && refused.error.code, 'TOO_MANY_STREAMS');
    });
  });
});

describe('duration', () => {
  test('a broadcast past maxDurationMs ends with MAX_DURATION and a flushed recording', async () => {
    await withStack({ allowedDestinations: [rtmp.url('')], maxDurationMs: 1_500 }, async (stack) => {
      const socket = await stack.client();
      const message = ended(socket);
      // Made before the start: on a busy machine making it can take longer than the limit itself.
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 3 }), 80_000);
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('too-long') })).ok);
      await sendAll(socket, chunks).catch(() => []);
      const { error } = await message;
      assert.equal(error?.code, 'MAX_DURATION');
      assert.equal((await probe(await rtmp.recording('too-long'))).video?.codec, 'h264');
    });
  });
});

describe('memory', () => {
  test('a client that ignores the acks while ffmpeg cannot keep up ends with BUFFER_FULL', async () => {
    // An "ingest" that accepts TCP and never answers: ffmpeg blocks in the RTMP handshake and
    // stops reading its input, so what the client floods in piles up in the server.
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const destination = `rtmp://127.0.0.1:${(silent.address() as AddressInfo).port}/live/flood`;
    try {
      await withStack({ allowedDestinations: [destination], maxBufferedBytes: 512 * 1024 }, async (stack) => {
        const socket = await stack.client();
        const message = ended(socket);
        assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: destination })).ok);
        const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 3 }), 40_000);
        const acks = await Promise.all(chunks.map((chunk) => send(socket, chunk)));
        const refused = acks.flatMap((ack) => (ack.ok ? [] : [ack.error.code]));
        assert.ok(refused.length >= 2, `the flood is refused, also while ffmpeg is being stopped (${refused.length} refused)`);
        // Every refusal names the reason, also for chunks that came while the server was ending
        // the broadcast: none is the misleading NOT_STARTED the client would otherwise hear first.
        assert.deepEqual(new Set(refused), new Set(['BUFFER_FULL']));
        assert.equal((await message).error?.code, 'BUFFER_FULL');
      });
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
