// Prometheus metrics beside the core: fed by a real BroadcastServer's events while it broadcasts to
// nginx-rtmp, and never loaded by the core itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { createMetrics } from '../../server/metrics.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { useRtmpServer } from '../helpers/suite.js';
import { ended, sendAll, start, startStack, stop } from '../helpers/stack.js';
import { H264_MIME } from '../helpers/constants.js';

const run = promisify(execFile);

const rtmp = useRtmpServer();

/** The value of one sample line, e.g. `broadcasts_live` or `errors_total{code="X"}`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('createMetrics', () => {
  test('counts live broadcasts, bytes as they arrive, and ends by reason and code', async () => {
    const stack = await startStack({ allowedDestinations: [rtmp.url('')] });
    try {
      const { metrics, contentType } = await createMetrics(stack.broadcaster, { prefix: 'relay_' });
      assert.match(contentType, /^text\/plain; version=0\.0\.4/);
      const media = await makeFixture('h264-opus', { seconds: 1 });

      const live = await stack.client();
      assert.ok((await start(live, { mimeType: H264_MIME, rtmpUrl: rtmp.url('metrics-live') })).ok);
      await sendAll(live, splitChunks(media, 80_000));
      const during = await metrics();
      assert.equal(sample(during, 'relay_broadcasts_live'), 1);
      assert.equal(sample(during, 'relay_media_received_bytes_total'), media.byteLength, 'bytes of a live broadcast count before it ends');
      await stop(live);

      const broken = await stack.client();
      const brokenEnd = ended(broken);
      assert.ok((await start(broken, { mimeType: H264_MIME, rtmpUrl: rtmp.url('metrics-broken') })).ok);
      const garbage = await makeFixture('garbage');
      await sendAll(broken, splitChunks(garbage, 10_000)).catch(() => []);
      assert.equal((await brokenEnd).error?.code, 'INVALID_MEDIA');

      const refused = await stack.client();
      const answer = await start(refused, { mimeType: H264_MIME, rtmpUrl: 'rtmp://elsewhere.example/live/key' });
      assert.equal(!answer.ok && answer.error.code, 'DESTINATION_NOT_ALLOWED');

      const text = await metrics();
      assert.equal(sample(text, 'relay_broadcasts_live'), 0);
      assert.equal(sample(text, 'relay_broadcasts_ended_total{reason="stopped",code=""}'), 1);
      assert.equal(sample(text, 'relay_broadcasts_ended_total{reason="error",code="INVALID_MEDIA"}'), 1);
      assert.equal(sample(text, 'relay_errors_total{code="DESTINATION_NOT_ALLOWED"}'), 1);
      assert.equal(sample(text, 'relay_connections_total'), 3);
      assert.equal(sample(text, 'relay_broadcast_duration_seconds_count'), 2);
      // Counted once, not again at this scrape nor at the end; the garbage broadcast's bytes are counted up to where it failed.
      const bytes = sample(text, 'relay_media_received_bytes_total') ?? 0;
      assert.ok(bytes >= media.byteLength && bytes <= media.byteLength + garbage.byteLength, String(bytes));
      assert.equal(sample(await metrics(), 'relay_media_received_bytes_total'), bytes);
    } finally {
      await stack.close();
    }
  });

  test('registers into an application’s own registry', async () => {
    const stack = await startStack();
    try {
      const registry = new Registry();
      const created = await createMetrics(stack.broadcaster, { registry });
      assert.equal(created.registry, registry);
      assert.ok(registry.getSingleMetric('rtmp_broadcaster_broadcasts_live'));
    } finally {
      await stack.close();
    }
  });

  test('the core loads neither prom-client nor pino; metrics and the JSON logger load them when called', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((file) => /node_modules\\/(prom-client|pino)\\//.test(file)).length;
      await import('./server/index.ts');
      const { createMetrics } = await import('./server/metrics.ts');
      const { createJsonLogger } = await import('./server/json-logger.ts');
      const core = loaded();
      await createMetrics({ on() {}, sessions: () => [] });
      await createJsonLogger({ destination: { write() {} } });
      console.log(JSON.stringify({ core, used: loaded() }));
    `;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    const { core, used } = JSON.parse(stdout) as { core: number; used: number };
    assert.equal(core, 0);
    assert.ok(used > 0);
  });
});
