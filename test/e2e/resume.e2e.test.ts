// A client whose connection drops comes back within the resume window and carries on as the same
// broadcast and the same ffmpeg: the RTMP server sees one continuous publish.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { io as connect } from 'socket.io-client';
import type { Ack, ChunkMeta, ResumeAck } from '../../client/protocol.js';
import type { StopSummary } from '../../server/index.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { childProcesses, waitForNoChildren } from '../helpers/processes.js';
import { probe } from '../helpers/probe.js';
import { useRtmpServer } from '../helpers/suite.js';
import { send, start, startStack, stop, type ClientSocket } from '../helpers/stack.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { H264_MIME } from '../helpers/constants.js';

const ACK_TIMEOUT_MS = 20_000;

const rtmp = useRtmpServer();

function sendNumbered(socket: ClientSocket, chunk: Uint8Array, seq: number): Promise<Ack> {
  return socket.timeout(ACK_TIMEOUT_MS).emitWithAck('data', chunk, { seq } satisfies ChunkMeta);
}

function resume(socket: ClientSocket, sessionId: string, resumeToken: string): Promise<ResumeAck> {
  return socket.timeout(ACK_TIMEOUT_MS).emitWithAck('resume', { sessionId, resumeToken });
}

describe('resume after a network blip', () => {
  test('a 3 s cut mid-broadcast ends in one publish with every frame', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    const proxy = await startTcpProxy((stack.http.address() as AddressInfo).port);
    const socket: ClientSocket = connect(proxy.origin, {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 200,
    });
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const chunks = splitChunks(await makeFixture('h264-opus'), 40_000);
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('blip') });
      assert.ok(answer.ok);
      const half = Math.floor(chunks.length / 2);
      for (let seq = 0; seq < half; seq++) assert.deepEqual(await sendNumbered(socket, chunks[seq]!, seq), { ok: true });

      // Chunks in flight when the line goes down: their acks never come back.
      const lost = [half, half + 1].map((seq) => sendNumbered(socket, chunks[seq]!, seq).catch(() => 'lost'));
      const reconnected = new Promise<void>((resolve) => socket.io.once('reconnect', () => resolve()));
      const cutAt = Date.now();
      proxy.cut(3_000);
      await reconnected;
      assert.ok(Date.now() - cutAt >= 2_900, 'the client was away for the whole cut');
      await Promise.all(lost);

      const resumed = await resume(socket, answer.sessionId, answer.resumeToken);
      assert.ok(resumed.ok, JSON.stringify(resumed));
      assert.ok(resumed.lastSeq >= half - 1 && resumed.lastSeq <= half + 1, `lastSeq ${resumed.lastSeq}`);
      for (let seq = resumed.lastSeq + 1; seq < chunks.length; seq++) {
        assert.deepEqual(await sendNumbered(socket, chunks[seq]!, seq), { ok: true });
      }
      assert.deepEqual(await stop(socket), { ok: true });

      const received = await probe(await rtmp.recording('blip'), { countFrames: true });
      assert.equal(rtmp.events.filter((event) => event.name === 'blip' && event.call === 'publish').length, 1, 'one publish');
      assert.equal(received.video?.frames, 150, 'no frame lost or doubled');
      assert.ok(Math.abs(received.durationSec - 5) <= 0.2, `duration ${received.durationSec}`);
      assert.equal(stack.broadcaster.sessions().length, 0);
    } finally {
      socket.disconnect();
      await proxy.close();
      await stack.close();
    }
  });

  test('past the resume window the broadcast ends as disconnected and cannot be resumed', async () => {
    const summaries: StopSummary[] = [];
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      resumeWindowMs: 800,
      hooks: { stop: (_context, summary) => void summaries.push(summary) },
    });
    try {
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('gone') });
      assert.ok(answer.ok);
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 40_000);
      for (const [seq, chunk] of chunks.entries()) await sendNumbered(socket, chunk, seq);
      const ended = new Promise((resolve) => stack.broadcaster.once('session-end', resolve));
      // The connection is lost (no goodbye): an explicit socket.disconnect() would end the broadcast at once.
      socket.io.engine.close();
      assert.equal(childProcesses('ffmpeg').length, 1, 'ffmpeg waits for the client within the window');
      await ended;
      await waitForNoChildren('ffmpeg', 5_000);
      assert.equal(summaries[0]?.reason, 'disconnected');
      assert.equal(summaries[0]?.error?.code, 'DISCONNECTED');

      const late = await stack.client();
      const refused = await resume(late, answer.sessionId, answer.resumeToken);
      assert.equal(!refused.ok && refused.error.code, 'NOT_STARTED');
    } finally {
      await stack.close();
    }
  });

  test('a wrong token is refused, and a resume takes over from a connection that has not noticed the drop', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      const first = await stack.client();
      const answer = await start(first, { mimeType: H264_MIME, rtmpUrl: rtmp.url('takeover') });
      assert.ok(answer.ok);
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 2 }), 40_000);
      const half = Math.floor(chunks.length / 2);
      for (let seq = 0; seq < half; seq++) await sendNumbered(first, chunks[seq]!, seq);

      const intruder = await stack.client();
      // The token with its last character changed (to another one: a random token may end in x).
      const wrong = `${answer.resumeToken.slice(0, -1)}${answer.resumeToken.endsWith('x') ? 'y' : 'x'}`;
      const refused = await resume(intruder, answer.sessionId, wrong);
      assert.equal(!refused.ok && refused.error.code, 'NOT_STARTED');

      const second = await stack.client();
      const firstDropped = new Promise((resolve) => first.once('disconnect', resolve));
      const resumed = await resume(second, answer.sessionId, answer.resumeToken);
      assert.deepEqual(resumed, { ok: true, sessionId: answer.sessionId, video: 'copy', lastSeq: half - 1 });
      assert.equal(await firstDropped, 'io server disconnect');
      for (let seq = half; seq < chunks.length; seq++) await sendNumbered(second, chunks[seq]!, seq);
      assert.deepEqual(await stop(second), { ok: true });
      assert.equal((await probe(await rtmp.recording('takeover'), { countFrames: true })).video?.frames, 60);
    } finally {
      await stack.close();
    }
  });
});

describe('sequence numbers', () => {
  test('a repeated chunk is acknowledged but written once; a gap, a bad number or an unnumbered chunk is refused', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('seq') });
      assert.ok(answer.ok);
      const [c0, c1] = splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 40_000);
      assert.deepEqual(await sendNumbered(socket, c0!, 0), { ok: true });
      assert.deepEqual(await sendNumbered(socket, c0!, 0), { ok: true });
      assert.equal(stack.broadcaster.session(answer.sessionId)?.bytesIn, c0!.byteLength, 'written once');
      const gap = await sendNumbered(socket, c1!, 5);
      assert.equal(!gap.ok && gap.error.code, 'INVALID_REQUEST');
      const bad = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('data', c1!, { seq: -1 });
      assert.equal(!bad.ok && bad.error.code, 'INVALID_REQUEST');
      // Plain data(chunk, ack) works for a broadcast that never numbers its chunks, not mixed into one that does.
      const plain = await send(socket, c1!);
      assert.equal(!plain.ok && plain.error.code, 'INVALID_REQUEST');
      assert.equal(stack.broadcaster.session(answer.sessionId)?.bytesIn, c0!.byteLength, 'nothing written twice');
      assert.deepEqual(await sendNumbered(socket, c1!, 1), { ok: true });
    } finally {
      await stack.close();
    }
  });
});
