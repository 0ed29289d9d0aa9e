// A real BroadcastServer on a real http server on loopback, and socket.io clients that speak the
// documented protocol, for end-to-end tests.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connect, type Socket } from 'socket.io-client';
import {
  ERRORS,
  type Ack,
  type ClientToServerEvents,
  type EndedMessage,
  type ServerToClientEvents,
  type StartAck,
  type StartRequest,
} from '../../client/protocol.js';
import { BroadcastServer, type BroadcastServerOptions } from '../../server/index.js';
import { H264_MIME } from './constants.js';
import { makeFixture, splitChunks } from './fixtures.js';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface Stack {
  http: Server;
  broadcaster: BroadcastServer;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** Every log line the server wrote, to search for leaks. */
  logs: string[];
  /** Opens a socket.io connection; closed by close(). */
  client(auth?: Record<string, unknown>): Promise<ClientSocket>;
  close(): Promise<void>;
}

/** Starts a BroadcastServer on an ephemeral port with a logger that records everything. */
export async function startStack(options: BroadcastServerOptions = {}): Promise<Stack> {
  const http = createServer();
  const logs: string[] = [];
  const record = (level: string) => (message: string, fields?: unknown) => logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  const broadcaster = new BroadcastServer(http, {
    logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    logLevel: 'debug',
    ...options,
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const sockets: ClientSocket[] = [];
  return {
    http,
    broadcaster,
    origin,
    logs,
    async client(auth = {}) {
      const socket: ClientSocket = connect(origin, { transports: ['websocket'], auth, reconnection: false, forceNew: true });
      sockets.push(socket);
      const ending: { ended?: EndedMessage; logs: string[] } = { logs };
      endings.set(socket, ending);
      socket.on('ended', (message) => (ending.ended = message));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return socket;
    },
    async close() {
      await broadcaster.close();
      for (const socket of sockets) socket.disconnect();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const ACK_TIMEOUT_MS = 20_000;

/** What each stack client was last told about its broadcast's end, and its server's log: for error messages. */
const endings = new WeakMap<ClientSocket, { ended?: EndedMessage; logs: string[] }>();

/** Why a chunk was refused, with what the server said about the broadcast's end, for a failure worth reading. */
function refusal(socket: ClientSocket, ack: Extract<Ack, { ok: false }>): string {
  const known = endings.get(socket);
  const ended = known?.ended ? `; the broadcast had ended: ${JSON.stringify(known.ended)}` : '';
  const warnings = known?.logs.filter((line) => /^(warn|error) |^debug ffmpeg /.test(line)).slice(-12) ?? [];
  return `chunk refused: ${ack.error.code} ${ack.error.message}${ended}${warnings.length ? `\nthe server's last warnings and ffmpeg lines:\n${warnings.join('\n')}` : ''}`;
}

/** A WebSocket-only client of the server at `url`, resolved once connected (rejected with the server's refusal). */
export async function connectClient(url: string): Promise<ClientSocket> {
  const socket: ClientSocket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Sends `start` and returns the server's answer. */
export function start(socket: ClientSocket, request: StartRequest | unknown): Promise<StartAck> {
  return socket.timeout(ACK_TIMEOUT_MS).emitWithAck('start', request as StartRequest);
}

/** Sends `stop` and returns the answer (which comes once ffmpeg has exited). */
export function stop(socket: ClientSocket): Promise<Ack> {
  return socket.timeout(ACK_TIMEOUT_MS).emitWithAck('stop');
}

/** Sends one chunk and returns its ack. */
export function send(socket: ClientSocket, chunk: Uint8Array | unknown): Promise<Ack> {
  return socket.timeout(ACK_TIMEOUT_MS).emitWithAck('data', chunk as Uint8Array);
}

/** Sends chunks one at a time at the pace a recorder makes them (`seconds` of media in `total` chunks), asserting each ack. */
export async function sendPaced(socket: ClientSocket, chunks: readonly Uint8Array[], seconds: number, total: number): Promise<void> {
  const paceMs = (seconds * 1000) / total;
  for (const chunk of chunks) {
    const ack = await send(socket, chunk);
    if (!ack.ok) throw new Error(refusal(socket, ack));
    await new Promise((resolve) => setTimeout(resolve, paceMs));
  }
}

/** Sends every chunk in order with at most `window` unacknowledged, as a client does; returns every ack. */
export async function sendAll(socket: ClientSocket, chunks: readonly Uint8Array[], window = 4): Promise<Ack[]> {
  const acks: Promise<Ack>[] = [];
  for (let i = 0; i < chunks.length; i++) {
    if (i >= window) await acks[i - window];
    acks.push(send(socket, chunks[i]));
  }
  return Promise.all(acks);
}

/**
 * Starts an H.264 + Opus broadcast to `rtmpUrl` and sends two seconds of it (acknowledged chunks of
 * 80 KB); the broadcast stays live (no stop). Wait for the RTMP server's publish yourself.
 */
export async function sendTwoSeconds(socket: ClientSocket, rtmpUrl: string): Promise<void> {
  const started = await start(socket, { mimeType: H264_MIME, rtmpUrl });
  assert.ok(started.ok, JSON.stringify(started));
  const acks = await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 2 }), 80_000));
  assert.ok(
    acks.every((ack) => ack.ok),
    JSON.stringify(acks.filter((ack) => !ack.ok)),
  );
}

/** What a client is told when the server shuts down under its broadcast. */
export const SHUTDOWN_ENDED: EndedMessage = { reason: 'error', error: { code: 'SERVER_SHUTDOWN', message: ERRORS.SERVER_SHUTDOWN } };

/** Resolves with the `ended` message of the socket's broadcast. */
export function ended(socket: ClientSocket): Promise<EndedMessage> {
  return new Promise((resolve) => socket.once('ended', resolve));
}
