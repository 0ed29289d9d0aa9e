// The recipes of docs/recipes.md and the api.video quick start of docs/api-video.md, run as written.
// Each block marked `<!-- recipe: NAME FILE -->` is copied from the docs' own text into a fresh
// folder beside the packed package (`npm pack` of the built tree, installed once with express and
// fastify from the npm cache), started with PORT set, and broadcast through to nginx-rtmp; SIGINT
// or SIGTERM then ends the broadcast cleanly. The CDN page runs in Chromium against the relay
// command. The same install checks that a CommonJS project loads the server entry points with
// require(). Run after `npm run build` (npm test does).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import puppeteer from 'puppeteer-core';
import { io as connect } from 'socket.io-client';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { freePort } from '../helpers/ports.js';
import { probe } from '../helpers/probe.js';
import { reapOnExit, removeOnExit } from '../helpers/reaper.js';
import { useRtmpServer } from '../helpers/suite.js';
import { SHUTDOWN_ENDED, ended, sendAll, start, type ClientSocket } from '../helpers/stack.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const MIME = 'video/x-matroska;codecs=avc1,opus';

/** Each block marked `<!-- recipe: NAME FILE -->` in a doc: the file it is saved as, and its text. */
function recipesOf(doc: string): Map<string, { file: string; code: string }> {
  const text = readFileSync(join(root, doc), 'utf8');
  return new Map(
    [...text.matchAll(/<!-- recipe: (\S+) (\S+) -->\n```\w*\n([\s\S]*?)```/g)].map(([, name, file, code]) => [
      name!,
      { file: file!, code: code! },
    ]),
  );
}
const recipes = new Map([...recipesOf('docs/recipes.md'), ...recipesOf('docs/api-video.md')]);
const recipe = (name: string) => {
  const found = recipes.get(name);
  assert.ok(found, `the docs mark a recipe named ${name}`);
  return found;
};

const rtmp = useRtmpServer();
let work: string;
let chunks: Buffer[];

before(
  async () => {
    work = mkdtempSync(join(tmpdir(), 'rtmp-broadcaster-recipes-'));
    removeOnExit(work);
    const { stdout } = await exec('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root });
    const [pack] = JSON.parse(stdout) as { filename: string }[];
    // What `npm init -y` makes: a CommonJS project.
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'go-live', version: '1.0.0', private: true, type: 'commonjs' }));
    // The versions this repository tests with, so that the npm cache has them (no network once it does).
    const pinned = (name: string) =>
      `${name}@${(JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version}`;
    await exec(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, pack!.filename), pinned('express'), pinned('fastify')],
      { cwd: work },
    );
    chunks = splitChunks(await makeFixture('h264-opus', { seconds: 2 }), 80_000);
  },
  { timeout: 300_000 },
);

/** A folder of `work` holding the recipe `name` (and the page, for the server recipes). */
function folderFor(name: string, withPage: boolean): { dir: string; file: string } {
  const dir = join(work, name);
  const { file, code } = recipe(name);
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), code);
  if (withPage) {
    const page = recipe('page');
    mkdirSync(dirname(join(dir, page.file)), { recursive: true });
    writeFileSync(join(dir, page.file), page.code);
  }
  return { dir, file };
}

interface Running {
  child: ChildProcess;
  output(): string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
}

