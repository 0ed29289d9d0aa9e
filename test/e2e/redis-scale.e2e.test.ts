// Several server processes sharing one real Redis (rtmp-broadcaster/redis): a broadcast on each, the
// cluster-wide listing shows both, the cluster-wide limit holds across them, socket.io's Redis
// adapter sees every process's clients, and a killed process's slot frees once its TTL passed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { io as connect } from 'socket.io-client';
import { startCli } from '../../server/cli/run.js';
import { createRedisScale, type RedisScale } from '../../server/redis.js';
import { childProcesses } from '../helpers/processes.js';
import { probe } from '../helpers/probe.js';
import { reapOnExit } from '../helpers/reaper.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { useRtmpServer } from '../helpers/suite.js';
import { connectClient, ended, sendTwoSeconds, start, stop, type ClientSocket } from '../helpers/stack.js';
import { H264_MIME } from '../helpers/constants.js';
import { eventually } from '../helpers/eventually.js';

const rtmp = useRtmpServer();
let redis: RedisServer;
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await redis?.close();
});

interface Node {
  port: number;
  node: string;
  child: ChildProcess;
  /** The next JSON line the process prints. */
  next(): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: string | null; stderr: string }>;
}

/** Starts test/helpers/scale-node.ts as its own process and resolves once it listens. */
async function startNode(env: Record<string, string>): Promise<Node> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/scale-node.ts'], {
    env: { ...process.env, REDIS_URL: redis.url, ALLOWED_DESTINATION: rtmp.url(''), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  reapOnExit(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await Promise.race([lines.next(), exited.then((gone) => assert.fail(`the node exited: ${JSON.stringify(gone)}`))]);
    assert.ok(!line.done, 'the node closed its output');
    return JSON.parse(line.value) as Record<string, unknown>;
  };
  const ready = (await next()) as { port: number; node: string };
  return { ...ready, child, next, exited };
}

/** SIGTERM, then the exit; a node that does not exit cleanly fails the test. */
async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  node.child.kill('SIGTERM');
  const { code, stderr } = await node.exited;
  assert.equal(code, 0, stderr);
}

const client = (node: Node): Promise<ClientSocket> => connectClient(`http://127.0.0.1:${node.port}`);

/** Starts a broadcast of two seconds of media to `stream` and resolves once nginx-rtmp has it. The broadcast stays live (no stop). */
async function broadcast(socket: ClientSocket, stream: string): Promise<void> {
  await sendTwoSeconds(socket, rtmp.url(stream));
  await rtmp.published(stream);
}

