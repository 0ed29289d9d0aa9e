// ffmpeg's -progress output, however the pipe happens to cut it, becomes BroadcastStats.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import type { BroadcastStats } from '../../../client/protocol.js';
import { createProgressParser } from '../../../server/ffmpeg/progress.js';

interface Block {
  stats: BroadcastStats;
  ended: boolean;
}

function collect(): { blocks: Block[]; feed: (chunk: Buffer | string) => void } {
  const blocks: Block[] = [];
  const feed = createProgressParser((stats, ended) => blocks.push({ stats, ended }));
  return { blocks, feed };
}

// Two blocks exactly as ffmpeg 5.1 wrote them to -progress while pushing H.264 + AAC to RTMP.
const REAL = [
  'frame=1',
  'fps=0.00',
  'stream_0_0_q=-1.0',
  'bitrate=N/A',
  'total_size=N/A',
  'out_time_us=N/A',
  'out_time_ms=N/A',
  'out_time=N/A',
  'dup_frames=0',
  'drop_frames=0',
  'speed=N/A',
  'progress=continue',
  'frame=60',
  'fps=0.00',
  'stream_0_0_q=-1.0',
  'bitrate= 484.7kbits/s',
  'total_size=122695',
  'out_time_us=2025000',
  'out_time_ms=2025000',
  'out_time=00:00:02.025000',
  'dup_frames=0',
  'drop_frames=0',
  'speed=13.7x',
  'progress=end',
  '',
].join('\n');

const EXPECTED: Block[] = [
  { stats: { durationMs: 0, frames: 1, fps: 0, kbps: 0, speed: 0 }, ended: false },
  // fps and kbps over the period: 60 frames and 122 695 bytes in 2.025 s of media (ffmpeg said fps=0.00).
  { stats: { durationMs: 2025, frames: 60, fps: 29.63, kbps: 484.7, speed: 13.7 }, ended: true },
];

