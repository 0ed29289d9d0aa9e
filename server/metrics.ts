// `rtmp-broadcaster/metrics`: Prometheus metrics for a BroadcastServer. It sits beside the core and
// reads only the server's public events and sessions(); prom-client loads when this is called.
import type { Registry } from 'prom-client';
import type { BroadcastServer } from './broadcast-server.js';

/** How createMetrics names and registers its metrics. */
export interface MetricsOptions {
  /** Put in front of every metric name. Default 'rtmp_broadcaster_'. */
  prefix?: string;
  /** Register into this prom-client registry (your app's own) instead of a new one. */
  registry?: Registry;
  /** Also collect prom-client's default Node process metrics (CPU, memory, event loop), unprefixed. Default false. */
  defaultMetrics?: boolean;
}

/** A scrape endpoint's worth of metrics: serve `await metrics()` with `contentType`. */
export interface BroadcastMetrics {
  registry: Registry;
  /** The Content-Type header of the exposition format. */
  contentType: string;
  /** Every metric of the registry in Prometheus text format. */
  metrics(): Promise<string>;
}

// Broadcasts last seconds to hours.
const DURATION_BUCKETS = [1, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 28_800];

/**
 * Counts what `broadcaster` does: live broadcasts, media bytes received, broadcasts ended by
 * reason and error code, their durations, connections, errors clients were told about, and the
 * ffmpeg restarts that reconnect a destination that dropped a broadcast.
 */
export async function createMetrics(broadcaster: BroadcastServer, options: MetricsOptions = {}): Promise<BroadcastMetrics> {
  const { prefix = 'rtmp_broadcaster_', defaultMetrics = false } = options;
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = await import('prom-client');
  const registry = options.registry ?? new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });

  // Bytes of live broadcasts are counted at each scrape, the rest when the broadcast ends; this
  // remembers how much of each live broadcast was counted already.
  const counted = new Map<string, number>();
  const countBytes = (sessionId: string, bytesIn: number) => {
    bytesReceived.inc(Math.max(0, bytesIn - (counted.get(sessionId) ?? 0)));
    counted.set(sessionId, bytesIn);
  };

  new Gauge({
    name: `${prefix}broadcasts_live`,
    help: 'Broadcasts running now (one ffmpeg each).',
    registers: [registry],
    collect() {
      this.set(broadcaster.sessions().length);
    },
  });
  const bytesReceived = new Counter({
    name: `${prefix}media_received_bytes_total`,
    help: 'Media bytes received from broadcasting clients.',
    registers: [registry],
    collect() {
      for (const session of broadcaster.sessions()) countBytes(session.sessionId, session.bytesIn);
    },
  });
  const ended = new Counter({
    name: `${prefix}broadcasts_ended_total`,
    help: 'Broadcasts ended, by reason (stopped, error, disconnected) and error code (empty when none).',
    labelNames: ['reason', 'code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}broadcast_duration_seconds`,
    help: 'How long ended broadcasts ran.',
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const connections = new Counter({
    name: `${prefix}connections_total`,
    help: 'socket.io connections accepted.',
    registers: [registry],
  });
  const errors = new Counter({
    name: `${prefix}errors_total`,
    help: 'Errors clients were told about (refused starts included), by error code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });

  const restarts = new Counter({
    name: `${prefix}ffmpeg_restarts_total`,
    help: 'ffmpeg restarts to reconnect a destination that dropped a live broadcast (one per attempt).',
    registers: [registry],
  });
  const restored = new Counter({
    name: `${prefix}destination_restored_total`,
    help: 'Restarted ffmpegs that published to the destination again.',
    registers: [registry],
  });

  broadcaster.on('connection', () => connections.inc());
  broadcaster.on('destination-lost', () => restarts.inc());
  broadcaster.on('destination-restored', () => restored.inc());
  broadcaster.on('session-end', (info, summary) => {
    countBytes(info.sessionId, summary.bytesIn);
    counted.delete(info.sessionId);
    ended.inc({ reason: summary.reason, code: summary.error?.code ?? '' });
    duration.observe(summary.durationMs / 1000);
  });
  broadcaster.on('error', (error) => errors.inc({ code: error.code }));

  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
  };
}
