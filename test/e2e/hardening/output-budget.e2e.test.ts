// What one connection may cost the server's memory, whatever its client does: replies it never
// reads, and a message whose binary attachments never all come.
import assert from 'node:assert/strict';
import type { Socket as NetSocket } from 'node:net';
import { describe, test } from 'node:test';
import type { BroadcastSocket } from '../../../server/hooks.js';
import { MAX_UNSENT_BYTES, unsentBytes } from '../../../server/output-budget.js';
import { startStack, type ClientSocket } from '../../helpers/stack.js';

/** The server's side of the next connection. */
function nextServerSocket(stack: Awaited<ReturnType<typeof startStack>>): Promise<BroadcastSocket> {
  return new Promise((resolve) => stack.broadcaster.io.once('connection', (socket) => resolve(socket as BroadcastSocket)));
}

/** The TCP socket under a socket.io-client WebSocket connection. */
function tcpOf(socket: ClientSocket): NetSocket {
  const transport = (socket.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } }).transport;
  return transport.ws._socket;
}

describe('per-connection memory budget', () => {
  test('a client that sends acknowledged messages and never reads is disconnected once 1 MiB of replies wait', async () => {
    const stack = await startStack({ logLevel: 'error' });
    const errors: string[] = [];
    stack.broadcaster.on('error', (error) => errors.push(error.code));
    try {
      const serverSide = nextServerSocket(stack);
      const socket = await stack.client();
      const server = await serverSide;
      const closed = new Promise<string>((resolve) => server.once('disconnect', resolve));
      let gone = false;
      void closed.then(() => (gone = true));
      // The client stops reading: the kernel's buffers fill, then the server's.
      tcpOf(socket).pause();
      let most = 0;
      // Bounded: 400 000 small `stop`s, each answered (NOT_STARTED) with ~150 bytes: 60 MB of replies.
      for (let batch = 0; batch < 400 && !gone; batch++) {
        for (let i = 0; i < 1_000; i++) socket.emit('stop', () => {});
        await new Promise((resolve) => setImmediate(resolve));
        most = Math.max(most, unsentBytes(server));
      }
      assert.ok(gone, `still connected with ${Math.round(unsentBytes(server) / 1024)} KB of replies waiting`);
      assert.equal(await closed, 'server namespace disconnect');
      // And the memory goes with the connection: engine.io does not hold the unread replies until they drain.
      const engine = server.conn as unknown as { readyState: string; once(event: 'close', listener: () => void): void };
      if (engine.readyState !== 'closed') await new Promise<void>((resolve) => engine.once('close', resolve));
      // One batch of replies may land past the budget before the next message is checked.
      assert.ok(most < MAX_UNSENT_BYTES + 512 * 1024, `${Math.round(most / 1024)} KB were waiting at most`);
      assert.ok(errors.includes('BUFFER_FULL'), `the error hook heard: ${errors.join(', ')}`);
      socket.disconnect();
    } finally {
      await stack.close();
    }
  });

  test('a message announcing more than one binary attachment closes the connection', async () => {
    const stack = await startStack();
    try {
      const serverSide = nextServerSocket(stack);
      const socket = await stack.client();
      const server = await serverSide;
      const closed = new Promise<string>((resolve) => server.once('disconnect', resolve));
      // Two attachments: no message of the protocol has more than one (a chunk).
      (socket as unknown as { emit(...args: unknown[]): void }).emit('data', new Uint8Array(8), new Uint8Array(8));
      // socket.io's parser throws, and engine.io closes the connection under it.
      assert.ok(['parse error', 'forced close'].includes(await closed));
      socket.disconnect();
    } finally {
      await stack.close();
    }
  });
});
