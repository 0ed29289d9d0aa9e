// "Coming from api.video browser-to-rtmp": their quick start, rewritten for us, is in
// docs/api-video.md exactly as in demo/quickstart/, and it runs: the server as its own process, the client in Chromium
// (test/browser/quickstart.test.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { io as connect } from 'socket.io-client';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { waitForNoChildren } from '../helpers/processes.js';
import { probe } from '../helpers/probe.js';
import { startRtmpServer, type RtmpServer } from '../helpers/rtmp-server.js';
import { sendAll, start, stop, type ClientSocket } from '../helpers/stack.js';

let rtmp: RtmpServer;
before(async () => {
  rtmp = await startRtmpServer();
});
after(async () => {
  await rtmp.close();
});

test('docs/api-video.md shows the quick start files as they are', () => {
  const doc = readFileSync(new URL('../../docs/api-video.md', import.meta.url), 'utf8');
  for (const file of ['server.mjs', 'client.mjs']) {
    const code = readFileSync(new URL(`../../demo/quickstart/${file}`, import.meta.url), 'utf8');
    assert.ok(doc.includes(`\`\`\`js\n${code}\`\`\``), `docs/api-video.md shows demo/quickstart/${file} verbatim`);
  }
});

test('the quick start server runs on its own and relays a broadcast from its page origin only', async () => {
  const pageOrigin = 'http://localhost:8080';
  const server = spawn(process.execPath, ['demo/quickstart/server.mjs'], {
    env: { ...process.env, PORT: '0', PAGE_ORIGIN: pageOrigin, RTMP_PREFIX: rtmp.url('') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      server.stdout.setEncoding('utf8');
      server.stdout.on('data', (text: string) => {
        const match = /listening on (\d+)/.exec(text);
        if (match) resolve(match[1]!);
      });
      server.once('exit', (code) => reject(new Error(`the quick start server exited with ${code}`)));
    });
    const open = (origin: string): Promise<ClientSocket | string> => {
      const socket: ClientSocket = connect(`http://127.0.0.1:${port}`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        extraHeaders: { origin },
      });
      return new Promise((resolve) => {
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', (error: Error & { data?: { code?: string } }) => resolve(error.data?.code ?? error.message));
      });
    };
    assert.equal(await open('https://elsewhere.example'), 'ORIGIN_NOT_ALLOWED');
    const socket = await open(pageOrigin);
    assert.ok(typeof socket !== 'string');
    const refused = await start(socket, { mimeType: 'video/x-matroska;codecs=avc1,opus', rtmpUrl: 'rtmp://elsewhere.example/live/x' });
    assert.equal(!refused.ok && refused.error.code, 'DESTINATION_NOT_ALLOWED');
    assert.ok((await start(socket, { mimeType: 'video/x-matroska;codecs=avc1,opus', rtmpUrl: rtmp.url('quickstart') })).ok);
    await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 2 }), 80_000));
    assert.deepEqual(await stop(socket), { ok: true });
    socket.disconnect();
    const received = await probe(await rtmp.recording('quickstart'));
    assert.equal(received.video?.codec, 'h264');
    assert.equal(received.audio?.codec, 'aac');
  } finally {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGINT');
    assert.equal(await exited, 0, 'the quick start server exits cleanly on SIGINT (Ctrl+C)');
    await waitForNoChildren('ffmpeg', 5_000);
  }
});
