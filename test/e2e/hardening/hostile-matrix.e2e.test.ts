// A table of hostile inputs, each sent by its own client through a real server: every one gets a
// typed error code (the one in its row), the server stays up, and a broadcast running beside
// them all the while is untouched (every chunk acknowledged, a clean stop, a playable recording).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERRORS, type ErrorCode } from '../../../client/protocol.js';
import { makeFixture, splitChunks } from '../../helpers/fixtures.js';
import { probe } from '../../helpers/probe.js';
import { useRtmpServer } from '../../helpers/suite.js';
import { send, start, startStack, stop, type ClientSocket } from '../../helpers/stack.js';

const rtmp = useRtmpServer();
const H264 = 'video/x-matroska;codecs=avc1,opus';
const ANSWER_MS = 15_000;

type Outcome = ErrorCode | 'ok';
interface Case {
  name: string;
  expected: Outcome;
  run(socket: ClientSocket, allowed: (stream: string) => string): Promise<Outcome>;
}

const codeOf = (answer: { ok: boolean; error?: { code: ErrorCode } }): Outcome => (answer.ok ? 'ok' : answer.error!.code);
const starting = (request: unknown) => async (socket: ClientSocket) => codeOf(await start(socket, request));
const sending = (chunk: unknown, meta?: unknown) => async (socket: ClientSocket) =>
  codeOf(
    await (meta === undefined
      ? send(socket, chunk)
      : socket.timeout(ANSWER_MS).emitWithAck('data', chunk as Uint8Array, meta as { seq: number })),
  );

const badStarts: [string, unknown][] = [
  ['null', null],
  ['a number', 42],
  ['a string', 'start'],
  ['an array', [H264]],
  ['an empty object', {}],
  ['mimeType a number', { mimeType: 7 }],
  ['mimeType empty', { mimeType: '' }],
  ['mimeType 300 characters', { mimeType: `video/webm;${'x'.repeat(300)}` }],
  ['mimeType 1 MB', { mimeType: 'v'.repeat(1 << 20) }],
  ['mimeType with a newline', { mimeType: 'video/webm\ninfo: forged' }],
  ['mimeType with NUL', { mimeType: 'video/webm\u0000' }],
  ['mimeType non-ASCII', { mimeType: 'vidéo/webm' }],
  ['mimeType not media', { mimeType: 'text/html' }],
  ['mimeType an object', { mimeType: { toString: 'video/webm' } }],
  ['mimeType an array', { mimeType: [H264] }],
  ['framerate 0', { mimeType: H264, framerate: 0 }],
  ['framerate 121', { mimeType: H264, framerate: 121 }],
  ['framerate 1e6', { mimeType: H264, framerate: 1e6 }],
  ['framerate negative', { mimeType: H264, framerate: -30 }],
  ['framerate a string', { mimeType: H264, framerate: '30' }],
  ['framerate null (NaN on the wire)', { mimeType: H264, framerate: Number.NaN }],
  ['framerate an object', { mimeType: H264, framerate: { valueOf: 30 } }],
  ['videoBitsPerSecond 1', { mimeType: H264, videoBitsPerSecond: 1 }],
  ['videoBitsPerSecond 1e12', { mimeType: H264, videoBitsPerSecond: 1e12 }],
  ['audioBitsPerSecond 1', { mimeType: H264, audioBitsPerSecond: 1 }],
  ['audioBitsPerSecond a boolean', { mimeType: H264, audioBitsPerSecond: true }],
  ['audioSampleRate 12345', { mimeType: H264, audioSampleRate: 12_345 }],
  ['audioSampleRate a string', { mimeType: H264, audioSampleRate: '48000' }],
  ['rtmpUrl a number', { mimeType: H264, rtmpUrl: 1 }],
  ['rtmpUrl an object', { mimeType: H264, rtmpUrl: { href: 'rtmp://x/y' } }],
  ['rtmpUrl 3000 characters', { mimeType: H264, rtmpUrl: `rtmp://127.0.0.1/live/${'k'.repeat(3000)}` }],
  ['rtmpUrl an empty list', { mimeType: H264, rtmpUrl: [] }],
  ['rtmpUrl 65 URLs', { mimeType: H264, rtmpUrl: Array.from({ length: 65 }, (_, i) => `rtmp://127.0.0.1/live/${i}`) }],
  ['rtmpUrl a list holding a number', { mimeType: H264, rtmpUrl: ['rtmp://127.0.0.1/live/a', 2] }],
  ['__proto__ key', JSON.parse(`{"mimeType":"${H264}","__proto__":{"polluted":true}}`)],
  ['constructor.prototype key', { mimeType: H264, constructor: { prototype: { polluted: true } } }],
];

