// The server process's memory (RSS) under each abusive client, with the server in a child process
// of its own: a client that floods acknowledged messages and never reads, clients that leave
// multi-attachment messages unfinished, and many idle connections. Measured after a garbage
// collection in the server, so that it counts what the server holds, not what it has yet to collect.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket as NetSocket } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';

const MB = 1024 * 1024;
/** Small chunks keep the attachment case cheap to send; the server's frame limit follows it (+1 MiB). */
const MAX_CHUNK_BYTES = 2 * MB;

let server: ChildProcess;
let url: string;

/** The server's memory after a garbage collection. */
async function measure(): Promise<NodeJS.MemoryUsage> {
  const answer = new Promise<{ memory: NodeJS.MemoryUsage }>((resolve) =>
    server.once('message', (m) => resolve(m as { memory: NodeJS.MemoryUsage })),
  );
  server.send('measure');
  return (await answer).memory;
}

/** The server's RSS in MB, after a garbage collection. */
async function rssMb(): Promise<number> {
  return (await measure()).rss / MB;
}

/** What the server's JavaScript holds (heap, buffers) in MB, after a garbage collection: RSS keeps pages V8 has freed. */
async function heldMb(): Promise<number> {
  const memory = await measure();
  return (memory.heapUsed + memory.external) / MB;
}

function client(): Promise<Socket> {
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A fresh server for each client: RSS does not shrink back once grown.
beforeEach(async () => {
  server = fork('test/helpers/server-child.ts', [JSON.stringify({ maxChunkBytes: MAX_CHUNK_BYTES })], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await new Promise<{ port: number }>((resolve) => server.once('message', (m) => resolve(m as { port: number })));
  url = `http://127.0.0.1:${port}`;
});

afterEach(async () => {
  const gone = new Promise((resolve) => server.once('exit', resolve));
  server.kill();
  await gone;
});

describe('server memory under abusive clients (RSS of the server process)', () => {
  test('a client that floods acknowledged messages and never reads: dropped, the server holds under 8 MB more (RSS printed)', async () => {
    const base = await rssMb();
    const baseHeld = await heldMb();
    const socket = await client();
    const tcp = (socket.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } }).transport.ws._socket;
    tcp.pause();
    // Bounded: 400 000 `stop`s (~60 MB of replies), or until the server drops the connection.
    let sent = 0;
    for (let batch = 0; batch < 400 && socket.connected; batch++, sent += 1_000) {
      for (let i = 0; i < 1_000; i++) socket.emit('stop', () => {});
      await tick();
    }
    // The client still connected (without the budget) and not reading: what the server holds for it.
    await pause(200);
    const held = await rssMb();
    const js = (await heldMb()) - baseHeld;
    const connected = socket.connected;
    socket.disconnect();
    console.log(
      `unread flood (${sent} stops sent): RSS ${base.toFixed(0)} MB before, ${held.toFixed(0)} MB after (+${(held - base).toFixed(0)} MB); heap and buffers +${js.toFixed(0)} MB`,
    );
    assert.equal(connected, false, 'the server dropped the connection');
    // What the server still holds for it: nothing (without the budget: the replies, +150 MB after 400 000).
    assert.ok(js < 8, `holds ${js.toFixed(0)} MB more`);
    // RSS is measured and printed, not asserted: it keeps the pages V8 and the allocator used while
    // parsing the flood, which they do not give back (+49 to +69 MB on a quiet machine, +106 MB in a
    // loaded CI run, +100 to +135 MB without the budget): the ranges overlap, so only what the
    // server still holds (above) tells the budget works.
  });

  test('four clients leaving 9-attachment messages unfinished: dropped, the server holds under 8 MB more (RSS printed)', async () => {
    const base = await rssMb();
    const baseHeld = await heldMb();
    const sockets = await Promise.all([client(), client(), client(), client()]);
    const attachment = new Uint8Array(MAX_CHUNK_BYTES);
    const placeholders = Array.from({ length: 10 }, (_, num) => ({ _placeholder: true, num }));
    for (const socket of sockets) {
      const engine = socket.io.engine as unknown as { write(data: string | Uint8Array): void };
      // (engine.io adds its message type, 4.) A BINARY_EVENT announcing ten attachments, then nine of them and never the tenth.
      engine.write(`510-${JSON.stringify(['data', ...placeholders])}`);
      for (let i = 0; i < 9; i++) engine.write(attachment);
    }
    // The server refuses a packet announcing more attachments than it takes and drops the
    // connection. Measured once every connection is gone: before that, frames still being read
    // count (10 MB of them were caught in a loaded CI run, when the wait was for the client to
    // have sent its frames).
    for (let i = 0; i < 100 && sockets.some((socket) => socket.connected); i++) await pause(50);
    assert.deepEqual(
      sockets.map((socket) => socket.connected),
      [false, false, false, false],
      'the server dropped each connection',
    );
    // Then what the server holds (the most of a few measures).
    let held = 0;
    let js = 0;
    for (let i = 0; i < 5; i++, await pause(100)) {
      held = Math.max(held, await rssMb());
      js = Math.max(js, (await heldMb()) - baseHeld);
    }
    for (const socket of sockets) socket.disconnect();
    console.log(
      `unfinished attachments: RSS ${base.toFixed(0)} MB before, ${held.toFixed(0)} MB after (+${(held - base).toFixed(0)} MB); heap and buffers +${js.toFixed(0)} MB`,
    );
    // Held: nothing (without the limit: the 36 attachments, 72 MB, for as long as the connections live).
    assert.ok(js < 8, `holds ${js.toFixed(0)} MB more`);
    // RSS is printed, not asserted: it keeps the pages the 72 MB of frames were read into before the
    // connections closed (+66 MB in a CI run whose heap and buffers were back to under +8 MB), so it
    // cannot tell held memory from pages the allocator kept; what the server holds (above) does.
  });

  test('300 idle connections: the server holds under 30 MB more', async () => {
    const base = await rssMb();
    const sockets: Socket[] = [];
    for (let i = 0; i < 300; i += 30) sockets.push(...(await Promise.all(Array.from({ length: 30 }, client))));
    const held = await rssMb();
    for (const socket of sockets) socket.disconnect();
    console.log(`300 connections: RSS ${base.toFixed(0)} MB before, ${held.toFixed(0)} MB with them (+${(held - base).toFixed(0)} MB)`);
    assert.ok(held - base < 30, `holds ${(held - base).toFixed(0)} MB more`);
  });
});
