// `rtmp-broadcaster/cluster`: every core of one machine. The primary forks worker processes that
// each run a BroadcastServer on the same port (node:cluster hands each new connection to one of
// them), keeps the machine-wide broadcast limit and the list of live broadcasts, and relays
// socket.io's cluster adapter. @socket.io/cluster-adapter loads only when this is called.
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism, hostname } from 'node:os';
import { BroadcastError } from '../client/protocol.js';
import type { BroadcastServer } from './broadcast-server.js';
import type { ClusterSessionInfo, Scale } from './scale.js';

export type { ClusterSessionInfo } from './scale.js';

export interface ClusterPrimaryOptions {
  /** How many worker processes to fork. Default: one per CPU core (`os.availableParallelism()`). */
  workers?: number;
  /** Most broadcasts at once across every worker; the next start gets TOO_MANY_STREAMS. Default: no limit. */
  maxStreams?: number;
  /** Fork a new worker when one that was serving dies without being asked to (one that dies before it listens is not replaced). Default true. */
  restart?: boolean;
  /** Told about workers that die and are replaced. Default: console.warn. */
  onWorkerExit?(worker: { id: number; pid: number | undefined }, code: number | null, signal: string | null): void;
}

/** The primary's handle on its workers. */
export interface ClusterPrimary {
  /** The workers running now. */
  workers(): Worker[];
  /** Every live broadcast of every worker. */
  sessions(): ClusterSessionInfo[];
  /** Asks every worker to shut down (SIGTERM: each ends its broadcasts cleanly) and resolves once all have exited. */
  close(): Promise<void>;
  /** Resolves once no worker is left: after close(), or when every worker died before it could serve. */
  readonly done: Promise<void>;
}

/** What a worker gives its BroadcastServer (the same as Redis scaling): `sessions()` asks the primary. */
export type ClusterWorker = Scale;

const CHANNEL = 'rtmp-broadcaster:cluster';
const REQUEST_TIMEOUT_MS = 5_000;

type Request =
  | { kind: 'acquire'; sessionId: string }
  | { kind: 'release'; sessionId: string }
  | { kind: 'describe'; sessionId: string; info: ClusterSessionInfo }
  | { kind: 'sessions' };
type Envelope = { channel: typeof CHANNEL; id: number; request: Request };
type Reply = { channel: typeof CHANNEL; id: number; ok: boolean; count?: number; sessions?: ClusterSessionInfo[] };

const isOurs = (message: unknown): message is Envelope & Reply => (message as { channel?: unknown } | null)?.channel === CHANNEL;

/**
 * In the primary process: forks the workers, keeps the machine-wide limit and listing, relays
 * socket.io's cluster adapter, and replaces a worker that dies. The workers run your server code
 * (the same script: `if (cluster.isPrimary) … else …`) with {@link createClusterWorker}.
 */
