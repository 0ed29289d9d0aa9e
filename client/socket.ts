// The client's socket.io connection to a BroadcastServer: how it is opened, and what it means when
// the server refuses it or does not answer.
import type { io as connect, Socket } from 'socket.io-client';
import type { ResolvedOptions } from './options.js';
import { BroadcastError, type ClientToServerEvents, type ServerToClientEvents, type StartRequest } from './protocol.js';

/** A socket.io socket speaking the broadcast protocol. */
export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A failed connection attempt as socket.io reports it. */
export type ConnectError = Error & { data?: { code?: unknown; message?: unknown } };

/** socket.io's client, once {@link loadSocketIo} has loaded it. */
let io: typeof connect | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads socket.io's client (its own chunk in the CDN bundle, ~40 % of the code: the first script
 * a page loads stays small, and the connection code comes when a broadcast starts). Rejects with
 * DISCONNECTED if it cannot be fetched, and tries again on the next call.
 */
export function loadSocketIo(): Promise<void> {
  loading ??= import('socket.io-client').then(
    (module) => {
      io = module.io;
    },
    (caught: unknown) => {
      loading = undefined;
      throw new BroadcastError(
        'DISCONNECTED',
        `Could not load the connection code: ${caught instanceof Error ? caught.message : String(caught)}`,
      );
    },
  );
  return loading;
}

/** A fresh socket to the server, connecting at once; after {@link loadSocketIo}. */
export function openSocket({ server, auth, socketio }: Pick<ResolvedOptions, 'server' | 'auth' | 'socketio'>): ClientSocket {
  if (!io) throw new BroadcastError('DISCONNECTED', 'The connection code is not loaded yet.');
  return io(server, {
    // WebSocket only: long-polling would need sticky sessions and CORS, and costs more per chunk.
    transports: ['websocket'],
    // After a drop, try again soon and often: the server keeps the broadcast only for its
    // resume window. The deadline is `resumeTimeoutMs`, not a number of attempts.
    reconnectionDelay: 250,
    reconnectionDelayMax: 1_000,
    forceNew: true,
    auth,
    ...socketio,
  });
}

/** Resolves once `socket` is connected; rejects with the server's refusal or DISCONNECTED. */
export function connected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error: ConnectError) => reject(connectError(error)));
  });
}

/** Why a connection attempt failed: the server's refusal with its code, or DISCONNECTED. */
export function connectError(error: ConnectError): BroadcastError {
  // socket.io middleware refuses with `next(err)`; a coded `err.data` keeps its code.
  if (error.data?.code !== undefined) return BroadcastError.from(error.data);
  return new BroadcastError('DISCONNECTED', `Could not connect to the broadcast server: ${error.message}`);
}

/** A server that never answered `start` or `stop` within `timeoutMs`: a bug or a hung hook on its side. */
export function noReply(message: 'start' | 'stop', timeoutMs: number): BroadcastError {
  const seconds = Math.round(timeoutMs / 100) / 10;
  return new BroadcastError('INTERNAL', `The broadcast server did not answer \`${message}\` within ${seconds} s.`);
}

/**
 * Sends `start` (with its request) or `stop` and resolves with the server's answer; rejects with
 * {@link noReply} when none comes within `timeoutMs`. Never settles once `current()` is false when
 * the answer (or the timeout) comes: the connection dropped meanwhile, and the drop is handled.
 */
export function ask<A>(
  socket: ClientSocket,
  message: 'start' | 'stop',
  request: StartRequest | undefined,
  timeoutMs: number,
  current: () => boolean,
): Promise<A> {
  return new Promise<A>((resolve, reject) => {
    const answered = (error: Error | null, answer: A) => {
      if (!current()) return;
      if (error) reject(noReply(message, timeoutMs));
      else resolve(answer);
    };
    const timed = socket.timeout(timeoutMs) as unknown as { emit(event: string, ...args: unknown[]): void };
    if (request === undefined) timed.emit(message, answered);
    else timed.emit(message, request, answered);
  });
}
