// The CLI fails closed: an empty token refuses to start rather than turning authentication off,
// and /metrics is not served to whoever reaches the broadcast port.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CliUsageError, parseCommand } from '../../../server/cli/config.js';
import { startCli } from '../../../server/cli/run.js';

const DESTINATION = { RTMP_URL: 'rtmp://127.0.0.1:1/live/key' };

function usageError(argv: string[], env: Record<string, string>): string {
  try {
    parseCommand(argv, env);
  } catch (caught) {
    assert.ok(caught instanceof CliUsageError, String(caught));
    return caught.message;
  }
  assert.fail(`no error for ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

describe('empty tokens', () => {
  test('an empty or blank BROADCAST_TOKEN or --token refuses to start', async () => {
    for (const [argv, env] of [
      [[], { ...DESTINATION, BROADCAST_TOKEN: '' }],
      [[], { ...DESTINATION, BROADCAST_TOKEN: '  ' }],
      [[], { ...DESTINATION, BROADCAST_TOKEN: '\t\n' }],
      [['--token', ''], DESTINATION],
      [['--token', ' '], DESTINATION],
      [['--token='], DESTINATION],
    ] as const) {
      assert.match(
        usageError([...argv], env),
        /is empty: set a secret, or unset it to run without authentication/,
        JSON.stringify({ argv, env }),
      );
    }
    await assert.rejects(
      startCli(['--port', '0'], { ...DESTINATION, BROADCAST_TOKEN: ' ' }, { stdout: { write: () => true } }),
      CliUsageError,
    );
  });

  test('a real token is kept, an unset one means no authentication', () => {
    const serve = (env: Record<string, string>) => {
      const command = parseCommand([], env);
      assert.equal(command.command, 'serve');
      return command.config;
    };
    assert.equal(serve({ ...DESTINATION, BROADCAST_TOKEN: 's3cret' }).token, 's3cret');
    assert.equal(serve(DESTINATION).token, undefined);
  });
});

describe('/metrics', () => {
  const get = async (url: string, token?: string) => {
    const response = await fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.text() };
  };

  test('is not served on the broadcast port without --metrics-token', async () => {
    const cli = await startCli(['--port', '0'], DESTINATION, { stdout: { write: () => true } });
    try {
      const metrics = await get(`${cli.url}/metrics`);
      assert.equal(metrics.status, 404);
      assert.doesNotMatch(metrics.body, /rtmp_broadcaster_/);
    } finally {
      await cli.close();
    }
  });

  test('with METRICS_TOKEN answers only a scraper that sends it as a bearer token', async () => {
    const cli = await startCli(['--port', '0'], { ...DESTINATION, METRICS_TOKEN: 'scrape-secret' }, { stdout: { write: () => true } });
    try {
      assert.equal((await get(`${cli.url}/metrics`)).status, 401);
      assert.equal((await get(`${cli.url}/metrics`, 'wrong')).status, 401);
      const metrics = await get(`${cli.url}/metrics`, 'scrape-secret');
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /^rtmp_broadcaster_broadcasts_live 0$/m);
    } finally {
      await cli.close();
    }
  });

  test('an empty METRICS_TOKEN refuses to start', () => {
    assert.match(usageError([], { ...DESTINATION, METRICS_TOKEN: ' ' }), /`METRICS_TOKEN` is empty/);
  });
});
