// Load is shed, not spread: while the server is out of headroom a new start is refused with
// SERVER_BUSY (its client's start callback and the error hook both get it, with a retry hint) and
// the live broadcast goes on untouched; once headroom is back, starts are admitted again. The
// overload is injected through the signal source's testing seam (a truly overloaded machine is
// the bench's job: `npm run bench -- --shed`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERRORS, type ErrorPayload } from '../../../client/protocol.js';
import { headroomTesting, SAMPLE_MS } from '../../../server/headroom.js';
import { H264_MIME } from '../../helpers/constants.js';
import { eventually } from '../../helpers/eventually.js';
import { makeFixture, splitChunks } from '../../helpers/fixtures.js';
import { probe } from '../../helpers/probe.js';
import { useRtmpServer } from '../../helpers/suite.js';
import { send, sendAll, start, startStack, stop } from '../../helpers/stack.js';

const rtmp = useRtmpServer();

test('past capacity a new start gets SERVER_BUSY (client and error hook) while the live broadcast continues', async () => {
  const signals = { overloaded: false, pressured: 0, calm: 0 };
  headroomTesting.source = () => () => {
    if (signals.overloaded) signals.pressured++;
    else signals.calm++;
    return signals.overloaded ? { loopDelayMs: 250, cpuBusy: 1, behind: 0 } : { loopDelayMs: 2, cpuBusy: 0.2, behind: 0 };
  };
  const errors: { code: string; sessionId: string | undefined; error: ErrorPayload }[] = [];
  const stack = await startStack({
    allowedDestinations: [rtmp.url('')],
    loadShedding: { minStreams: 1, sustainMs: SAMPLE_MS, maxWaitMs: 600 },
    hooks: { error: (context, error) => void errors.push({ code: error.code, sessionId: context.sessionId, error: error.toJSON() }) },
  });
  headroomTesting.source = undefined;
  try {
    const media = splitChunks(await makeFixture('h264-opus', { seconds: 4 }), 80_000);
    const half = Math.ceil(media.length / 2);
    const live = await stack.client();
    const started = await start(live, { mimeType: H264_MIME, rtmpUrl: rtmp.url('shed-live') });
    assert.ok(started.ok, JSON.stringify(started));
    assert.ok((await sendAll(live, media.slice(0, half))).every((ack) => ack.ok));
    await rtmp.published('shed-live');

    signals.overloaded = true;
    const seen = signals.pressured;
    await eventually(() => signals.pressured > seen, 5_000, 'an overloaded sample was taken');
    const refused = await start(await stack.client(), { mimeType: H264_MIME, rtmpUrl: rtmp.url('shed-refused') });
    assert.ok(!refused.ok, JSON.stringify(refused));
    const { retryAfterMs, ...rest } = refused.error;
    assert.deepEqual(rest, { code: 'SERVER_BUSY', message: ERRORS.SERVER_BUSY });
    assert.ok(typeof retryAfterMs === 'number' && retryAfterMs >= 1_000, `retryAfterMs ${retryAfterMs}`);
    assert.deepEqual(
      errors.map((each) => each.code),
      ['SERVER_BUSY'],
    );
    assert.ok(errors[0]!.sessionId && errors[0]!.sessionId !== started.sessionId);
    assert.equal(errors[0]!.error.retryAfterMs, retryAfterMs);

    // The live broadcast is untouched: its chunks are taken, it stops cleanly, its recording is whole.
    assert.deepEqual(
      stack.broadcaster.sessions().map((each) => [each.sessionId, each.state]),
      [[started.sessionId, 'live']],
    );
    for (const chunk of media.slice(half)) assert.ok((await send(live, chunk)).ok);

    signals.overloaded = false;
    const calm = signals.calm;
    await eventually(() => signals.calm > calm, 5_000, 'a calm sample was taken');
    const next = await stack.client();
    const admitted = await start(next, { mimeType: H264_MIME, rtmpUrl: rtmp.url('shed-after') });
    assert.ok(admitted.ok, `headroom is back: ${JSON.stringify(admitted)}`);
    assert.deepEqual(await stop(next), { ok: true });

    assert.deepEqual(await stop(live), { ok: true });
    const recording = await probe(await rtmp.recording('shed-live'));
    assert.ok(recording.durationSec > 3.5, `the live broadcast's recording lasts ${recording.durationSec} s`);
  } finally {
    headroomTesting.source = undefined;
    await stack.close();
  }
});
