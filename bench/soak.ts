// `npm run soak -- --broadcasts 20 --minutes 10 --seed 1` (not in CI): the bench's server process
// and nginx-rtmp, N publishers at real-time pace that number their chunks, drop their connection at
// random (seeded) moments and come back within the server's resume window with `resume`, resending
// what ffmpeg did not get. Prints memory and process counts every minute; at the end checks that no
// ffmpeg or nginx outlived its broadcast or the run, and that every recording is one whole publish.
// Exits 1 if anything leaked or a broadcast broke. See bench/README.md, "Soak".
import { parseArgs } from 'node:util';
import { io } from 'socket.io-client';
import { DEFAULTS } from '../client/options.js';
import { REQUEST_DEFAULTS, type Ack, type EndedMessage, type ResumeAck, type StartAck } from '../client/protocol.js';
import { SendWindow } from '../client/send-window.js';
import type { ClientSocket } from '../client/socket.js';
import { startRtmpServer, type RtmpServer } from '../test/helpers/rtmp-server.js';
import { CACHE_DIR, makeFixture, type Fixture } from './fixtures.js';
import { childrenOf, readStat } from './proc.js';
import { ACK_TIMEOUT_MS, now } from './publisher.js';
import { readRecording } from './recording.js';
import { startServerProcess, type ServerProcess } from './server-control.js';
import { seededRandom } from './stats.js';
import { requireTools } from './tools.js';

const TIMESLICE_MS = 250;
const START_GAP_MS = 250;
/** The server's default resume window is 10 s: publishers stay away 0.5 to 8 s, leaving room for the reconnect itself. */
const AWAY_MS = [500, 8_000] as const;
/** No drop this close to the end of a broadcast (its last chunks and `stop` go out undisturbed). */
const QUIET_END_MS = 5_000;
const REPORT_EVERY_MS = 60_000;
/** A recording's frames and durations may differ from what was sent by this much (ffmpeg's start and end). */
const TOLERANCE = 0.02;

const { values: args } = parseArgs({
  options: {
    broadcasts: { type: 'string', default: '20' },
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    /** Mean seconds between two drops of one broadcast; the first comes within this many seconds. */
    'drop-every': { type: 'string', default: '45' },
  },
});
const BROADCASTS = Number(args.broadcasts);
const MINUTES = Number(args.minutes);
const SEED = Number(args.seed);
const DROP_EVERY_MS = Number(args['drop-every']) * 1000;
for (const [name, value] of [
  ['broadcasts', BROADCASTS],
  ['minutes', MINUTES],
  ['seed', SEED],
  ['drop-every', DROP_EVERY_MS],
] as const) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
}