export async function startClusterPrimary(options: ClusterPrimaryOptions = {}): Promise<ClusterPrimary> {
  if (!cluster.isPrimary) throw new Error('startClusterPrimary runs in the primary process; workers call createClusterWorker.');
  const count = options.workers ?? availableParallelism();
  if (!Number.isInteger(count) || count < 1)
    throw new TypeError(`Expected \`workers\` to be a whole number of at least 1, got \`${String(count)}\``);
  const maxStreams = options.maxStreams ?? Infinity;
  if (maxStreams !== Infinity && (!Number.isInteger(maxStreams) || maxStreams < 1)) {
    throw new TypeError(`Expected \`maxStreams\` to be a whole number of at least 1, got \`${String(maxStreams)}\``);
  }
  const onWorkerExit =
    options.onWorkerExit ??
    ((worker, code, signal) =>
      console.warn(`rtmp-broadcaster: worker ${worker.pid} exited (${signal ?? `code ${code}`}); starting another`));
  const { setupPrimary } = await import('@socket.io/cluster-adapter');
  setupPrimary();

  /** Slots by session id: the worker holding it and, once it is live, what the worker reported. */
  const slots = new Map<string, { worker: number; info?: ClusterSessionInfo }>();
  let closing = false;

  const answer = (worker: Worker, envelope: Envelope): void => {
    const { id, request } = envelope;
    const reply = (fields: Omit<Reply, 'channel' | 'id'>) => {
      if (worker.isConnected()) worker.send({ channel: CHANNEL, id, ...fields } satisfies Reply);
    };
    switch (request.kind) {
      case 'acquire':
        if (slots.size >= maxStreams) return reply({ ok: false, count: slots.size });
        slots.set(request.sessionId, { worker: worker.id });
        return reply({ ok: true, count: slots.size });
      case 'release':
        slots.delete(request.sessionId);
        return reply({ ok: true });
      case 'describe': {
        const slot = slots.get(request.sessionId);
        if (slot?.worker === worker.id) slot.info = request.info;
        return reply({ ok: true });
      }
      case 'sessions':
        return reply({ ok: true, sessions: listed() });
    }
  };
  const listed = () => [...slots.values()].flatMap((slot) => (slot.info ? [slot.info] : []));

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const serving = new Set<number>();
  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => serving.add(worker.id));
    worker.on('message', (message: unknown) => {
      if (isOurs(message) && message.request) answer(worker, message);
    });
  };
  cluster.on('exit', (worker, code, signal) => {
    // A dead worker's broadcasts died with it (their ffmpeg lost its input): free their slots now.
    for (const [sessionId, slot] of slots) if (slot.worker === worker.id) slots.delete(sessionId);
    const replace = !closing && !worker.exitedAfterDisconnect && options.restart !== false && serving.delete(worker.id);
    if (replace) {
      onWorkerExit({ id: worker.id, pid: worker.process.pid }, code, signal);
      fork();
    }
    if (Object.values(cluster.workers ?? {}).every((other) => !other || other.isDead())) resolveDone();
  });
  for (let i = 0; i < count; i++) fork();

  let closed: Promise<void> | undefined;
  return {
    workers: () => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined),
    sessions: listed,
    done,
    close() {
      closed ??= (async () => {
        closing = true;
        const running = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());
        await Promise.all(
          running.map(
            (worker) =>
              new Promise<void>((resolve) => {
                worker.once('exit', () => resolve());
                worker.process.kill('SIGTERM');
              }),
          ),
        );
      })();
      return closed;
    },
  };
}

/** In a worker process: the admission, adapter and listing that make it one of the primary's workers. */
export async function createClusterWorker(): Promise<ClusterWorker> {
  if (!cluster.isWorker || !process.send) throw new Error('createClusterWorker runs in a worker forked by startClusterPrimary.');
  const { createAdapter } = await import('@socket.io/cluster-adapter');
  const node = `${hostname()}:${process.pid}`;
  let nextId = 0;
  const pending = new Map<number, { resolve(reply: Reply): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  const onMessage = (message: unknown) => {
    if (!isOurs(message) || message.request) return;
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    clearTimeout(waiting.timer);
    waiting.resolve(message);
  };
  process.on('message', onMessage);

  const ask = (request: Request): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`The cluster primary did not answer ${request.kind} within ${REQUEST_TIMEOUT_MS} ms.`));
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
      process.send!({ channel: CHANNEL, id, request } satisfies Envelope, undefined, {}, (error: Error | null) => {
        if (!error) return;
        pending.delete(id);
        clearTimeout(timer);
        reject(error);
      });
    });

  let attached: BroadcastServer | undefined;
  return {
    node,
    admission: {
      async acquire({ sessionId }) {
        const reply = await ask({ kind: 'acquire', sessionId });
        if (!reply.ok)
          throw new BroadcastError('TOO_MANY_STREAMS', `The server already runs ${reply.count} broadcast(s), as many as it allows.`);
      },
      async release(sessionId) {
        await ask({ kind: 'release', sessionId });
      },
    },
    async attach(broadcaster) {
      if (attached) throw new Error('This cluster worker is attached to a server already.');
      attached = broadcaster;
      broadcaster.io.adapter(createAdapter());
      const describe = (sessionId: string) => {
        const info = broadcaster.session(sessionId);
        if (info) void ask({ kind: 'describe', sessionId, info: { ...info, node, updatedAt: Date.now() } }).catch(() => {});
      };
      broadcaster.on('session-start', (info) => describe(info.sessionId));
      // What the listing shows of bytes and stats is refreshed with every stats report (about once a second).
      broadcaster.on('stats', (sessionId) => describe(sessionId));
    },
    async sessions() {
      return (await ask({ kind: 'sessions' })).sessions ?? [];
    },
    async close() {
      process.off('message', onMessage);
    },
  };
}
