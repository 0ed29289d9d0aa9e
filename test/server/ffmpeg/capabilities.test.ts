// What the server learns from the ffmpeg binary it runs, and that the command line it then builds
// parses on that binary: the system's ffmpeg 5.1 and the 2018 static build of @ffmpeg-installer.
import installer from '@ffmpeg-installer/ffmpeg';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { buildFfmpegArgs, pusherArgs, recorderArgs } from '../../../server/ffmpeg/args.js';
import { probeFfmpeg } from '../../../server/ffmpeg/capabilities.js';

const SYSTEM_FFMPEG = 'ffmpeg';
const OLD_FFMPEG = installer.path;

describe('probeFfmpeg', () => {
  test('ffmpeg 5.1 takes -stats_period and -fps_mode', async () => {
    const found = await probeFfmpeg(SYSTEM_FFMPEG);
    assert.ok(found, 'the system ffmpeg runs');
    assert.match(found.version, /^\d+\.\d+/);
    assert.equal(found.statsPeriod, true);
    assert.equal(found.fpsMode, true);
  });

  test('the 2018 static build takes neither, and its git version is kept as it reports it', async () => {
    const found = await probeFfmpeg(OLD_FFMPEG);
    assert.ok(found, 'the @ffmpeg-installer binary runs');
    assert.match(found.version, /^N-\d+-g[0-9a-f]+/);
    assert.equal(found.statsPeriod, false);
    assert.equal(found.fpsMode, false);
  });

  test('a binary that is missing, fails, or is not ffmpeg gives undefined rather than throwing', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-probe-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const failing = join(dir, 'ffmpeg');
    await writeFile(failing, '#!/bin/sh\necho "ffmpeg version 9.9" ; exit 3\n');
    await chmod(failing, 0o755);
    for (const path of ['/nonexistent/ffmpeg', failing, '/bin/echo']) {
      assert.equal(await probeFfmpeg(path), undefined, path);
    }
  });
});

/** Runs ffmpeg with `input` on stdin and progress on fd 3, as a Session does, and returns its log. */
function runFfmpeg(ffmpegPath: string, args: readonly string[], input: Buffer): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    (child.stderr as Readable).setEncoding('utf8').on('data', (text: string) => (stderr += text));
    (child.stdio[3] as Readable).resume();
    const stdin = child.stdin as Writable;
    stdin.on('error', () => {}); // ffmpeg stops reading once the connection fails
    stdin.end(input);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Two seconds of H.264 or VP8 with Opus in Matroska, as a browser records. */
function recording(video: 'h264' | 'vp8'): Promise<Buffer> {
  const codec =
    video === 'h264' ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'] : ['-c:v', 'libvpx', '-deadline', 'realtime'];
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=160x120:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    '2',
    ...codec,
    '-c:a',
    'libopus',
    '-f',
    video === 'h264' ? 'matroska' : 'webm',
    '-',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_FFMPEG, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`fixture ffmpeg exited ${code}`))));
  });
}

const OPTION_ERRORS =
  /Unrecognized option|Option not found|Error splitting the argument list|Invalid argument|Unknown encoder|Error parsing|not found/;

describe('the command line for each probed binary', () => {
  for (const [name, ffmpegPath] of [
    ['ffmpeg 5.1', SYSTEM_FFMPEG],
    ['the 2018 static build', OLD_FFMPEG],
  ] as const) {
    for (const video of ['copy', 'transcode'] as const) {
      test(`${name}, ${video}: every flag parses, and ffmpeg gets as far as connecting`, async () => {
        const capabilities = await probeFfmpeg(ffmpegPath);
        assert.ok(capabilities);
        const args = buildFfmpegArgs({
          inputFormat: 'matroska',
          video,
          destination: new URL('rtmp://127.0.0.1:1/live/x'),
          videoBitsPerSecond: 500_000,
          audioBitsPerSecond: 128_000,
          audioSampleRate: 44_100,
          framerate: 30,
          destinationTimeoutMs: 3_000,
          statsPeriod: capabilities.statsPeriod,
          fpsMode: capabilities.fpsMode,
        });
        const run = await runFfmpeg(ffmpegPath, args, await recording(video === 'copy' ? 'h264' : 'vp8'));
        assert.doesNotMatch(run.stderr, OPTION_ERRORS);
        // ffmpeg 5.1 warns about -vsync: each build gets the frame rate option it prefers.
        assert.doesNotMatch(run.stderr, /deprecated/);
        assert.match(run.stderr, /Connection refused/);
        assert.equal(run.code, 1);
      });
    }
  }
});

/** What the broadcast's ffmpeg writes for the fan-out: FLV on stdout. */
async function fannedOutFlv(ffmpegPath: string, statsPeriod: boolean): Promise<Buffer> {
  const args = buildFfmpegArgs({
    inputFormat: 'matroska',
    video: 'copy',
    destination: 'pipe',
    videoBitsPerSecond: 500_000,
    audioBitsPerSecond: 128_000,
    audioSampleRate: 44_100,
    framerate: 30,
    destinationTimeoutMs: 3_000,
    statsPeriod,
  });
  const input = await recording('h264');
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['pipe', 'pipe', 'ignore', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdin!.end(input);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exited ${code}`))));
  });
}

describe('the fan-out command lines for each probed binary', () => {
  for (const [name, ffmpegPath] of [
    ['ffmpeg 5.1', SYSTEM_FFMPEG],
    ['the 2018 static build', OLD_FFMPEG],
  ] as const) {
    test(`${name}: the broadcast writes FLV to its stdout, a pusher gets as far as connecting, a recorder writes its file`, async () => {
      const capabilities = await probeFfmpeg(ffmpegPath);
      assert.ok(capabilities);
      const flv = await fannedOutFlv(ffmpegPath, capabilities.statsPeriod);
      assert.equal(flv.subarray(0, 3).toString('latin1'), 'FLV');
      const pushed = await runFfmpeg(
        ffmpegPath,
        pusherArgs({
          destination: new URL('rtmp://127.0.0.1:1/live/x'),
          destinationTimeoutMs: 3_000,
          statsPeriod: capabilities.statsPeriod,
        }),
        flv,
      );
      assert.doesNotMatch(pushed.stderr, OPTION_ERRORS);
      assert.match(pushed.stderr, /Connection refused/);
      const dir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-recorder-'));
      try {
        const path = join(dir, 'recording.mp4');
        const recorded = await runFfmpeg(ffmpegPath, recorderArgs({ path, statsPeriod: capabilities.statsPeriod }), flv);
        assert.equal(recorded.code, 0, recorded.stderr);
        assert.ok((await stat(path)).size > 10_000);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
