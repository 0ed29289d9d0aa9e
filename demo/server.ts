// `npm start`: the demo page, a BroadcastServer and an RTMP server to broadcast to, in one Node
// process with nothing else to set up. startDemo() doubles as the recipe for plain `http`: create
// the server, serve your page, attach a BroadcastServer, and choose destinations in its hooks.
import { createReadStream, realpathSync } from 'node:fs';
import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseCommand, type CliConfig } from '../server/cli/config.js';
import { BroadcastServer, type Logger } from '../server/index.js';
import { chooseFfmpeg, type ChosenFfmpeg } from './ffmpeg.js';
import { startRtmpServer, type EmbeddedRtmpServer } from './rtmp-server.js';

export interface DemoOptions {
  /** Port of the page and the BroadcastServer; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address the page listens on. Default 127.0.0.1: the demo relays to any RTMP URL, so it stays on this machine. */
  host?: string;
  /** Port of the embedded RTMP server, on 127.0.0.1. Default 1935. */
  rtmpPort?: number;
  /** ffmpeg binary. Default: FFMPEG_PATH, else `ffmpeg` on PATH, else the one @ffmpeg-installer/ffmpeg installed. */
  ffmpegPath?: string;
  /** Where every log line goes, the BroadcastServer's included. Default: console.log. */
  log?: (line: string) => void;
  /** Every broadcast goes to these (stream keys included), whatever URL the page sends. Default: none. */
  destinations?: string[];
  /** URL prefixes the page may broadcast to. Default: any rtmp:// or rtmps:// URL (for this demo only). */
  allowedDestinations?: string[];
  /** Pages on other origins that may connect, or '*'. Default: the demo's own page only. */
  allowedOrigins?: '*' | string[];
}

/** The relay command's settings that the demo takes too, as DemoOptions. */
export type DemoSettings = Pick<DemoOptions, 'port' | 'host' | 'destinations' | 'allowedDestinations' | 'allowedOrigins'>;

/**
 * Reads PORT, HOST, RTMP_URL, ALLOWED_DESTINATIONS and ALLOWED_ORIGINS with the relay command's own
 * parser (server/cli/config.ts), so they take the same forms and are refused with the same words.
 * The relay insists on RTMP_URL or ALLOWED_DESTINATIONS; the demo has its embedded RTMP server, so
 * when neither is set it hands the parser a prefix of that server's and keeps the demo's default.
 * Throws CliUsageError for a wrong setting.
 */
export function demoSettings(env: Readonly<Record<string, string | undefined>>): DemoSettings {
  const given = {
    PORT: env.PORT,
    HOST: env.HOST,
    RTMP_URL: env.RTMP_URL,
    ALLOWED_DESTINATIONS: env.ALLOWED_DESTINATIONS,
    ALLOWED_ORIGINS: env.ALLOWED_ORIGINS,
  };
  const embedded = !given.RTMP_URL?.trim() && !given.ALLOWED_DESTINATIONS?.trim();
  const parsed = parseCommand([], embedded ? { ...given, ALLOWED_DESTINATIONS: 'rtmp://127.0.0.1/live' } : given);
  // Without arguments the parser always answers `serve`.
  const { port, host, destinations, allowedDestinations, allowedOrigins } = (parsed as { config: CliConfig }).config;
  return { port, host, destinations, allowedOrigins, allowedDestinations: embedded ? undefined : allowedDestinations };
}

/** A stream that a broadcast from the page is publishing to the embedded RTMP server. */
export interface LocalStream {
  name: string;
  /** `rtmp://127.0.0.1:1935/live/demo`, for ffplay or VLC. */
  url: string;
  /** Path on the demo server that plays it as HTTP-FLV: `/live/demo.flv`. */
  flv: string;
}