// Names a destination; the allow-list admits only the test's nginx `/live/` prefix.
const badDestinations: [string, (allowed: (stream: string) => string) => string][] = [
  ['http://', () => 'http://127.0.0.1/live/key'],
  ['file://', () => 'file:///etc/passwd'],
  ['a bare path', () => '/etc/passwd'],
  ['an ffmpeg flag', () => '-y'],
  ['pipe:', () => 'pipe:1'],
  ['concat:', () => 'concat:/etc/passwd|/etc/hosts'],
  ['tcp://', () => 'tcp://127.0.0.1:22'],
  ['not a URL', () => 'rtmp://'],
  ['a space in the host', () => 'rtmp://bad host/live/k'],
  ['another host', () => 'rtmp://evil.example/live/key'],
  ['another port', (allowed) => allowed('x').replace(/:(\d+)\//, (_, port) => `:${Number(port) + 1}/`)],
  ['userinfo naming the allowed host', (allowed) => allowed('x').replace('rtmp://', 'rtmp://127.0.0.1@evil.example')],
  ['the allowed host as a subdomain', () => 'rtmp://127.0.0.1.evil.example/live/key'],
  ['another app', (allowed) => allowed('x').replace('/live/', '/other/')],
  ['path traversal', (allowed) => allowed('../other/x')],
  ['encoded path traversal', (allowed) => allowed('%2e%2e/other/x')],
  ['the allowed URL in the query of another', (allowed) => `rtmp://evil.example/live?u=${allowed('x')}`],
  ['rtmpt:// (HTTP tunnelling)', (allowed) => allowed('x').replace('rtmp://', 'rtmpt://')],
  ['a newline in the URL', (allowed) => `${allowed('x')}\n-f null`],
  ['a list with one bad URL', (allowed) => [allowed('x'), 'rtmp://evil.example/live/key'] as unknown as string],
];

const cases: Case[] = [
  ...badStarts.map(([name, request]): Case => ({ name: `start: ${name}`, expected: 'INVALID_REQUEST', run: starting(request) })),
  ...badDestinations.map(
    ([name, url]): Case => ({
      name: `destination: ${name}`,
      expected: 'DESTINATION_NOT_ALLOWED',
      run: (socket, allowed) => starting({ mimeType: H264, rtmpUrl: url(allowed) })(socket),
    }),
  ),
  { name: 'data before start', expected: 'NOT_STARTED', run: sending(new Uint8Array([1, 2, 3])) },
  { name: 'data as a string before start', expected: 'NOT_STARTED', run: sending('hello') },
  { name: 'stop before start', expected: 'NOT_STARTED', run: async (socket) => codeOf(await stop(socket)) },
  {
    name: 'resume with an unknown session',
    expected: 'NOT_STARTED',
    run: async (socket) => codeOf(await socket.timeout(ANSWER_MS).emitWithAck('resume', { sessionId: 'nope', resumeToken: 'nope' })),
  },
  // A resume request that is not an object is malformed; any object it cannot match to a broadcast is answered alike.
  {
    name: 'resume with a number',
    expected: 'INVALID_REQUEST',
    run: async (socket) => codeOf(await socket.timeout(ANSWER_MS).emitWithAck('resume', 5 as never)),
  },
  ...(
    [
      ['a string', 'not media'],
      ['a number', 12],
      ['an object', { length: 5 }],
      ['null', null],
    ] as const
  ).map(
    ([name, chunk]): Case => ({
      name: `data after start: ${name}`,
      expected: 'INVALID_REQUEST',
      run: async (socket, allowed) => {
        const started = await start(socket, { mimeType: H264, rtmpUrl: allowed(`matrix-${Math.random().toString(36).slice(2)}`) });
        assert.ok(started.ok, JSON.stringify(started));
        return sending(chunk)(socket);
      },
    }),
  ),
  ...(
    [
      ['seq a string', { seq: 'one' }],
      ['seq negative', { seq: -5 }],
      ['seq a fraction', { seq: 1.5 }],
    ] as const
  ).map(
    ([name, meta]): Case => ({
      name: `data after start: ${name}`,
      expected: 'INVALID_REQUEST',
      run: async (socket, allowed) => {
        const started = await start(socket, { mimeType: H264, rtmpUrl: allowed(`matrix-${Math.random().toString(36).slice(2)}`) });
        assert.ok(started.ok, JSON.stringify(started));
        return sending(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3]), meta)(socket);
      },
    }),
  ),
  {
    name: 'a second start on the same connection',
    expected: 'ALREADY_STARTED',
    run: async (socket, allowed) => {
      assert.ok((await start(socket, { mimeType: H264, rtmpUrl: allowed(`matrix-twice-${Date.now()}`) })).ok);
      return starting({ mimeType: H264, rtmpUrl: allowed('matrix-twice-again') })(socket);
    },
  },
];

test(`${cases.length} hostile inputs each get their typed error while a broadcast beside them goes on`, async () => {
  assert.ok(cases.length >= 60, `${cases.length} cases`);
  const stack = await startStack({ allowedDestinations: [rtmp.url('')], maxChunkBytes: 1 << 20 });
  try {
    const victim = await stack.client();
    const media = splitChunks(await makeFixture('h264-opus', { seconds: 6 }), 32_000);
    assert.ok((await start(victim, { mimeType: H264, rtmpUrl: rtmp.url('matrix-victim') })).ok);
    let sent = 0;
    const outcomes: string[] = [];
    for (const [i, hostile] of cases.entries()) {
      const socket = await stack.client();
      let outcome: string;
      try {
        outcome = await hostile.run(socket, (stream) => rtmp.url(stream));
      } catch (caught) {
        outcome = `threw ${(caught as Error).message}`;
      }
      socket.disconnect();
      if (outcome !== hostile.expected) outcomes.push(`${hostile.name}: expected ${hostile.expected}, got ${outcome}`);
      else assert.ok(outcome in ERRORS);
      // The victim's media, spread over the cases.
      while (sent < Math.ceil(((i + 1) * media.length) / cases.length)) {
        const ack = await send(victim, media[sent++]!);
        assert.ok(ack.ok, `the victim's chunk ${sent} after "${hostile.name}": ${JSON.stringify(ack)}`);
      }
    }
    assert.deepEqual(outcomes, []);
    assert.deepEqual(await stop(victim), { ok: true });
    const recording = await probe(await rtmp.recording('matrix-victim'));
    assert.equal(recording.video.codec, 'h264');
    assert.ok(recording.durationSec > 5, `the victim's recording lasts ${recording.durationSec} s`);
  } finally {
    await stack.close();
  }
});
