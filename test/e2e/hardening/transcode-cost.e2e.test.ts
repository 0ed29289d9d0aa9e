// A few KB must not buy unbounded CPU or memory on the transcode path: timestamps that jump far
// ahead are not filled with hours of repeated frames, a frame above the pixel cap is refused
// before it is decoded, and the decoder and encoder run on one thread each. Real ffmpeg, with
// the argv buildFfmpegArgs makes, CPU and peak RSS read by /usr/bin/time.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { buildFfmpegArgs } from '../../../server/ffmpeg/args.js';
import { TRANSCODE } from './transcode-options.js';
import { mapFfmpegExit } from '../../../server/ffmpeg/exit.js';

const run = promisify(execFile);

interface Cost {
  code: number | null;
  cpuSeconds: number;
  maxRssMb: number;
  wallSeconds: number;
  frames: number;
  stderr: string;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'transcode-cost-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A WebM made by ffmpeg from these arguments (lavfi sources), as a hostile client would send it. */
async function fixture(name: string, args: readonly string[]): Promise<string> {
  const file = join(dir, name);
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, '-c:v', 'libvpx', '-b:v', '50k', '-f', 'webm', file]);
  return file;
}

/** Runs ffmpeg with this argv on the file as stdin for at most `limitMs` (then exit code 124); what it cost. */
async function cost(args: readonly string[], input: string, limitMs: number): Promise<Cost> {
  const timing = join(dir, 'time.txt');
  // time does not pass signals on: timeout, under it, interrupts ffmpeg at the limit.
  const seconds = String(limitMs / 1000);
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M %e', '-o', timing, 'timeout', '-s', 'INT', '-k', '5', seconds, 'ffmpeg', ...args], {
    stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let progress = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8').on('data', (text: string) => (progress += text));
  child.stdin!.on('error', () => {});
  child.stdin!.end(await readFile(input));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const [user, system, rssKb, wall] = (await readFile(timing, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
  const frames = Number([...progress.matchAll(/^frame=(\d+)$/gm)].at(-1)?.[1] ?? 0);
  return { code, cpuSeconds: user! + system!, maxRssMb: rssKb! / 1024, wallSeconds: wall!, frames, stderr };
}

describe('transcode cost', () => {
  test('10 frames 600 s apart at framerate 120 cost about what 10 s of video do, not 90 minutes of repeated frames', async () => {
    const input = await fixture('jump.webm', [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=1',
      '-frames:v',
      '10',
      '-vf',
      'setpts=N*600/TB',
      '-fps_mode',
      'passthrough',
    ]);
    const spent = await cost(buildFfmpegArgs(TRANSCODE), input, 30_000);
    console.log(`jump: ${JSON.stringify({ ...spent, stderr: undefined })}`);
    assert.equal(spent.code, 0, spent.stderr);
    assert.ok(spent.frames <= 10 * 120 * 6, `${spent.frames} frames went out`);
    assert.ok(spent.cpuSeconds < 5, `${spent.cpuSeconds} CPU-seconds`);
  });

  test('an 8K frame is refused before it is decoded, as INVALID_MEDIA naming its size', async () => {
    const input = await fixture('8k.webm', ['-f', 'lavfi', '-i', 'color=c=gray:size=7680x4320:rate=1', '-frames:v', '1']);
    const spent = await cost(buildFfmpegArgs(TRANSCODE), input, 60_000);
    console.log(`8k: ${JSON.stringify({ ...spent, stderr: undefined })}`);
    assert.notEqual(spent.code, 0);
    assert.ok(spent.maxRssMb < 150, `ffmpeg grew to ${spent.maxRssMb} MB`);
    const error = mapFfmpegExit({
      exitCode: spent.code ?? undefined,
      stopRequested: false,
      ffmpegPath: 'ffmpeg',
      logTail: spent.stderr.split('\n').filter(Boolean),
    });
    assert.equal(error?.code, 'INVALID_MEDIA');
    assert.match(error?.message ?? '', /7680x4320/);
  });

  test('1080p still transcodes; the cap is an option', async () => {
    const input = await fixture('1080p.webm', ['-f', 'lavfi', '-i', 'color=c=gray:size=1920x1080:rate=30', '-frames:v', '3']);
    const spent = await cost(buildFfmpegArgs({ ...TRANSCODE, framerate: 30 }), input, 60_000);
    assert.equal(spent.code, 0, spent.stderr);
    const small = await cost(buildFfmpegArgs({ ...TRANSCODE, framerate: 30, maxPixels: 640 * 360 }), input, 60_000);
    assert.notEqual(small.code, 0);
  });

  test('the decoder and the encoder get one thread each', () => {
    const args = buildFfmpegArgs(TRANSCODE);
    const input = args.indexOf('-i');
    assert.deepEqual(
      args.slice(0, input).filter((_arg, i, all) => all[i - 1] === '-threads'),
      ['1'],
      'decoder',
    );
    assert.deepEqual(
      args.slice(input).filter((_arg, i, all) => all[i - 1] === '-threads'),
      ['1'],
      'encoder',
    );
  });
});
