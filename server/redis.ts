// `rtmp-broadcaster/redis`: several BroadcastServer processes (on one machine or many) sharing one
// Redis: a cluster-wide broadcast limit, a cluster-wide list of live broadcasts, and socket.io's
// Redis adapter. ioredis and @socket.io/redis-adapter load only when this is called.
import { hostname } from 'node:os';
import type { Redis, RedisOptions } from 'ioredis';
import { BroadcastError } from '../client/protocol.js';
import type { Admission, AdmissionRequest } from './admission.js';
import type { BroadcastServer } from './broadcast-server.js';
import type { ClusterSessionInfo, Scale } from './scale.js';

export interface RedisScaleOptions {
  /** The Redis server, e.g. `redis://:password@redis.internal:6379/0`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Most broadcasts at once across every process sharing this Redis and `prefix`; the next start gets TOO_MANY_STREAMS. Default: no limit. */
  maxStreams?: number;
  /** How long a process's broadcasts stay counted and listed without a heartbeat from it: a crashed process's slots free after this. Heartbeats go every third of it. Default 15 000 ms. */
  ttlMs?: number;
  /** First part of every Redis key and of the socket.io adapter's channels; processes sharing it form one cluster. Default `rtmp-broadcaster`. */
  prefix?: string;
  /** This process's name in `sessions()`. Default `hostname:pid`. */
  node?: string;
  /** A Redis command that takes longer than this fails (and a start waiting on it gets INTERNAL). Default 5 000 ms. */
  commandTimeoutMs?: number;
  /** Where failures outside a start go (heartbeats, releases, the connection). Default: console.warn. */
  onError?(error: Error): void;
}

/** A live broadcast somewhere in the cluster. */
export type { ClusterSessionInfo } from './scale.js';

/** What createRedisScale gives (the same as a cluster worker): its `sessions()` works without a server attached (a dashboard); `close()` stops the heartbeat, gives back the slots this process still holds and closes the Redis connections. */
export type RedisScale = Scale;

const DEFAULT_TTL_MS = 15_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

// Every script reads the clock of Redis (TIME), so the processes' own clocks never need to agree.
// KEYS[1] is the sorted set of slots (score: when the slot expires), KEYS[2] the hash of session infos.
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
const EXPIRE = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(expired) do redis.call('HDEL', KEYS[2], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)`;
const SCRIPTS = {
  // ARGV: session id, ttl ms, limit (-1: none). Returns 0 and the count when full, else 1.
  acquireSlot: `${NOW} ${EXPIRE}
local count = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[3])
if limit >= 0 and count >= limit then return {0, count} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return {1, count + 1}`,
  // ARGV: ttl ms, then session id and info JSON ('' to keep the stored one) pairs.
  refreshSlots: `${NOW}
for i = 2, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i])
  if ARGV[i + 1] ~= '' then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
