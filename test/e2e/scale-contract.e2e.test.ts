// One contract, two backends: Redis and node:cluster give a BroadcastServer the same `Scale`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { createRedisScale } from '../../server/redis.js';
import { reapOnExit } from '../helpers/reaper.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { checkScaleContract } from '../helpers/scale-contract.js';

describe('the Scale contract', () => {
  test('holds for Redis', async () => {
    const redis = await startRedisServer();
    try {
      const scale = await createRedisScale({ url: redis.url, prefix: `contract-${randomUUID()}`, maxStreams: 2 });
      try {
        await checkScaleContract(scale);
      } finally {
        await scale.close();
      }
    } finally {
      await redis.close();
    }
  });

  test('holds for node:cluster (checked in a worker of a real primary)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cluster-contract.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    reapOnExit(child);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, output);
  });
});
