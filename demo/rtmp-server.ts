// The demo's own RTMP server, so a first broadcast has somewhere to go with nothing else set up:
// node-media-server 4 in this process, on loopback only. It also plays its streams as HTTP-FLV,
// which the demo page proxies for its player.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import NodeMediaServer from 'node-media-server';
import nmsContext from 'node-media-server/src/core/context.js';
import nmsLogger from 'node-media-server/src/core/logger.js';

const HOST = '127.0.0.1';

/** What node-media-server reports, under the names the demo uses. */
const EVENTS = { publish: 'postPublish', play: 'postPlay' } as const;

export interface RtmpServerOptions {
  /** RTMP port on 127.0.0.1. */
  port: number;
  /** Where its warnings and errors go; its info lines (one per connection) are dropped. */
  log: (line: string) => void;
}

export interface EmbeddedRtmpServer {
  /** `rtmp://127.0.0.1:PORT` */
  readonly origin: string;
  /** Port of its HTTP-FLV listener on 127.0.0.1, where `/live/<name>.flv` plays a stream. */
  readonly flvPort: number;
  /** Calls `listener` with the stream path (`/live/demo`) whenever a publisher or a player starts. */
  on(event: keyof typeof EVENTS, listener: (streamPath: string) => void): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts node-media-server on `port`, resolving once it accepts connections. */
export async function startRtmpServer({ port, log }: RtmpServerOptions): Promise<EmbeddedRtmpServer> {
  // node-media-server ends the process when a port is taken; find out first, and say which port.
  await listenBriefly(port, 'The RTMP server');
  const flvPort = await listenBriefly(0, 'The HTTP-FLV server');
  // It has no logger option: every line goes through this one method of a shared logger.
  nmsLogger.log = (message, level = 'info') => {
    if (level === 'warn' || level === 'error') log(`rtmp server ${level}: ${message}`);
  };
  // Its store (stream history) would otherwise go to ./data under the current directory.
  const storeDir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-demo-'));
  const nms = new NodeMediaServer({
    bind: HOST,
    rtmp: { port },
    http: { port: flvPort },
    store: { path: storeDir },
    webadmin: { enable: false },
  });
  await nms.run();
  await Promise.all(
    [nms.rtmpServer.tcpServer, nms.httpServer.httpServer].map((server) => server?.listening === false && once(server, 'listening')),
  );

  // Its events live on a process-wide emitter, which NodeMediaServer offers no way to leave.
  const listeners: [string, (session: { streamPath: string }) => void][] = [];
  return {
    origin: `rtmp://${HOST}:${port}`,
    flvPort,
    on(event, listener) {
      const entry: (typeof listeners)[number] = [EVENTS[event], (session) => listener(session.streamPath)];
      listeners.push(entry);
      nmsContext.eventEmitter.on(...entry);
    },
    async close() {
      for (const entry of listeners) nmsContext.eventEmitter.off(...entry);
      const closed = [nms.rtmpServer.tcpServer, nms.httpServer.httpServer].map((server) => server && once(server, 'close'));
      await nms.stop();
      // Its HTTP server waits for idle keep-alive connections; nobody is coming back to them.
      nms.httpServer.httpServer?.closeAllConnections();
      await Promise.all(closed);
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** Listens on `port` (0: any) of 127.0.0.1 and lets go, returning the port; throws a message naming `what` if it is taken. */
async function listenBriefly(port: number, what: string): Promise<number> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, HOST, resolve);
    });
  } catch (caught) {
    const busy = (caught as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw new Error(
      `${what} cannot listen on ${HOST}:${port}: ${busy ? 'the port is in use (another RTMP server, or a demo still running?)' : (caught as Error).message}`,
    );
  }
  const { port: bound } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return bound;
}
