// A real RTMP ingest for end-to-end tests: nginx with nginx-rtmp, recording
// every published stream to FLV and reporting publish/record events over
// nginx-rtmp's HTTP notify callbacks, so tests wait on events, not on time.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort } from './ports.js';
import { reapOnExit, removeOnExit } from './reaper.js';

const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** One nginx-rtmp notify callback as received. */
export interface NotifyEvent {
  /** 'publish' | 'publish_done' | 'record_done' */
  call: string;
  app: string;
  name: string;
  /** The FLV file, for 'record_done'. */
  path?: string;
  /** Date.now() on arrival. */
  at: number;
}

/** A running nginx-rtmp ingest plus the notify listener that observes it. */
export interface RtmpServer {
  port: number;
  /** rtmp://127.0.0.1:PORT/<app>/<stream> */
  url(stream: string, app?: string): string;
  /**
   * Resolves with the path of the finished FLV recording of `stream` once the publisher has
   * disconnected and nginx closed the file (on_record_done). If the last thing seen for
   * `stream` is a finished recording it resolves at once, so it works whether called before
   * or after the publish ended; use a fresh stream name per test. Matches the name in any app.
   * Rejects after timeoutMs (default 20000).
   */
  recording(stream: string, timeoutMs?: number): Promise<string>;
  /** Resolves when a publish of `stream` has started (on_publish), now or earlier. Rejects after timeoutMs (default 20000). */
  published(stream: string, timeoutMs?: number): Promise<void>;
  /** Stops nginx, keeping the port for start(): the destination going away mid-stream. Publishes cut this way get no record_done. */
  stop(): Promise<void>;
  /** Starts nginx again on the same port (no-op while running). */
  start(): Promise<void>;
  /** Stops nginx and the notify listener, rejects pending waits, removes the temp dir. */
  close(): Promise<void>;
  /** Every notify received, oldest first: for assertions on ordering and for diagnostics. */
  readonly events: readonly NotifyEvent[];
}

/** Options for startRtmpServer. */
export interface RtmpServerOptions {
  /** Application names to accept (each records into its own dir). Default ['live', 'app']. */
  apps?: string[];
}

interface Waiter {
  name: string;
  call: string;
  resolve(ev: NotifyEvent): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

// nginx-rtmp strips "?args" from the stream name before reporting it.
function streamName(stream: string): string {
  return stream.split('?')[0] ?? stream;
}

function nginxConfig(dir: string, port: number, notifyPort: number, apps: string[]): string {
  const notify = `http://127.0.0.1:${notifyPort}`;
  const applications = apps
    .map(
      (app) => `
    application ${app} {
      live on;
      record all;
      record_path ${join(dir, 'rec', app)};
      record_unique off;
    }`,
    )
    .join('\n');
  // master_process off: a single process running as us, so root can write the
  // recordings (a worker would drop to nobody) and one pid is all to kill.
  return `daemon off;
master_process off;
load_module ${RTMP_MODULE};
error_log ${join(dir, 'error.log')} info;
pid ${join(dir, 'nginx.pid')};
events { worker_connections 256; }
rtmp {
  server {
    listen 127.0.0.1:${port};
    on_publish ${notify}/publish;
    on_publish_done ${notify}/publish_done;
    on_record_done ${notify}/record_done;
${applications}
  }
}
`;
}

/** Starts nginx-rtmp on a free 127.0.0.1 port with a temp prefix dir, recording every stream. */
export async function startRtmpServer(opts: RtmpServerOptions = {}): Promise<RtmpServer> {
  const apps = opts.apps ?? ['live', 'app'];
  const dir = await mkdtemp(join(tmpdir(), 'rtmp-server-'));
  removeOnExit(dir);
  for (const app of apps) mkdirSync(join(dir, 'rec', app), { recursive: true });
  const confPath = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'error.log');

  const events: NotifyEvent[] = [];
  let waiters: Waiter[] = [];
  let nginx: ChildProcess | undefined;
  let lastExit = '';
  let port = 0;

