// The watch that ends a broadcast whose media ffmpeg reads and cannot use, on a simulated ffmpeg:
// bytes read (written less what waits in the pipe), progress reports, and a mocked clock.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import type { BroadcastStats } from '../../../client/protocol.js';
import { InputStallWatch, isDemuxerError, STALL_BYTES, UNREPORTED_STALL_BYTES } from '../../../server/ffmpeg/input-stall.js';

/** An ffmpeg fed `bytesPerSecond`, of which it reads at most `readable` bytes in all (the rest waits in the pipe). */
function feed(bytesPerSecond: number, readable = Infinity) {
  const input = { bytesWritten: 0, buffered: 0 };
  return {
    input,
    tick(ms: number) {
      input.bytesWritten += (bytesPerSecond * ms) / 1000;
      input.buffered = Math.max(0, input.bytesWritten - readable);
    },
  };
}

const stats = (frames: number): BroadcastStats => ({ durationMs: frames * 33, frames, fps: 30, kbps: 2500, speed: 1 });

describe('InputStallWatch', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'setImmediate', 'Date'] }));
  afterEach(() => mock.timers.reset());

  /** Runs `seconds` of input in 250 ms steps; `report` is called each second. */
  function run(fed: ReturnType<typeof feed>, seconds: number, report?: (second: number) => void) {
    for (let step = 1; step <= seconds * 4; step++) {
      fed.tick(250);
      mock.timers.tick(250);
      if (report && step % 4 === 0) report(step / 4);
    }
  }

  test('an ffmpeg opening a silent destination (nothing read past its buffers, no report) is never judged', () => {
    const stalls: string[] = [];
    const watch = new InputStallWatch((error) => stalls.push(error.code));
    // What the pipe's kernel buffers and ffmpeg's input buffer hold before it blocks on its output.
    // A camera's 500 kb/s fills them in over 4 s: read at that pace, 128 KB would have ended it.
    const fed = feed(64_000, 280 * 1024);
    watch.watch(fed.input);
    run(fed, 20);
    watch.stop();
    assert.deepEqual(stalls, []);
    assert.ok(280 * 1024 < UNREPORTED_STALL_BYTES);
  });

  test('media read and never used ends as INVALID_MEDIA: 384 KB over 2 s once ffmpeg reports, 512 KB before', () => {
    const reported: string[] = [];
    const reporting = new InputStallWatch((error) => reported.push(error.message));
    const fed = feed(320_000);
    reporting.watch(fed.input);
    reporting.progress(stats(0));
    run(fed, 3);
    reporting.stop();
    assert.equal(reported.length, 1);
    assert.match(reported[0]!, /could not use any of it/);

    const silent: string[] = [];
    const unreported = new InputStallWatch((error) => silent.push(error.code));
    const garbage = feed(320_000);
    unreported.watch(garbage.input);
    run(garbage, 1);
    assert.deepEqual(silent, [], `${STALL_BYTES} bytes are not enough before a report`);
    run(garbage, 2);
    unreported.stop();
    assert.deepEqual(silent, ['INVALID_MEDIA']);
  });

  /**
   * When (ms) a reporting ffmpeg fed 1 MB/s that it never uses is judged, within 3 s: told the input
   * is damaged or not, and then the output advancing `advances` times.
   */
  function judgedAt(damaged: boolean, advances = 0): number[] {
    const at: number[] = [];
    const start = Date.now();
    const watch = new InputStallWatch(() => at.push(Date.now() - start));
    const fed = feed(1_000_000);
    watch.watch(fed.input);
    watch.progress(stats(0));
    if (damaged) watch.damaged();
    for (let i = 1; i <= advances; i++) watch.progress(stats(i));
    run(fed, 3);
    watch.stop();
    return at;
  }

  test('once the demuxer said the input is damaged, media read and not used is judged after 0.75 s, not 2 s', () => {
    assert.deepEqual(judgedAt(false), [2_250]);
    assert.deepEqual(judgedAt(true), [1_000]);
  });

  test('after the damage, the output advancing once may be frames from before it; twice, the input is healthy again', () => {
    assert.deepEqual(judgedAt(true, 1), [1_000]);
    assert.deepEqual(judgedAt(true, 2), [2_250]);
  });

  test('the demuxer errors that count as damage: Matroska and MP4 errors, not their warnings nor other lines', () => {
    assert.ok(
      isDemuxerError(
        '[matroska,webm @ 0x55b2922bb980] [error] Element at 0x8a7e ending at 0x1102ff exceeds containing master element ending at 0xafff5',
      ),
    );
    assert.ok(isDemuxerError('[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5588c797a9c0] [error] moov atom not found'));
    assert.ok(
      !isDemuxerError(
        '[matroska,webm @ 0x55b2feb269c0] [warning] Could not find codec parameters for stream 0 (Video: h264, none(progressive), 1280x720): unspecified pixel format',
      ),
    );
    assert.ok(!isDemuxerError('[flv @ 0x55d1] [error] Failed to update header with correct duration.'));
    assert.ok(!isDemuxerError('[error] pipe:0: Invalid data found when processing input'));
  });

  test('an ffmpeg blocked on its output after reporting (its pipe and input buffers fill) is never judged', () => {
    const stalls: string[] = [];
    const watch = new InputStallWatch((error) => stalls.push(error.code));
    // 2.5 Mb/s, and what the buffers hold (280 KB) is all it reads: 128 KB would have ended it.
    const fed = feed(320_000, 280 * 1024);
    watch.watch(fed.input);
    watch.progress(stats(30));
    run(fed, 10);
    watch.stop();
    assert.deepEqual(stalls, []);
    assert.ok(280 * 1024 < STALL_BYTES);
  });

  test('frames coming out keep a broadcast alive, however much it reads', () => {
    const stalls: string[] = [];
    const watch = new InputStallWatch((error) => stalls.push(error.code));
    const fed = feed(1_000_000);
    watch.watch(fed.input);
    run(fed, 10, (second) => watch.progress(stats(second * 30)));
    watch.stop();
    assert.deepEqual(stalls, []);
  });

  test('the watches of every broadcast share one timer, and each is judged on its own', () => {
    const intervals = mock.method(globalThis, 'setInterval');
    const stalls: string[] = [];
    const fed = Array.from({ length: 20 }, (_, i) => ({ i, fed: i === 7 ? feed(320_000) : feed(1_000_000) }));
    const watches = fed.map(({ i, fed: f }) => {
      const watch = new InputStallWatch(() => stalls.push(`broadcast ${i}`));
      watch.watch(f.input);
      watch.progress(stats(0));
      return watch;
    });
    for (let step = 1; step <= 12; step++) {
      for (const { fed: f } of fed) f.tick(250);
      mock.timers.tick(250);
      if (step % 4 === 0) for (const [i, watch] of watches.entries()) if (i !== 7) watch.progress(stats(step * 8));
    }
    assert.deepEqual(stalls, ['broadcast 7']);
    assert.equal(intervals.mock.callCount(), 1);
    for (const watch of watches) watch.stop();
    // The last stop ends the timer; the next broadcast starts another.
    const next = new InputStallWatch(() => {});
    next.watch(feed(0).input);
    next.stop();
    assert.equal(intervals.mock.callCount(), 2);
    intervals.mock.restore();
  });
});
