// One broadcast's life, driven with a fake ffmpeg (no process): sequence numbers, the end reported
// once, the timers, resume, and a dropped destination reconnected from a restart point.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ErrorPayload } from '../../client/protocol.js';
import type { BroadcastOptions } from '../../server/broadcast-options.js';
import { Broadcast } from '../../server/broadcast.js';
import type { BroadcastSocket } from '../../server/hooks.js';
import { createLogger } from '../../server/logger.js';
import type { StopSummary } from '../../server/session-info.js';
import { H264_MIME } from '../helpers/constants.js';
import { FakeProcess } from '../helpers/fake-process.js';

/** A client's socket that records what it is sent; it answers `restart-recording` with `restarts`. */
function fakeSocket(restarts = true) {
  const sent: Array<[string, unknown]> = [];
  const socket = {
    sent,
    disconnected: false,
    emit: (event: string, payload: unknown) => {
      sent.push([event, typeof payload === 'function' ? undefined : payload]);
      if (event === 'restart-recording') queueMicrotask(() => (payload as (reply: unknown) => void)({ ok: restarts }));
    },
    disconnect: () => {},
  };
  return socket as unknown as BroadcastSocket & { sent: typeof sent };
}

/** A recording's first chunk: the EBML header, then the first Cluster. */
const HEADER = Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x01, 0x02, 0x1f, 0x43, 0xb6, 0x75, 0x09]);
const MEDIA = Buffer.from([0xa3, 0x01, 0x02, 0x03]);

async function startBroadcast(options: Partial<BroadcastOptions> = {}, socket = fakeSocket()) {
  const processes: FakeProcess[] = [];
  const reports: StopSummary[] = [];
  const broadcast = await Broadcast.start({
    context: { sessionId: 'session-1', socket, auth: {}, remoteAddress: '127.0.0.1', request: { mimeType: H264_MIME } },
    video: 'copy',
    inputFormat: 'matroska',
    recording: undefined,
    fanOut: undefined,
    spawn: async (request) => {
      const process = new FakeProcess(request);
      processes.push(process);
      return process;
    },
    idleTimeoutMs: Infinity,
    maxDurationMs: Infinity,
    maxBufferedBytes: 1024,
    destinationRetries: 3,
    destinationRetryDelayMs: 5,
    sendFfmpegOutput: false,
    closing: () => false,
    forClient: (error) => error,
    report: async (_broadcast, summary) => void reports.push(summary),
    log: createLogger(false),
    ...options,
  });
  return { broadcast, processes, reports, socket };
}

const write = (broadcast: Broadcast, chunk: Uint8Array, seq?: number) =>
  new Promise<ErrorPayload | undefined>((resolve) => broadcast.write(chunk, seq, resolve));