const began = Date.now();
const stamp = () => {
  const s = Math.round((Date.now() - began) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
const log = (line: string) => console.log(`[${stamp().padStart(5)}] ${line}`);
const mb = (bytes: number) => `${Math.round(bytes / 1e5) / 10} MB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const random = seededRandom(SEED);
const between = (min: number, max: number) => min + random() * (max - min);

const counters = { resumes: 0, resumesFailed: 0, drops: 0 };

/**
 * A browser on a flaky network: publishes `fixture` with sequence numbers at real-time pace
 * (BroadcastClient's send window: 1 MiB unacknowledged, one chunk always allowed), drops its socket
 * at random moments, and after a random absence connects anew, resumes and resends after `lastSeq`.
 */
class ResumingPublisher {
  readonly stream: string;
  error: string | undefined;
  drops = 0;
  resumes = 0;
  startAckAt = NaN;
  stoppedAt = NaN;
  readonly #origin: string;
  readonly #fixture: Fixture;
  readonly #rtmpUrl: string;
  #socket: ClientSocket | undefined;
  /** Bumped at every drop: acks and events of an older socket are ignored. */
  #generation = 0;
  #session: { sessionId: string; resumeToken: string } | undefined;
  #dueAt: number[] = [];
  /** Chunks whose media has been "recorded" (are due); a chunk's seq is its index in the fixture. */
  #recorded = 0;
  readonly #window = new SendWindow<Buffer>(DEFAULTS.maxInFlightBytes);
  #dropTimer: NodeJS.Timeout | undefined;
  #chunkTimer: NodeJS.Timeout | undefined;
  #done: (() => void) | undefined;

  constructor(origin: string, fixture: Fixture, stream: string, rtmpUrl: string) {
    this.#origin = origin;
    this.#fixture = fixture;
    this.stream = stream;
    this.#rtmpUrl = rtmpUrl;
  }

  /** Connects, starts, streams every chunk (through drops), then stops; resolves when the broadcast is over. */
  async run(): Promise<void> {
    try {
      await this.#connect();
      const { mimeType, chunks } = this.#fixture;
      const answer: StartAck = await this.#socket!.timeout(ACK_TIMEOUT_MS).emitWithAck('start', {
        mimeType,
        rtmpUrl: this.#rtmpUrl,
        ...REQUEST_DEFAULTS,
      });
      this.startAckAt = now();
      if (!answer.ok) throw new Error(`start: ${answer.error.code} ${answer.error.message}`);
      this.#session = { sessionId: answer.sessionId, resumeToken: answer.resumeToken };
      const first = chunks[0]!;
      const recordingBegan = this.startAckAt - (first.endMs - first.startMs);
      this.#dueAt = chunks.map((chunk) => recordingBegan + chunk.endMs - first.startMs);
      const done = new Promise<void>((resolve) => (this.#done = resolve));
      this.#scheduleChunk();
      this.#scheduleDrop(between(5_000, DROP_EVERY_MS));
      await done;
      clearTimeout(this.#dropTimer);
      clearTimeout(this.#chunkTimer);
      if (this.error) return;
      const stopped: Ack = await this.#socket!.timeout(ACK_TIMEOUT_MS).emitWithAck('stop');
      this.stoppedAt = now();
      if (!stopped.ok) throw new Error(`stop: ${stopped.error.code} ${stopped.error.message}`);
    } catch (caught) {
      this.#fail(caught instanceof Error ? caught.message : String(caught));
    } finally {
      clearTimeout(this.#dropTimer);
      clearTimeout(this.#chunkTimer);
      this.#socket?.disconnect();
    }
  }

  #connect(): Promise<void> {
    const socket: ClientSocket = io(this.#origin, { transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false });
    const generation = this.#generation;
    this.#socket = socket;
    socket.on('ended', (message: EndedMessage) => {
      if (generation === this.#generation && message.error) this.#fail(`ended: ${message.error.code} ${message.error.message}`);
    });
    socket.on('disconnect', (reason) => {
      if (generation === this.#generation && reason !== 'io client disconnect' && !this.#finished()) {
        this.#fail(`the server dropped the connection (${reason})`);
      }
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
      socket.connect();
    });
  }

  #finished(): boolean {
    return this.error !== undefined || (this.#recorded === this.#fixture.chunks.length && this.#window.empty);
  }

  #scheduleChunk(): void {
    const due = this.#dueAt[this.#recorded];
    if (due === undefined || this.error) return;
    this.#chunkTimer = setTimeout(
      () => {
        this.#window.push(this.#fixture.chunks[this.#recorded++]!.data);
        this.#send();
        this.#scheduleChunk();
      },
      Math.max(0, due - now()),
    );
  }

  #scheduleDrop(inMs: number): void {
    const lastDue = this.#dueAt.at(-1)!;
    if (now() + inMs > lastDue - QUIET_END_MS) return;
    this.#dropTimer = setTimeout(() => void this.#dropAndResume(), inMs);
  }

  /** Loses the connection (a clean namespace disconnect or the transport closing under it), stays away, resumes. */
  async #dropAndResume(): Promise<void> {
    if (this.#finished()) return;
    this.#generation++;
    this.drops++;
    counters.drops++;
    const old = this.#socket!;
    if (random() < 0.5) old.disconnect();
    else old.io.engine.close();
    old.removeAllListeners();
    this.#window.requeue();
    this.#socket = undefined;
    await sleep(between(AWAY_MS[0], AWAY_MS[1]));
    try {
      await this.#connect();
      const answer: ResumeAck = await this.#socket!.timeout(ACK_TIMEOUT_MS).emitWithAck('resume', this.#session!);
      if (!answer.ok) throw new Error(`${answer.error.code} ${answer.error.message}`);
      this.resumes++;
      counters.resumes++;
      // ffmpeg has every chunk up to lastSeq; whatever followed is sent again.
      this.#window.dropThrough(answer.lastSeq);
      this.#send();
      this.#scheduleDrop(between(10_000, Math.max(10_000, 2 * DROP_EVERY_MS - 10_000)));
    } catch (caught) {
      counters.resumesFailed++;
      this.#fail(`resume: ${caught instanceof Error ? caught.message : String(caught)}`);
    }
  }

  /** Sends every recorded chunk the window allows, in order, on the current connection; done once all are acknowledged. */
  #send(): void {
    const socket = this.#socket;
    if (!socket?.connected || !this.#session) return;
    while (!this.error) {
      const chunk = this.#window.take();
      if (!chunk) break;
      const { seq } = chunk;
      socket.timeout(ACK_TIMEOUT_MS).emit('data', chunk.bytes, { seq }, (timeout: Error | null, answer: Ack) => {
        // False for a chunk sent on a connection since dropped: it went back to the window.
        if (!this.#window.acknowledge(chunk)) return;
        if (timeout) return this.#fail(`data ${seq}: no ack in ${ACK_TIMEOUT_MS} ms`);
        if (!answer.ok) return this.#fail(`data ${seq}: ${answer.error.code} ${answer.error.message}`);
        this.#send();
      });
    }
    if (this.#finished()) this.#done?.();
  }

  #fail(error: string): void {
    this.error ??= error;
    this.#done?.();
  }
}

/** Every process the run started, by pid, with the name it must still carry to count as the same process. */
const tracked = new Map<number, string>();
const track = (pid: number) => {
  const comm = readStat(pid)?.comm;
  if (comm && !tracked.has(pid)) tracked.set(pid, comm);
};
const alive = (pid: number, comm: string) => {
  const stat = readStat(pid);
  return stat !== undefined && stat.comm === comm && stat.state !== 'Z';
};

async function report(server: ServerProcess, publishers: ResumingPublisher[]): Promise<{ ffmpegs: number }> {
  const sample = await server.sample({ gc: true });
  const ffmpegs = childrenOf(server.pid, 'ffmpeg');
  for (const f of ffmpegs) track(f.pid);
  const broken = publishers.filter((p) => p.error).length;
  log(
    `server RSS ${mb(sample.memory.rss)}, heap ${mb(sample.memory.heapUsed)} (after GC); ` +
      `ffmpeg ${ffmpegs.length}, ${mb(ffmpegs.reduce((total, f) => total + f.rssBytes, 0))} RSS; ` +
      `live sessions ${sample.sessions}; drops ${counters.drops}, resumes ${counters.resumes} done / ${counters.resumesFailed} failed` +
      (broken ? `; ${broken} broadcast(s) broken` : '') +
      `; loop delay p99 ${sample.loopDelayMs.p99} ms`,
  );
  return { ffmpegs: ffmpegs.length };
}

async function main(): Promise<number> {
  requireTools();
  const problems: string[] = [];
  let rtmp: RtmpServer | undefined;
  let server: ServerProcess | undefined;
  const cleanUp = async () => {
    await server?.close().catch(() => {});
    await rtmp?.close().catch(() => {});
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  }

  try {
    log(`soak: ${BROADCASTS} broadcasts × ${MINUTES} min, seed ${SEED}, a drop every ~${DROP_EVERY_MS / 1000} s per broadcast`);
    log(`fixture: ${MINUTES * 60} s of H.264 + Opus (encoded once into ${CACHE_DIR})`);
    const fixture = await makeFixture('h264', Math.round(MINUTES * 60), TIMESLICE_MS);
    log(`fixture ready: ${fixture.chunks.length} chunks, ${fixture.durationMs / 1000} s, ${fixture.videoFrames.length} frames`);

    rtmp = await startRtmpServer();
    server = await startServerProcess({ allowedPrefix: rtmp.url('') });
    const nginx = childrenOf(process.pid, 'nginx');
    for (const n of nginx) track(n.pid);
    track(server.pid);
    log(`server pid ${server.pid}, nginx pid ${nginx.map((n) => n.pid).join(', ') || '?'}`);
    const baseline = await server.sample({ gc: true });
    log(`server before any broadcast: RSS ${mb(baseline.memory.rss)}, heap ${mb(baseline.memory.heapUsed)}`);

    const prefix = `soak${SEED}`;
    const publishers = Array.from(
      { length: BROADCASTS },
      (_, i) => new ResumingPublisher(server!.origin, fixture, `${prefix}-${i}`, rtmp!.url(`${prefix}-${i}`)),
    );
    const runs = publishers.map(async (publisher, i) => {
      await sleep(i * START_GAP_MS);
      await publisher.run();
      if (publisher.error) log(`${publisher.stream} BROKE: ${publisher.error}`);
    });

    // Watch ffmpeg pids every 2 s (to check each is gone at the end) and report every minute.
    const watcher = setInterval(() => {
      const s = server;
      if (s) for (const f of childrenOf(s.pid, 'ffmpeg')) track(f.pid);
    }, 2_000);
    let maxFfmpegs = 0;
    const reporter = setInterval(() => {
      void report(server!, publishers)
        .then(({ ffmpegs }) => (maxFfmpegs = Math.max(maxFfmpegs, ffmpegs)))
        .catch(() => {});
    }, REPORT_EVERY_MS);
    await Promise.all(runs);
    clearInterval(reporter);
    clearInterval(watcher);

    // Every broadcast has stopped: the server must hold no session and no ffmpeg.
    let left = childrenOf(server.pid, 'ffmpeg');
    for (let waited = 0; left.length > 0 && waited < 5_000; waited += 250) {
      await sleep(250);
      left = childrenOf(server.pid, 'ffmpeg');
    }
    log('all broadcasts over:');
    const after = await report(server, publishers);
    const end = await server.sample({ gc: true });
    if (after.ffmpegs > 0)
      problems.push(`${after.ffmpegs} ffmpeg(s) still running after every broadcast stopped: ${left.map((f) => f.pid).join(', ')}`);
    if (end.sessions > 0) problems.push(`${end.sessions} session(s) still live after every broadcast stopped`);
    if (maxFfmpegs > BROADCASTS) problems.push(`up to ${maxFfmpegs} ffmpeg at once for ${BROADCASTS} broadcasts`);
    log(
      `server heap ${mb(baseline.memory.heapUsed)} before, ${mb(end.memory.heapUsed)} after (after GC); RSS ${mb(baseline.memory.rss)} → ${mb(end.memory.rss)}`,
    );

    // Recordings: one publish per broadcast, every frame and the whole duration.
    const publishCounts = new Map<string, number>();
    for (const event of rtmp.events) if (event.call === 'publish') publishCounts.set(event.name, (publishCounts.get(event.name) ?? 0) + 1);
    const sentSeconds = fixture.durationMs / 1000;
    for (const publisher of publishers) {
      const name = publisher.stream;
      if (publisher.error) {
        problems.push(`${name}: ${publisher.error}`);
        continue;
      }
      const publishes = publishCounts.get(name) ?? 0;
      const file = await rtmp.recording(name, 30_000);
      const got = await readRecording(file);
      const wallSeconds = (publisher.stoppedAt - publisher.startAckAt) / 1000;
      const off = (value: number, expected: number) => Math.abs(value - expected) / expected;
      const line =
        `${name}: ${publisher.drops} drop(s), ${publisher.resumes} resume(s), ${publishes} publish(es); ` +
        `recording ${got.videoFrames}/${fixture.videoFrames.length} frames, video ${got.videoSeconds.toFixed(2)} s, ` +
        `audio ${got.audioSeconds.toFixed(2)} s of ${sentSeconds} s sent; wall time start→stop ${wallSeconds.toFixed(1)} s`;
      const wrong = [
        publishes !== 1 && `${publishes} publishes`,
        // More frames than sent would mean a resent chunk reached ffmpeg twice.
        (got.videoFrames > fixture.videoFrames.length || off(got.videoFrames, fixture.videoFrames.length) > TOLERANCE) && 'frames',
        off(got.videoSeconds, sentSeconds) > TOLERANCE && 'video duration',
        off(got.audioSeconds, sentSeconds) > TOLERANCE && 'audio duration',
        // A drop just before the end delays the stop by up to one absence.
        off(got.videoSeconds, wallSeconds) > Math.max(TOLERANCE, (AWAY_MS[1] + 2_000) / 1000 / wallSeconds) && 'duration vs wall time',
      ].filter(Boolean);
      log(`${wrong.length ? 'INCOMPLETE' : 'ok'} ${line}${wrong.length ? ` (${wrong.join(', ')})` : ''}`);
      if (wrong.length) problems.push(`${name}: recording wrong (${wrong.join(', ')})`);
    }

    const serverLogs = server.logs;
    if (serverLogs.length) {
      log(`server warnings/errors: ${serverLogs.length}`);
      for (const entry of serverLogs.slice(0, 5)) log(`  ${entry.level}: ${entry.message}`);
    }

    // Stop everything, then look for anything still running by pid.
    await server.close();
    server = undefined;
    await rtmp.close();
    rtmp = undefined;
    await sleep(500);
    const leaked = [...tracked].filter(([pid, comm]) => alive(pid, comm));
    const ffmpegsSeen = [...tracked.values()].filter((comm) => comm === 'ffmpeg').length;
    log(
      `processes: ${ffmpegsSeen} ffmpeg seen over the run, plus nginx and the server; leaked after stop: ${leaked.length}` +
        (leaked.length ? ` (${leaked.map(([pid, comm]) => `${comm} ${pid}`).join(', ')})` : ''),
    );
    if (leaked.length) problems.push(`${leaked.length} process(es) leaked`);
    if (counters.resumesFailed) problems.push(`${counters.resumesFailed} resume(s) failed`);
    if (counters.resumes === 0) log('warning: no resume happened (broadcasts too short for --drop-every?)');
  } finally {
    await cleanUp();
  }

  if (problems.length) {
    log(`FAILED: ${problems.length} problem(s)`);
    for (const problem of problems) log(`  ${problem}`);
    return 1;
  }
  log(`passed: ${BROADCASTS} broadcasts, ${counters.resumes} resumes, nothing leaked, every recording whole`);
  return 0;
}

process.exitCode = await main();
