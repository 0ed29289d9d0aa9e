// The BroadcastServer under test, alone in its own Node process so that its CPU time and memory
// are measured apart from the publishers'. Forked by bench/server-control.ts, which it tells its
// pid and port over IPC; it ends when asked to, or when its parent goes away.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BroadcastServer } from '../server/index.js';
import type { ServerConfig, ServerMessage, ServerRequest } from './server-control.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
const tell = (message: ServerMessage) => process.send?.(message);
const forward = (level: 'warn' | 'error') => (message: string, fields?: unknown) => tell({ type: 'log', level, message, fields });

const http = createServer();
const broadcaster = new BroadcastServer(http, {
  allowedDestinations: [config.allowedPrefix],
  ...(config.ffmpegPath ? { ffmpegPath: config.ffmpegPath } : {}),
  ...(config.aacCoder ? { aacCoder: config.aacCoder } : {}),
  logger: { debug: () => {}, info: () => {}, warn: forward('warn'), error: forward('error') },
  logLevel: 'warn',
});
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

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
      },
    });
    loopDelay.reset();
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
