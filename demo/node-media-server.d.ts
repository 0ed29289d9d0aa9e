// The parts of node-media-server 4 that demo/rtmp-server.ts uses: the package ships JavaScript
// (with JSDoc) but no declarations.

declare module 'node-media-server' {
  import type { Server as HttpServer } from 'node:http';
  import type { Server as TcpServer } from 'node:net';

  /** One connection: a publisher or a player, over RTMP or HTTP-FLV. */
  interface NmsSession {
    id: string;
    /** `/live/demo` */
    streamPath: string;
  }

  interface NmsConfig {
    bind?: string;
    rtmp?: { port?: number };
    http?: { port?: number };
    store?: { path?: string };
    webadmin?: { enable?: boolean };
  }

  class NodeMediaServer {
    constructor(config: NmsConfig);
    rtmpServer: { tcpServer?: TcpServer };
    httpServer: { httpServer?: HttpServer };
    /** Listens on the configured ports and opens the store; a listen error exits the process. */
    run(): Promise<void>;
    /** Closes the listeners, drops every connection and flushes the store. */
    stop(): Promise<void>;
  }

  export = NodeMediaServer;
}

declare module 'node-media-server/src/core/context.js' {
  import type { EventEmitter } from 'node:events';

  /** Process-wide state shared by every NodeMediaServer; its emitter carries prePublish, postPlay... */
  const context: { eventEmitter: EventEmitter };
  export = context;
}

declare module 'node-media-server/src/core/logger.js' {
  /** The process-wide logger; every line goes through log(). */
  const logger: { log(message: string, level?: string): void };
  export = logger;
}
