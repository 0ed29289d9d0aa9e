// `npx rtmp-broadcaster`: how flags and environment become a configuration, and the command run
// for real: over TLS with a token to nginx-rtmp, its health and metrics endpoints, its JSON logs,
// its help, and its shutdown on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { io as connect } from 'socket.io-client';
import { CliUsageError, parseCommand, type CliConfig } from '../../../server/cli/config.js';
import { helpText } from '../../../server/cli/help.js';
import { startCli } from '../../../server/cli/run.js';
import { makeFixture, splitChunks } from '../../helpers/fixtures.js';
import { childProcesses, waitForNoChildren } from '../../helpers/processes.js';
import { probe } from '../../helpers/probe.js';
import { reapOnExit, removeOnExit } from '../../helpers/reaper.js';
import { startRtmpServer, type RtmpServer } from '../../helpers/rtmp-server.js';
import { SHUTDOWN_ENDED, ended, sendAll, start, stop, type ClientSocket } from '../../helpers/stack.js';
import { H264_MIME } from '../../helpers/constants.js';

const run = promisify(execFile);
const CHUNK_BYTES = 80_000;
const YOUTUBE = 'rtmp://a.rtmp.youtube.com/live2';

/** The configuration of a `serve` command, or the test fails. */
function config(argv: string[], env: Record<string, string> = {}): CliConfig {
  const command = parseCommand(argv, { RTMP_URL: `${YOUTUBE}/key`, ...env });
  assert.equal(command.command, 'serve');
  return command.config;
}

/** The usage error `parseCommand` throws for these arguments. */
function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCommand(argv, env);
  } catch (caught) {
    assert.ok(caught instanceof CliUsageError, String(caught));
    return caught.message;
  }
  assert.fail(`no error for ${argv.join(' ')} ${JSON.stringify(env)}`);
}

