// `npm run bench -- --glass [--browser chromium|firefox] [--recorder webcodecs|mediarecorder[@timeslice]] [--seconds 15] [--hidden-source canvas]`:
// real Chromium and Firefox broadcast through the built client (dist/, so `npm run build` first) and
// the real BroadcastServer to nginx-rtmp on loopback, one process and one clock. For each browser
// and recorder: glass-to-ingest (the wall-clock time drawn into a canvas, read back from the frames
// a viewer plays from nginx), the browser's CPU for the capture (its processes' utime + stime, less
// the same page holding the same stream without broadcasting), and the frame rate nginx gets while
// the page is hidden (a second tab in front). How each figure is measured: bench/README.md, Glass.
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { BroadcastServer } from '../server/index.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium.js';
import { FIREFOX_PATH, FIREFOX_PREFS } from '../test/helpers/firefox.js';
import { startRtmpServer, type RtmpServer } from '../test/helpers/rtmp-server.js';
import { startGlassReader, type GlassFrame } from './glass-reader.js';
import { glassPage } from './glass-page.js';
import { readStat } from './proc.js';
import { argValues } from './tools.js';
import { percentile, round } from './stats.js';

type BrowserName = 'chromium' | 'firefox';
/** A recorder, and optionally the timeslice the page sets (`webcodecs@200`); without one, the client's default for it. */
type RecorderName = 'mediarecorder' | 'webcodecs' | `${'mediarecorder' | 'webcodecs'}@${number}`;

/** The client options a recorder spec stands for. */
function recorderOptions(spec: RecorderName): { recorder: string; timeslice?: number } {
  const [recorder, timeslice] = spec.split('@');
  return { recorder: recorder!, ...(timeslice ? { timeslice: Number(timeslice) } : {}) };
}

