// The send window: what may go out now, what waits, and what is sent again after a drop.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SendWindow, type Chunk } from '../../client/send-window.js';

/** A chunk of `size` bytes. */
const bytes = (size: number) => new ArrayBuffer(size);

/** Takes every chunk the window lets go now. */
function takeAll(window: SendWindow): Chunk[] {
  const taken: Chunk[] = [];
  for (let chunk = window.take(); chunk; chunk = window.take()) taken.push(chunk);
  return taken;
}

const seqs = (chunks: Chunk[]) => chunks.map((chunk) => chunk.seq);

describe('SendWindow', () => {
  test('numbers chunks from 0 in the order they were recorded', () => {
    const window = new SendWindow(100);
    assert.deepEqual(
      [window.push(bytes(1)), window.push(bytes(2)), window.push(bytes(3))].map((chunk) => chunk.seq),
      [0, 1, 2],
    );
    assert.deepEqual(seqs(takeAll(window)), [0, 1, 2]);
  });

  test('lets chunks go while the unacknowledged bytes stay within the bound', () => {
    const window = new SendWindow(100);
    for (let i = 0; i < 4; i++) window.push(bytes(40));
    assert.deepEqual(seqs(takeAll(window)), [0, 1]);
    assert.equal(window.inFlightBytes, 80);
    assert.equal(window.backlogBytes, 80);
  });

  test('always lets one chunk go, however large', () => {
    const window = new SendWindow(100);
    window.push(bytes(500));
    window.push(bytes(1));
    assert.deepEqual(seqs(takeAll(window)), [0]);
    assert.equal(window.inFlightBytes, 500);
  });

  test('lets the next chunks go once earlier ones are acknowledged', () => {
    const window = new SendWindow(100);
    for (let i = 0; i < 3; i++) window.push(bytes(60));
    const [first] = takeAll(window);
    assert.equal(window.take(), undefined);
    assert.equal(window.acknowledge(first!), true);
    assert.deepEqual(seqs(takeAll(window)), [1]);
    assert.equal(window.inFlightBytes, 60);
    assert.equal(window.backlogBytes, 60);
  });

  test('is empty only once every chunk is acknowledged', () => {
    const window = new SendWindow(100);
    assert.equal(window.empty, true);
    window.push(bytes(10));
    assert.equal(window.empty, false);
    const [chunk] = takeAll(window);
    assert.equal(window.empty, false);
    window.acknowledge(chunk!);
    assert.equal(window.empty, true);
    assert.equal(window.inFlightBytes, 0);
  });

  test('after a drop, sends the unacknowledged chunks again first, in order', () => {
    const window = new SendWindow(100);
    for (let i = 0; i < 4; i++) window.push(bytes(40));
    const sent = takeAll(window);
    window.requeue();
    assert.equal(window.inFlightBytes, 0);
    assert.equal(window.backlogBytes, 160);
    // A late answer on the dropped connection takes nothing out of the window.
    assert.equal(window.acknowledge(sent[0]!), false);
    assert.equal(window.backlogBytes, 160);
    window.push(bytes(40));
    const resent = takeAll(window);
    assert.deepEqual(seqs(resent), [0, 1]);
    // Nor once the chunk is in flight again on the new connection: only that sending's answer counts.
    assert.equal(window.acknowledge(sent[0]!), false);
    assert.equal(window.inFlightBytes, 80);
    assert.equal(window.acknowledge(resent[0]!), true);
    assert.equal(window.inFlightBytes, 40);
  });

  test('after a resume, drops the chunks the server already has and keeps the rest', () => {
    const window = new SendWindow(1_000);
    for (let i = 0; i < 5; i++) window.push(bytes(10));
    takeAll(window);
    window.requeue();
    window.dropThrough(2);
    assert.equal(window.backlogBytes, 20);
    assert.deepEqual(seqs(takeAll(window)), [3, 4]);
  });

  test('after a resume where the server has none, sends everything again', () => {
    const window = new SendWindow(1_000);
    for (let i = 0; i < 2; i++) window.push(bytes(10));
    takeAll(window);
    window.requeue();
    window.dropThrough(-1);
    assert.deepEqual(seqs(takeAll(window)), [0, 1]);
  });

  test('clear forgets every chunk and numbers the next from 0', () => {
    const window = new SendWindow(100);
    for (let i = 0; i < 3; i++) window.push(bytes(60));
    const [sent] = takeAll(window);
    window.clear();
    assert.equal(window.empty, true);
    assert.equal(window.backlogBytes + window.inFlightBytes, 0);
    assert.equal(window.acknowledge(sent!), false);
    assert.equal(window.push(bytes(1)).seq, 0);
  });
});
