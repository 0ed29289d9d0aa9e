// The frame rate the H.264 encoder is told follows the rate frames really reach it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameRateMeter } from '../../client/recorder/frame-rate.js';

/** Feeds `seconds` of frames at `fps` from `fromUs`; returns every hint the meter gave. */
function feed(meter: FrameRateMeter, fps: number, seconds: number, hint: number, fromUs = 0, ceiling = 30): number[] {
  const hints: number[] = [];
  for (let i = 0; i <= fps * seconds; i++) {
    const next = meter.frame(fromUs + Math.round((i * 1_000_000) / fps), hint, ceiling);
    if (next !== undefined) {
      hints.push(next);
      hint = next;
    }
  }
  return hints;
}

describe('FrameRateMeter', () => {
  test('says nothing while frames come at the hinted rate, or within 10 % of it', () => {
    assert.deepEqual(feed(new FrameRateMeter(), 30, 10, 30), []);
    assert.deepEqual(feed(new FrameRateMeter(), 28, 10, 30), []);
  });

  test('gives the measured rate after 1 s of frames when the source is slower than the hint, once', () => {
    assert.deepEqual(feed(new FrameRateMeter(), 20, 10, 30), [20]);
    assert.deepEqual(feed(new FrameRateMeter(), 15, 10, 30), [15]);
  });

  test('raises the hint again when the source speeds up, up to the ceiling', () => {
    const meter = new FrameRateMeter();
    assert.deepEqual(feed(meter, 15, 4, 30), [15]);
    assert.deepEqual(feed(meter, 60, 4, 15, 4_000_000 + 16_667), [30], 'never above the ceiling (the configured frame rate)');
  });

  test('never goes under a third of the ceiling: a source that stalls must not make the next frames huge', () => {
    assert.deepEqual(feed(new FrameRateMeter(), 2, 10, 30), [10]);
  });

  test('starts over when time goes back (a new recording) or when reset', () => {
    const meter = new FrameRateMeter();
    meter.frame(10_000_000, 30, 30);
    assert.equal(meter.frame(0, 30, 30), undefined);
    meter.reset();
    assert.deepEqual(feed(meter, 10, 3, 30), [10]);
  });
});
