// DNS rebinding: a page on a name the attacker controls, re-pointed at the operator's loopback
// server, sends its own name as both Origin and Host. Same-origin must not follow from that.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { io as connect } from 'socket.io-client';
import { isAllowedOrigin } from '../../../server/origin.js';
import { startStack } from '../../helpers/stack.js';

/** Connects with these Origin and Host headers, as a browser would send them; 'connected' or the refusal's code. */
async function connectAs(server: string, headers: { origin: string; host: string }): Promise<string> {
  const socket = connect(server, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: headers });
  try {
    return await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (error: Error & { data?: { code?: string } }) => resolve(error.data?.code ?? error.message));
    });
  } finally {
    socket.disconnect();
  }
}

describe('DNS rebinding', () => {
  test('a page on a rebinding name is refused by a loopback server even though its Origin matches its Host', async () => {
    const stack = await startStack();
    try {
      const port = new URL(stack.origin).port;
      assert.equal(
        await connectAs(stack.origin, { origin: `http://rebind.example:${port}`, host: `rebind.example:${port}` }),
        'ORIGIN_NOT_ALLOWED',
      );
      assert.equal(
        await connectAs(stack.origin, { origin: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` }),
        'connected',
        'its own address',
      );
      assert.equal(
        await connectAs(stack.origin, { origin: `http://localhost:${port}`, host: `localhost:${port}` }),
        'connected',
        'localhost',
      );
    } finally {
      await stack.close();
    }
  });

  test('a named host the operator listed in allowedOrigins is admitted', async () => {
    const stack = await startStack({ allowedOrigins: ['https://broadcast.example'] });
    try {
      assert.equal(await connectAs(stack.origin, { origin: 'https://broadcast.example', host: 'broadcast.example' }), 'connected');
      assert.equal(await connectAs(stack.origin, { origin: 'https://rebind.example', host: 'rebind.example' }), 'ORIGIN_NOT_ALLOWED');
    } finally {
      await stack.close();
    }
  });

  test('same-origin counts for IP literals and localhost only, never for a DNS name', () => {
    const request = (origin: string, host: string) => ({ headers: { origin, host } });
    assert.equal(isAllowedOrigin(request('http://[::1]:8080', '[::1]:8080'), undefined), true);
    assert.equal(isAllowedOrigin(request('http://192.168.1.5:8080', '192.168.1.5:8080'), undefined), true);
    assert.equal(isAllowedOrigin(request('http://LOCALHOST:8080', 'localhost:8080'), undefined), true);
    assert.equal(isAllowedOrigin(request('https://broadcast.example', 'broadcast.example'), undefined), false);
    assert.equal(isAllowedOrigin(request('http://a.localhost.rebind.example', 'a.localhost.rebind.example'), undefined), false);
    assert.equal(isAllowedOrigin(request('http://127.0.0.1.nip.io:8080', '127.0.0.1.nip.io:8080'), undefined), false);
    assert.equal(isAllowedOrigin(request('http://127.0.0.1:8080', '127.0.0.1:9090'), undefined), false, 'another port is another origin');
  });
});
