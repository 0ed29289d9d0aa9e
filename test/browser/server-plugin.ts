// What the browser tests talk to, run by web-test-runner beside the test page: a real nginx-rtmp
// ingest and a real BroadcastServer on loopback, and the commands the page sends with
// executeServerCommand to learn where they are, see what the client asked for, probe what
// arrived, and pull the server away.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestRunnerPlugin } from '@web/test-runner';
import type { StartRequest } from '../../client/protocol.js';
import { BroadcastError, BroadcastServer } from '../../server/index.js';
import { keyframeTimes, probe, type ProbeResult } from '../helpers/probe.js';
import { startRtmpServer, type RtmpServer } from '../helpers/rtmp-server.js';

/** What `broadcast-config` answers: where the page's BroadcastClient connects and publishes. */
export interface BroadcastConfig {
  server: string;
  rtmpUrl: string;
}

/** What `probe-recording` answers: what the RTMP server recorded of a stream. */
export interface RecordingProbe extends ProbeResult {
  /** Seconds at which the video has a keyframe. */
  keyframeTimes: number[];
}

/** What `start-request` answers (wrapped: a command answering null counts as not handled). */
export interface StartRequestAnswer {
  /** The start request that asked for the stream, or null if none did. */
  request: StartRequest | null;
}

/** A BroadcastServer on its own http server, with every TCP connection tracked so it can be cut. */
interface Stack {
  origin: string;
  /** Cuts every connection at once, as a crashed server would, then shuts down. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** Every start request the server received, by the destination it asked for. */
type StartRequests = Map<string, StartRequest>;

async function startStack(rtmp: RtmpServer, pageOrigin: string, startRequests: StartRequests): Promise<Stack> {
  const http: Server = createServer();
  const connections = new Set<Socket>();
  http.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const broadcaster = new BroadcastServer(http, {
    allowedDestinations: [rtmp.url('')],
    cors: { origin: pageOrigin },
    hooks: {
      start({ auth, request }) {
        if (request.rtmpUrl !== undefined) startRequests.set(request.rtmpUrl, request);
        if (auth.refuse) throw new BroadcastError('UNAUTHORIZED', 'Refused by test hook');
      },
    },
    // BROADCAST_LOG=debug shows what the server did when a test fails.
    logLevel: (process.env.BROADCAST_LOG as 'debug' | undefined) ?? 'silent',
  });
  // A client connecting with `auth.stallData` never gets its chunks acknowledged: a network too slow.
  broadcaster.io.on('connection', (socket) => {
    if (!socket.handshake.auth.stallData) return;
    socket.use(([event], next) => {
      if (event !== 'data') next();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const close = async () => {
    await broadcaster.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  return {
    origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    async kill() {
      for (const socket of connections) socket.destroy();
      await close();
    },
    close,
  };
}

/** Starts the servers with web-test-runner and answers the page's commands. */
export function broadcastServerPlugin(): TestRunnerPlugin {
  let rtmp: RtmpServer | undefined;
  let stack: Stack | undefined;
  let pageOrigin = '';
  const startRequests: StartRequests = new Map();

  const running = () => {
    if (!rtmp || !stack) throw new Error('The broadcast test servers are not running.');
    return { rtmp, stack };
  };

  return {
    name: 'broadcast-server',

    async serverStart({ config }) {
      pageOrigin = `${config.http2 ? 'https' : 'http'}://${config.hostname}:${config.port}`;
      rtmp = await startRtmpServer();
      stack = await startStack(rtmp, pageOrigin, startRequests);
    },

    async serverStop() {
      await stack?.close();
      await rtmp?.close();
    },

    async executeCommand({ command, payload }) {
      switch (command) {
        case 'broadcast-config': {
          const { rtmp, stack } = running();
          const { stream } = payload as { stream: string };
          return { server: stack.origin, rtmpUrl: rtmp.url(stream) } satisfies BroadcastConfig;
        }
        case 'probe-recording': {
          const { stream } = payload as { stream: string };
          const file = await running().rtmp.recording(stream);
          return { ...(await probe(file)), keyframeTimes: await keyframeTimes(file) } satisfies RecordingProbe;
        }
        case 'start-request': {
          // What the page's client asked the server for when it started publishing `stream`.
          const { stream } = payload as { stream: string };
          return { request: startRequests.get(running().rtmp.url(stream)) ?? null } satisfies StartRequestAnswer;
        }
        case 'cut-destination': {
          // The ingest drops every publisher at once, then comes back for later tests.
          const { rtmp } = running();
          await rtmp.stop();
          await rtmp.start();
          return true;
        }
        case 'kill-server': {
          // The page's broadcast loses its server mid-stream; later tests get a fresh one.
          const current = running();
          stack = undefined;
          await current.stack.kill();
          stack = await startStack(current.rtmp, pageOrigin, startRequests);
          return true;
        }
        default:
          return undefined;
      }
    },
  };
}