/** Runs `command` in `dir` with only `env` beside PATH and HOME (no RTMP_URL or PORT of ours leaks in). */
function run(dir: string, command: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(command, args, {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.FFMPEG_PATH ? { FFMPEG_PATH: process.env.FFMPEG_PATH } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reapOnExit(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const look = () => {
        const match = pattern.exec(output);
        if (match) resolve(match);
        return match;
      };
      if (look()) return;
      child.stdout!.on('data', look);
      child.stderr!.on('data', look);
      void exited.then(() => look() ?? reject(new Error(`exited before printing ${pattern}:\n${output}`)));
    });
  return { child, output: () => output, exited, waitFor };
}

/** A WebSocket-only client with the Origin header a page on `origin` would send. */
async function client(url: string, origin?: string): Promise<ClientSocket> {
  const socket: ClientSocket = connect(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(origin ? { extraHeaders: { origin } } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Broadcasts the fixture through the server at `url` to `stream`, ends the server with `signal` while on air, and checks all of it arrived. */
async function broadcastThenSignal(
  server: Running,
  url: string,
  stream: string,
  signal: NodeJS.Signals,
  request: { rtmpUrl?: string } = {},
  origin?: string,
) {
  const socket = await client(url, origin);
  try {
    const answer = await start(socket, { mimeType: MIME, ...request });
    assert.ok(answer.ok, JSON.stringify(answer));
    const endedMessage = ended(socket);
    const acks = await sendAll(socket, chunks);
    assert.ok(
      acks.every((ack) => ack.ok),
      JSON.stringify(acks.find((ack) => !ack.ok)),
    );
    await rtmp.published(stream);
    server.child.kill(signal);
    // A server killed by the signal (a handler missing, or removed before close() ended) sends no `ended`.
    const died = server.exited.then(([code, killedBy]) => ({ diedBefore: 'ended', exit: killedBy ?? code, output: server.output() }));
    // Cleanly: ffmpeg flushed, and the client is told the server shut down.
    assert.deepEqual(await Promise.race([endedMessage, died]), SHUTDOWN_ENDED, `${signal} ends the broadcast cleanly`);
  } finally {
    socket.disconnect();
  }
  assert.deepEqual(await server.exited, [0, null], server.output());
  const received = await probe(await rtmp.recording(stream));
  assert.equal(received.video?.codec, 'h264');
  assert.equal(received.audio?.codec, 'aac');
  assert.ok(received.durationSec > 1.8, `the whole 2 s broadcast arrived, flushed: ${received.durationSec} s`);
}

/** An address of this machine other than loopback, if it has one. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

describe('server recipes, from docs/recipes.md', () => {
  for (const [name, signal] of [
    ['http', 'SIGINT'],
    ['express', 'SIGTERM'],
    ['fastify', 'SIGINT'],
  ] as const) {
    test(`${name}: without RTMP_URL it says what to set and exits at once`, async () => {
      const { dir, file } = folderFor(name, true);
      const server = run(dir, process.execPath, [file], { PORT: '0' });
      const [code] = await server.exited;
      assert.equal(code, 1, server.output());
      assert.match(server.output(), /No destination: set RTMP_URL/);
    });

    test(`${name}: serves the page on 127.0.0.1:PORT, broadcasts to RTMP_URL, and ${signal} ends the broadcast cleanly`, async () => {
      const { dir, file } = folderFor(name, true);
      const port = await freePort();
      const stream = `recipe-${name}`;
      const server = run(dir, process.execPath, [file], { PORT: String(port), RTMP_URL: rtmp.url(stream) });
      await server.waitFor(new RegExp(`Open http://localhost:${port}`));
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      assert.equal(await page.text(), recipe('page').code, 'the page is served as written');
      if (outside) await assert.rejects(fetch(`http://${outside}:${port}/`), `not reachable on ${outside}: loopback only`);
      await broadcastThenSignal(server, `http://127.0.0.1:${port}`, stream, signal);
    });
  }
});

test('api.video quick start, from docs/api-video.md: relays a broadcast from its page origin, and SIGINT ends it cleanly', async () => {
  const { dir, file } = folderFor('api-video', false);
  const stream = 'recipe-api-video';
  const pageOrigin = 'http://localhost:8090';
  const server = run(dir, process.execPath, [file], { PORT: String(await freePort()), PAGE_ORIGIN: pageOrigin, RTMP_PREFIX: rtmp.url('') });
  const [, port] = await server.waitFor(/listening on (\d+)/);
  await assert.rejects(client(`http://127.0.0.1:${port}`, 'https://elsewhere.example'), /not allowed/);
  await broadcastThenSignal(server, `http://127.0.0.1:${port}`, stream, 'SIGINT', { rtmpUrl: rtmp.url(stream) }, pageOrigin);
});

test('CDN, from docs/recipes.md: the page on another origin goes live in Chromium through the relay command, which ends it cleanly on SIGINT', async () => {
  const { dir, file } = folderFor('cdn', false);
  const stream = 'recipe-cdn';
  const relayPort = await freePort();
  // The one change: the relay's port, where the page names its server.
  const html = recipe('cdn').code.replace('http://localhost:8080', `http://localhost:${relayPort}`);
  assert.notEqual(html, recipe('cdn').code, 'the page names its server http://localhost:8080');
  const pages = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  const pageOrigin = `http://localhost:${(pages.address() as AddressInfo).port}`;
  assert.equal(readFileSync(join(dir, file), 'utf8'), recipe('cdn').code);

  const relay = run(dir, join(work, 'node_modules/.bin/rtmp-broadcaster'), [], {
    PORT: String(relayPort),
    RTMP_URL: rtmp.url(stream),
    ALLOWED_ORIGINS: pageOrigin,
  });
  await relay.waitFor(/listening/i);
  // What unpkg would serve: the bundle of the installed package, and the parts it loads on demand
  // (socket.io's client when the broadcast starts, the WebCodecs recorder, the WASM AAC encoder).
  const served: string[] = [];
  const browser = await puppeteer.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  try {
    const tab = await browser.newPage();
    await tab.setRequestInterception(true);
    tab.on('request', (request) => {
      const file = /^https:\/\/unpkg\.com\/rtmp-broadcaster@[\d.]+\/dist\/(rtmp-broadcaster[\w-]*\.min\.js)$/.exec(request.url())?.[1];
      if (file) {
        served.push(file);
        void request.respond({
          status: 200,
          contentType: 'text/javascript',
          headers: { 'access-control-allow-origin': '*' },
          body: readFileSync(join(work, 'node_modules/rtmp-broadcaster/dist', file)),
        });
      } else if (request.url().startsWith('https://')) void request.abort();
      else void request.continue();
    });
    await tab.goto(`${pageOrigin}/`);
    await tab.evaluate(async () => {
      await customElements.whenDefined('rtmp-broadcaster');
      await (document.querySelector('rtmp-broadcaster') as unknown as { start(): Promise<void> }).start();
    });
    await rtmp.published(stream);
    assert.ok(
      served.some((file) => file.startsWith('rtmp-broadcaster-socket-io-')),
      `socket.io's client came from the CDN beside the bundle: ${served.join(', ')}`,
    );
    // Two seconds on air, as a person would before leaving.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const ended = tab.evaluate(
      () =>
        new Promise((resolve) =>
          document
            .querySelector('rtmp-broadcaster')!
            .addEventListener('rtmp-ended', (event) => resolve((event as CustomEvent).detail), { once: true }),
        ),
    );
    relay.child.kill('SIGINT');
    // The page is told why: the server shut down, not a stop of the user's.
    assert.deepEqual(await ended, SHUTDOWN_ENDED);
  } finally {
    await browser.close();
    pages.close();
  }
  assert.deepEqual(await relay.exited, [0, null], relay.output());
  const received = await probe(await rtmp.recording(stream));
  assert.equal(received.video?.codec, 'h264');
  assert.equal(received.audio?.codec, 'aac');
});

test('a CommonJS project loads every server entry point with require(), without warnings', async () => {
  const entries = {
    server: ['BroadcastError', 'BroadcastServer', 'ERRORS'],
    metrics: ['createMetrics'],
    logger: ['createJsonLogger'],
    redis: ['createRedisScale'],
    cluster: ['createClusterWorker', 'startClusterPrimary'],
  };
  const script = `for (const entry of ${JSON.stringify(Object.keys(entries))}) console.log(entry, Object.keys(require('rtmp-broadcaster/' + entry)).sort().join(' '));\n`;
  writeFileSync(join(work, 'require-check.js'), script);
  const { stdout, stderr } = await exec(process.execPath, ['require-check.js'], { cwd: work, env: { PATH: process.env.PATH } });
  assert.equal(stderr, '', 'no ExperimentalWarning or other noise');
  assert.deepEqual(
    stdout.trim().split('\n'),
    Object.entries(entries).map(([entry, names]) => `${entry} ${names.join(' ')}`),
  );
});
