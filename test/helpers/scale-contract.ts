// What every way of scaling out (Redis, node:cluster) promises through the one `Scale` interface,
// checked the same way against each: the shared limit, giving slots back, the listing.
import assert from 'node:assert/strict';
import { BroadcastError } from '../../client/protocol.js';
import type { Scale } from '../../server/scale.js';

/** Checks `scale`, made with a cluster-wide `maxStreams` of 2 and nothing else running. */
export async function checkScaleContract(scale: Scale): Promise<void> {
  assert.ok(scale.node.length > 0, 'the process has a name in the listing');
  const request = (sessionId: string) => ({
    sessionId,
    remoteAddress: '127.0.0.1',
    destination: 'rtmp://ingest.example/live/***',
    requestedAt: Date.now(),
  });
  await scale.admission.acquire(request('a'));
  await scale.admission.acquire(request('b'));
  await assert.rejects(
    async () => scale.admission.acquire(request('c')),
    (error: unknown) => error instanceof BroadcastError && error.code === 'TOO_MANY_STREAMS',
  );
  await scale.admission.release('a');
  await scale.admission.acquire(request('c'));
  assert.deepEqual(await scale.sessions(), [], 'a slot is listed only once its broadcast is live');
  await scale.admission.release('b');
  await scale.admission.release('c');
  await scale.admission.acquire(request('d'));
  await scale.admission.release('d');
}