describe('configuration from flags and environment', () => {
  test('defaults listen on this machine only, port 8080, logging at info', () => {
    assert.deepEqual(config([]), { port: 8080, host: '127.0.0.1', logLevel: 'info', destinations: [`${YOUTUBE}/key`] });
  });

  test('every setting comes from its environment variable', () => {
    const env = {
      PORT: '9000',
      HOST: '0.0.0.0',
      TLS_CERT: 'cert.pem',
      TLS_KEY: 'key.pem',
      ALLOWED_ORIGINS: 'https://a.example, https://b.example:8443/',
      MAX_STREAMS: '4',
      MAX_STREAMS_PER_ADDRESS: '1',
      MAX_CONNECTIONS_PER_MINUTE: '30',
      BROADCAST_TOKEN: 's3cret',
      LOG_LEVEL: 'WARN',
      FFMPEG_PATH: '/opt/ffmpeg',
      RECORD_DIR: '/var/recordings',
    };
    assert.deepEqual(config([], env), {
      port: 9000,
      host: '0.0.0.0',
      tls: { certFile: 'cert.pem', keyFile: 'key.pem' },
      destinations: [`${YOUTUBE}/key`],
      allowedOrigins: ['https://a.example', 'https://b.example:8443'],
      maxStreams: 4,
      maxStreamsPerAddress: 1,
      maxConnectionsPerMinute: 30,
      token: 's3cret',
      logLevel: 'warn',
      ffmpegPath: '/opt/ffmpeg',
      recordDir: '/var/recordings',
    });
  });

  test('a flag wins over its environment variable, and an empty variable counts as unset', () => {
    assert.equal(config(['--port', '9001'], { PORT: '9000' }).port, 9001);
    assert.equal(config(['--log-level=debug'], { LOG_LEVEL: 'error' }).logLevel, 'debug');
    assert.equal(config(['--token', 'flag'], { BROADCAST_TOKEN: 'env' }).token, 'flag');
    assert.equal(config([], { PORT: '', HOST: '  ' }).port, 8080);
    assert.equal(config([], { PORT: '', HOST: '  ' }).host, '127.0.0.1');
  });

  test('repeated flags make a list that replaces the comma-separated variable', () => {
    const env = { RTMP_URL: '', ALLOWED_DESTINATIONS: 'rtmp://env.example/live', ALLOWED_ORIGINS: 'https://env.example' };
    const fromFlags = config(
      ['--allow-destination', YOUTUBE, '--allow-destination', 'rtmps://live.example:443/app', '--allow-origin', '*'],
      env,
    );
    assert.deepEqual(fromFlags.allowedDestinations, [YOUTUBE, 'rtmps://live.example:443/app']);
    assert.equal(fromFlags.allowedOrigins, '*');
    assert.equal(fromFlags.destinations, undefined);
    const fromEnv = config([], { ...env, ALLOWED_DESTINATIONS: `${YOUTUBE}, rtmp://b.example/app` });
    assert.deepEqual(fromEnv.allowedDestinations, [YOUTUBE, 'rtmp://b.example/app']);
  });

  test('bad values are refused with the flag or variable that gave them', () => {
    const withDestination = { RTMP_URL: `${YOUTUBE}/key` };
    assert.equal(usageError(['--port', '70000'], withDestination), 'Expected `--port` to be a whole number from 0 to 65535, got `70000`.');
    assert.match(usageError([], { ...withDestination, PORT: 'http' }), /`PORT`.*got `http`/);
    assert.match(usageError(['--max-streams', '0'], withDestination), /`--max-streams` to be a whole number of at least 1, got `0`/);
    assert.match(usageError([], { ...withDestination, MAX_STREAMS_PER_ADDRESS: '1.5' }), /`MAX_STREAMS_PER_ADDRESS`/);
    assert.match(
      usageError([], { ...withDestination, LOG_LEVEL: 'loud' }),
      /`LOG_LEVEL` to be one of debug, info, warn, error, silent, got `loud`/,
    );
    assert.match(usageError(['--tls-cert', 'c.pem'], withDestination), /`--tls-cert` needs --tls-key \(TLS_KEY\)/);
    assert.match(usageError([], { ...withDestination, TLS_KEY: 'k.pem' }), /`TLS_KEY` needs --tls-cert \(TLS_CERT\)/);
    assert.match(
      usageError(['--allow-origin', 'example.com'], withDestination),
      /`--allow-origin` to be origins such as https:\/\/example.com, got `example.com`/,
    );
    assert.match(usageError(['--allow-origin', '*', '--allow-origin', 'https://a.example'], withDestination), /either '\*' or a list/);
    assert.match(
      usageError(['--allow-destination', 'http://a.example/live'], {}),
      /`--allow-destination` is not a usable rtmp:\/\/ or rtmps:\/\/ URL prefix/,
    );
    assert.match(usageError(['--allow-destination', ','], {}), /`--allow-destination` is empty/);
    assert.match(usageError(['--aac-coder', 'anmr'], withDestination), /`--aac-coder` must be twoloop or fast, not `anmr`/);
    assert.match(usageError([], { ...withDestination, AUDIO_CHANNELS: '6' }), /`AUDIO_CHANNELS` must be source, 1, 2, not `6`/);
  });

  test('--aac-coder (AAC_CODER) picks the AAC coder; unset leaves the server default', () => {
    const withDestination = { RTMP_URL: `${YOUTUBE}/key` };
    assert.equal(config(['--aac-coder', 'fast'], withDestination).aacCoder, 'fast');
    assert.equal(config([], { ...withDestination, AAC_CODER: 'twoloop' }).aacCoder, 'twoloop');
    assert.equal(config([], withDestination).aacCoder, undefined);
  });

  test('--audio-channels (AUDIO_CHANNELS) keeps or forces the AAC channels; unset leaves the server default', () => {
    const withDestination = { RTMP_URL: `${YOUTUBE}/key` };
    assert.equal(config(['--audio-channels', '2'], withDestination).audioChannels, 2);
    assert.equal(config(['--audio-channels', 'source'], withDestination).audioChannels, 'source');
    assert.equal(config([], { ...withDestination, AUDIO_CHANNELS: '1' }).audioChannels, 1);
    assert.equal(config([], withDestination).audioChannels, undefined);
  });

  test('a bad destination is named without echoing it: it holds the stream key', () => {
    const message = usageError([], { RTMP_URL: 'http://ingest.example/live/SECRET-KEY' });
    assert.match(
      message,
      /^`RTMP_URL` is not a usable rtmp:\/\/ or rtmps:\/\/ URL: Only rtmp:\/\/ and rtmps:\/\/ destinations are allowed/,
    );
    assert.doesNotMatch(message, /SECRET-KEY/);
  });

  test('several fixed destinations: --destination repeated, or RTMP_URL separated by commas or spaces', () => {
    const twitch = 'rtmp://live.twitch.tv/app/live_123';
    assert.deepEqual(
      config(['--destination', `${YOUTUBE}/key`, '--destination', twitch], { RTMP_URL: 'rtmp://env.example/live/k' }).destinations,
      [`${YOUTUBE}/key`, twitch],
    );
    assert.deepEqual(config([], { RTMP_URL: `${YOUTUBE}/key,${twitch}` }).destinations, [`${YOUTUBE}/key`, twitch]);
    assert.deepEqual(config([], { RTMP_URL: ` ${YOUTUBE}/key \n  ${twitch} ` }).destinations, [`${YOUTUBE}/key`, twitch]);
    assert.deepEqual(config([], { RTMP_URL: `${YOUTUBE}/key, ${twitch},` }).destinations, [`${YOUTUBE}/key`, twitch]);
    assert.match(usageError([], { RTMP_URL: ' , ' }), /^`RTMP_URL` is empty/);
  });

  test('a bad or repeated destination in a list is named by its place, never echoed', () => {
    const bad = usageError([], { RTMP_URL: `${YOUTUBE}/GOOD-KEY http://ingest.example/live/SECRET-KEY` });
    assert.match(
      bad,
      /^`RTMP_URL` \(destination 2 of 2\) is not a usable rtmp:\/\/ or rtmps:\/\/ URL: Only rtmp:\/\/ and rtmps:\/\/ destinations are allowed/,
    );
    const repeated = usageError([
      '--destination',
      `${YOUTUBE}/SECRET-KEY`,
      '--destination',
      'rtmp://live.twitch.tv/app/k',
      '--destination',
      `${YOUTUBE}/SECRET-KEY`,
    ]);
    assert.equal(repeated, '`--destination` (destination 3 of 3) repeats an earlier destination: each one gets the broadcast once.');
    for (const message of [bad, repeated]) assert.doesNotMatch(message, /KEY/);
  });

  test('--max-destinations (MAX_DESTINATIONS) bounds what clients list, so it needs --allow-destination', () => {
    const allowing = { RTMP_URL: '', ALLOWED_DESTINATIONS: YOUTUBE };
    assert.equal(config(['--max-destinations', '2'], allowing).maxDestinations, 2);
    assert.equal(config([], { ...allowing, MAX_DESTINATIONS: '8' }).maxDestinations, 8);
    assert.equal('maxDestinations' in config([], allowing), false);
    assert.equal(
      usageError(['--max-destinations', '0'], allowing),
      'Expected `--max-destinations` to be a whole number of at least 1, got `0`.',
    );
    assert.match(
      usageError([], { RTMP_URL: `${YOUTUBE}/key`, MAX_DESTINATIONS: '2' }),
      /^`RTMP_URL` and `MAX_DESTINATIONS` exclude each other/,
    );
  });

  test('--record (RECORD_DIR) takes an absolute directory, with either kind of destination', () => {
    assert.equal(config(['--record', '/var/recordings']).recordDir, '/var/recordings');
    assert.equal(config([], { RTMP_URL: '', ALLOWED_DESTINATIONS: YOUTUBE, RECORD_DIR: '/srv/rec/' }).recordDir, '/srv/rec/');
    assert.equal('recordDir' in config([]), false);
    assert.equal(
      usageError(['--record', 'recordings'], { RTMP_URL: `${YOUTUBE}/key` }),
      'Expected `--record` to be an absolute directory, got `recordings`.',
    );
  });

  test('a configuration that could broadcast nowhere, or to both a fixed and a chosen destination, is refused', () => {
    assert.match(usageError([], {}), /Nothing to broadcast to: set --destination \(RTMP_URL\), or --allow-destination/);
    assert.match(
      usageError(['--allow-destination', YOUTUBE], { RTMP_URL: `${YOUTUBE}/key` }),
      /`RTMP_URL` and `--allow-destination` exclude each other/,
    );
  });

  test('unknown flags, stray arguments and missing values are usage errors', () => {
    assert.equal(usageError(['--prot', '80']), 'Unknown option `--prot`.');
    assert.match(usageError(['serve']), /Unexpected argument `serve`/);
    assert.equal(usageError(['--port']), '`--port` needs a value.');
    assert.equal(usageError(['--help=yes']), '`--help` takes no value.');
  });

  test('--help and --version win over everything else', () => {
    assert.deepEqual(parseCommand(['--port', 'x', '--help'], {}), { command: 'help' });
    assert.deepEqual(parseCommand(['-v'], {}), { command: 'version' });
  });

  test('the help names every flag and environment variable', () => {
    const help = helpText();
    const flags = [
      'port',
      'host',
      'tls-cert',
      'tls-key',
      'destination',
      'allow-destination',
      'allow-origin',
      'max-destinations',
      'record',
      'max-streams',
      'max-streams-per-address',
      'max-connections-per-minute',
    ];
    for (const name of [
      ...flags,
      'token',
      'metrics-token',
      'log-level',
      'aac-coder',
      'audio-channels',
      'workers',
      'redis-url',
      'ffmpeg-path',
      'help',
      'version',
    ]) {
      assert.match(help, new RegExp(`--${name}\\b`), name);
    }
    for (const env of [
      'PORT',
      'HOST',
      'TLS_CERT',
      'TLS_KEY',
      'RTMP_URL',
      'ALLOWED_DESTINATIONS',
      'ALLOWED_ORIGINS',
      'MAX_DESTINATIONS',
      'RECORD_DIR',
      'MAX_STREAMS',
      'BROADCAST_TOKEN',
      'METRICS_TOKEN',
      'LOG_LEVEL',
      'AAC_CODER',
      'AUDIO_CHANNELS',
      'FFMPEG_PATH',
    ]) {
      assert.match(help, new RegExp(`\\b${env}\\b`), env);
    }
  });
});

