// What the browser tests talk to, run by web-test-runner beside the test page: a real nginx-rtmp
// ingest and a real BroadcastServer on loopback (reachable directly or through a TCP proxy that can
// cut the line), and the commands the page sends with executeServerCommand to learn where they
// are, see what the client asked for, probe what arrived, learn when the server is done with a
// broadcast, cut the network for a while, and pull the server away.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { TestRunnerPlugin } from '@web/test-runner';
import type { StartRequest } from '../../client/protocol.js';
import { BroadcastError, BroadcastServer, type BroadcastSocket, type Logger } from '../../server/index.js';
import { keyframeTimes, loudnessTimeline, lumaTimeline, probe, videoPacketTimes, type ProbeResult } from '../helpers/probe.js';
import { startRtmpServer, type RtmpServer } from '../helpers/rtmp-server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/** What `broadcast-config` asks: the stream to publish, and whether to reach the server through the proxy that `blip` cuts. */
export interface BroadcastConfigRequest {
  stream: string;
  viaProxy?: boolean;
}

/** What `broadcast-config` answers: where the page's BroadcastClient connects and publishes. */
export interface BroadcastConfig {
  server: string;
  rtmpUrl: string;
  /** How long the adaptive-bitrate test keeps its upload capped: ABR_CAPPED_MS (the bench's long run, `npm run bench -- --abr`), else its own default. */
  abrCappedMs?: number;
}

/** What `probe-recording` answers: what the RTMP server recorded of a stream. */
export interface RecordingProbe extends ProbeResult {
  /** Seconds at which the video has a keyframe. */
  keyframeTimes: number[];
  /** Seconds of every video packet (one per frame), ascending. */
  videoPacketTimes: number[];
}

/** What `probe-levels` answers: what a stream's recording shows and sounds like, decoded. */
export interface LevelsAnswer {
  /** Each video frame's time and brightest luma (black frames stay near 16). */
  frames: { time: number; luma: number }[];
  /** Each audio frame's time and peak level in dBFS (-Infinity, sent as null, for digital silence). */
  audio: { time: number; peakDb: number | null }[];
}

/** What `server-log` answers: the servers' last log lines (info and up) that mention the text asked for. */
export interface ServerLogAnswer {
  lines: string[];
}

/** What `rtmp-events` answers: the RTMP server's notifications about a stream, oldest first. */
export interface RtmpEventsAnswer {
  /** 'publish' | 'publish_done' | 'record_done' */
  calls: string[];
}

/** What `refusing-destination` answers: an allowed destination on a port nothing listens on. */
export interface RefusingDestination {
  rtmpUrl: string;
}

/** What `silent-destination` answers: an allowed destination whose listener accepts the connection and never speaks RTMP. */
export interface SilentDestination {
  rtmpUrl: string;
}

/** What `start-request` answers (wrapped: a command answering null counts as not handled). */
export interface StartRequestAnswer {
  /** The start request that asked for the stream, or null if none did. */
  request: StartRequest | null;
}

