// Starts bench/server-process.ts (the real BroadcastServer in a Node process of its own) and talks
// to it over IPC: its pid and port when it listens, its memory and event-loop delay on request.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadSheddingOptions } from '../server/headroom.js';

/** How the server process is set up; passed to it as JSON in argv. */
export interface ServerConfig {
  /** The one destination prefix the allow-list admits: the bench's nginx. */
  allowedPrefix: string;
  /** The ffmpeg to run (the herd's static build); default: ffmpeg on PATH. */
  ffmpegPath?: string;
  /** Turn the server's load shedding on (`--shed`); the other modes measure raw capacity, so it is off there. */
  loadShedding?: boolean | LoadSheddingOptions;
  /**
   * Sample the server's event-loop delay (default true). The probe wakes the process every 10 ms:
   * 4-8 ms of CPU a second on an idle server, ~0.0004 CPU-s per media-second per broadcast at
   * N = 10 (a tenth of the server's Node). `--recorders`, which measures that CPU, turns it off.
   */
  monitorLoopDelay?: boolean;
}

/** When each step of one start happened in the server process (wall-clock ms, as the publishers' `now()`). */
export interface StartTimes {
  /** The `start` message reached the server's socket. */
  receivedAt?: number;
  /** execa called child_process.spawn, and spawn returned (the fork and the child's exec are synchronous). */
  spawnCalledAt?: number;
  spawnReturnedAt?: number;
  /** The first media bytes were written to ffmpeg's stdin. */
  firstWriteAt?: number;
}

/** What the server process measures about itself. */
export interface ServerSample {
  memory: NodeJS.MemoryUsage;
  sessions: number;
  /** Event-loop delay since the previous sample, in milliseconds. */
  loopDelayMs: { p50: number; p99: number; max: number };
  /** Each start since the previous sample, by stream name. */
  starts: Record<string, StartTimes>;
}

/** Parent → server. `gc` runs a full collection first (the process has --expose-gc). */
type ServerRequestBody = { type: 'sample'; gc: boolean } | { type: 'close' };
export type ServerRequest = ServerRequestBody & { id: number };

/** Server → parent. */
export type ServerMessage =
  | { type: 'ready'; pid: number; port: number }
  | { type: 'log'; level: 'warn' | 'error'; message: string; fields?: unknown }
  | { type: 'reply'; id: number; sample?: ServerSample };

export interface ServerProcess {
  pid: number;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** Warnings and errors the server logged, oldest first. */
  readonly logs: { level: string; message: string }[];
  sample(options?: { gc?: boolean }): Promise<ServerSample>;
  /** Closes the BroadcastServer (every ffmpeg flushed and gone) and waits for the process to exit. */
  close(): Promise<void>;
}

const SERVER_SCRIPT = fileURLToPath(new URL('./server-process.ts', import.meta.url));
const READY_TIMEOUT_MS = 20_000;

/** Forks the server process and resolves once it listens. */
export async function startServerProcess(config: ServerConfig): Promise<ServerProcess> {
  const child = fork(SERVER_SCRIPT, [JSON.stringify(config)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logs: { level: string; message: string }[] = [];
  const pending = new Map<number, (sample?: ServerSample) => void>();
  let nextId = 1;

  const ready = new Promise<{ pid: number; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server process did not start listening in time')), READY_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`the server process exited with code ${code} before listening`)));
    child.on('message', (raw) => {
      const message = raw as ServerMessage;
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      } else if (message.type === 'log') {
        logs.push({ level: message.level, message: `${message.message} ${JSON.stringify(message.fields ?? {})}` });
      } else if (message.type === 'reply') {
        pending.get(message.id)?.(message.sample);
        pending.delete(message.id);
      }
    });
  });
  let listening: { pid: number; port: number };
  try {
    listening = await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  const request = (message: ServerRequestBody): Promise<ServerSample | undefined> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ ...message, id } as ServerRequest, (error) => error && reject(error));
    });

  return {
    pid: listening.pid,
    origin: `http://127.0.0.1:${listening.port}`,
    logs,
    async sample({ gc = false } = {}) {
      const sample = await request({ type: 'sample', gc });
      if (!sample) throw new Error('the server process sent no sample');
      return sample;
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        await request({ type: 'close' });
        await exited;
      }
    },
  };
}