let rtmp: RtmpServer;
let tlsDir: string;
before(async () => {
  rtmp = await startRtmpServer();
  tlsDir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-tls-'));
  // A certificate the test trusts as its own CA, valid for the address the client connects to.
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-days',
    '1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    join(tlsDir, 'key.pem'),
    '-out',
    join(tlsDir, 'cert.pem'),
  ]);
});
after(async () => {
  await rtmp.close();
  await rm(tlsDir, { recursive: true, force: true });
  await waitForNoChildren('ffmpeg', 5_000);
});

/** Connects a socket.io client that trusts only the test certificate. */
async function connectTls(url: string, ca: string, auth: Record<string, unknown>): Promise<ClientSocket> {
  const socket: ClientSocket = connect(url, { transports: ['websocket'], auth, ca, reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
    }).on('error', reject);
  });
}

/** A stream collecting what is written to it, line by line. */
function lineCollector(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  let pending = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts);
      done();
    },
  });
  return { stream, lines };
}

describe('the CLI server', () => {
  test('over TLS with a token: broadcasts to its destination, refuses a wrong token, reports health and metrics, logs JSON without the key', async () => {
    const key = 'cli_SECRETKEY_4711';
    const token = 'correct horse battery staple';
    const ca = await readFile(join(tlsDir, 'cert.pem'), 'utf8');
    const stdout = lineCollector();
    const cli = await startCli(
      ['--port', '0', '--tls-cert', join(tlsDir, 'cert.pem'), '--tls-key', join(tlsDir, 'key.pem'), '--log-level', 'debug'],
      { RTMP_URL: rtmp.url(key), BROADCAST_TOKEN: token, METRICS_TOKEN: 'scraper secret' },
      { stdout: stdout.stream },
    );
    const sockets: ClientSocket[] = [];
    try {
      assert.match(cli.url, /^https:\/\/127\.0\.0\.1:\d+$/);

      const intruder = await connectTls(cli.url, ca, { token: 'correct horse battery stapler' });
      sockets.push(intruder);
      const refused = await start(intruder, { mimeType: H264_MIME });
      assert.equal(!refused.ok && refused.error.code, 'UNAUTHORIZED');

      const media = await makeFixture('h264-opus', { seconds: 2 });
      const socket = await connectTls(cli.url, ca, { token });
      sockets.push(socket);
      const started = await start(socket, { mimeType: H264_MIME });
      assert.ok(started.ok, JSON.stringify(started));
      assert.ok((await sendAll(socket, splitChunks(media, CHUNK_BYTES))).every((ack) => ack.ok));
      assert.deepEqual(await stop(socket), { ok: true });
      const recording = await probe(await rtmp.recording(key));
      assert.equal(recording.video.codec, 'h264');
      assert.equal(recording.audio?.codec, 'aac');

      const health = await httpsGet(`${cli.url}/healthz`, ca);
      assert.equal(health.status, 200);
      assert.deepEqual(JSON.parse(health.body), { status: 'ok', broadcasts: 0 });

      const metrics = await httpsGet(`${cli.url}/metrics`, ca, { authorization: 'Bearer scraper secret' });
      assert.equal(metrics.status, 200);
      assert.match(metrics.type, /^text\/plain/);
      assert.match(metrics.body, /^rtmp_broadcaster_broadcasts_ended_total\{reason="stopped",code=""\} 1$/m);
      assert.match(metrics.body, new RegExp(`^rtmp_broadcaster_media_received_bytes_total ${media.byteLength}$`, 'm'));
      assert.match(metrics.body, /^rtmp_broadcaster_errors_total\{code="UNAUTHORIZED"\} 1$/m);
      assert.match(metrics.body, /^rtmp_broadcaster_connections_total 2$/m);
      assert.match(metrics.body, /^rtmp_broadcaster_broadcasts_live 0$/m);
      assert.match(metrics.body, /^rtmp_broadcaster_broadcast_duration_seconds_count 1$/m);
      assert.match(metrics.body, /^process_cpu_user_seconds_total /m, 'Node process metrics too');
    } finally {
      for (const socket of sockets) socket.disconnect();
      await cli.close();
    }

    const entries = stdout.lines.map((line) => JSON.parse(line) as { level: string; msg: string; [field: string]: unknown });
    const messages = entries.map((entry) => entry.msg);
    for (const expected of ['listening', 'broadcast started', 'ffmpeg', 'broadcast ended', 'shutting down', 'stopped']) {
      assert.ok(messages.includes(expected), `a "${expected}" line in ${messages.join(', ')}`);
    }
    assert.ok(entries.some((entry) => entry.level === 'warn' && entry.code === 'UNAUTHORIZED'));
    const everything = stdout.lines.join('\n');
    assert.ok(everything.includes(rtmp.url('***')), 'the destination is logged, redacted');
    assert.ok(!everything.includes(key), 'no stream key in the logs');
    assert.ok(!everything.includes(token), 'no token in the logs');
    await waitForNoChildren('ffmpeg', 5_000);
  });
});

