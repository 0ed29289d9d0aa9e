// The CLI's server: an http(s) server with a BroadcastServer, /healthz and /metrics (with a token), JSON logs, and
// a graceful shutdown. startCli runs it in-process (tests use it); runCli is the whole command.
import cluster from 'node:cluster';
import { createHash, timingSafeEqual } from 'node:crypto';
import { access, constants, mkdir, readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { BroadcastError } from '../../client/protocol.js';
import { BroadcastServer, type BroadcastHooks } from '../broadcast-server.js';
import { createJsonLogger } from '../json-logger.js';
import { createMetrics, type BroadcastMetrics } from '../metrics.js';
import type { Logger } from '../logger.js';
import { CliUsageError, parseCommand, type CliConfig } from './config.js';
import { helpText } from './help.js';

/** Where the CLI writes: JSON logs and --help go to stdout, usage errors to stderr. */
export interface CliStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** A CLI server running in this process. */
export interface RunningCli {
  /** `http(s)://host:port` it listens on. */
  url: string;
  broadcaster: BroadcastServer;
  /** Stops accepting connections, ends every broadcast cleanly, closes the server. Safe to call twice. */
  close(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Starts the server `rtmp-broadcaster` would start with these arguments, without signal handling. */
export async function startCli(argv: readonly string[], env: Env, streams: Partial<CliStreams> = {}): Promise<RunningCli> {
  const command = parseCommand(argv, env);
  if (command.command !== 'serve') throw new CliUsageError(`--${command.command} prints and exits: it starts no server.`);
  return serve(command.config, streams);
}

/** The whole command: parses, prints help or version, or serves until SIGTERM/SIGINT. Resolves with the exit status. */
export async function runCli(argv: readonly string[], env: Env, streams: CliStreams = process): Promise<number> {
  let running: RunningCli;
  try {
    const command = parseCommand(argv, env);
    if (command.command === 'help') {
      streams.stdout.write(helpText());
      return 0;
    }
    if (command.command === 'version') {
      streams.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    if (command.config.workers && cluster.isPrimary) return await runPrimary(command.config, streams);
    running = await serve(command.config, streams);
  } catch (caught) {
    if (!(caught instanceof CliUsageError)) {
      streams.stderr.write(`rtmp-broadcaster: ${(caught as Error).message ?? String(caught)}\n`);
      return 1;
    }
    streams.stderr.write(`rtmp-broadcaster: ${caught.message}\nRun \`rtmp-broadcaster --help\` for the options.\n`);
    return 2;
  }
  await shutdownSignal();
  await running.close();
  return 0;
}

/** A second signal while broadcasts are flushing changes nothing: the shutdown has a time limit of its own. */
function shutdownSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.on('SIGTERM', resolve);
    process.on('SIGINT', resolve);
  });
}

/** Cluster mode's primary: forks the workers (each runs `serve`), keeps the shared limit, and stops them on SIGTERM/SIGINT. */
async function runPrimary(config: CliConfig, streams: Partial<CliStreams>): Promise<number> {
  // Before forking: a worker failing this check would only be replaced by another failing it.
  if (config.recordDir) await checkRecordDir(config.recordDir);
  const log = await createJsonLogger({ level: config.logLevel, ...(streams.stdout ? { destination: streams.stdout } : {}) });
  const { startClusterPrimary } = await import('../cluster.js');
  const primary = await startClusterPrimary({
    workers: config.workers,
    // With Redis the workers share the limit through it, with every other machine.
    ...(config.maxStreams && !config.redisUrl ? { maxStreams: config.maxStreams } : {}),
    onWorkerExit: (worker, code, signal) => log.error('a worker died; starting another', { worker: worker.pid, code, signal }),
  });
  log.info('cluster started', { workers: config.workers });
  const signalled = await Promise.race([shutdownSignal().then(() => true), primary.done.then(() => false)]);
  if (!signalled) {
    log.error('every worker exited before it could serve');
    return 1;
  }
  log.info('shutting down the workers', { workers: primary.workers().length });
  await primary.close();
  log.info('stopped');
  return 0;
}

/** How this process shares limits and the broadcast list: through Redis, with the cluster's primary, or not at all. */
async function createScale(config: CliConfig, log: Logger) {
  if (config.redisUrl) {
    const { createRedisScale } = await import('../redis.js');
    return createRedisScale({
      url: config.redisUrl,
      ...(config.maxStreams ? { maxStreams: config.maxStreams } : {}),
      onError: (error) => log.warn('redis', { error: error.message }),
    });
  }
  if (config.workers && cluster.isWorker) {
    const { createClusterWorker } = await import('../cluster.js');
    return createClusterWorker();
  }
  return undefined;
}

async function serve(config: CliConfig, streams: Partial<CliStreams>): Promise<RunningCli> {
  const tls = config.tls && {
    cert: await readPem(config.tls.certFile, '--tls-cert (TLS_CERT)'),
    key: await readPem(config.tls.keyFile, '--tls-key (TLS_KEY)'),
  };
  if (config.recordDir) await checkRecordDir(config.recordDir);
  const log = await createJsonLogger({ level: config.logLevel, ...(streams.stdout ? { destination: streams.stdout } : {}) });

  let closing = false;
  const metricsToken = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  // Both exist before the first request: listen() comes after them.
  let broadcaster!: BroadcastServer;
  let metrics!: BroadcastMetrics;
  const respond = (request: IncomingMessage, response: ServerResponse) =>
    void handle(request, response).catch((caught: unknown) => {
      log.error('request failed', { path: request.url, error: (caught as Error).message });
      if (!response.headersSent) send(response, 500, 'application/json', JSON.stringify({ error: 'Internal error.' }));
    });
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const { pathname } = new URL(request.url ?? '/', 'http://cli');
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return send(response, 405, 'application/json', JSON.stringify({ error: 'Only GET here.' }));
    if (pathname === '/healthz') {
      // A load balancer stops sending new broadcasters here while the live ones finish.
      const body = { status: closing ? 'stopping' : 'ok', broadcasts: broadcaster.sessions().length };
      return send(response, closing ? 503 : 200, 'application/json', JSON.stringify(body));
    }
    if (pathname === '/metrics' && metricsToken) {
      if (!sameSecret(bearer(request), metricsToken))
        return send(response, 401, 'application/json', JSON.stringify({ error: 'Send the metrics token as Authorization: Bearer.' }));
      return send(response, 200, metrics.contentType, await metrics.metrics());
    }
    return send(response, 404, 'application/json', JSON.stringify({ error: 'Not found.' }));
  };
  // Passed at creation: socket.io takes over the request listeners present when it attaches.
  const server = tls ? createHttpsServer(tls, respond) : createHttpServer(respond);

  const scale = await createScale(config, log);
  broadcaster = new BroadcastServer(server, {
    ...(config.allowedDestinations ? { allowedDestinations: config.allowedDestinations } : {}),
    // maxDestinations also bounds the start hook's list: the operator's fixed one must all get through.
    ...(config.destinations ? { maxDestinations: config.destinations.length } : {}),
    ...(config.maxDestinations ? { maxDestinations: config.maxDestinations } : {}),
    ...(config.recordDir ? { record: config.recordDir } : {}),
    ...(config.allowedOrigins ? { allowedOrigins: config.allowedOrigins } : {}),
    // Shared by every process when scaled, else this process's own.
    ...(scale ? { admission: scale.admission } : config.maxStreams ? { maxStreams: config.maxStreams } : {}),
    // Several processes: a long-polling client's requests could land on different ones.
    ...(scale ? { socketio: { transports: ['websocket'] } } : {}),
    ...(config.maxStreamsPerAddress ? { maxStreamsPerAddress: config.maxStreamsPerAddress } : {}),
    ...(config.maxConnectionsPerMinute ? { maxConnectionsPerMinute: config.maxConnectionsPerMinute } : {}),
    ...(config.ffmpegPath ? { ffmpegPath: config.ffmpegPath } : {}),
    ...(config.aacCoder ? { aacCoder: config.aacCoder } : {}),
    ...(config.audioChannels ? { audioChannels: config.audioChannels } : {}),
    hooks: { start: startHook(config) },
    logger: log,
    logLevel: config.logLevel,
  });
  await scale?.attach(broadcaster);
  metrics = await createMetrics(broadcaster, { defaultMetrics: true });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${address.includes(':') ? `[${address}]` : address}:${port}`;
  log.info('listening', {
    url,
    ...(scale ? { node: scale.node, shared: config.redisUrl ? 'redis' : 'cluster' } : {}),
    tls: Boolean(tls),
    destination: config.destinations ? 'fixed' : 'chosen by clients from the allow-list',
    ...(config.destinations ? { destinations: config.destinations.length } : {}),
    ...(config.recordDir ? { recordDir: config.recordDir } : {}),
    token: Boolean(config.token),
    metrics: Boolean(metricsToken),
  });
  if (!config.token && !LOOPBACK.test(config.host)) {
    log.warn('no --token (BROADCAST_TOKEN) set: anyone who can reach this server can broadcast', { host: config.host });
  }

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      log.info('shutting down', { broadcasts: broadcaster.sessions().length });
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await broadcaster.close();
      await scale?.close();
      server.closeAllConnections();
      await serverClosed;
      log.info('stopped');
    })());
  return { url, broadcaster, close };
}

/** Checks the token and sets the fixed destinations; with neither, clients' destinations go through the allow-list. */
function startHook(config: CliConfig): NonNullable<BroadcastHooks['start']> {
  const expected = config.token === undefined ? undefined : digest(config.token);
  return ({ auth }) => {
    if (expected && !sameSecret(auth.token, expected)) {
      throw new BroadcastError('UNAUTHORIZED', 'The broadcast token is missing or wrong.');
    }
    return config.destinations ? { rtmpUrl: config.destinations } : undefined;
  };
}

/** Equal-length digests compared in constant time: neither the secret nor its length leaks through timing. */
function sameSecret(given: unknown, expected: Buffer): boolean {
  return typeof given === 'string' && timingSafeEqual(digest(given), expected);
}

function bearer(request: IncomingMessage): string | undefined {
  return /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Made now, so a directory the server cannot write to stops it at the start rather than at every broadcast. */
async function checkRecordDir(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true });
    await access(directory, constants.W_OK);
  } catch (caught) {
    throw new CliUsageError(
      `Cannot record to --record (RECORD_DIR) ${directory}: ${(caught as NodeJS.ErrnoException).code ?? (caught as Error).message}`,
    );
  }
}

async function readPem(file: string, option: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (caught) {
    throw new CliUsageError(`Cannot read ${option} ${file}: ${(caught as NodeJS.ErrnoException).code ?? (caught as Error).message}`);
  }
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

/** This package's version, from its own package.json wherever it is installed. */
function packageVersion(): string {
  return (createRequire(import.meta.url)('rtmp-broadcaster/package.json') as { version: string }).version;
}
