// Recording a broadcast to a local file the operator chose: complete after a normal stop, still
// playable after the server is killed mid-broadcast, and never where a client asks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { io as connect } from 'socket.io-client';
import type { StopSummary } from '../../server/index.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { probe } from '../helpers/probe.js';
import { reapOnExit, removeOnExit } from '../helpers/reaper.js';
import { sendAll, sendPaced, start, startStack, stop, type ClientSocket } from '../helpers/stack.js';
import { useRtmpServer } from '../helpers/suite.js';
import { H264_MIME } from '../helpers/constants.js';

const FPS = 30;
const rtmp = useRtmpServer();
const directory = mkdtempSync(join(tmpdir(), 'rtmp-broadcaster-recordings-'));
removeOnExit(directory);
after(() => rm(directory, { recursive: true, force: true }));

describe('recording a broadcast', () => {
  test('writes every frame to the operator’s file, which the stop hook names, beside the live destination', async () => {
    const summaries: StopSummary[] = [];
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      record: ({ auth }) => join(directory, `${String(auth.user)}.mp4`),
      hooks: { stop: (_context, summary) => void summaries.push(summary) },
    });
    try {
      const socket = await stack.client({ user: 'ada' });
      const seconds = 4;
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds }), 64_000);
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('recorded') })).ok);
      const path = join(directory, 'ada.mp4');
      assert.equal(stack.broadcaster.sessions()[0]?.recording, path);
      assert.ok((await sendAll(socket, chunks)).every((ack) => ack.ok));
      assert.deepEqual(await stop(socket), { ok: true });

      assert.equal(summaries[0]?.recording, path);
      const recorded = await probe(path, { countFrames: true });
      assert.match(recorded.format, /mp4/);
      assert.equal(recorded.video.codec, 'h264');
      assert.equal(recorded.audio?.codec, 'aac');
      assert.equal(recorded.video.frames, seconds * FPS, 'every frame was recorded');
      assert.ok(Math.abs(recorded.durationSec - seconds) < 0.3, `the whole broadcast was recorded (${recorded.durationSec} s)`);
      const live = await probe(await rtmp.recording('recorded'), { countFrames: true });
      assert.equal(live.video.frames, seconds * FPS, 'and the destination got all of it too');
    } finally {
      await stack.close();
    }
  });

  test('goes where the start hook says, and never where the client says', async () => {
    const fromHook = join(directory, 'from-hook.mkv');
    const fromClient = join(directory, 'from-client.mp4');
    const summaries: StopSummary[] = [];
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      hooks: { start: () => ({ record: fromHook }), stop: (_context, summary) => void summaries.push(summary) },
    });
    try {
      const socket = await stack.client();
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds: 2 }), 64_000);
      const request = { mimeType: H264_MIME, rtmpUrl: rtmp.url('hook-recorded'), record: fromClient, recording: fromClient };
      assert.ok((await start(socket, request)).ok);
      assert.ok((await sendAll(socket, chunks)).every((ack) => ack.ok));
      assert.deepEqual(await stop(socket), { ok: true });
      assert.equal(summaries[0]?.recording, fromHook);
      assert.equal((await probe(fromHook, { countFrames: true })).video.frames, 2 * FPS);
      assert.equal(existsSync(fromClient), false, 'the client’s path was ignored');
    } finally {
      await stack.close();
    }
  });

  test('is not made at all when only the client asks for one', async () => {
    const fromClient = join(directory, 'asked-by-client.mp4');
    const summaries: StopSummary[] = [];
    const stack = await startStack({
      allowedDestinations: [rtmp.url('')],
      hooks: { stop: (_context, summary) => void summaries.push(summary) },
    });
    try {
      const socket = await stack.client();
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('not-recorded'), record: fromClient })).ok);
      assert.equal(stack.broadcaster.sessions()[0]?.recording, undefined);
      assert.ok((await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 64_000))).every((ack) => ack.ok));
      assert.deepEqual(await stop(socket), { ok: true });
      assert.equal(summaries[0]?.recording, undefined);
      assert.equal(existsSync(fromClient), false);
    } finally {
      await stack.close();
    }
  });

  test('stays playable when the server and its ffmpeg are SIGKILLed mid-broadcast', async () => {
    const killed = join(directory, 'killed');
    // Its own process group, so one kill takes the server and every ffmpeg it started, as a crash of the machine would.
    const server = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/record-server.ts', rtmp.url(''), killed], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    reapOnExit(server);
    const exited = new Promise((resolve) => server.once('exit', resolve));
    let socket: ClientSocket | undefined;
    try {
      const lines = createInterface({ input: server.stdout! });
      const port = await new Promise<string>((resolve) => lines.on('line', (line) => line.startsWith('port ') && resolve(line.slice(5))));
      socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url('killed-midway') });
      assert.ok(answer.ok);
      const seconds = 8;
      const chunks = splitChunks(await makeFixture('h264-opus', { seconds }), 40_000);
      // Real-time pace, so the recorder has written fragments of the first seconds when the kill comes.
      await sendPaced(socket, chunks.slice(0, Math.floor(chunks.length / 2)), seconds, chunks.length);
      await rtmp.published('killed-midway');
      process.kill(-server.pid!, 'SIGKILL');
      await exited;

      const recorded = await probe(join(killed, `${answer.ok ? answer.sessionId : ''}.mp4`), { countFrames: true });
      assert.equal(recorded.video.codec, 'h264');
      assert.ok((recorded.video.frames ?? 0) >= FPS, `frames up to the kill are readable (${recorded.video.frames})`);
      assert.ok(recorded.durationSec >= 1, `seconds up to the kill are readable (${recorded.durationSec} s)`);
    } finally {
      socket?.disconnect();
      if (server.exitCode === null && server.signalCode === null) process.kill(-server.pid!, 'SIGKILL');
    }
  });
});