/** Runs the real bin; resolves once it exits. */
function runBin(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reapOnExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, exited, output: () => stdout };
}

describe('the rtmp-broadcaster command', () => {
  test('--help prints the usage and exits 0', async () => {
    const { code, stdout, stderr } = await runBin(['--help']).exited;
    assert.equal(code, 0, stderr);
    assert.equal(stdout, helpText());
    assert.match(stdout, /^Usage: rtmp-broadcaster \[options\]/);
  });

  test('--version prints the package version', async () => {
    const { code, stdout } = await runBin(['--version']).exited;
    assert.equal(code, 0);
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    assert.equal(stdout, `${version}\n`);
  });

  test('an unknown flag exits 2 with a message on stderr', async () => {
    const { code, stdout, stderr } = await runBin(['--destinaton', 'rtmp://x.example/live/key']).exited;
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, 'rtmp-broadcaster: Unknown option `--destinaton`.\nRun `rtmp-broadcaster --help` for the options.\n');
  });

  test('SIGTERM during a live broadcast ends it cleanly, exits 0 and leaves no ffmpeg', async () => {
    const stream = 'cli-sigterm';
    const bin = runBin(['--port', '0'], { RTMP_URL: rtmp.url(stream), LOG_LEVEL: 'info' });
    let socket: ClientSocket | undefined;
    try {
      const url = await listeningUrl(bin.output, bin.exited);
      socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true }) as ClientSocket;
      const endedMessage = ended(socket);
      assert.ok((await start(socket, { mimeType: H264_MIME })).ok);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 2 }), CHUNK_BYTES));
      await rtmp.published(stream);
      assert.equal(childProcesses('ffmpeg').length, 1, 'the broadcast runs');

      bin.child.kill('SIGTERM');
      const { code, signal, stdout } = await bin.exited;
      assert.equal(signal, null);
      assert.equal(code, 0, stdout);
      assert.deepEqual(childProcesses('ffmpeg'), []);
      assert.deepEqual(await endedMessage, SHUTDOWN_ENDED, 'the client was told the server shut down');
      assert.equal((await probe(await rtmp.recording(stream))).video.codec, 'h264', 'the recording was finished');
      const messages = stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      assert.ok(messages.indexOf('shutting down') < messages.indexOf('broadcast ended'), messages.join(', '));
      assert.equal(messages.at(-1), 'stopped');
    } finally {
      socket?.disconnect();
      if (bin.child.exitCode === null && bin.child.signalCode === null) bin.child.kill('SIGKILL');
      await bin.exited;
    }
  });
});