export interface Demo {
  /** The page to open: `http://localhost:8080`. */
  url: string;
  broadcaster: BroadcastServer;
  rtmp: EmbeddedRtmpServer;
  ffmpeg: ChosenFfmpeg;
  /** What broadcasts from the page are publishing to the embedded RTMP server right now. */
  streams(): LocalStream[];
  /** Ends every broadcast (ffmpeg flushed and exited), then stops the RTMP and HTTP servers. */
  close(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JS = 'text/javascript; charset=utf-8';

/** Everything the page loads, by URL path: [file, content type]. */
const FILES: Record<string, [file: string, type: string]> = {
  '/': [join(ROOT, 'demo/index.html'), 'text/html; charset=utf-8'],
  '/demo.css': [join(ROOT, 'demo/demo.css'), 'text/css; charset=utf-8'],
  '/page.js': [join(ROOT, 'demo/page.js'), JS],
  // The CDN bundle, as a page would load it from unpkg: importing it registers <rtmp-broadcaster>.
  '/rtmp-broadcaster.min.js': [join(ROOT, 'dist/rtmp-broadcaster.min.js'), JS],
  '/rtmp-broadcaster.min.js.map': [join(ROOT, 'dist/rtmp-broadcaster.min.js.map'), 'application/json'],
  // The page's player for the embedded server's streams (HTTP-FLV), from a dev dependency.
  '/vendor/mpegts.js': [join(ROOT, 'node_modules/mpegts.js/dist/mpegts.js'), JS],
};

/** Starts the demo; resolves once the page and the RTMP server accept connections. */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const {
    port = 8080,
    host = '127.0.0.1',
    rtmpPort = 1935,
    log = console.log,
    destinations,
    allowedDestinations,
    allowedOrigins,
  } = options;
  const ffmpeg = await chooseFfmpeg(options.ffmpegPath);
  const rtmp = await startRtmpServer({ port: rtmpPort, log });
  rtmp.on('publish', (path) => log(`rtmp server: ${path} is on air; watch it with: ffplay ${rtmp.origin}${path}`));

  // The stream name each broadcast to the embedded server got, by session id.
  const names = new Map<string, string>();
  const streams = (): LocalStream[] =>
    [...names]
      .filter(([sessionId]) => broadcaster.session(sessionId) !== undefined)
      .map(([, name]) => ({ name, url: `${rtmp.origin}/live/${name}`, flv: `/live/${name}.flv` }));

  const http = createServer((request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://demo');
    if (request.method !== 'GET' && request.method !== 'HEAD') send(response, 405, 'Only GET here.');
    else if (pathname === '/streams.json') sendJson(response, { server: `${rtmp.origin}/live`, streams: streams() });
    else if (/^\/live\/[A-Za-z0-9_-]+\.flv$/.test(pathname)) proxyFlv(response, request, rtmp.flvPort);
    else if (FILES[pathname]) sendFile(response, ...FILES[pathname]);
    // The bundle's on-demand parts (the WebCodecs recorder), named by rollup with a content hash.
    else if (/^\/rtmp-broadcaster-[\w-]+\.min\.js$/.test(pathname)) sendFile(response, join(ROOT, 'dist', pathname.slice(1)), JS);
    else send(response, 404, 'Not found.');
  });

  const broadcaster = new BroadcastServer(http, {
    ffmpegPath: ffmpeg.path,
    // By default, for the demo only: the page may send any rtmp:// or rtmps:// URL, and this server
    // pushes to it. A real server sets the destination in its start hook, or allow-lists its
    // ingests (ALLOWED_DESTINATIONS); with RTMP_URL the page's own URL is overridden, as by the relay.
    allowedDestinations: destinations ? undefined : (allowedDestinations ?? (() => true)),
    allowedOrigins,
    hooks: {
      // RTMP_URL: every broadcast there. Else no URL from the page: the embedded RTMP server, under the first free name.
      start({ sessionId, request }) {
        if (destinations) return { rtmpUrl: destinations };
        if (request.rtmpUrl !== undefined) return;
        const taken = new Set(names.values());
        let name = 'demo';
        for (let n = 2; taken.has(name); n++) name = `demo-${n}`;
        names.set(sessionId, name);
        return { rtmpUrl: `${rtmp.origin}/live/${name}` };
      },
      stop({ sessionId }) {
        names.delete(sessionId);
      },
      // A start that failed after the start hook gets no stop hook.
      error({ sessionId }) {
        if (sessionId !== undefined && !broadcaster.session(sessionId)) names.delete(sessionId);
      },
    },
    logger: lineLogger(log),
  });

  try {
    await listen(http, port, host);
  } catch (error) {
    await rtmp.close();
    throw error;
  }
  const { port: bound } = http.address() as AddressInfo;
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  let closing: Promise<void> | undefined;
  const demo: Demo = {
    // Browsers treat localhost as a secure context, which getUserMedia needs.
    url: `http://${loopback || host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${bound}`,
    broadcaster,
    rtmp,
    ffmpeg,
    streams,
    close() {
      closing ??= (async () => {
        await broadcaster.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          // Players of the HTTP-FLV preview never end by themselves.
          http.closeAllConnections();
        });
        await rtmp.close();
      })();
      return closing;
    },
  };
  log(banner(demo, options));
  if (!loopback) log(`Warning: listening on ${host}, so anyone who reaches port ${bound} can push to any RTMP URL through this demo.`);
  return demo;
}