describe('createProgressParser', () => {
  test('reads the blocks ffmpeg 5.1 writes, N/A as 0, and flags the last one', () => {
    const { blocks, feed } = collect();
    feed(REAL);
    assert.deepEqual(blocks, EXPECTED);
  });

  test('gives the same result wherever the pipe splits the text', () => {
    for (let at = 0; at <= REAL.length; at++) {
      const { blocks, feed } = collect();
      feed(REAL.slice(0, at));
      feed(REAL.slice(at));
      assert.deepEqual(blocks, EXPECTED, `split at ${at}`);
    }
    const { blocks, feed } = collect();
    for (const char of REAL) feed(char);
    assert.deepEqual(blocks, EXPECTED, 'one character at a time');
  });

  test('takes Buffers, including a multi-byte character cut in half', () => {
    const { blocks, feed } = collect();
    const bytes = Buffer.from(`note=caf\u00e9\n${REAL}`);
    const cut = bytes.indexOf(0xa9); // the second byte of é
    feed(bytes.subarray(0, cut));
    feed(bytes.subarray(cut));
    assert.deepEqual(blocks, EXPECTED);
  });

  test('accepts CRLF line ends', () => {
    const { blocks, feed } = collect();
    feed(REAL.replaceAll('\n', '\r\n'));
    assert.deepEqual(blocks, EXPECTED);
  });

  test('emits nothing until a block is complete', () => {
    const { blocks, feed } = collect();
    feed('frame=10\nfps=30\nout_time_us=333000\nprogress=continue');
    assert.equal(blocks.length, 0, 'the progress line has no newline yet');
    feed('\n');
    assert.equal(blocks.length, 1);
    assert.deepEqual(blocks[0], { stats: { durationMs: 333, frames: 10, fps: 30.03, kbps: 0, speed: 0 }, ended: false });
  });

  test('falls back to out_time_ms (which is microseconds too), then to out_time', () => {
    const { blocks, feed } = collect();
    feed('out_time_ms=1500000\nprogress=continue\n');
    feed('out_time=01:02:03.500000\nprogress=continue\n');
    feed('out_time_us=N/A\nout_time_ms=N/A\nout_time=00:00:04.250000\nprogress=continue\n');
    feed('out_time_us=2000000\nout_time_ms=9999999\nout_time=00:00:09.000000\nprogress=continue\n');
    assert.deepEqual(
      blocks.map((b) => b.stats.durationMs),
      [1500, (3600 + 120 + 3.5) * 1000, 4250, 2000],
    );
  });

  test('turns negative and garbage values into 0', () => {
    const { blocks, feed } = collect();
    // ffmpeg has printed the smallest int64 as out_time before the first packet.
    feed(
      'frame=-1\nfps=abc\nbitrate=-5kbits/s\nspeed=-1x\nout_time_us=-9223372036854775807\nout_time=-2562047788:00:54.775807\nprogress=continue\n',
    );
    assert.deepEqual(blocks[0]?.stats, { durationMs: 0, frames: 0, fps: 0, kbps: 0, speed: 0 });
  });

  test('reads padded values and starts each block from zero', () => {
    const { blocks, feed } = collect();
    feed('frame=  12\nfps= 29.97\nbitrate=  1234.5kbits/s\ntotal_size=  61725\nout_time_us=  400000\nspeed=   1x\nprogress=continue\n');
    feed('progress=continue\n');
    assert.deepEqual(blocks[0]?.stats, { durationMs: 400, frames: 12, fps: 30, kbps: 1234.5, speed: 1 });
    assert.deepEqual(blocks[1]?.stats, { durationMs: 0, frames: 0, fps: 0, kbps: 0, speed: 0 });
  });

  test('gives the bitrate and frame rate of the last period, not the averages since the start', () => {
    const { blocks, feed } = collect();
    const block = (seconds: number, frames: number, bytes: number, ffmpegKbps: number) =>
      `frame=${frames}\nfps=${frames / seconds}\nbitrate=${ffmpegKbps}kbits/s\ntotal_size=${bytes}\nout_time_us=${seconds * 1e6}\nprogress=continue\n`;
    // 2 s at 2 Mb/s and 30 fps, then the encoder drops to 500 kb/s and 15 fps for 2 s: ffmpeg's
    // averages since the start say 1 250 kb/s and 22.5 fps at the end; the last second was 500 and 15.
    feed(block(1, 30, 250_000, 2000));
    feed(block(2, 60, 500_000, 2000));
    feed(block(3, 75, 562_500, 1500));
    feed(block(4, 90, 625_000, 1250));
    assert.deepEqual(
      blocks.map(({ stats }) => [stats.kbps, stats.fps]),
      [
        [2000, 30],
        [2000, 30],
        [500, 15],
        [500, 15],
      ],
    );
  });

  test("reports 0 for a period that wrote no media but at the end, and falls back to ffmpeg's bitrate without a size", () => {
    const { blocks, feed } = collect();
    feed('frame=30\ntotal_size=125000\nout_time_us=1000000\nprogress=continue\n');
    // Stalled: the same media time a second later (the header bytes of a reconnection do not count).
    feed('frame=30\ntotal_size=126000\nout_time_us=1000000\nprogress=continue\n');
    feed('frame=60\ntotal_size=N/A\nbitrate= 700.0kbits/s\nout_time_us=2000000\nprogress=continue\n');
    // ffmpeg ends with nothing more written: its last block keeps the last period's figures.
    feed('frame=60\ntotal_size=N/A\nbitrate= 700.0kbits/s\nout_time_us=2000000\nprogress=end\n');
    assert.deepEqual(
      blocks.map(({ stats }) => [stats.kbps, stats.fps]),
      [
        [1000, 30],
        [0, 0],
        [700, 30],
        [700, 30],
      ],
    );
  });

  test('ignores lines it does not know and lines without a key', () => {
    const { blocks, feed } = collect();
    feed('garbage\n=5\nstream_0_0_q=28.0\ntotal_size=100\nframe=3\n\nprogress=continue\n');
    assert.deepEqual(blocks, [{ stats: { durationMs: 0, frames: 3, fps: 0, kbps: 0, speed: 0 }, ended: false }]);
  });

  test('drops an endless line instead of holding it forever, then recovers', () => {
    const { blocks, feed } = collect();
    for (let i = 0; i < 100; i++) feed('x'.repeat(10_000));
    feed('\nframe=7\nprogress=continue\n');
    assert.deepEqual(blocks, [{ stats: { durationMs: 0, frames: 7, fps: 0, kbps: 0, speed: 0 }, ended: false }]);
  });

  test('reads the real output of ffmpeg running in real time, chopped into odd pieces', async () => {
    const args = [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=64x48:rate=25',
      '-t',
      '2',
      '-c:v',
      'mpeg4',
      '-progress',
      'pipe:1',
      '-stats_period',
      '0.5',
      // A real muxer, so ffmpeg knows the size and reports a bitrate (-f null says N/A).
      '-f',
      'matroska',
      '-y',
      '/dev/null',
    ];
    const output = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(stderr))));
    });

    const whole = collect();
    whole.feed(output);
    const chopped = collect();
    for (let at = 0, size = 1; at < output.length; at += size, size = (size * 7 + 3) % 23 || 1) {
      chopped.feed(output.subarray(at, at + size));
    }
    assert.deepEqual(chopped.blocks, whole.blocks);

    const { blocks } = whole;
    assert.ok(blocks.length >= 3, `${blocks.length} blocks in 2 s at a 0.5 s period`);
    assert.deepEqual(
      blocks.map((b) => b.ended),
      [...Array(blocks.length - 1).fill(false), true],
    );
    const last = blocks.at(-1)!.stats;
    assert.equal(last.frames, 50);
    assert.ok(Math.abs(last.durationMs - 2000) <= 80, `durationMs ${last.durationMs}`);
    assert.ok(last.kbps > 0, 'a bitrate');
    assert.ok(last.speed > 0.5 && last.speed < 2, `speed ${last.speed} under -re`);
    // The periods' frame rates, each over its media time, add up to the frames written.
    let counted = 0;
    for (let i = 0; i < blocks.length; i++) {
      const { fps, durationMs } = blocks[i]!.stats;
      counted += (fps * (durationMs - (blocks[i - 1]?.stats.durationMs ?? 0))) / 1000;
    }
    assert.ok(Math.abs(counted - 50) <= 1, `${counted.toFixed(2)} frames from the periods' fps`);
    assert.ok(
      blocks.some(({ stats }) => Math.abs(stats.fps - 25) <= 3),
      `a period at ~25 fps: ${blocks.map(({ stats }) => stats.fps)}`,
    );
    for (let i = 1; i < blocks.length; i++) {
      assert.ok(blocks[i]!.stats.frames >= blocks[i - 1]!.stats.frames, 'frames never go back');
      assert.ok(blocks[i]!.stats.durationMs >= blocks[i - 1]!.stats.durationMs, 'time never goes back');
    }
    for (const { stats } of blocks) for (const value of Object.values(stats)) assert.ok(Number.isFinite(value) && value >= 0);
  });
});
