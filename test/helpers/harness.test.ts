// Proves the end-to-end harness itself against real nginx-rtmp, ffmpeg and
// ffprobe, so a failing e2e test points at the code under test, not here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { makeFixture, splitChunks } from './fixtures.js';
import { keyframeTimes, probe } from './probe.js';
import { childProcesses, waitForNoChildren } from './processes.js';
import { reapOnExit } from './reaper.js';
import { startRtmpServer } from './rtmp-server.js';
import type { RtmpServer } from './rtmp-server.js';

interface Publisher {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

// The plain ffmpeg relay the server under test is expected to run, fed through stdin as fast as possible.
function publish(url: string): Publisher {
  const child = spawn(
    'ffmpeg',
    ['-hide_banner', '-v', 'error', '-f', 'matroska', '-i', 'pipe:0', '-c:v', 'copy', '-c:a', 'aac', '-f', 'flv', url],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  reapOnExit(child);
  // ffmpeg may quit before reading everything (bad input, lost server).
  child.stdin!.on('error', () => {});
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exited };
}

let rtmp: RtmpServer;

before(async () => {
  rtmp = await startRtmpServer();
});

after(async () => {
  await rtmp?.close();
});

test('an h264-opus MediaRecorder-like stream relayed by ffmpeg is recorded by nginx-rtmp as H.264 + AAC', async () => {
  const media = await makeFixture('h264-opus');
  const pub = publish(rtmp.url('relay'));
  for (const chunk of splitChunks(media, 64 * 1024)) pub.child.stdin!.write(chunk);
  await rtmp.published('relay');
  // stdin is still open, so ffmpeg cannot have finished yet.
  assert.deepEqual(childProcesses('ffmpeg'), [pub.child.pid]);
  pub.child.stdin!.end();

  const { code, stderr } = await pub.exited;
  assert.equal(code, 0, stderr);
  await waitForNoChildren('ffmpeg', 5000);

  // Called after the publish ended: resolves from the recorded event.
  const flv = await rtmp.recording('relay');
  const p = await probe(flv, { countFrames: true });
  assert.equal(p.format, 'flv');
  assert.equal(p.video.codec, 'h264');
  assert.equal(p.video.profile, 'Constrained Baseline');
  assert.equal(p.video.width, 1280);
  assert.equal(p.video.height, 720);
  assert.equal(p.video.frames, 150);
  assert.ok(p.audio, 'audio stream');
  assert.equal(p.audio.codec, 'aac');
  assert.equal(p.audio.sampleRate, 48000);
  assert.equal(p.audio.channels, 2);
  // ffmpeg's native AAC encoder defaults to 128 kb/s for stereo.
  assert.ok(Math.abs(p.audio.bitRate - 128_000) < 16_000, `audio ${p.audio.bitRate} b/s`);
  assert.ok(Math.abs(p.durationSec - 5) <= 0.5, `duration ${p.durationSec}`);
  const keys = await keyframeTimes(flv);
  assert.equal(keys.length, 3, `keyframes at ${keys}`);
  for (const [i, t] of keys.entries()) assert.ok(Math.abs(t - 2 * i) < 0.1, `keyframes at ${keys}`);
});

test('garbage input makes the ffmpeg relay fail without publishing', async () => {
  const pub = publish(rtmp.url('garbage'));
  pub.child.stdin!.end(await makeFixture('garbage'));
  const { code } = await pub.exited;
  assert.notEqual(code, 0);
  assert.equal(rtmp.events.filter((e) => e.name === 'garbage').length, 0);
});

test('waitForNoChildren reports a live ffmpeg, then resolves once it exits', async () => {
  const pub = publish(rtmp.url('idle')); // blocks reading stdin
  assert.deepEqual(childProcesses('ffmpeg'), [pub.child.pid]);
  await assert.rejects(waitForNoChildren('ffmpeg', 100), new RegExp(`still running after 100 ms: ${pub.child.pid}`));
  pub.child.kill('SIGKILL');
  await waitForNoChildren('ffmpeg', 5000);
  assert.deepEqual(childProcesses('ffmpeg'), []);
});

test('stop() drops a live publisher and start() serves again on the same port', async () => {
  const port = rtmp.port;
  const chunks = splitChunks(await makeFixture('h264-opus'), 64 * 1024);
  const half = Math.floor(chunks.length / 2);

  const cut = publish(rtmp.url('cut'));
  for (const chunk of chunks.slice(0, half)) cut.child.stdin!.write(chunk);
  await rtmp.published('cut');
  await rtmp.stop();
  // ffmpeg notices the lost connection on its next write.
  for (const chunk of chunks.slice(half)) cut.child.stdin!.write(chunk);
  cut.child.stdin!.end();
  const cutExit = await cut.exited;
  assert.ok(cutExit.code !== 0, `ffmpeg should fail once the ingest is gone: ${JSON.stringify(cutExit)}`);

  await rtmp.start();
  assert.equal(rtmp.port, port);
  // Asked before the publish even starts: waits for the event.
  const recorded = rtmp.recording('again');
  const again = publish(rtmp.url('again', 'app'));
  again.child.stdin!.end(Buffer.concat(chunks));
  assert.equal((await again.exited).code, 0);
  const flv = await recorded;
  assert.match(flv, /\/app\/again\.flv$/);
  const p = await probe(flv);
  assert.equal(p.video.codec, 'h264');
  assert.equal(p.audio?.codec, 'aac');
});

test('several servers run side by side', async () => {
  const servers = await Promise.all([startRtmpServer(), startRtmpServer()]);
  try {
    const ports = new Set([rtmp.port, ...servers.map((s) => s.port)]);
    assert.equal(ports.size, 3);
    assert.equal(childProcesses('nginx').length, 3);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
  assert.equal(childProcesses('nginx').length, 1);
});