function banner({ url, rtmp, ffmpeg }: Demo, { destinations, allowedDestinations, allowedOrigins }: DemoSettings): string {
  const ffmpegLine =
    ffmpeg.version === undefined
      ? ffmpeg.source === 'none'
        ? 'none found: install ffmpeg (or run `npm install`, which brings @ffmpeg-installer/ffmpeg); broadcasts fail until then'
        : `${ffmpeg.path} (from ${ffmpeg.source}) does not run: broadcasts will fail until it does`
      : `${ffmpeg.path}, version ${ffmpeg.version}, ${
          ffmpeg.source === '@ffmpeg-installer/ffmpeg'
            ? 'the static build of @ffmpeg-installer/ffmpeg, as there is none on PATH'
            : `from ${ffmpeg.source}`
        }`;
  return [
    'rtmp-broadcaster demo',
    `  Open          ${url}`,
    `  RTMP server   ${rtmp.origin}/live (node-media-server, in this process)`,
    `  ffmpeg        ${ffmpegLine}`,
    `  Watch         ffplay ${rtmp.origin}/live/demo   (or VLC: Media > Open Network Stream; or Play on the page)`,
    ...(destinations
      ? [
          `  Destinations  every broadcast goes to the ${destinations.length === 1 ? 'URL' : `${destinations.length} URLs`} of RTMP_URL, whatever URL the page sends`,
        ]
      : allowedDestinations
        ? [`  Destinations  the page may send a URL starting with ${allowedDestinations.join(' or ')} (ALLOWED_DESTINATIONS)`]
        : [
            '  Destinations  the page may also send its own rtmp:// or rtmps:// URL. That is for this demo only:',
            '                a real server sets the destination in its start hook, or allow-lists its ingests.',
          ]),
    `  Pages         ${url}${allowedOrigins === '*' ? ' and pages on any origin' : allowedOrigins ? ` and pages on ${allowedOrigins.join(', ')}` : ' only (ALLOWED_ORIGINS lets others connect)'}`,
    'Stop with Ctrl+C.',
  ].join('\n');
}

/** The BroadcastServer's log, as lines in the demo's log. */
function lineLogger(log: (line: string) => void): Partial<Logger> {
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    log(`[rtmp-broadcaster] ${level}: ${message}${fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''}`);
  return { info: line('info'), warn: line('warn'), error: line('error') };
}

function listen(http: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`Port ${port} is in use: set PORT to another one.`) : error),
    );
    http.listen(port, host, resolve);
  });
}

/** Plays a stream of the embedded RTMP server from this origin, by relaying its HTTP-FLV. */
function proxyFlv(response: ServerResponse, request: IncomingMessage, flvPort: number): void {
  // No keep-alive agent: a pooled socket would keep node-media-server's HTTP server open at close.
  const upstream = get({ host: '127.0.0.1', port: flvPort, path: request.url, agent: false }, (flv) => {
    response.writeHead(flv.statusCode ?? 502, { 'content-type': 'video/x-flv', 'cache-control': 'no-store' });
    flv.pipe(response);
  });
  upstream.on('error', () => (response.headersSent ? response.destroy() : send(response, 502, 'The RTMP server is not answering.')));
  response.on('close', () => upstream.destroy());
}

function sendFile(response: ServerResponse, file: string, type: string): void {
  createReadStream(file)
    .on('error', () => {
      const name = relative(ROOT, file);
      const hint = name.startsWith('dist') ? ' Run `npm run build` (npm start does it first).' : '';
      send(response, 404, `${name} is missing.${hint}`);
    })
    .on('open', () => response.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' }))
    .pipe(response);
}

function sendJson(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function send(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
}

function portFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${name} must be a port number, got \`${text}\`.`);
  return port;
}

async function main(): Promise<void> {
  let demo: Demo;
  try {
    demo = await startDemo({ ...demoSettings(process.env), rtmpPort: portFromEnv('RTMP_PORT', 1935) });
  } catch (error) {
    console.error(`The demo could not start. ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // node-media-server's store saves on the first signal and raises it again: one stop is enough.
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: ending the broadcasts, then stopping.`);
    demo.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await main();
