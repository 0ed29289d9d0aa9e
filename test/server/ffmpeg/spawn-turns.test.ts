// Broadcasts that start together must not spawn their ffmpegs back to back in one turn of the
// event loop: each spawn blocks the loop until the child has exec'd, and the live broadcasts'
// chunks and acks would wait behind all of them (bench: 140 starts blocked the loop 1.9 s).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextSpawnTurn } from '../../../server/ffmpeg/spawn-turns.js';

test('concurrent starts get one spawn turn per turn of the event loop, in call order', async () => {
  let iterations = 0;
  let running = true;
  // Counts turns of the loop: each check phase runs the immediates queued before it began.
  const tick = () => {
    iterations++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const order: number[] = [];
  const seen = await Promise.all(
    [0, 1, 2, 3, 4].map((i) =>
      nextSpawnTurn().then(() => {
        order.push(i);
        return iterations;
      }),
    ),
  );
  running = false;
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  for (let i = 1; i < seen.length; i++)
    assert.ok(seen[i]! > seen[i - 1]!, `turns ${i - 1} and ${i} came in the same turn of the loop: ${seen.join(', ')}`);
});