/** Whether a process is still running (not gone, not a zombie). */
function running(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

describe('several processes sharing one Redis', () => {
  test('a broadcast on each: the cluster-wide listing shows both, the cluster-wide limit holds across them, the adapter sees every client, one shutting down leaves the other alone', async () => {
    const prefix = `test-${randomUUID()}`;
    const env = { REDIS_PREFIX: prefix, TTL_MS: '10000', MAX_STREAMS: '2' };
    const [a, b] = await Promise.all([startNode(env), startNode(env)]);
    const observer: RedisScale = await createRedisScale({ url: redis.url, prefix });
    const sockets: ClientSocket[] = [];
    try {
      assert.notEqual(a.node, b.node);
      const [onA, onB, third, fourth] = await Promise.all([client(a), client(b), client(a), client(b)]);
      sockets.push(onA, onB, third, fourth);

      a.child.stdin!.write('sockets\n');
      assert.deepEqual(await a.next(), { sockets: 4 }, "socket.io's Redis adapter: node A sees the clients of both nodes");

      const [streamA, streamB] = [`redis-a-${randomUUID()}`, `redis-b-${randomUUID()}`];
      await broadcast(onA, streamA);
      await broadcast(onB, streamB);

      const listed = await observer.sessions();
      assert.equal(listed.length, 2, JSON.stringify(listed));
      const byNode = new Map(listed.map((info) => [info.node, info]));
      assert.deepEqual([...byNode.keys()].sort(), [a.node, b.node].sort(), 'one broadcast on each node');
      assert.equal(byNode.get(a.node)!.destination, rtmp.url('***'), 'redacted');
      assert.equal(byNode.get(b.node)!.destination, rtmp.url('***'));
      for (const info of listed) {
        assert.equal(info.state, 'live');
        assert.equal(typeof info.pid, 'number');
        assert.ok(info.startedAt <= Date.now());
      }
      assert.ok(!JSON.stringify(listed).includes(streamA) && !JSON.stringify(listed).includes(streamB), 'no stream key in the listing');

      // Each node runs one broadcast and has no limit of its own: only the cluster's refuses.
      for (const socket of [third, fourth]) {
        const refused = await start(socket, { mimeType: H264_MIME, rtmpUrl: rtmp.url(`redis-refused-${randomUUID()}`) });
        assert.equal(!refused.ok && refused.error.code, 'TOO_MANY_STREAMS', JSON.stringify(refused));
      }

      // Ending A's broadcast frees its slot for a start on B.
      assert.deepEqual(await stop(onA), { ok: true });
      const recordingA = await probe(await rtmp.recording(streamA));
      assert.equal(recordingA.video.codec, 'h264');
      assert.equal(recordingA.audio?.codec, 'aac');
      assert.deepEqual(
        (await observer.sessions()).map((info) => info.node),
        [b.node],
      );
      const streamC = `redis-c-${randomUUID()}`;
      await broadcast(fourth, streamC);
      assert.equal((await observer.sessions()).length, 2);

      // One process shutting down leaves the other's clients alone (the adapter would carry a disconnect to them).
      third.disconnect();
      await stopNode(a);
      assert.deepEqual(await stop(onB), { ok: true });
      assert.deepEqual(await stop(fourth), { ok: true });
      for (const stream of [streamB, streamC]) assert.equal((await probe(await rtmp.recording(stream))).video.codec, 'h264');
      assert.deepEqual(await observer.sessions(), []);
    } finally {
      for (const socket of sockets) socket.disconnect();
      await Promise.all([stopNode(a), stopNode(b)]);
      await observer.close();
    }
    assert.deepEqual(childProcesses('ffmpeg'), []);
  });

  test('the command with --redis-url shares its limit and lists its broadcasts through Redis, and logs no Redis password', async () => {
    const logged: string[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    const guarded = await startRedisServer({ password: 'hunter2-redis' });
    const cli = await startCli(
      ['--port', '0', '--max-streams', '1', '--allow-destination', rtmp.url('')],
      { REDIS_URL: guarded.url },
      { stdout },
    );
    const observer = await createRedisScale({ url: guarded.url });
    const sockets: ClientSocket[] = [];
    try {
      const connectCli = async () => {
        const socket: ClientSocket = connect(cli.url, { transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(socket);
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
        return socket;
      };
      const [first, second] = [await connectCli(), await connectCli()];
      const stream = `redis-cli-${randomUUID()}`;
      await broadcast(first, stream);
      const listed = await observer.sessions();
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.destination, rtmp.url('***'));
      const refused = await start(second, { mimeType: H264_MIME, rtmpUrl: rtmp.url(`redis-cli-refused-${randomUUID()}`) });
      assert.equal(!refused.ok && refused.error.code, 'TOO_MANY_STREAMS');
      assert.deepEqual(await stop(first), { ok: true });
      assert.equal((await probe(await rtmp.recording(stream))).video.codec, 'h264');
      assert.deepEqual(await observer.sessions(), []);
    } finally {
      for (const socket of sockets) socket.disconnect();
      await cli.close();
      await observer.close();
      await guarded.close();
    }
    const everything = logged.join('');
    assert.match(everything, /"shared":"redis"/);
    assert.ok(!everything.includes('hunter2-redis'), 'no Redis password in the logs');
  });

  test("a killed process's slot stays taken until its TTL ran out, then frees; its ffmpeg ends with it", async () => {
    const prefix = `test-${randomUUID()}`;
    const ttlMs = 3_000;
    const env = { REDIS_PREFIX: prefix, TTL_MS: String(ttlMs), MAX_STREAMS: '2' };
    const [doomed, survivor] = await Promise.all([startNode(env), startNode(env)]);
    const observer = await createRedisScale({ url: redis.url, prefix });
    const sockets: ClientSocket[] = [];
    try {
      const [onDoomed, onSurvivor, later] = await Promise.all([client(doomed), client(survivor), client(survivor)]);
      sockets.push(onDoomed, onSurvivor, later);
      const lost = ended(onSurvivor);
      await broadcast(onDoomed, `redis-doomed-${randomUUID()}`);
      await broadcast(onSurvivor, `redis-survivor-${randomUUID()}`);
      const ffmpegs = childProcesses('ffmpeg');
      assert.equal(ffmpegs.length, 2);

      doomed.child.kill('SIGKILL');
      const killedAt = Date.now();
      await doomed.exited;
      const refused = await start(later, { mimeType: H264_MIME, rtmpUrl: rtmp.url(`redis-later-${randomUUID()}`) });
      // Without a heartbeat the dead process's slot lives at most one TTL; this start came well within it.
      assert.ok(Date.now() - killedAt < ttlMs / 2, 'the refused start came soon after the kill');
      assert.equal(!refused.ok && refused.error.code, 'TOO_MANY_STREAMS');

      await eventually(
        async () => (await observer.sessions()).every((info) => info.node !== doomed.node),
        ttlMs * 3,
        "the dead node's broadcast leaves the listing",
      );
      assert.ok(Date.now() - killedAt >= ttlMs / 3, 'not before its last heartbeat expired');
      const stream = `redis-freed-${randomUUID()}`;
      await broadcast(later, stream);
      assert.deepEqual(
        (await observer.sessions()).map((info) => info.node),
        [survivor.node, survivor.node],
      );

      // The killed process's ffmpeg lost its input and finished on its own.
      await eventually(() => ffmpegs.filter(running).length === 1, 10_000, "the dead node's ffmpeg exits");
      assert.deepEqual(await stop(later), { ok: true });
      assert.deepEqual(await stop(onSurvivor), { ok: true });
      assert.deepEqual(await lost, { reason: 'stopped' });
    } finally {
      for (const socket of sockets) socket.disconnect();
      await stopNode(survivor);
      await observer.close();
    }
  });
});
