// Cluster mode (`rtmp-broadcaster --workers 2`): two worker processes share one port, broadcasts go
// through both to nginx-rtmp, the primary holds one limit for all of them, frees the slots of a
// worker that dies and replaces it, and SIGTERM ends everything cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { io as connect } from 'socket.io-client';
import { childProcesses } from '../helpers/processes.js';
import { probe } from '../helpers/probe.js';
import { reapOnExit } from '../helpers/reaper.js';
import { useRtmpServer } from '../helpers/suite.js';
import { SHUTDOWN_ENDED, connectClient, ended, sendTwoSeconds, start, type ClientSocket } from '../helpers/stack.js';
import { H264_MIME } from '../helpers/constants.js';
import { eventually } from '../helpers/eventually.js';

const rtmp = useRtmpServer();

interface LogLine {
  msg: string;
  pid: number;
  url?: string;
  [field: string]: unknown;
}

/** Runs the real command; `line(msg)` resolves with the next log line with that message. */
function runCluster(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', ...args], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reapOnExit(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const seen: LogLine[] = [];
  const taken = new Set<LogLine>();
  const waiting: { msg: string; resolve(line: LogLine): void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    if (process.env.DEBUG_CLUSTER) console.error(text);
    const entry = JSON.parse(text) as LogLine;
    seen.push(entry);
    const waiter = waiting.find((candidate) => candidate.msg === entry.msg);
    if (!waiter) return;
    waiting.splice(waiting.indexOf(waiter), 1);
    taken.add(entry);
    waiter.resolve(entry);
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    seen,
    stderr: () => stderr,
    /** The next line with this message not returned yet (the workers' lines interleave). */
    line(msg: string): Promise<LogLine> {
      const found = seen.find((entry) => entry.msg === msg && !taken.has(entry));
      if (found) {
        taken.add(found);
        return Promise.resolve(found);
      }
      return Promise.race([
        new Promise<LogLine>((resolve) => waiting.push({ msg, resolve })),
        exited.then((gone) => assert.fail(`the command exited before logging "${msg}": ${JSON.stringify(gone)} ${stderr}`)),
      ]);
    },
  };
}

/** Connects one client and waits until it is connected: consecutive connections go to the workers in turn. */
const client = (url: string): Promise<ClientSocket> => connectClient(url);

/** Starts a broadcast of two seconds of media to `stream` and resolves once nginx-rtmp has it. The broadcast stays live (no stop). */
async function broadcast(socket: ClientSocket, stream: string): Promise<void> {
  await sendTwoSeconds(socket, rtmp.url(stream));
  await rtmp.published(stream);
}

/** A process's parent pid and state, from /proc; undefined once it is gone. */
function stat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(ppid), state: state ?? '' };
  } catch {
    return undefined;
  }
}

const parentOf = (pid: number) => stat(pid)?.ppid;

/** The parent process of each ffmpeg running under this test: which worker runs each broadcast. */
function ffmpegParents(): number[] {
  return childProcesses('ffmpeg').map((pid) => parentOf(pid)!);
}

/** Resolves once `pid` has exited. Polled: an orphaned process tells nobody here when it exits. */
async function gone(pid: number, timeoutMs = 10_000): Promise<void> {
  const exited = () => /^[ZX]/.test(stat(pid)?.state ?? 'X');
  await eventually(exited, timeoutMs, `process ${pid} exits`);
}

describe('cluster mode', () => {
  test('two workers on one port: broadcasts go through both, one limit holds for all, a dead worker frees its slot and is replaced, SIGTERM ends cleanly', async () => {
    const command = runCluster(['--workers', '2', '--port', '0', '--max-streams', '2', '--allow-destination', rtmp.url('')]);
    const sockets: ClientSocket[] = [];
    try {
      assert.equal((await command.line('cluster started')).workers, 2);
      const [first, second] = [await command.line('listening'), await command.line('listening')];
      assert.notEqual(first.pid, second.pid, 'two worker processes');
      assert.equal(first.url, second.url, 'on one port');
      assert.equal(first.shared, 'cluster');
      const url = first.url!;

      // Long-polling would spread one client's requests over the workers: only WebSocket is served.
      const polling = connect(url, { transports: ['polling'], reconnection: false, forceNew: true });
      const refusal = await new Promise<Error | undefined>((resolve) => {
        polling.once('connect', () => resolve(undefined));
        polling.once('connect_error', resolve);
      });
      polling.disconnect();
      assert.ok(refusal, 'a long-polling client is refused');

      const streams = [`cluster-a-${randomUUID()}`, `cluster-b-${randomUUID()}`];
      const one = await client(url);
      const two = await client(url);
      const three = await client(url);
      sockets.push(one, two, three);
      await broadcast(one, streams[0]!);
      await broadcast(two, streams[1]!);
      assert.deepEqual(ffmpegParents().sort(), [first.pid, second.pid].sort(), 'one broadcast in each worker');

      const refused = await start(three, { mimeType: H264_MIME, rtmpUrl: rtmp.url(`cluster-refused-${randomUUID()}`) });
      assert.equal(!refused.ok && refused.error.code, 'TOO_MANY_STREAMS', 'the limit counts both workers');

      // A worker dies: its broadcast's slot frees at once (the primary saw it go) and a new worker takes its place.
      const victim = first.pid;
      const victimFfmpeg = childProcesses('ffmpeg').filter((pid) => parentOf(pid) === victim);
      const dropped = Promise.race(
        [one, two].map((socket) => new Promise<ClientSocket>((resolve) => socket.once('disconnect', () => resolve(socket)))),
      );
      process.kill(victim, 'SIGKILL');
      const replacement = await command.line('listening');
      assert.ok(![first.pid, second.pid].includes(replacement.pid), 'a new worker');
      assert.equal(replacement.url, url);
      const freed = `cluster-c-${randomUUID()}`;
      const four = await client(url);
      sockets.push(four);
      await broadcast(four, freed);
      const survivor = (await dropped) === one ? two : one;
      // Its ffmpeg lost its input with it and finishes the recording on its own.
      await Promise.all(victimFfmpeg.map((pid) => gone(pid)));

      const endings = [survivor, four].map((socket) => ended(socket));
      command.child.kill('SIGTERM');
      const { code, signal } = await command.exited;
      assert.equal(signal, null);
      assert.equal(code, 0, command.stderr());
      for (const ending of await Promise.all(endings)) assert.deepEqual(ending, SHUTDOWN_ENDED);
      assert.deepEqual(childProcesses('ffmpeg'), []);
      assert.equal(command.seen.at(-1)?.msg, 'stopped');
      const recordings = await Promise.all([freed, ...streams].map((stream) => rtmp.recording(stream)));
      for (const recording of recordings) assert.equal((await probe(recording)).video.codec, 'h264');
    } finally {
      for (const socket of sockets) socket.disconnect();
      if (command.child.exitCode === null && command.child.signalCode === null) command.child.kill('SIGKILL');
      await command.exited;
    }
  });
});
