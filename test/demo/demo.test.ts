// `npm start`'s demo, started by the test on ports of its own: the page and the CDN bundle it
// loads, a broadcast with no destination reaching the embedded RTMP server (received by a real
// player and probed), the relay command's settings (RTMP_URL, ALLOWED_ORIGINS, …), the same through the 2018 ffmpeg that @ffmpeg-installer brings to a machine
// without one, and the process stopping cleanly on SIGINT.
import installer from '@ffmpeg-installer/ffmpeg';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import type { BroadcastStats } from '../../client/protocol.js';
import { chooseFfmpeg } from '../../demo/ffmpeg.js';
import { demoSettings, startDemo, type Demo } from '../../demo/server.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { probe } from '../helpers/probe.js';
import { childProcesses, waitForNoChildren } from '../helpers/processes.js';
import { SHUTDOWN_ENDED, ended, send, sendAll, start, stop, type ClientSocket } from '../helpers/stack.js';

const MIME = 'video/x-matroska;codecs=avc1,opus';
const ROOT = new URL('../../', import.meta.url);

let media: Buffer;
let dir: string;
before(async () => {
  media = await makeFixture('h264-opus');
  dir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-demo-test-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The demo on free ports, its log kept for assertions instead of printed. */
async function demoOnFreePorts(ffmpegPath?: string): Promise<{ demo: Demo; logs: string[] }> {
  const logs: string[] = [];
  const demo = await startDemo({ port: 0, rtmpPort: await freePort(), ffmpegPath, log: (line) => logs.push(line) });
  return { demo, logs };
}

async function connect(url: string): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/**
 * Plays `url` with ffmpeg as a viewer would, keeping the first 3 seconds in `file`. Resolves once
 * the RTMP server counts it as a player, with the promise of its exit.
 */
async function watch(demo: Demo, url: string, file: string): Promise<{ exited: Promise<string> }> {
  const playing = new Promise<void>((resolve) => demo.rtmp.on('play', (path) => path === new URL(url).pathname && resolve()));
  const player = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', url, '-c', 'copy', '-t', '3', '-f', 'flv', '-y', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  player.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => player.kill('SIGKILL'), 30_000);
  const exited = new Promise<string>((resolve, reject) =>
    player.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stderr);
      else reject(new Error(`the player exited ${code}: ${stderr}`));
    }),
  );
  await Promise.race([playing, exited]);
  return { exited };
}

/** Broadcasts the whole fixture with no destination and returns what the player received, probed. */
async function broadcastAndWatch(demo: Demo, name: string) {
  const file = join(dir, `${name}.flv`);
  const player = await watch(demo, `${demo.rtmp.origin}/live/demo`, file);
  const socket = await connect(demo.url);
  const stats: BroadcastStats[] = [];
  socket.on('stats', (report) => stats.push(report));
  try {
    const answer = await start(socket, { mimeType: MIME });
    assert.ok(answer.ok, JSON.stringify(answer));
    assert.equal(answer.video, 'copy');
    const live = demo.streams();
    const acks = await sendAll(socket, splitChunks(media, 64 * 1024));
    assert.ok(
      acks.every((ack) => ack.ok),
      JSON.stringify(acks.find((ack) => !ack.ok)),
    );
    const endedMessage = ended(socket);
    assert.deepEqual(await stop(socket), { ok: true });
    assert.deepEqual(await endedMessage, { reason: 'stopped' });
    await player.exited;
    return { live, stats, received: await probe(file, { countFrames: true }) };
  } finally {
    socket.disconnect();
  }
}