/** A BroadcastServer on its own http server, with every TCP connection tracked so it can be cut. */
interface Stack {
  origin: string;
  /** A loopback TCP proxy in front of the server, whose `cut(ms)` is a network blip. */
  proxy: TcpProxy;
  /** Cuts every connection at once, as a crashed server would, then shuts down. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** What the server saw of one start. */
interface SeenStart {
  request: StartRequest;
  /** Resolves once the server has seen the client leave and has finished the broadcast, if it started one. */
  over: Promise<void>;
}

/** Every start the server's hook saw, by the destination the client asked for. */
type SeenStarts = Map<string, SeenStart>;

/** What a test client may put in its handshake `auth` to have the server treat it badly. */
interface NetworkTrouble {
  /** Its chunks are never acknowledged: a network too slow. */
  stallData?: boolean;
  /** Each chunk arrives this much later, as over a long link, so some are always on their way; those still on their way when the connection drops are lost. */
  dataDelayMs?: number;
  /** Its resume carries a token the server refuses. */
  wrongResumeToken?: boolean;
  /** Its `stop` never reaches the server, which therefore never answers it. */
  ignoreStop?: boolean;
}

/** What every BroadcastServer of the plugin shares: its page, its destinations, what it saw. */
interface StackOptions {
  pageOrigin: string;
  allowedDestinations: string[];
  starts: SeenStarts;
}

async function startStack({ pageOrigin, allowedDestinations, starts }: StackOptions): Promise<Stack> {
  const http: Server = createServer();
  const connections = new Set<Socket>();
  http.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  // Each broadcast's end, from its start: `session-end` comes once ffmpeg exited and the client was told.
  const finishes = new Map<string, { done: Promise<void>; resolve(): void }>();
  // Awaits the disconnect first: a broadcast that starts at all has started by then.
  const broadcastOver = async (socket: BroadcastSocket, sessionId: string): Promise<void> => {
    if (socket.connected) await new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
    await finishes.get(sessionId)?.done;
  };
  const broadcaster = new BroadcastServer(http, {
    allowedDestinations,
    cors: { origin: pageOrigin },
    // Both opt-in features on: tests read ffmpeg's lines and errors' details, none relies on their absence.
    sendFfmpegOutput: true,
    sendErrorDetails: true,
    // Quick reconnections of a dropped destination (0.2, 0.4, 0.8 s), so tests of it stay short.
    destinationRetryDelayMs: 200,
    // Firefox's broadcasts are transcoded (about half a core each); with the Node suite running
    // beside (scripts/test-suites.sh) a transcode can fall seconds behind, and at stop it must
    // flush all of it: more than the default 5 s would end a clean stop with an error.
    stopTimeoutMs: 20_000,
    // A third of the default 10 s, so the tests of a destination that never answers end sooner (the
    // RTMP server here is on loopback: it answers in milliseconds; an idle ffmpeg waiting for media
    // is not an I/O operation that times out).
    destinationTimeoutMs: 3_000,
    hooks: {
      async start({ auth, request, socket, sessionId }) {
        for (const url of [request.rtmpUrl ?? []].flat()) starts.set(url, { request, over: broadcastOver(socket, sessionId) });
        if (auth.refuse) throw new BroadcastError('UNAUTHORIZED', 'Refused by test hook');
        // A hook that hangs: the server answers only once the client has given up and left.
        if (auth.holdStart) {
          await new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
          throw new BroadcastError('UNAUTHORIZED', 'The test hook held the start until the client left');
        }
        // A hook choosing a destination the server cannot use: INTERNAL, with the reason as `detail`.
        if (auth.unusableDestination) return { rtmpUrl: 'http://127.0.0.1/live/not-rtmp' };
      },
    },
    // BROADCAST_LOG=debug prints what the server did; the last lines are kept for `server-log` anyway.
    logger: remember(process.env.BROADCAST_LOG !== undefined),
    logLevel: (process.env.BROADCAST_LOG as 'debug' | undefined) ?? 'info',
  });
  broadcaster.on('session-start', ({ sessionId }) => {
    let resolve = () => {};
    const done = new Promise<void>((settle) => (resolve = settle));
    finishes.set(sessionId, { done, resolve });
  });
  broadcaster.on('session-end', ({ sessionId }) => finishes.get(sessionId)?.resolve());
  broadcaster.io.on('connection', (socket) => {
    const { stallData, dataDelayMs, wrongResumeToken, ignoreStop } = socket.handshake.auth as NetworkTrouble;
    if (ignoreStop) {
      socket.use(([event], next) => {
        if (event !== 'stop') next();
      });
    } else if (wrongResumeToken) {
      socket.use(([event, request], next) => {
        if (event === 'resume') (request as { resumeToken: string }).resumeToken = 'wrong';
        next();
      });
    } else if (stallData) {
      socket.use(([event], next) => {
        if (event !== 'data') next();
      });
    } else if (dataDelayMs) {
      socket.use(([event], next) => {
        if (event !== 'data') return next();
        setTimeout(() => {
          if (socket.connected) next();
        }, dataDelayMs);
      });
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const proxy = await startTcpProxy(port);
  const close = async () => {
    await proxy.close();
    await broadcaster.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    proxy,
    async kill() {
      // Refuse new connections first: a client reconnecting while the broadcasts end would be
      // told the server is shutting down, where a killed server tells it nothing.
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      await proxy.close();
      await broadcaster.close();
      await stopped;
    },
    close,
  };
}

/** The servers' last log lines (info and up unless BROADCAST_LOG asks for more), for `server-log`. */
const recentLog: string[] = [];
const RECENT_LOG_LINES = 300;

/** A logger that keeps the last lines in `recentLog`, and prints them too when `print`. */
function remember(print: boolean): Logger {
  const keep = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    const line = `${new Date().toISOString().slice(11, 23)} ${level} ${message} ${JSON.stringify(fields ?? {})}`;
    recentLog.push(line);
    if (recentLog.length > RECENT_LOG_LINES) recentLog.shift();
    if (print) console.log(`[rtmp-broadcaster] ${line}`);
  };
  return { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

/** A loopback port nothing listens on, so a destination there refuses every connection. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A loopback listener that accepts connections and never answers: an RTMP handshake there hangs. */
async function silentListener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Starts the servers with web-test-runner and answers the page's commands. */
export function broadcastServerPlugin(): TestRunnerPlugin {
  let rtmp: RtmpServer | undefined;
  let stack: Stack | undefined;
  let stackOptions: StackOptions | undefined;
  // Outlives the stacks: a page may ask about a broadcast while `kill-server` replaces its server.
  const starts: SeenStarts = new Map();
  /** Where `refusing-destination` points: allowed by the server, refused by the network. */
  let refusingPrefix: string | undefined;
  /** Where `silent-destination` points: allowed by the server, a listener that never speaks RTMP. */
  let silent: { prefix: string; close(): Promise<void> } | undefined;

  const running = () => {
    if (!rtmp || !stack || !stackOptions || !refusingPrefix) throw new Error('The broadcast test servers are not running.');
    return { rtmp, stack, stackOptions, refusingPrefix };
  };

  return {
    name: 'broadcast-server',

    async serverStart({ config }) {
      rtmp = await startRtmpServer();
      refusingPrefix = `rtmp://127.0.0.1:${await closedPort()}/live/`;
      const listener = await silentListener();
      silent = { prefix: `rtmp://127.0.0.1:${listener.port}/live/`, close: listener.close };
      stackOptions = {
        pageOrigin: `${config.http2 ? 'https' : 'http'}://${config.hostname}:${config.port}`,
        allowedDestinations: [rtmp.url(''), refusingPrefix, silent.prefix],
        starts,
      };
      stack = await startStack(stackOptions);
    },

    async serverStop() {
      await stack?.close();
      await rtmp?.close();
      await silent?.close();
    },

    async executeCommand({ command, payload }) {
      switch (command) {
        case 'broadcast-config': {
          const { rtmp, stack } = running();
          const { stream, viaProxy } = payload as BroadcastConfigRequest;
          const abrCappedMs = Number(process.env.ABR_CAPPED_MS) || undefined;
          return {
            server: viaProxy ? stack.proxy.origin : stack.origin,
            rtmpUrl: rtmp.url(stream),
            ...(abrCappedMs ? { abrCappedMs } : {}),
          } satisfies BroadcastConfig;
        }
        case 'probe-recording': {
          const { stream } = payload as { stream: string };
          const file = await running().rtmp.recording(stream);
          const [probed, keyframes, packets] = await Promise.all([probe(file), keyframeTimes(file), videoPacketTimes(file)]);
          return { ...probed, keyframeTimes: keyframes, videoPacketTimes: packets } satisfies RecordingProbe;
        }
        case 'probe-levels': {
          // Decodes what the RTMP server recorded: every video frame's brightness, every audio frame's peak.
          const { stream, crop } = payload as { stream: string; crop?: string };
          const file = await running().rtmp.recording(stream);
          const [frames, audio] = await Promise.all([lumaTimeline(file, crop), loudnessTimeline(file)]);
          return {
            frames,
            audio: audio.map(({ time, peakDb }) => ({ time, peakDb: Number.isFinite(peakDb) ? peakDb : null })),
          } satisfies LevelsAnswer;
        }
        case 'rtmp-events': {
          const { stream } = payload as { stream: string };
          const calls = running()
            .rtmp.events.filter((event) => event.name === stream)
            .map((event) => event.call);
          return { calls } satisfies RtmpEventsAnswer;
        }
        case 'blip': {
          // Every connection through the proxy drops, and new ones are refused for `ms`.
          const { ms } = payload as { ms: number };
          running().stack.proxy.cut(ms);
          return true;
        }
        case 'throttle-upload': {
          // Caps what goes from the pages to the server through the proxy; null lifts the cap.
          const { bitsPerSecond } = payload as { bitsPerSecond: number | null };
          running().stack.proxy.throttleUpload(bitsPerSecond ?? undefined);
          return true;
        }
        case 'start-request': {
          // What the page's client asked the server for when it started publishing `stream`.
          const { stream } = payload as { stream: string };
          return { request: starts.get(running().rtmp.url(stream))?.request ?? null } satisfies StartRequestAnswer;
        }
        case 'refusing-destination': {
          // The server allows it, but ffmpeg's connection there is refused.
          const { stream } = payload as { stream: string };
          return { rtmpUrl: `${running().refusingPrefix}${stream}` } satisfies RefusingDestination;
        }
        case 'silent-destination': {
          // The server allows it; ffmpeg connects there and waits for an RTMP handshake that never comes.
          const { stream } = payload as { stream: string };
          return { rtmpUrl: `${silent!.prefix}${stream}` } satisfies SilentDestination;
        }
        case 'broadcast-over': {
          // Answers once the server is done with the broadcast to `rtmpUrl` (at once if no start
          // for it reached the hook): after that it tells its client nothing more.
          const { rtmpUrl } = payload as { rtmpUrl: string };
          await starts.get(rtmpUrl)?.over;
          return true;
        }
        case 'cut-destination': {
          // The ingest restarts: it drops every publisher at once and comes straight back.
          const { rtmp } = running();
          await rtmp.stop();
          await rtmp.start();
          return true;
        }
        case 'destination-down': {
          // The ingest goes away until `destination-up`.
          await running().rtmp.stop();
          return true;
        }
        case 'destination-up': {
          await running().rtmp.start();
          return true;
        }
        case 'server-log': {
          // What the servers logged lately about `text`, such as a session id (stream names are redacted).
          const { text } = payload as { text?: string };
          return { lines: recentLog.filter((line) => !text || line.includes(text)) } satisfies ServerLogAnswer;
        }
        case 'kill-server': {
          // The page's broadcast loses its server mid-stream; later tests get a fresh one.
          const current = running();
          stack = undefined;
          await current.stack.kill();
          stack = await startStack(current.stackOptions);
          return true;
        }
        default:
          return undefined;
      }
    },
  };
}