return 0`,
  // ARGV: session id, info JSON. Only while the slot exists: a late report must not outlive its release.
  describeSlot: `if redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end return 0`,
  // ARGV: session ids.
  releaseSlots: `for _, id in ipairs(ARGV) do redis.call('ZREM', KEYS[1], id) redis.call('HDEL', KEYS[2], id) end return 0`,
  listSlots: `${NOW}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(ids))`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptClient = Redis & { [K in ScriptName]: (keys1: string, keys2: string, ...args: (string | number)[]) => Promise<unknown> };

/**
 * Connects to Redis and returns the pieces that make BroadcastServer processes one cluster:
 *
 * ```ts
 * const scale = await createRedisScale({ url: process.env.REDIS_URL, maxStreams: 50 });
 * const broadcaster = new BroadcastServer(http, { admission: scale.admission });
 * await scale.attach(broadcaster);
 * ```
 */
export async function createRedisScale(options: RedisScaleOptions = {}): Promise<RedisScale> {
  const ttlMs = positive(options.ttlMs, 'ttlMs') ?? DEFAULT_TTL_MS;
  const maxStreams = positive(options.maxStreams, 'maxStreams');
  if (maxStreams !== undefined && !Number.isInteger(maxStreams))
    throw new TypeError(`Expected \`maxStreams\` to be a whole number, got \`${maxStreams}\``);
  const commandTimeout = positive(options.commandTimeoutMs, 'commandTimeoutMs') ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const prefix = options.prefix ?? 'rtmp-broadcaster';
  const node = options.node ?? `${hostname()}:${process.pid}`;
  const onError = options.onError ?? ((error: Error) => console.warn(`rtmp-broadcaster/redis: ${error.message}`));
  const slotsKey = `${prefix}:slots`;
  const infoKey = `${prefix}:sessions`;

  const { Redis } = await importOptional<typeof import('ioredis')>('ioredis');
  const clientOptions: RedisOptions = { lazyConnect: true, commandTimeout, maxRetriesPerRequest: 2 };
  const client = new Redis(options.url ?? 'redis://127.0.0.1:6379', clientOptions) as ScriptClient;
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 2, lua });
  let lastError: Error | undefined;
  const remember = (error: Error) => (lastError = error);
  client.on('error', remember);
  try {
    await client.connect();
  } catch (caught) {
    // ioredis would otherwise keep trying in the background for a caller who got an error.
    client.disconnect();
    const { host, port } = client.options;
    throw new Error(`Cannot connect to Redis at ${host}:${port}: ${(lastError ?? (caught as Error)).message}`);
  }
  client.off('error', remember);
  client.on('error', onError);
  let subscriber: Redis | undefined;

  /** Slots this process holds: what the heartbeat keeps alive. */
  const held = new Map<string, AdmissionRequest>();
  let attached: BroadcastServer | undefined;
  const describe = (sessionId: string): string => {
    const info = attached?.session(sessionId);
    return info ? JSON.stringify({ ...info, node, updatedAt: Date.now() } satisfies ClusterSessionInfo) : '';
  };
  const report = (error: unknown) => onError(error instanceof Error ? error : new Error(String(error)));

  const heartbeat = setInterval(
    () => {
      if (held.size === 0) return;
      const pairs = [...held.keys()].flatMap((id) => [id, describe(id)]);
      client.refreshSlots(slotsKey, infoKey, ttlMs, ...pairs).catch(report);
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  heartbeat.unref();

  const admission: Admission = {
    async acquire(request) {
      const [admitted, count] = (await client.acquireSlot(slotsKey, infoKey, request.sessionId, ttlMs, maxStreams ?? -1)) as [
        number,
        number,
      ];
      if (!admitted) throw new BroadcastError('TOO_MANY_STREAMS', `The cluster already runs ${count} broadcast(s), as many as it allows.`);
      held.set(request.sessionId, request);
    },
    async release(sessionId) {
      held.delete(sessionId);
      await client.releaseSlots(slotsKey, infoKey, sessionId);
    },
  };

  return {
    node,
    admission,
    async attach(broadcaster) {
      if (attached) throw new Error('This RedisScale is attached to a server already: make one per BroadcastServer.');
      attached = broadcaster;
      const { createAdapter } = await importOptional<typeof import('@socket.io/redis-adapter')>('@socket.io/redis-adapter');
      subscriber = client.duplicate();
      subscriber.on('error', onError);
      broadcaster.io.adapter(createAdapter(client, subscriber, { key: `${prefix}:socket.io` }));
      broadcaster.on('session-start', (info) => {
        if (held.has(info.sessionId)) client.describeSlot(slotsKey, infoKey, info.sessionId, describe(info.sessionId)).catch(report);
      });
    },
    async sessions() {
      const found = (await client.listSlots(slotsKey, infoKey)) as (string | null)[];
      return found.filter((json): json is string => typeof json === 'string').map((json) => JSON.parse(json) as ClusterSessionInfo);
    },
    async close() {
      clearInterval(heartbeat);
      if (held.size > 0) await client.releaseSlots(slotsKey, infoKey, ...held.keys()).catch(report);
      held.clear();
      await Promise.all([client.quit().catch(() => client.disconnect()), subscriber?.quit().catch(() => subscriber?.disconnect())]);
    },
  };
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value))
    throw new TypeError(`Expected \`${name}\` to be a positive number, got \`${String(value)}\``);
  return value;
}

/** Imports an optional peer dependency, saying how to install it when it is missing. */
async function importOptional<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (caught) {
    if ((caught as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(`rtmp-broadcaster needs the package \`${name}\` for this: npm install ${name}`);
    }
    throw caught;
  }
}