describe('the demo', () => {
  test('serves the page, which loads the CDN bundle and the element with its controls', async (t) => {
    const { demo, logs } = await demoOnFreePorts();
    t.after(() => demo.close());
    assert.match(demo.url, /^http:\/\/localhost:\d+$/);

    const page = await fetch(demo.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/rtmp-broadcaster\.min\.js"><\/script>/);
    assert.match(html, /<rtmp-broadcaster controls destination-form>/);

    const bundle = await fetch(`${demo.url}/rtmp-broadcaster.min.js`);
    assert.equal(bundle.status, 200, 'dist/rtmp-broadcaster.min.js comes from `npm run build` (npm test and npm start run it first)');
    assert.match(bundle.headers.get('content-type') ?? '', /^text\/javascript/);
    const bundleText = await bundle.text();
    assert.match(bundleText, /rtmp-broadcaster/);
    // The parts the bundle imports on demand (socket.io's client, the WebCodecs recorder, and the
    // WASM AAC encoder the latter imports) are served beside it.
    const parts = new Set<string>();
    const importsOf = (text: string) => [...text.matchAll(/\.\/(rtmp-broadcaster-[\w-]+\.min\.js)/g)].map((match) => match[1]!);
    const pending = importsOf(bundleText);
    for (let part = pending.pop(); part !== undefined; part = pending.pop()) {
      if (parts.has(part)) continue;
      parts.add(part);
      const response = await fetch(`${demo.url}/${part}`);
      assert.equal(response.status, 200, part);
      pending.push(...importsOf(await response.text()));
    }
    for (const name of ['socket-io', 'webcodecs', 'wasm-aac'])
      assert.ok(
        [...parts].some((part) => part.startsWith(`rtmp-broadcaster-${name}-`)),
        `the ${name} part: ${[...parts].join(', ')}`,
      );
    for (const path of ['/page.js', '/demo.css', '/vendor/mpegts.js']) {
      const response = await fetch(`${demo.url}${path}`);
      assert.equal(response.status, 200, path);
      await response.arrayBuffer();
    }
    assert.equal((await fetch(`${demo.url}/../package.json`)).status, 404);
    assert.deepEqual(await (await fetch(`${demo.url}/streams.json`)).json(), { server: `${demo.rtmp.origin}/live`, streams: [] });

    const banner = logs.join('\n');
    for (const expected of [
      demo.url,
      `${demo.rtmp.origin}/live`,
      demo.ffmpeg.path,
      `ffplay ${demo.rtmp.origin}/live/demo`,
      'for this demo only',
    ]) {
      assert.ok(banner.includes(expected), `the start-up log names ${expected}:\n${banner}`);
    }
  });

  test('a broadcast with no destination reaches the embedded RTMP server as H.264 + AAC', async (t) => {
    const { demo } = await demoOnFreePorts();
    t.after(() => demo.close());
    const { live, received } = await broadcastAndWatch(demo, 'system');

    assert.deepEqual(live, [{ name: 'demo', url: `${demo.rtmp.origin}/live/demo`, flv: '/live/demo.flv' }]);
    assert.deepEqual(demo.streams(), [], 'the stream leaves the list when the broadcast ends');
    assert.equal(received.format, 'flv');
    assert.equal(received.video.codec, 'h264');
    assert.equal(received.video.width, 1280);
    assert.ok((received.video.frames ?? 0) >= 80, `frames: ${received.video.frames}`);
    assert.equal(received.audio?.codec, 'aac');
    assert.equal(received.audio?.sampleRate, 44_100);

    await demo.close();
    await waitForNoChildren('ffmpeg');
  });

  test('the page plays the live stream as HTTP-FLV from its own origin', async (t) => {
    const { demo } = await demoOnFreePorts();
    t.after(() => demo.close());
    // The embedded server keeps a player waiting for its publisher, as the page's player does.
    const flv = await fetch(`${demo.url}/live/demo.flv`);
    assert.equal(flv.status, 200);
    assert.equal(flv.headers.get('content-type'), 'video/x-flv');
    const reader = flv.body!.getReader();
    const bytes: Uint8Array[] = [];
    const enough = (async () => {
      for (let total = 0; total < 100_000; ) {
        const { value, done } = await reader.read();
        if (done) break;
        bytes.push(value);
        total += value.byteLength;
      }
    })();

    const socket = await connect(demo.url);
    t.after(() => socket.disconnect());
    assert.ok((await start(socket, { mimeType: MIME })).ok);
    await sendAll(socket, splitChunks(media, 64 * 1024));
    await enough;
    await reader.cancel();
    assert.deepEqual(await stop(socket), { ok: true });

    const received = Buffer.concat(bytes);
    assert.equal(received.subarray(0, 3).toString(), 'FLV');
    assert.ok(received.byteLength >= 100_000, `${received.byteLength} bytes of FLV`);
  });

  test('the page may send its own rtmp:// URL, which the demo allows and does not list as its own', async (t) => {
    const { demo } = await demoOnFreePorts();
    t.after(() => demo.close());
    const published = new Promise<string>((resolve) => demo.rtmp.on('publish', resolve));
    const socket = await connect(demo.url);
    t.after(() => socket.disconnect());
    const answer = await start(socket, { mimeType: MIME, rtmpUrl: `${demo.rtmp.origin}/live/mine` });
    assert.ok(answer.ok, JSON.stringify(answer));
    assert.deepEqual(demo.streams(), []);
    await sendAll(socket, splitChunks(media, 64 * 1024));
    assert.equal(await published, '/live/mine');
    assert.deepEqual(await stop(socket), { ok: true });

    const refused = await start(socket, { mimeType: MIME, rtmpUrl: 'file:///tmp/out.flv' });
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.error.code, 'DESTINATION_NOT_ALLOWED');
  });

  test("takes the relay command's settings in the relay's forms, refused with the relay's words", () => {
    assert.deepEqual(demoSettings({}), {
      port: 8080,
      host: '127.0.0.1',
      destinations: undefined,
      allowedDestinations: undefined,
      allowedOrigins: undefined,
    });
    assert.deepEqual(demoSettings({ PORT: '9000', HOST: '0.0.0.0', ALLOWED_ORIGINS: 'http://localhost:8090, https://site.example' }), {
      port: 9000,
      host: '0.0.0.0',
      destinations: undefined,
      allowedDestinations: undefined,
      allowedOrigins: ['http://localhost:8090', 'https://site.example'],
    });
    assert.deepEqual(demoSettings({ RTMP_URL: 'rtmp://a.example/live/k1 rtmp://b.example/app/k2' }).destinations, [
      'rtmp://a.example/live/k1',
      'rtmp://b.example/app/k2',
    ]);
    assert.deepEqual(demoSettings({ ALLOWED_DESTINATIONS: 'rtmp://a.example/live' }).allowedDestinations, ['rtmp://a.example/live']);
    assert.equal(demoSettings({ ALLOWED_ORIGINS: '*' }).allowedOrigins, '*');
    assert.throws(() => demoSettings({ RTMP_URL: 'file:///etc/passwd' }), {
      name: 'CliUsageError',
      message: /^`RTMP_URL` is not a usable rtmp:\/\/ or rtmps:\/\/ URL/,
    });
    assert.throws(
      () => demoSettings({ RTMP_URL: 'rtmp://a.example/live/k', ALLOWED_DESTINATIONS: 'rtmp://a.example/live' }),
      /exclude each other/,
    );
    assert.throws(() => demoSettings({ ALLOWED_ORIGINS: 'localhost:8090' }), /Expected `ALLOWED_ORIGINS` to be origins/);
    assert.throws(() => demoSettings({ PORT: 'http' }), /Expected `PORT` to be a whole number/);
  });

  test('with RTMP_URL and ALLOWED_ORIGINS, a page on that origin broadcasts to RTMP_URL whatever URL it sends, and other origins are refused', async (t) => {
    const rtmpPort = await freePort();
    const settings = demoSettings({ RTMP_URL: `rtmp://127.0.0.1:${rtmpPort}/live/fixed`, ALLOWED_ORIGINS: 'http://localhost:8090' });
    const demo = await startDemo({ ...settings, port: 0, rtmpPort, log: () => {} });
    t.after(() => demo.close());
    const published = new Promise<string>((resolve) => demo.rtmp.on('publish', resolve));
    const open = (origin: string) =>
      new Promise<ClientSocket | string>((resolve) => {
        const socket: ClientSocket = io(demo.url, {
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          extraHeaders: { origin },
        });
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', (error: Error & { data?: { code?: string } }) => resolve(error.data?.code ?? error.message));
      });
    assert.equal(await open('http://localhost:9999'), 'ORIGIN_NOT_ALLOWED');
    const socket = await open('http://localhost:8090');
    assert.ok(typeof socket !== 'string', socket as string);
    t.after(() => socket.disconnect());
    // As with the relay: the server's destination wins over one the page sends.
    const answer = await start(socket, { mimeType: MIME, rtmpUrl: `${demo.rtmp.origin}/live/mine` });
    assert.ok(answer.ok, JSON.stringify(answer));
    await sendAll(socket, splitChunks(media, 64 * 1024));
    assert.equal(await published, '/live/fixed');
    assert.deepEqual(await stop(socket), { ok: true });
  });

  test('with no ffmpeg on PATH it takes the 2018 build of @ffmpeg-installer, and a broadcast still arrives', async (t) => {
    const chosen = await chooseFfmpeg(undefined, { PATH: dir });
    assert.deepEqual(chosen, { path: installer.path, version: chosen.version, source: '@ffmpeg-installer/ffmpeg' });
    assert.match(chosen.version ?? '', /^N-\d+-g/);

    const { demo, logs } = await demoOnFreePorts(chosen.path);
    t.after(() => demo.close());
    const { stats, received } = await broadcastAndWatch(demo, 'installer');

    assert.ok(
      logs.some((line) => line.includes('using ffmpeg') && line.includes('"statsPeriod":false')),
      logs.join('\n'),
    );
    assert.ok(stats.length > 0, 'progress still arrives without -stats_period');
    assert.equal(received.video.codec, 'h264');
    assert.equal(received.audio?.codec, 'aac');
    assert.ok((received.video.frames ?? 0) >= 80, `frames: ${received.video.frames}`);

    await demo.close();
    await waitForNoChildren('ffmpeg');
  });

  test('chooses FFMPEG_PATH first and the system ffmpeg over the bundled one', async () => {
    assert.equal((await chooseFfmpeg(undefined, { FFMPEG_PATH: '/opt/ffmpeg', PATH: '/usr/bin' })).source, 'FFMPEG_PATH');
    assert.deepEqual(await chooseFfmpeg('/nowhere/ffmpeg', {}), { path: '/nowhere/ffmpeg', version: undefined, source: 'ffmpegPath' });
    const system = await chooseFfmpeg(undefined, { PATH: `${dir}:/usr/bin` });
    assert.equal(system.path, '/usr/bin/ffmpeg');
    assert.equal(system.source, 'PATH');
  });

  test('the demo process (what `npm start` runs) stops on SIGINT with exit code 0, ending the live broadcast first', async () => {
    const child = spawn(fileURLToPath(new URL('node_modules/.bin/tsx', ROOT)), ['demo/server.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', RTMP_PORT: String(await freePort()) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const match = /Open\s+(http:\/\/\S+)/.exec(output);
          if (match) resolve(match[1]!);
        });
        void exited.then(() => reject(new Error(`the demo exited:\n${output}`)));
      });
      const socket = await connect(url);
      let ffmpegPids: number[];
      try {
        assert.ok((await start(socket, { mimeType: MIME })).ok);
        ffmpegPids = childProcesses('ffmpeg');
        assert.equal(ffmpegPids.length, 1, 'the broadcast runs one ffmpeg');
        const endedMessage = ended(socket);
        await send(socket, splitChunks(media, 64 * 1024)[0]);
        child.kill('SIGINT');
        assert.deepEqual(await endedMessage, SHUTDOWN_ENDED, 'the client is told the server shut down');
      } finally {
        socket.disconnect();
      }
      assert.deepEqual(await exited, [0, null], output);
      assert.match(output, /SIGINT: ending the broadcasts/);
      // Once the demo is gone its ffmpeg would no longer be our descendant: look it up by pid.
      for (const pid of ffmpegPids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `ffmpeg ${pid} still runs`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
