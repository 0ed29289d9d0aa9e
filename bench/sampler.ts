// Samples the server process, its ffmpeg children and nginx from /proc while a step runs (bench/step.ts),
// and turns two samples into CPU per media-second per broadcast.
import { cpus } from 'node:os';
import { childrenOf, machineCpu, privateBytes, readStat } from './proc.js';
import { now } from './publisher.js';
import { round, sum } from './stats.js';

const SAMPLE_EVERY_MS = 500;

/** CPU-seconds per media-second per broadcast (0.01 = 1 % of one core for each live broadcast). */
export interface CpuPerBroadcast {
  serverNode: number;
  ffmpeg: number;
  nginx: number;
  publishers: number;
  /** Share of all cores busy (the whole machine), in %. */
  machineBusyPercent: number;
  /** Share of all cores that the server, ffmpeg, nginx and the publishers used, in %: the rest of `machineBusyPercent` is other load. */
  measuredPercent: number;
}

/** CPU counters of everything in the step at one moment, in CPU-seconds. */
export interface CpuSnapshot {
  at: number;
  server: number;
  /** Per ffmpeg pid. */
  ffmpeg: Map<number, number>;
  nginx: number;
  publishers: number;
  machine: { busy: number; total: number };
}

/** Samples the server and its ffmpeg children; ffmpeg's CPU is read while it lives, since it exits at stop. */
export class Sampler {
  /** Latest CPU-seconds, RSS and private memory of every ffmpeg seen. */
  readonly ffmpeg = new Map<number, { cpuSeconds: number; rssBytes: number; privateBytes?: number }>();
  serverPeakRss = 0;
  readonly #serverPid: number;
  readonly #nginxPid: number | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(serverPid: number, nginxPid: number | undefined) {
    this.#serverPid = serverPid;
    this.#nginxPid = nginxPid;
    this.#timer = setInterval(() => this.snapshot(false), SAMPLE_EVERY_MS);
  }

  snapshot(withPrivate: boolean): CpuSnapshot {
    const server = readStat(this.#serverPid);
    if (server) this.serverPeakRss = Math.max(this.serverPeakRss, server.rssBytes);
    for (const child of childrenOf(this.#serverPid, 'ffmpeg')) {
      const privateSize = withPrivate ? privateBytes(child.pid) : undefined;
      this.ffmpeg.set(child.pid, {
        cpuSeconds: child.cpuSeconds,
        rssBytes: child.rssBytes,
        ...(privateSize === undefined ? {} : { privateBytes: privateSize }),
      });
    }
    const own = process.cpuUsage();
    return {
      at: now(),
      server: server?.cpuSeconds ?? NaN,
      ffmpeg: new Map([...this.ffmpeg].map(([pid, seen]) => [pid, seen.cpuSeconds])),
      nginx: this.#nginxPid === undefined ? NaN : (readStat(this.#nginxPid)?.cpuSeconds ?? NaN),
      publishers: (own.user + own.system) / 1e6,
      machine: machineCpu(),
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** CPU per media-second per broadcast between two snapshots, `mediaSeconds` being all broadcasts' media together. */
export function cpuBetween(from: CpuSnapshot, to: CpuSnapshot, mediaSeconds: number): CpuPerBroadcast {
  const per = (seconds: number) => round(seconds / mediaSeconds, 4);
  const ffmpeg = sum([...to.ffmpeg].map(([pid, seconds]) => seconds - (from.ffmpeg.get(pid) ?? 0)));
  const measured = to.server - from.server + ffmpeg + (to.nginx - from.nginx) + (to.publishers - from.publishers);
  return {
    serverNode: per(to.server - from.server),
    ffmpeg: per(ffmpeg),
    nginx: per(to.nginx - from.nginx),
    publishers: per(to.publishers - from.publishers),
    machineBusyPercent: round(((to.machine.busy - from.machine.busy) / (to.machine.total - from.machine.total)) * 100, 1),
    measuredPercent: round((measured / (((to.at - from.at) / 1000) * cpus().length)) * 100, 1),
  };
}
