// The BroadcastServer under test, alone in its own Node process so that its CPU time and memory
// are measured apart from the publishers'. Forked by bench/server-control.ts, which it tells its
// pid and port over IPC; it ends when asked to, or when its parent goes away.
import childProcess from 'node:child_process';
import { createServer } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { ServerConfig, ServerMessage, ServerRequest, StartTimes } from './server-control.js';

const wallClock = () => performance.timeOrigin + performance.now();
/** Per stream name (the last path segment of the bench's RTMP URLs): when each step of its start happened here. */
const starts = new Map<string, StartTimes>();
const streamOf = (url: unknown) => (typeof url === 'string' ? url.slice(url.lastIndexOf('/') + 1) : undefined);
const startOf = (stream: string) => starts.get(stream) ?? starts.set(stream, {}).get(stream)!;

// Times every ffmpeg spawn (the synchronous part: libuv forks this process and waits for the
// child's exec) and its first stdin write, without touching server code: execa imports `spawn`
// from node:child_process, whose ESM binding follows the CommonJS export once synced.
const spawn = childProcess.spawn;
childProcess.spawn = function timedSpawn(this: unknown, ...args: Parameters<typeof spawn>) {
  const calledAt = wallClock();
  const child = spawn.apply(this, args);
  const returnedAt = wallClock();
  const argv = Array.isArray(args[1]) ? (args[1] as string[]) : [];
  const stream = streamOf(argv.at(-1));
  if (stream && argv.at(-1)!.startsWith('rtmp://')) {
    Object.assign(startOf(stream), { spawnCalledAt: calledAt, spawnReturnedAt: returnedAt });
    const stdin = child.stdin as Writable | null;
    const write = stdin?.write;
    if (stdin && write) {
      stdin.write = function firstWrite(this: Writable, ...writeArgs: unknown[]) {
        startOf(stream).firstWriteAt ??= wallClock();
        stdin.write = write;
        return (write as (...a: unknown[]) => boolean).apply(this, writeArgs);
      } as Writable['write'];
    }
  }
  return child;
} as typeof spawn;
syncBuiltinESMExports();
const { BroadcastServer } = await import('../server/index.js');

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
const tell = (message: ServerMessage) => process.send?.(message);
const forward = (level: 'warn' | 'error') => (message: string, fields?: unknown) => tell({ type: 'log', level, message, fields });

const http = createServer();
const broadcaster = new BroadcastServer(http, {
  allowedDestinations: [config.allowedPrefix],
  ...(config.ffmpegPath ? { ffmpegPath: config.ffmpegPath } : {}),
  ...(config.loadShedding ? (config.loadShedding === true ? {} : { loadShedding: config.loadShedding }) : { loadShedding: false as const }),
  logger: {
    debug: () => {},
    // Only load shedding's "headroom is back" is wanted from the info lines (`--shed`).
    info: (message, fields) => (message.startsWith('load shedding') ? forward('warn')(message, fields) : undefined),
    warn: forward('warn'),
    error: forward('error'),
  },
  logLevel: config.loadShedding ? 'info' : 'warn',
});
broadcaster.io.on('connection', (socket) => {
  socket.use(([event, request], next) => {
    const stream = event === 'start' ? streamOf((request as { rtmpUrl?: unknown } | undefined)?.rtmpUrl) : undefined;
    if (stream) startOf(stream).receivedAt = wallClock();
    next();
  });
});
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
if (config.monitorLoopDelay !== false) loopDelay.enable();

const gc = (globalThis as { gc?: () => void }).gc;
const ms = (nanoseconds: number) => Math.round(nanoseconds / 1e5) / 10;

let closing: Promise<void> | undefined;
function close(): Promise<void> {
  closing ??= broadcaster.close().then(() => new Promise<void>((resolve) => http.close(() => resolve())));
  return closing;
}

process.on('message', (raw) => {
  const request = raw as ServerRequest;
  if (request.type === 'sample') {
    if (request.gc) gc?.();
    tell({
      type: 'reply',
      id: request.id,
      sample: {
        memory: process.memoryUsage(),
        sessions: broadcaster.sessions().length,
        loopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
        starts: Object.fromEntries(starts),
      },
    });
    loopDelay.reset();
    starts.clear();
  } else if (request.type === 'close') {
    void close().then(() => {
      tell({ type: 'reply', id: request.id });
      process.disconnect();
    });
  }
});
// The bench died: end every ffmpeg gracefully rather than leave them to notice their closed stdin.
process.on('disconnect', () => void close().then(() => process.exit(0)));

http.listen(0, '127.0.0.1', () => {
  tell({ type: 'ready', pid: process.pid, port: (http.address() as AddressInfo).port });
});