/** What one browser and recorder measured. */
export interface GlassResult {
  browser: BrowserName;
  recorder: RecorderName;
  /** What the client announced to the server. */
  mimeType?: string;
  glass: {
    /** Frames read with a code, after the first 3 s. */
    frames: number;
    /** Frames that arrived without a readable code (should be 0 after start-up). */
    unreadable: number;
    p50Ms: number;
    p95Ms: number;
    maxMs: number;
    /** The viewer's own decode and pipe, packet to picture (not in the figures above). */
    decodeP50Ms: number;
    decodeP95Ms: number;
    /** Frames per second arriving at the viewer. */
    fps: number;
  };
  cpu: {
    /** Browser CPU-s per wall second holding the stream and drawing, after the broadcast ended. */
    idle: number;
    /** Browser CPU-s per media-second while broadcasting. */
    broadcasting: number;
    /** broadcasting − idle: what the capture (encode, AAC, sending) costs. */
    capture: number;
  };
  background: {
    visibility: string;
    /** Frames per second at nginx with the page in front, then hidden (fake camera). */
    visibleFps: number;
    hiddenFps: number;
    /** The longest gap between frames arriving while hidden, ms. */
    hiddenMaxGapMs: number;
    /** With `--hidden-source canvas`: distinct pictures (drawn times) per second while hidden, and their glass → ingest p95. */
    hiddenDistinctFps?: number;
    hiddenGlassP95Ms?: number;
  };
  errors: string[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.map': 'application/json', '.wasm': 'application/wasm' };
const SKIP_MS = 3000;
const IDLE_SECONDS = 5;
const VISIBLE_SECONDS = 4;
const HIDDEN_SECONDS = 10;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const began = Date.now();
const log = (line: string) => console.log(`[${String(Math.round((Date.now() - began) / 1000)).padStart(4)} s] ${line}`);

/** utime + stime of `root` and every process under it (browsers run many), in seconds. */
function treeCpuSeconds(root: number): number {
  const stats = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => readStat(Number(entry)) ?? []);
  const tree = new Set([root]);
  // Parents may have larger pids than children: repeat until nothing is added.
  for (let size = 0; size !== tree.size; ) {
    size = tree.size;
    for (const stat of stats) if (tree.has(stat.ppid)) tree.add(stat.pid);
  }
  return stats.filter((stat) => tree.has(stat.pid)).reduce((sum, stat) => sum + stat.cpuSeconds, 0);
}

/** The page, the client's bundle and the BroadcastServer on one loopback port; the server allows only `rtmp`. */
async function startPageServer(rtmp: RtmpServer, mimeTypes: Map<string, string>): Promise<{ origin: string; close(): Promise<void> }> {
  const http: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/') return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(glassPage());
    const file = normalize(join(ROOT, path));
    if (!path.startsWith('/dist/') || !file.startsWith(join(ROOT, 'dist'))) return void response.writeHead(404).end();
    readFile(file).then(
      (body) => response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://localhost:${(http.address() as AddressInfo).port}`;
  const broadcaster = new BroadcastServer(http, {
    allowedDestinations: [rtmp.url('')],
    allowedOrigins: [origin],
    hooks: {
      start({ request }) {
        for (const url of [request.rtmpUrl ?? []].flat()) mimeTypes.set(url, request.mimeType);
      },
    },
  });
  return {
    origin,
    async close() {
      await broadcaster.close();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

async function launch(name: BrowserName): Promise<Browser> {
  if (name === 'chromium') return puppeteer.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
}

type GlassWindow = {
  glass: {
    open(source: 'canvas' | 'camera'): Promise<{ width: number; height: number }>;
    start(options: { rtmpUrl: string; recorder: string; timeslice?: number }): Promise<void>;
    stop(): Promise<string[]>;
    close(): void;
    visibility(): string;
  };
};

async function openPage(browser: Browser, origin: string, source: 'canvas' | 'camera'): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (error) => log(`page error: ${error instanceof Error ? error.message : String(error)}`));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (window as unknown as { glassReady?: boolean }).glassReady === true);
  await page.evaluate((kind) => (window as unknown as GlassWindow).glass.open(kind), source);
  return page;
}

/** Broadcasts from `page` to stream `key` with a viewer on it; `during` runs while it is live. */
async function broadcast(
  page: Page,
  rtmp: RtmpServer,
  key: string,
  recorder: RecorderName,
  during: () => Promise<void>,
): Promise<{ frames: GlassFrame[]; errors: string[]; liveAt: number; stoppedAt: number }> {
  const reader = startGlassReader(rtmp.url(key));
  try {
    // ffmpeg's RTMP play must be subscribed before the publish (nginx keeps it waiting): give it a moment.
    await wait(1000);
    await page.evaluate((options) => (window as unknown as GlassWindow).glass.start(options), {
      rtmpUrl: rtmp.url(key),
      ...recorderOptions(recorder),
    });
    await rtmp.published(key);
    const liveAt = Date.now();
    await during();
    const stoppedAt = Date.now();
    const errors = await page.evaluate(() => (window as unknown as GlassWindow).glass.stop());
    await rtmp.recording(key);
    return { frames: reader.frames, errors, liveAt, stoppedAt };
  } finally {
    await reader.close();
  }
}

async function measure(
  browser: Browser,
  name: BrowserName,
  recorder: RecorderName,
  origin: string,
  rtmp: RtmpServer,
  seconds: number,
  mimeTypes: Map<string, string>,
): Promise<GlassResult> {
  const pid = browser.process()?.pid;
  if (!pid) throw new Error('No browser process to measure');
  const key = `glass-${name}-${recorder.replace('@', '-')}-${Date.now()}`;
  const page = await openPage(browser, origin, 'canvas');
  await wait(2000);
  let cpu = 0;
  let at = 0;
  let used = 0;
  let mediaSeconds = 0;
  const glassRun = await broadcast(page, rtmp, key, recorder, async () => {
    cpu = treeCpuSeconds(pid);
    at = Date.now();
    await wait(seconds * 1000);
    used = treeCpuSeconds(pid) - cpu;
    mediaSeconds = (Date.now() - at) / 1000;
  });
  // Idle: the same page, canvas drawn and microphone open, once the broadcast ended.
  await wait(1000);
  cpu = treeCpuSeconds(pid);
  at = Date.now();
  await wait(IDLE_SECONDS * 1000);
  const idle = (treeCpuSeconds(pid) - cpu) / ((Date.now() - at) / 1000);
  await page.evaluate(() => (window as unknown as GlassWindow).glass.close());
  await page.close();
  const frames = glassRun.frames.filter((frame) => frame.arrivedAt >= glassRun.liveAt + SKIP_MS && frame.arrivedAt <= glassRun.stoppedAt);
  const read = frames.filter((frame) => frame.drawnAt !== undefined);
  const delays = read.map((frame) => frame.arrivedAt - frame.drawnAt!);
  const decodes = frames.flatMap((frame) => (frame.decodedAt === undefined ? [] : [frame.decodedAt - frame.arrivedAt]));
  const span = frames.length > 1 ? (frames.at(-1)!.arrivedAt - frames[0]!.arrivedAt) / 1000 : NaN;

  // Background: the fake camera (or the canvas, to see whether the pictures stay fresh), visible for a while, then a second tab in front.
  const camera = await openPage(browser, origin, argValues('hidden-source')[0] === 'canvas' ? 'canvas' : 'camera');
  const backgroundKey = `${key}-background`;
  let hiddenAt = 0;
  let shownAt = 0;
  let visibility = '';
  const backgroundRun = await broadcast(camera, rtmp, backgroundKey, recorder, async () => {
    await wait(VISIBLE_SECONDS * 1000);
    const other = await browser.newPage();
    await other.bringToFront();
    hiddenAt = Date.now();
    visibility = await camera.evaluate(() => (window as unknown as GlassWindow).glass.visibility());
    await wait(HIDDEN_SECONDS * 1000);
    visibility += ` → ${await camera.evaluate(() => (window as unknown as GlassWindow).glass.visibility())}`;
    shownAt = Date.now();
    await camera.bringToFront();
    await other.close();
    await wait(1000);
  });
  await camera.evaluate(() => (window as unknown as GlassWindow).glass.close());
  await camera.close();
  const arrivals = (from: number, to: number) =>
    backgroundRun.frames.map((frame) => frame.arrivedAt).filter((time) => time >= from && time < to);
  const visibleFrom = Math.max(backgroundRun.liveAt + 1000, hiddenAt - 3000);
  const hidden = arrivals(hiddenAt + 1000, shownAt);
  const gaps = hidden.slice(1).map((time, i) => time - hidden[i]!);
  const hiddenCoded = backgroundRun.frames.filter(
    (f) => f.drawnAt !== undefined && f.arrivedAt >= hiddenAt + 1000 && f.arrivedAt < shownAt,
  );
  return {
    browser: name,
    recorder,
    mimeType: mimeTypes.get(rtmp.url(key)),
    glass: {
      frames: read.length,
      unreadable: frames.length - read.length,
      p50Ms: percentile(delays, 50),
      p95Ms: percentile(delays, 95),
      maxMs: Math.max(...delays),
      decodeP50Ms: percentile(decodes, 50),
      decodeP95Ms: percentile(decodes, 95),
      fps: round((frames.length - 1) / span, 1),
    },
    cpu: {
      idle: round(idle, 3),
      broadcasting: round(used / mediaSeconds, 3),
      capture: round(used / mediaSeconds - idle, 3),
    },
    background: {
      visibility,
      visibleFps: round(arrivals(visibleFrom, hiddenAt).length / ((hiddenAt - visibleFrom) / 1000), 1),
      hiddenFps: round(hidden.length / ((shownAt - hiddenAt - 1000) / 1000), 1),
      hiddenMaxGapMs: gaps.length > 0 ? Math.max(...gaps) : NaN,
      ...(hiddenCoded.length > 0 && {
        hiddenDistinctFps: round(new Set(hiddenCoded.map((f) => f.drawnAt)).size / ((shownAt - hiddenAt - 1000) / 1000), 1),
        hiddenGlassP95Ms: percentile(
          hiddenCoded.map((f) => f.arrivedAt - f.drawnAt!),
          95,
        ),
      }),
    },
    errors: [...glassRun.errors, ...backgroundRun.errors],
  };
}

function table(results: GlassResult[]): string {
  const rows = results.map((r) =>
    [
      `${r.browser} ${r.recorder}`,
      r.mimeType ?? '?',
      `${r.glass.p50Ms}/${r.glass.p95Ms}/${r.glass.maxMs}`,
      `${r.glass.decodeP50Ms}/${r.glass.decodeP95Ms}`,
      `${r.glass.frames} (${r.glass.unreadable} unread), ${r.glass.fps} fps`,
      `${r.cpu.broadcasting} − ${r.cpu.idle} = ${r.cpu.capture}`,
      `${r.background.visibleFps} → ${r.background.hiddenFps} (gap ${r.background.hiddenMaxGapMs} ms; ${r.background.visibility})`,
      r.errors.join(' ') || '-',
    ].join(' | '),
  );
  const head =
    'browser recorder | announced | glass→ingest p50/p95/max ms | viewer decode p50/p95 ms | frames | CPU-s per media-s (broadcast − idle = capture) | fps visible → hidden | errors';
  return [head, ...rows].map((row) => `| ${row} |`).join('\n');
}

async function main(): Promise<void> {
  const browsers = (argValues('browser').length > 0 ? argValues('browser') : ['chromium', 'firefox']) as BrowserName[];
  const recorders = (argValues('recorder').length > 0 ? argValues('recorder') : ['mediarecorder', 'webcodecs']) as RecorderName[];
  const seconds = Number(argValues('seconds')[0] ?? 15);
  const rtmp = await startRtmpServer({ apps: ['live'] });
  const mimeTypes = new Map<string, string>();
  const pages = await startPageServer(rtmp, mimeTypes);
  const results: GlassResult[] = [];
  try {
    for (const name of browsers) {
      const browser = await launch(name);
      try {
        for (const recorder of recorders) {
          log(`${name} ${recorder}: ${seconds} s glass, ${IDLE_SECONDS} s idle, ${VISIBLE_SECONDS} + ${HIDDEN_SECONDS} s background`);
          const result = await measure(browser, name, recorder, pages.origin, rtmp, seconds, mimeTypes);
          log(JSON.stringify(result));
          results.push(result);
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    await pages.close();
    await rtmp.close();
  }
  console.log(table(results));
  await writeFile(
    fileURLToPath(new URL('./results-glass.json', import.meta.url)),
    `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`,
  );
}

await main();
