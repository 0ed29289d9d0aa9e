// One server process of a Redis-scaled cluster, as an operator would write it, for the scaling
// tests to run several of: a BroadcastServer on its own port with rtmp-broadcaster/redis.
// Environment: REDIS_URL, REDIS_PREFIX, TTL_MS, MAX_STREAMS (cluster-wide), ALLOWED_DESTINATION.
// Prints one JSON line `{ port, node }` once it listens; answers the line `sockets` on stdin with
// `{ sockets }`, how many clients the whole cluster has (through socket.io's Redis adapter);
// ends every broadcast and exits 0 on SIGTERM.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { BroadcastServer } from '../../server/index.js';
import { createRedisScale } from '../../server/redis.js';

const env = process.env;
const scale = await createRedisScale({
  url: env.REDIS_URL!,
  prefix: env.REDIS_PREFIX!,
  ttlMs: Number(env.TTL_MS),
  ...(env.MAX_STREAMS ? { maxStreams: Number(env.MAX_STREAMS) } : {}),
  onError: (error) => process.stderr.write(`redis: ${error.message}\n`),
});
const http = createServer();
const broadcaster = new BroadcastServer(http, {
  allowedDestinations: [env.ALLOWED_DESTINATION!],
  admission: scale.admission,
  logger: false,
});
await scale.attach(broadcaster);
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);
say({ port: (http.address() as AddressInfo).port, node: scale.node });

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'sockets') void broadcaster.io.fetchSockets().then((sockets) => say({ sockets: sockets.length }));
});

process.once('SIGTERM', async () => {
  await broadcaster.close();
  await scale.close();
  http.close();
  process.exit(0);
});
