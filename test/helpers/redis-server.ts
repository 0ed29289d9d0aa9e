// A real Redis for the scaling tests: Debian's redis-server on a free loopback port, in a temp dir,
// persisting nothing, gone with the test process however it ends.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { reapOnExit, removeOnExit } from './reaper.js';

const REDIS_SERVER = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
const READY_TIMEOUT_MS = 10_000;
/** In the process title, so scripts/check-leaks.mjs tells a test's Redis from the machine's own. */
export const REDIS_TITLE_MARK = 'rtmp-broadcaster-test';

export interface RedisServer {
  /** redis://127.0.0.1:PORT, with the password if there is one */
  url: string;
  port: number;
  /** Stops Redis and removes its directory. */
  close(): Promise<void>;
}

/** Starts redis-server and resolves once it accepts connections; with `password`, clients must give it. */
export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-redis-'));
  removeOnExit(dir);
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  if (options.password) args.push('--requirepass', options.password);
  args.push('--proc-title-template', `{title} ${REDIS_TITLE_MARK} {listen-addr}`, '--loglevel', 'notice');
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  reapOnExit(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server not ready within ${READY_TIMEOUT_MS} ms: ${output}`)), READY_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${REDIS_SERVER} (apt-get install redis-server): ${error.message}`));
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited: ${output}`));
    });
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      output += text;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  });
  child.stdout.resume();
  return {
    url: `redis://${options.password ? `:${encodeURIComponent(options.password)}@` : ''}127.0.0.1:${port}`,
    port,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