describe('Broadcast', () => {
  test('numbered chunks reach ffmpeg once and in order: a resent one is acked, one out of order refused', async () => {
    const { broadcast, processes } = await startBroadcast();
    assert.equal(await write(broadcast, HEADER, 0), undefined);
    assert.equal(await write(broadcast, MEDIA, 1), undefined);
    assert.equal(await write(broadcast, MEDIA, 1), undefined, 'a resend after a resume is acked');
    assert.throws(() => broadcast.write(MEDIA, 5, () => {}), { code: 'INVALID_REQUEST' });
    assert.equal(processes[0]!.written.length, 2);
    assert.equal(broadcast.lastSeq, 1);
    assert.equal(broadcast.info().bytesIn, HEADER.length + MEDIA.length);
    await broadcast.stop();
  });

  test('the end is reported once, with the client told, however many times it is asked', async () => {
    const { broadcast, reports, socket } = await startBroadcast();
    const [first, second] = await Promise.all([broadcast.stop(), broadcast.stop()]);
    assert.equal(first, undefined);
    assert.equal(second, undefined);
    await broadcast.stop();
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.reason, 'stopped');
    assert.deepEqual(
      socket.sent.filter(([event]) => event === 'ended'),
      [['ended', { reason: 'stopped' }]],
    );
    assert.equal(broadcast.running, false);
    assert.equal(broadcast.info().state, 'ended');
  });

  test('no chunk for idleTimeoutMs ends it with IDLE_TIMEOUT', async () => {
    const { broadcast, reports } = await startBroadcast({ idleTimeoutMs: 30 });
    assert.equal((await broadcast.done)?.code, 'IDLE_TIMEOUT');
    assert.equal(reports[0]!.reason, 'error');
  });

  test('a full buffer ends it with BUFFER_FULL rather than growing', async () => {
    const { broadcast, processes } = await startBroadcast();
    processes[0]!.buffered = 1000;
    assert.equal((await write(broadcast, new Uint8Array(100)))?.code, 'BUFFER_FULL');
    assert.equal(broadcast.accepting, false);
    assert.equal((await broadcast.done)?.code, 'BUFFER_FULL');
  });

  test('a client that drops waits for its resume; one that does not come back ends it as disconnected', async () => {
    const { broadcast, reports, socket } = await startBroadcast();
    broadcast.detach(socket, 1000);
    assert.equal(broadcast.socket, undefined);
    const back = fakeSocket();
    broadcast.attach(back, '127.0.0.2');
    assert.equal(broadcast.socket, back);
    assert.equal(broadcast.context.remoteAddress, '127.0.0.2');
    broadcast.detach(back, 20);
    assert.equal((await broadcast.done)?.code, 'DISCONNECTED');
    assert.equal(reports[0]!.reason, 'disconnected');
  });

  test('a destination that drops a live broadcast is reconnected by a new ffmpeg from a new recording', async () => {
    const { broadcast, processes, socket } = await startBroadcast();
    const lost: number[] = [];
    const restored: number[] = [];
    broadcast.on('destination-lost', (attempt) => lost.push(attempt));
    broadcast.on('destination-restored', (attempt) => restored.push(attempt));
    await write(broadcast, HEADER);
    processes[0]!.progress(1000);
    processes[0]!.exit({ error: { code: 'DESTINATION_UNREACHABLE', message: 'gone' } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(lost, [1]);
    assert.equal(broadcast.info().state, 'reconnecting');
    assert.equal(await write(broadcast, MEDIA), undefined, 'media while reconnecting is acked, not written');
    while (processes.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const next = processes[1]!;
    assert.equal(next.request.continues, true);
    assert.ok(
      socket.sent.some(([event]) => event === 'restart-recording'),
      'the client is asked to restart its recording',
    );
    await write(broadcast, MEDIA);
    assert.equal(next.written.length, 0, 'nothing before a restart point');
    await write(broadcast, HEADER);
    assert.deepEqual(next.written, [HEADER], 'the new recording goes to the new ffmpeg as it is');
    next.progress(500);
    assert.deepEqual(restored, [1]);
    assert.equal(broadcast.info().state, 'live');
    assert.equal(broadcast.destinations()[0]!.retries, 1);
    await broadcast.stop();
  });

  test('a chunk that went to the ffmpeg whose destination dropped is acked when the broadcast reconnects, and answered with the error when it ends', async () => {
    // The chunk reaches ffmpeg as it dies, before its exit is read: seen with Firefox's WebCodecs
    // recorder, whose acked error (DESTINATION_UNREACHABLE) ended a broadcast that was reconnecting.
    const reconnects = await startBroadcast();
    await write(reconnects.broadcast, HEADER);
    reconnects.processes[0]!.progress(1000);
    reconnects.processes[0]!.exit({ error: { code: 'DESTINATION_UNREACHABLE', message: 'gone' } });
    assert.equal(await write(reconnects.broadcast, MEDIA), undefined);
    assert.equal(reconnects.broadcast.info().state, 'reconnecting');
    await reconnects.broadcast.stop();

    const ends = await startBroadcast();
    await write(ends.broadcast, HEADER);
    ends.processes[0]!.exit({ error: { code: 'DESTINATION_UNREACHABLE', message: 'refused' } });
    assert.equal((await write(ends.broadcast, MEDIA))?.code, 'DESTINATION_UNREACHABLE', 'never published: not retried');
    assert.equal((await ends.broadcast.done)?.code, 'DESTINATION_UNREACHABLE');
  });

  test('a client that cannot restart its recording is fed the cached header and the next Cluster', async () => {
    const { broadcast, processes } = await startBroadcast({}, fakeSocket(false));
    await write(broadcast, HEADER);
    processes[0]!.progress(1000);
    processes[0]!.exit({ error: { code: 'DESTINATION_UNREACHABLE', message: 'gone' } });
    while (processes.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setImmediate(resolve));
    const cluster = Buffer.from([0x00, 0x1f, 0x43, 0xb6, 0x75, 0x07]);
    await write(broadcast, cluster);
    const header = HEADER.subarray(0, HEADER.indexOf(0x1f));
    assert.deepEqual(processes[1]!.written, [Buffer.concat([header, cluster.subarray(1)])]);
    await broadcast.stop();
  });

  test('a destination that never took the broadcast is not retried', async () => {
    const { broadcast, processes } = await startBroadcast();
    await write(broadcast, HEADER);
    processes[0]!.exit({ error: { code: 'DESTINATION_UNREACHABLE', message: 'refused' } });
    assert.equal((await broadcast.done)?.code, 'DESTINATION_UNREACHABLE');
    assert.equal(processes.length, 1);
  });
});