describe('the rtmp-broadcaster command with several destinations and --record', () => {
  let other: RtmpServer;
  let recordDir: string;
  before(async () => {
    other = await startRtmpServer();
    recordDir = join(await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-cli-record-')), 'created-by-the-command');
    removeOnExit(dirname(recordDir));
  });
  after(async () => {
    await other.close();
    await rm(dirname(recordDir), { recursive: true, force: true });
  });

  test('sends each broadcast to every RTMP_URL destination and records it to <dir>/<session id>.mp4', async () => {
    const seconds = 3;
    const [first, second] = ['cli-multi_SECRET_1', 'cli-multi_SECRET_2'];
    const bin = runBin(['--port', '0', '--record', recordDir], { RTMP_URL: `${rtmp.url(first)}, ${other.url(second)}`, LOG_LEVEL: 'info' });
    let socket: ClientSocket | undefined;
    try {
      const url = await listeningUrl(bin.output, bin.exited);
      socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true }) as ClientSocket;
      const started = await start(socket, { mimeType: H264_MIME });
      assert.ok(started.ok, JSON.stringify(started));
      assert.ok((await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds }), CHUNK_BYTES))).every((ack) => ack.ok));
      assert.deepEqual(await stop(socket), { ok: true });

      for (const received of [await rtmp.recording(first), await other.recording(second), join(recordDir, `${started.sessionId}.mp4`)]) {
        const media = await probe(received, { countFrames: true });
        assert.equal(media.video.codec, 'h264', received);
        assert.equal(media.audio?.codec, 'aac', received);
        assert.equal(media.video.frames, seconds * 30, `every frame in ${received}`);
      }
      assert.match((await probe(join(recordDir, `${started.sessionId}.mp4`))).format, /mp4/);

      bin.child.kill('SIGTERM');
      const { code, stdout } = await bin.exited;
      assert.equal(code, 0, stdout);
      assert.deepEqual(childProcesses('ffmpeg'), []);
      const listening = JSON.parse(stdout.split('\n').find((line) => line.includes('"msg":"listening"'))!) as Record<string, unknown>;
      assert.equal(listening.destinations, 2);
      assert.equal(listening.recordDir, recordDir);
      assert.ok(!stdout.includes('SECRET'), 'no stream key in the logs');
    } finally {
      socket?.disconnect();
      if (bin.child.exitCode === null && bin.child.signalCode === null) bin.child.kill('SIGKILL');
      await bin.exited;
    }
  });

  test('refuses to start when the --record directory cannot be made', async () => {
    const file = join(dirname(recordDir), 'a-file');
    await writeFile(file, '');
    const { code, stdout, stderr } = await runBin(['--port', '0'], { RTMP_URL: rtmp.url('never'), RECORD_DIR: join(file, 'recordings') })
      .exited;
    assert.equal(code, 2, stdout);
    assert.equal(
      stderr,
      `rtmp-broadcaster: Cannot record to --record (RECORD_DIR) ${join(file, 'recordings')}: ENOTDIR\nRun \`rtmp-broadcaster --help\` for the options.\n`,
    );
  });
});

/** The URL in the command's "listening" log line, once it is written. */
async function listeningUrl(output: () => string, exited: Promise<{ code: number | null; stderr: string }>): Promise<string> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const line = output()
      .split('\n')
      .find((text) => text.includes('"msg":"listening"'));
    if (line) return (JSON.parse(line) as { url: string }).url;
    if (gone) throw new Error(`the command exited before listening: ${JSON.stringify(await exited)}`);
    if (Date.now() > deadline) throw new Error(`no "listening" line within 15 s: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
