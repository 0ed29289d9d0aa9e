// Stream keys outside the `/app/key` layout: `rtmp://host/KEY`, `rtmp://host/app/sub/KEY` and a
// key in the query string are hidden in logs, events, sessions() and what clients are told.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRedactor, redactDestination, redactRtmpUrls } from '../../../server/destination.js';
import { makeFixture, splitChunks } from '../../helpers/fixtures.js';
import { ended, send, start, startStack } from '../../helpers/stack.js';

const CLOSED = 'rtmp://127.0.0.1:1';
const KEYS = ['bare7Key1234secret', 'nested9Key5678secret', 'query3Key9012secret'];

describe('keys outside /app/key', () => {
  test('redactDestination hides a lone path segment, nested keys and query keys', () => {
    assert.equal(redactDestination(`rtmp://h.example/${KEYS[0]}`), 'rtmp://h.example/***');
    assert.equal(redactDestination(`rtmp://h.example:1935/${KEYS[0]}`), 'rtmp://h.example:1935/***');
    assert.equal(redactDestination(`rtmp://h.example/app/sub/${KEYS[1]}`), 'rtmp://h.example/app/***');
    assert.equal(redactDestination(`rtmp://h.example/app/live?key=${KEYS[2]}`), 'rtmp://h.example/app/***?***');
    assert.equal(redactDestination(`rtmp://h.example/app?key=${KEYS[2]}`), 'rtmp://h.example/***?***', 'a lone segment may be the key too');
    assert.equal(redactRtmpUrls(`Error opening rtmp://h.example/${KEYS[0]}: refused`), 'Error opening rtmp://h.example/***: refused');
  });

  test('the redactor removes a lone segment key wherever ffmpeg prints it', () => {
    const redact = createRedactor(new URL(`rtmp://h.example/${KEYS[0]}`));
    const out = redact(`[rtmp @ 0x1] app=${KEYS[0]} playpath ${KEYS[0]} rtmp://h.example/${KEYS[0]}`);
    assert.ok(!out.includes(KEYS[0]), out);
  });

  test('a real broadcast to each layout leaks no key to logs, events, sessions() or the client', async () => {
    const stack = await startStack({ allowedDestinations: [`${CLOSED}/`], sendErrorDetails: true, sendFfmpegOutput: true });
    const seen: string[] = [];
    for (const event of ['session-start', 'session-end', 'error', 'ffmpeg-output', 'destination-lost', 'stats'] as const) {
      stack.broadcaster.on(event as 'error', (...args: unknown[]) =>
        seen.push(
          `${event} ${JSON.stringify(args, (_, value) => (value instanceof Error ? { ...value, message: value.message } : value))}`,
        ),
      );
    }
    try {
      const media = splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 64_000);
      for (const rtmpUrl of [`${CLOSED}/${KEYS[0]}`, `${CLOSED}/app/sub/${KEYS[1]}`, `${CLOSED}/app?key=${KEYS[2]}`]) {
        const socket = await stack.client();
        socket.on('ffmpeg-output', (line) => seen.push(`client ffmpeg-output ${line}`));
        socket.on('destination-lost', (message) => seen.push(`client destination-lost ${JSON.stringify(message)}`));
        const end = ended(socket);
        const answer = await start(socket, { mimeType: 'video/x-matroska;codecs=avc1,opus', rtmpUrl });
        seen.push(`start ack ${JSON.stringify(answer)}`, `sessions ${JSON.stringify(stack.broadcaster.sessions())}`);
        for (const chunk of media) seen.push(`ack ${JSON.stringify(await send(socket, chunk))}`);
        seen.push(`ended ${JSON.stringify(await end)}`);
        socket.disconnect();
      }
      const everything = [...seen, ...stack.logs].join('\n');
      assert.match(everything, /rtmp:\/\/127\.0\.0\.1:1\/\*\*\*/, 'the lone-key destination is named, redacted');
      for (const key of KEYS)
        assert.ok(
          !everything.includes(key),
          `${key} leaked:\n${everything
            .split('\n')
            .filter((line) => line.includes(key))
            .slice(0, 5)
            .join('\n')}`,
        );
    } finally {
      await stack.close();
    }
  });
});
