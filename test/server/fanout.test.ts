// The fan-out with fake outputs (no ffmpeg): every output gets the same FLV; one that drops is
// reconnected alone and joins at the next keyframe after the preamble; the end comes when all give up.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { FanOut, type FanOutOptions } from '../../server/fanout.js';
import { createLogger } from '../../server/logger.js';
import { FakeProcess } from '../helpers/fake-process.js';

/** One FLV tag: header, body, PreviousTagSize. */
function tag(type: number, body: number[]): Buffer {
  const header = Buffer.alloc(11);
  header[0] = type;
  header.writeUIntBE(body.length, 1, 3);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(11 + body.length);
  return Buffer.concat([header, Buffer.from(body), trailer]);
}

/** The FLV file header of a video-only stream, and PreviousTagSize0. */
const FILE_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x01, 0, 0, 0, 9, 0, 0, 0, 0]);
const CONFIG = tag(9, [0x17, 0x00, 0xaa]);
const KEYFRAME = tag(9, [0x17, 0x01, 0xbb]);
const INTERFRAME = tag(9, [0x27, 0x01, 0xcc]);

async function startFanOut(options: Partial<FanOutOptions> = {}) {
  const outputs = new Map<string, FakeProcess[]>();
  const fanOut = await FanOut.start({
    sessionId: 'session-1',
    log: createLogger(false),
    ffmpegPath: 'ffmpeg',
    targets: [
      { kind: 'destination', url: new URL('rtmp://a.example/live/key-a') },
      { kind: 'destination', url: new URL('rtmp://b.example/live/key-b') },
    ],
    args: () => [],
    retries: 2,
    retryDelayMs: 5,
    stopTimeoutMs: 1000,
    killTimeoutMs: 1000,
    maxBufferedBytes: 1024,
    spawn: async (process) => {
      const label = String(process.destination);
      const fake = new FakeProcess(process, label);
      outputs.set(label, [...(outputs.get(label) ?? []), fake]);
      return fake;
    },
    ...options,
  });
  const flv = new PassThrough();
  fanOut.attach(flv);
  const send = async (...chunks: Buffer[]) => {
    flv.write(Buffer.concat(chunks));
    await new Promise((resolve) => setImmediate(resolve));
  };
  const of = (host: string) => [...outputs.entries()].find(([label]) => label.includes(host))![1];
  return { fanOut, send, a: () => of('a.example'), b: () => of('b.example') };
}

describe('FanOut', () => {
  test('every output gets the same bytes, the file header first', async () => {
    const { fanOut, send, a, b } = await startFanOut();
    await send(FILE_HEADER, CONFIG, KEYFRAME);
    await send(INTERFRAME);
    const expected = Buffer.concat([FILE_HEADER, CONFIG, KEYFRAME, INTERFRAME]);
    assert.deepEqual(Buffer.concat(a()[0]!.written), expected);
    assert.deepEqual(Buffer.concat(b()[0]!.written), expected);
    assert.deepEqual(
      fanOut.destinations().map((each) => each.state),
      ['connecting', 'connecting'],
    );
    assert.ok(
      fanOut.destinations().every((each) => !each.destination.includes('key-')),
      'stream keys are hidden',
    );
    await fanOut.end();
  });

  test('a destination that drops after taking the broadcast is reconnected alone, from the preamble and the next keyframe', async () => {
    const { fanOut, send, a, b } = await startFanOut();
    const lost: Array<[number, boolean]> = [];
    const restored: number[] = [];
    fanOut.on('lost', (output, _error, _retryInMs, retrying) => lost.push([output.index, retrying]));
    fanOut.on('restored', (output) => restored.push(output.index));
    await send(FILE_HEADER, CONFIG, KEYFRAME);
    a()[0]!.progress(1000);
    b()[0]!.progress(1000);
    a()[0]!.exit({ error: { code: 'DESTINATION_UNREACHABLE', message: 'gone' } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(lost, [[0, true]]);
    assert.equal(fanOut.remaining, 1);
    while (a().length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await send(INTERFRAME);
    assert.equal(a()[1]!.written.length, 0, 'nothing before a keyframe');
    await send(KEYFRAME);
    assert.deepEqual(Buffer.concat(a()[1]!.written), Buffer.concat([FILE_HEADER, CONFIG, KEYFRAME]));
    assert.deepEqual(
      Buffer.concat(b()[0]!.written),
      Buffer.concat([FILE_HEADER, CONFIG, KEYFRAME, INTERFRAME, KEYFRAME]),
      'the other output goes on untouched',
    );
    a()[1]!.progress(500);
    assert.deepEqual(restored, [0]);
    assert.deepEqual(
      fanOut.destinations().map((each) => [each.state, each.retries]),
      [
        ['live', 1],
        ['live', 0],
      ],
    );
    await fanOut.end();
  });

  test('destinations that never took the broadcast are given up on; when all are, the broadcast has nowhere to go', async () => {
    const { fanOut, send, a, b } = await startFanOut();
    const allFailed: string[] = [];
    fanOut.on('all-failed', (error) => allFailed.push(error.code));
    await send(FILE_HEADER, CONFIG, KEYFRAME);
    a()[0]!.exit({ error: { code: 'DESTINATION_UNREACHABLE', message: 'refused' } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(allFailed, []);
    b()[0]!.exit({});
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(allFailed, ['DESTINATION_UNREACHABLE']);
    assert.deepEqual(
      fanOut.destinations().map((each) => each.state),
      ['failed', 'failed'],
    );
    assert.equal(a().length + b().length, 2, 'no reconnection');
    await fanOut.end();
  });

  test('an output that cannot keep up is stopped with BUFFER_FULL; the others are not', async () => {
    const { fanOut, send, a, b } = await startFanOut();
    a()[0]!.buffered = 1024;
    await send(FILE_HEADER, CONFIG, KEYFRAME);
    assert.equal((await a()[0]!.ended).error?.code, 'BUFFER_FULL');
    assert.equal(b()[0]!.stopRequested, false);
    await fanOut.end();
  });
});
