// The one backoff policy for reconnecting a dropped destination.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryDelay } from '../../server/retry.js';

test('the wait doubles with each attempt from the first delay, and never passes 10 s', () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((attempt) => retryDelay(1_000, attempt)),
    [1_000, 2_000, 4_000, 8_000],
  );
  assert.equal(retryDelay(1_000, 5), 10_000);
  assert.equal(retryDelay(30_000, 1), 10_000);
});
