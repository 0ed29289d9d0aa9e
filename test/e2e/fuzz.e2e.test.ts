// Random events and payloads from several clients at once, reproducible from a seed: the server
// answers every acknowledged message, stays up, leaves no ffmpeg behind and keeps memory bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { childProcesses } from '../helpers/processes.js';
import { probe } from '../helpers/probe.js';
import { useRtmpServer } from '../helpers/suite.js';
import { sendAll, start, startStack, stop, type ClientSocket } from '../helpers/stack.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const STEPS = 400;
const CLIENTS = 4;
const ACK_TIMEOUT_MS = 15_000;

const rtmp = useRtmpServer();

/** A small seeded PRNG (mulberry32): the same seed replays the same run. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

test(`a seeded storm of random messages (seed ${SEED}) gets every ack and leaves the server serving`, async () => {
  const rng = random(SEED);
  const stack = await startStack({
    allowedDestinations: [rtmp.url('')],
    maxStreams: 3,
    maxChunkBytes: 256 * 1024,
    idleTimeoutMs: 2_000,
    resumeWindowMs: 500,
    logger: false,
  });
  try {
    const media = splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 20_000);
    const strings = [
      '',
      'x',
      'video/webm',
      'video/x-matroska;codecs=avc1,opus',
      'rtmp://',
      rtmp.url('fuzz'),
      'file:///etc/passwd',
      '-y',
      'a'.repeat(5_000),
      '\n',
    ];
    const values: unknown[] = [null, undefined, 0, -1, 1e308, NaN, true, [], {}, { seq: 'x' }, { seq: -5 }, ...strings];
    const payload = (): unknown => {
      switch (rng.int(6)) {
        case 0:
          return rng.pick(values);
        case 1:
          return { mimeType: rng.pick(strings), rtmpUrl: rng.pick([...strings, undefined]), framerate: rng.pick(values) };
        case 2:
          return { mimeType: 'video/x-matroska;codecs=avc1,opus', rtmpUrl: rtmp.url(`fuzz${rng.int(1e6)}`) };
        case 3:
          return new Uint8Array(rng.pick([0, 1, 100, 300 * 1024]));
        case 4:
          return rng.pick(media);
        default:
          return { sessionId: rng.pick(strings), resumeToken: rng.pick(strings) };
      }
    };

    const heapBefore = process.memoryUsage().heapUsed;
    const sockets: ClientSocket[] = await Promise.all(Array.from({ length: CLIENTS }, () => stack.client()));
    let acked = 0;
    let expected = 0;
    const pending: Promise<void>[] = [];
    for (let step = 0; step < STEPS; step++) {
      const index = rng.int(CLIENTS);
      const socket = sockets[index]!;
      const event = rng.pick(['start', 'data', 'data', 'data', 'stop', 'resume', 'nonsense', 'reconnect'] as const);
      if (event === 'reconnect') {
        await Promise.all(pending.splice(0)); // answers owed on this socket come first
        socket.disconnect();
        sockets[index] = await stack.client();
        continue;
      }
      const args: unknown[] = event === 'stop' ? [] : event === 'data' && rng.int(2) ? [payload(), { seq: rng.int(5) }] : [payload()];
      // Unknown events are ignored, so they never get an answer; any event may also come without an ack.
      if (event === 'nonsense' || rng.int(10) === 0) {
        (socket as unknown as { emit(...a: unknown[]): void }).emit(event, ...args);
        continue;
      }
      expected++;
      const answer = (socket.timeout(ACK_TIMEOUT_MS) as unknown as { emitWithAck(...a: unknown[]): Promise<unknown> }).emitWithAck(
        event,
        ...args,
      );
      const described = `step ${step}: ${event}(${args.map((a) => (a instanceof Uint8Array ? `<${a.byteLength} bytes>` : JSON.stringify(a)?.slice(0, 80))).join(', ')})`;
      pending.push(
        answer
          .catch((error: Error) => {
            throw new Error(`${described}: ${error.message}`);
          })
          .then((response) => {
            assert.equal(typeof (response as { ok?: unknown }).ok, 'boolean', `${event} answered ${JSON.stringify(response)}`);
            acked++;
          }),
      );
      if (pending.length % 8 === 0) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    assert.equal(acked, expected, 'every acknowledged message got exactly its answer');
    for (const socket of sockets) socket.disconnect();
    // The storm's broadcasts end (resume window, idle timeout) and free their places under maxStreams.
    while (stack.broadcaster.sessions().length > 0) {
      await new Promise((resolve) => stack.broadcaster.once('session-end', resolve));
    }

    // Still serving: a clean broadcast goes through after the storm.
    const clean = await stack.client();
    assert.ok((await start(clean, { mimeType: 'video/x-matroska;codecs=avc1,opus', rtmpUrl: rtmp.url('after-storm') })).ok);
    await sendAll(clean, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 40_000));
    assert.deepEqual(await stop(clean), { ok: true });
    assert.equal((await probe(await rtmp.recording('after-storm'))).video?.codec, 'h264');

    const growth = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(growth < 96 * 1024 * 1024, `heap grew ${Math.round(growth / 1024 / 1024)} MiB over the storm`);
  } finally {
    await stack.close();
  }
  assert.deepEqual(childProcesses('ffmpeg'), [], 'no ffmpeg outlives close()');
});