  const notifyServer: HttpServer = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      // Any 2xx lets the publish proceed; nginx-rtmp treats 3xx as redirect, others as refusal.
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      const q = new URLSearchParams(body);
      const ev: NotifyEvent = { call: q.get('call') ?? '', app: q.get('app') ?? '', name: q.get('name') ?? '', at: Date.now() };
      const path = q.get('path');
      if (path !== null) ev.path = path;
      events.push(ev);
      const matched = waiters.filter((w) => w.call === ev.call && w.name === ev.name);
      waiters = waiters.filter((w) => !matched.includes(w));
      for (const w of matched) {
        clearTimeout(w.timer);
        w.resolve(ev);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    notifyServer.once('error', reject);
    notifyServer.listen(0, '127.0.0.1', resolve);
  });
  const notifyPort = (notifyServer.address() as AddressInfo).port;

  function errorLogTail(lines = 15): string {
    try {
      return readFileSync(errorLog, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no error log)';
    }
  }

  function wait(call: string, stream: string, timeoutMs: number): Promise<NotifyEvent> {
    const name = streamName(stream);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== waiter);
        const seen = events.filter((e) => e.name === name).map((e) => `${e.app}/${e.name}:${e.call}`);
        reject(
          new Error(
            `no ${call} for stream '${name}' within ${timeoutMs} ms on rtmp port ${port}` +
              ` (events for it: ${seen.join(', ') || 'none'}; nginx ${nginx ? 'running' : `stopped${lastExit}`})\n` +
              `nginx error.log tail:\n${errorLogTail()}`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = { name, call, resolve, reject, timer };
      waiters.push(waiter);
    });
  }

  // Spawns nginx on `port`; resolves once it accepts connections. Bind
  // failures surface as nginx exiting, reported with its stderr.
  async function launch(): Promise<void> {
    await writeFile(confPath, nginxConfig(dir, port, notifyPort, apps));
    const child = spawn(NGINX, ['-p', `${dir}/`, '-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    reapOnExit(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let exited: string | undefined;
    const exitedEarly = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        exited = `failed to spawn: ${err.message}`;
        if (nginx === child) nginx = undefined;
        resolve();
      });
      child.once('exit', (code, signal) => {
        exited = `exited (code ${code}, signal ${signal})`;
        resolve();
      });
    });
    child.once('exit', (code, signal) => {
      if (nginx === child) nginx = undefined;
      lastExit = ` (last exit: code ${code}, signal ${signal})`;
    });
    nginx = child;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    // nginx accepts as soon as it has bound; a bare connect is a harmless probe.
    while (!(await canConnect(port))) {
      if (exited) break;
      if (Date.now() > deadline) {
        await stopNginx();
        throw new Error(`nginx did not listen on ${port} within ${READY_TIMEOUT_MS} ms\n${errorLogTail()}`);
      }
      await Promise.race([exitedEarly, new Promise((r) => setTimeout(r, 20))]);
    }
    if (exited) {
      await exitedEarly;
      throw Object.assign(new Error(`nginx ${exited} before listening on ${port}: ${stderr.trim()}`), { stderr });
    }
  }

  async function stopNginx(): Promise<void> {
    const child = nginx;
    if (!child) return;
    const gone = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    // SIGTERM is nginx's fast shutdown: it drops live publishers, like an ingest going down.
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
    if (nginx === child) nginx = undefined;
  }

  async function close(): Promise<void> {
    await stopNginx();
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`RTMP server closed while waiting for ${w.call} of '${w.name}'`));
    }
    waiters = [];
    notifyServer.closeAllConnections();
    await new Promise<void>((resolve) => notifyServer.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }

  // A port freed by freePort() can be taken again before nginx binds it
  // (another test asked for :0 at the same moment): pick another and retry.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      const inUse = /Address already in use/.test((err as { stderr?: string }).stderr ?? '');
      if (!inUse || attempt >= 5) {
        await close();
        throw err;
      }
    }
  }

  return {
    get port() {
      return port;
    },
    url(stream: string, app = 'live'): string {
      if (!apps.includes(app)) throw new Error(`app '${app}' is not configured (apps: ${apps.join(', ')})`);
      return `rtmp://127.0.0.1:${port}/${app}/${stream}`;
    },
    async recording(stream: string, timeoutMs = 20_000): Promise<string> {
      const name = streamName(stream);
      const last = events.filter((e) => e.name === name && (e.call === 'publish' || e.call === 'record_done')).at(-1);
      if (last?.call === 'record_done' && last.path) return last.path;
      const ev = await wait('record_done', stream, timeoutMs);
      if (!ev.path) throw new Error(`record_done for '${name}' carried no path`);
      return ev.path;
    },
    async published(stream: string, timeoutMs = 20_000): Promise<void> {
      const name = streamName(stream);
      if (events.some((e) => e.call === 'publish' && e.name === name)) return;
      await wait('publish', stream, timeoutMs);
    },
    stop: stopNginx,
    async start(): Promise<void> {
      if (nginx) return;
      await launch();
    },
    close,
    events,
  };
}
