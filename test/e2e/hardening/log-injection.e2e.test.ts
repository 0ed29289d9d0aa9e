// Client-supplied text cannot forge a log line: control characters (newline, carriage return,
// NEL, the Unicode line separators, terminal escapes) are escaped in the default console logger
// and the JSON logger, and a mimeType holding them is refused before anything logs it. A flood of
// refused messages does not flood the log.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, mock, test } from 'node:test';
import { BroadcastServer } from '../../../server/index.js';
import { createJsonLogger } from '../../../server/json-logger.js';
import { createLogger } from '../../../server/logger.js';
import { connectClient, send, start, startStack } from '../../helpers/stack.js';

const FORGED = 'video/webm\n[rtmp-broadcaster] error: forged line\r\u0085\u2028\u2029\u001b[2J';
// biome-ignore lint/suspicious/noControlCharactersInRegex: what a forged line is made of
const BREAKS = /[\n\r\u0085\u2028\u2029\u001b]/;

describe('log injection', () => {
  test('the default console logger writes one line per call whatever the message and fields hold', () => {
    const written = mock.method(console, 'warn', () => {});
    try {
      createLogger(undefined, 'debug').warn(FORGED, { mimeType: FORGED, nested: { text: FORGED } });
    } finally {
      written.mock.restore();
    }
    assert.equal(written.mock.callCount(), 1);
    const line = String(written.mock.calls[0]?.arguments[0]);
    assert.doesNotMatch(line, BREAKS);
    assert.match(line, /video\/webm\\n\[rtmp-broadcaster\] error: forged line/, 'the text is still readable, escaped');
  });

  test('the JSON logger writes one line per call', async () => {
    const lines: string[] = [];
    const logger = await createJsonLogger({ destination: { write: (line: string) => lines.push(line) } });
    logger.warn(FORGED, { mimeType: FORGED });
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0]!.slice(0, -1), BREAKS);
    assert.equal((JSON.parse(lines[0]!) as { mimeType: string }).mimeType, FORGED, 'the value survives a parse');
  });

  test('a client repeating a refused message writes three warnings per code, the rest at debug; the error event hears each', async () => {
    const stack = await startStack();
    const heard: string[] = [];
    stack.broadcaster.on('error', (error) => heard.push(error.code));
    try {
      const socket = await stack.client();
      // Fifty chunks before any start: each is answered NOT_STARTED.
      const answers = await Promise.all(Array.from({ length: 50 }, () => send(socket, new Uint8Array(4))));
      assert.ok(answers.every((answer) => !answer.ok && answer.error.code === 'NOT_STARTED'));
      const lines = stack.logs.filter((line) => line.includes('"code":"NOT_STARTED"'));
      assert.equal(lines.filter((line) => line.startsWith('warn ')).length, 3);
      assert.equal(lines.filter((line) => line.startsWith('debug ')).length, 47);
      assert.equal(heard.filter((code) => code === 'NOT_STARTED').length, 50);
      socket.disconnect();
    } finally {
      await stack.close();
    }
  });

  test('a start with a newline in mimeType is refused as INVALID_REQUEST and logs no forged line', async () => {
    const written: string[] = [];
    const methods = (['debug', 'info', 'warn', 'error'] as const).map((name) =>
      mock.method(console, name, (...args: unknown[]) => written.push(args.map(String).join(' '))),
    );
    const http = createServer();
    const broadcaster = new BroadcastServer(http, { logLevel: 'debug' });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const socket = await connectClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`);
    try {
      const answer = await start(socket, { mimeType: FORGED });
      assert.equal(!answer.ok && answer.error.code, 'INVALID_REQUEST');
      assert.ok(written.length > 0, 'the refusal is logged');
      for (const line of written) assert.doesNotMatch(line, BREAKS, JSON.stringify(line));
    } finally {
      socket.disconnect();
      await broadcaster.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      for (const method of methods) method.mock.restore();
    }
  });
});
