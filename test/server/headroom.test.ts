// Load shedding's decisions from synthetic signals: what counts as the server being short of
// headroom (and what must not: a slow destination, a slow browser, one bad sample), the floor, the
// pacing of starts and the SERVER_BUSY refusal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BroadcastError } from '../../client/protocol.js';
import {
  BEHIND_BYTES,
  Headroom,
  headroomTesting,
  LOAD_SHEDDING_DEFAULTS,
  machineSignals,
  outOfHeadroom,
  resolveLoadShedding,
  SAMPLE_MS,
  underPressure,
  type Sample,
} from '../../server/headroom.js';

const defaults = { ...LOAD_SHEDDING_DEFAULTS };
const calm: Sample = { loopDelayMs: 5, cpuBusy: 0.3, live: 40, behind: 0 };

test('a sample shows pressure from event-loop delay alone, a CPU over maxCpu alone, or ffmpegs behind their input on a busy CPU', () => {
  assert.equal(underPressure(calm, defaults), false);
  assert.equal(underPressure({ ...calm, loopDelayMs: defaults.maxEventLoopDelayMs }, defaults), true, 'our own loop cannot keep up');
  assert.equal(underPressure({ ...calm, cpuBusy: defaults.maxCpu }, defaults), true, 'no CPU left for another ffmpeg');
  assert.equal(underPressure({ ...calm, behind: 20 }, defaults), false, 'backlogs on an idle CPU are slow destinations, not us');
  const busy = defaults.maxCpu * 0.9;
  assert.equal(underPressure({ ...calm, cpuBusy: busy }, defaults), false, 'a busy CPU under maxCpu, nothing behind');
  assert.equal(underPressure({ ...calm, cpuBusy: busy, behind: 3 }, defaults), false, 'fewer than 10 % behind');
  assert.equal(underPressure({ ...calm, cpuBusy: busy, behind: 4 }, defaults), true);
});

test('an ffmpeg is behind only while media waits in our pipe to it across two samples: a slow browser (empty pipe) never counts', () => {
  const signals = machineSignals();
  try {
    const slowBrowser = { buffered: 0 };
    const spike = { buffered: BEHIND_BYTES };
    const stuck = { buffered: BEHIND_BYTES * 2 };
    assert.equal(signals([slowBrowser, spike, stuck]).behind, 0, 'one sample over is not behind yet');
    spike.buffered = 1000;
    assert.equal(signals([slowBrowser, spike, stuck]).behind, 1, 'only the pipe still full');
    assert.equal(signals([slowBrowser, spike]).behind, 0, 'a broadcast that ended is forgotten');
    const sample = signals([]);
    assert.ok(sample.cpuBusy >= 0 && sample.cpuBusy <= 1, String(sample.cpuBusy));
    assert.ok(sample.loopDelayMs >= 0);
  } finally {
    signals.stop();
  }
});

test('out of headroom takes 3 samples in 4 over sustainMs, never one sample', () => {
  const needed = LOAD_SHEDDING_DEFAULTS.sustainMs / SAMPLE_MS;
  assert.equal(needed, 4);
  assert.equal(outOfHeadroom([true], defaults), false, 'one sample');
  assert.equal(outOfHeadroom([true, true, true], defaults), false, 'less than sustainMs of samples');
  assert.equal(outOfHeadroom([true, false, true, true], defaults), true);
  assert.equal(outOfHeadroom([true, true, false, false], defaults), false);
  assert.equal(outOfHeadroom([true, true, true, true, false, false], defaults), false, 'only the last window counts');
});

test('the loadShedding option: on by default, false turns it off, nonsense is a TypeError', () => {
  assert.deepEqual(resolveLoadShedding(undefined), LOAD_SHEDDING_DEFAULTS);
  assert.equal(resolveLoadShedding(false), undefined);
  assert.equal(resolveLoadShedding({ minStreams: 3 })?.minStreams, 3);
  assert.throws(() => resolveLoadShedding({ maxCpu: 2 }), /loadShedding.maxCpu/);
  assert.throws(() => resolveLoadShedding({ minStreams: -1 }), /loadShedding.minStreams/);
  assert.throws(() => resolveLoadShedding({ minStream: 3 }), /Unknown `loadShedding` option `minStream`/);
  assert.throws(() => resolveLoadShedding('auto'), TypeError);
});

/** A Headroom fed synthetic samples: `pressure.on` says whether each sample is loaded. */
function withSignals(options: Partial<typeof defaults>, live: { buffered: number }[]) {
  const pressure = { on: false };
  headroomTesting.source = () => () =>
    pressure.on ? { loopDelayMs: 500, cpuBusy: 1, behind: 0 } : { loopDelayMs: 1, cpuBusy: 0.1, behind: 0 };
  try {
    return { headroom: new Headroom({ ...defaults, ...options }, () => live), pressure };
  } finally {
    headroomTesting.source = undefined;
  }
}

const never = new AbortController().signal;

test('up to the floor nothing waits, however loaded the server looks; the start past it does', async () => {
  const { headroom, pressure } = withSignals({ minStreams: 3, sustainMs: SAMPLE_MS, concurrentStarts: 1, maxWaitMs: 200 }, [
    { buffered: 0 },
  ]);
  try {
    pressure.on = true;
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS + 100));
    assert.equal(headroom.busy, false, 'one live broadcast: under the floor');
    const first = await headroom.admit(never);
    const second = await headroom.admit(never);
    assert.equal(headroom.busy, false, 'three live or starting: at the floor');
    await assert.rejects(headroom.admit(never), { code: 'SERVER_BUSY' }, 'the fourth is past it');
    first(true);
    second(true);
  } finally {
    headroom.stop();
  }
});

test('starts past the floor are paced: at most concurrentStarts at once, the next one gets its turn when one settles', async () => {
  const live = Array.from({ length: 5 }, () => ({ buffered: 0 }));
  const { headroom } = withSignals({ minStreams: 0, concurrentStarts: 2, settleMs: 50 }, live);
  try {
    const first = await headroom.admit(never);
    await headroom.admit(never);
    let third = false;
    const waiting = headroom.admit(never).then((done) => {
      third = true;
      return done;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(third, false, 'the third start waits for a turn');
    first(true);
    const done = await waiting;
    assert.equal(third, true);
    done(false);
  } finally {
    headroom.stop();
  }
});

test('a start still without headroom when its wait ends gets SERVER_BUSY with a retry hint; an aborted one its reason', async () => {
  const live = Array.from({ length: 5 }, () => ({ buffered: 0 }));
  const { headroom, pressure } = withSignals({ minStreams: 2, sustainMs: SAMPLE_MS, maxWaitMs: 300 }, live);
  try {
    pressure.on = true;
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS + 100));
    assert.equal(headroom.busy, true);
    const started = Date.now();
    await assert.rejects(headroom.admit(never), (error: unknown) => {
      assert.ok(error instanceof BroadcastError);
      assert.equal(error.code, 'SERVER_BUSY');
      assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs >= 1_000, String(error.retryAfterMs));
      assert.deepEqual(Object.keys(error.toJSON()), ['code', 'message', 'retryAfterMs']);
      return true;
    });
    assert.ok(Date.now() - started >= 250, 'it waited for headroom first');
    const abort = new AbortController();
    const aborted = headroom.admit(abort.signal);
    abort.abort(new BroadcastError('DISCONNECTED'));
    await assert.rejects(aborted, { code: 'DISCONNECTED' });
    pressure.on = false;
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS + 100));
    assert.equal(headroom.busy, false, 'headroom is back once the pressure is gone');
    (await headroom.admit(never))(true);
  } finally {
    headroom.stop();
  }
});
