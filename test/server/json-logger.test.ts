// JSON-lines logs for the BroadcastServer's `logger` option: one object per line, the level
// respected, and every rtmp(s):// URL's stream key hidden wherever it hides in a line.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createJsonLogger } from '../../server/json-logger.js';

async function capture(level?: 'debug' | 'info' | 'warn' | 'error' | 'silent') {
  const lines: string[] = [];
  const logger = await createJsonLogger({ ...(level ? { level } : {}), destination: { write: (line: string) => lines.push(line) } });
  return { logger, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), raw: lines };
}

describe('createJsonLogger', () => {
  test('writes one JSON object per line with level, ISO time, message and fields', async () => {
    const { logger, entries, raw } = await capture();
    logger.info('broadcast started', { sessionId: 'abc', bytesIn: 12 });
    assert.equal(raw.length, 1);
    assert.ok(raw[0]?.endsWith('\n'));
    const [entry] = entries();
    assert.equal(entry?.level, 'info');
    assert.equal(entry?.msg, 'broadcast started');
    assert.equal(entry?.sessionId, 'abc');
    assert.equal(entry?.bytesIn, 12);
    assert.equal(entry?.name, 'rtmp-broadcaster');
    assert.ok(!Number.isNaN(Date.parse(String(entry?.time))));
  });

  test('drops lines below its level, and everything when silent', async () => {
    const warn = await capture('warn');
    warn.logger.debug('d');
    warn.logger.info('i');
    warn.logger.warn('w');
    warn.logger.error('e');
    assert.deepEqual(
      warn.entries().map((entry) => entry.level),
      ['warn', 'error'],
    );
    const silent = await capture('silent');
    silent.logger.error('e');
    assert.deepEqual(silent.raw, []);
  });

  test('hides the stream key of any rtmp(s) URL in the message and in fields at any depth', async () => {
    const { logger, raw, entries } = await capture('debug');
    const url = 'rtmp://ingest.example:1935/live/SECRET_KEY_1?auth=SECRET_QUERY';
    const error = Object.assign(new Error(`cannot open ${url}`), { code: 'EIO' });
    logger.error(`failed: ${url}: Connection refused`, {
      line: `[tcp @ 0x1] Connection to ${url} failed`,
      nested: { list: ['rtmps://live.example/app/SECRET_KEY_2', 42, null], url: new URL('rtmp://a.example/app/SECRET_KEY_3') },
      error,
    });
    const text = raw.join('');
    for (const secret of ['SECRET_KEY_1', 'SECRET_QUERY', 'SECRET_KEY_2', 'SECRET_KEY_3']) assert.ok(!text.includes(secret), secret);
    // biome-ignore lint/suspicious/noExplicitAny: a parsed log line, read field by field
    const [entry] = entries() as [Record<string, any>];
    assert.equal(entry.msg, 'failed: rtmp://ingest.example:1935/live/***?***: Connection refused');
    assert.deepEqual(entry.nested, { list: ['rtmps://live.example/app/***', 42, null], url: 'rtmp://a.example/app/***' });
    assert.equal(entry.error.message, 'cannot open rtmp://ingest.example:1935/live/***?***');
    assert.equal(entry.error.type, 'Error');
    assert.equal(entry.error.code, 'EIO');
  });

  test('a self-referencing field does not hang the logger', async () => {
    const { logger, entries } = await capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    logger.info('cyclic', { loop });
    assert.deepEqual(entries()[0]?.loop, { name: 'loop', self: '[Circular]' });
  });

  test('appends to a file given by path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'json-logger-'));
    try {
      const file = join(dir, 'logs', 'server.log');
      const logger = await createJsonLogger({ destination: file });
      logger.info('one');
      logger.warn('two');
      const lines = (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      assert.deepEqual(lines, ['one', 'two']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
