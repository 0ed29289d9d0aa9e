// The command's scaling options: --workers (cluster mode) and --redis-url, from flags and the
// environment. The scaled servers themselves run in cluster.e2e.test.ts and redis-scale.e2e.test.ts.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { CliUsageError, parseCommand, type CliConfig } from '../../../server/cli/config.js';
import { helpText } from '../../../server/cli/help.js';

const DESTINATION = { RTMP_URL: 'rtmp://a.rtmp.youtube.com/live2/key' };

function config(argv: string[], env: Record<string, string> = {}): CliConfig {
  const command = parseCommand(argv, { ...DESTINATION, ...env });
  assert.equal(command.command, 'serve');
  return command.config;
}

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCommand(argv, { ...DESTINATION, ...env });
  } catch (caught) {
    assert.ok(caught instanceof CliUsageError, String(caught));
    return caught.message;
  }
  assert.fail(`no error for ${argv.join(' ')} ${JSON.stringify(env)}`);
}

test('--workers sets cluster mode; auto means one worker per CPU core; absent means one process', () => {
  assert.equal(config(['--workers', '3']).workers, 3);
  assert.equal(config([], { WORKERS: 'auto' }).workers, availableParallelism());
  assert.equal('workers' in config([]), false);
  assert.equal(usageError(['--workers', '0']), 'Expected `--workers` to be a whole number from 1 to 1024, got `0`.');
  assert.equal(usageError([], { WORKERS: 'many' }), 'Expected `WORKERS` to be a whole number from 1 to 1024, got `many`.');
});

test('--redis-url takes redis:// and rediss:// URLs, and never echoes a wrong one (it may hold a password)', () => {
  assert.equal(config([], { REDIS_URL: 'redis://:s3cret@redis.internal:6379/0' }).redisUrl, 'redis://:s3cret@redis.internal:6379/0');
  assert.equal(config(['--redis-url', 'rediss://redis.internal']).redisUrl, 'rediss://redis.internal');
  const message = usageError([], { REDIS_URL: 'http://:s3cret@redis.internal' });
  assert.equal(message, 'Expected `REDIS_URL` to be a redis:// or rediss:// URL with a host.');
  assert.ok(!message.includes('s3cret'));
});

test('--help documents both', () => {
  assert.match(helpText(), /--workers <number\|auto>\s+WORKERS/);
  assert.match(helpText(), /--redis-url <url>\s+REDIS_URL/);
});
