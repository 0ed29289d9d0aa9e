// `npm run bench` (up to 19 minutes), `-- --quick` (under a minute), `-- --capacity` (the ramps alone), `-- --herd` (the start herd alone)
// or `-- --shed` (150 offered at once to a load-shedding server, bench/shed.ts): the real
// BroadcastServer in its own process, a real nginx-rtmp on loopback, and simulated browsers in this
// process. Ramps the number of H.264 broadcasts until real time is lost, sets transcoding beside
// passthrough, times a herd of starts; prints tables and writes bench/results.json (not committed).
// How each figure is measured: bench/README.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { rename, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startRtmpServer, type RtmpServer } from '../test/helpers/rtmp-server.js';
import { comparisonTable, runComparison, type Comparison, type ComparisonResult } from './compare.js';
import { destinationsTable, runDestinationsBench } from './destinations.js';
import { CACHE_DIR, firstSeconds, makeFixture, type Fixture } from './fixtures.js';
import { cpuRatio, modeTable, realtimeTable, resourceTable } from './report.js';
import { startServerProcess, type ServerProcess } from './server-control.js';
import { percentile } from './stats.js';
import { runShedBench } from './shed.js';
import { runStep, type StepResult } from './step.js';

interface Plan {
  name: 'quick' | 'full' | 'capacity';
  /** Media each publisher sends per ramp step: long enough for a steady state after the start-ups. */
  seconds: number;
  /** Media per transcode step. */
  shortSeconds: number;
  /** Passthrough publisher counts, in order; the ramp stops at the first that loses real time. */
  ramp: number[];
  /** Publisher counts of the ramp where browsers send AAC in fragmented MP4 (nothing is encoded). */
  aacRamp: number[];
  /** Transcode publisher counts (each also in `ramp`, for the side-by-side). */
  transcode: number[];
  /** N of the passthrough steps with stereo Opus (the mono microphone's ramp is `ramp`). */
  stereo: number[];
  /** Run a step that lost real time once more before calling it the ceiling (the machine is noisy). */
  confirmMisses: boolean;
  /** The ramp stops early rather than run past this (the rest of the plan included). */
  budgetMs: number;
  /** Publishers in the start herd (all started within one second), media seconds each. */
  herd: { publishers: number; seconds: number };
}

const PLANS: Record<Plan['name'], Plan> = {
  // The two ramps alone, to find the real ceilings: Opus in (Chromium, Firefox) and AAC in (Safari).
  capacity: {
    name: 'capacity',
    seconds: 20,
    shortSeconds: 12,
    ramp: [10, 20, 30, 40, 50, 60, 70, 80, 100],
    aacRamp: [40, 80, 120, 140, 160, 180, 200, 240],
    stereo: [],
    transcode: [],
    confirmMisses: true,
    budgetMs: 14 * 60_000,
    herd: { publishers: 0, seconds: 0 },
  },
  quick: {
    name: 'quick',
    seconds: 5,
    shortSeconds: 4,
    ramp: [1, 10],
    aacRamp: [10],
    stereo: [],
    transcode: [1],
    confirmMisses: false,
    // A fixed plan: every step runs (the ramp's time estimates would skip it; the run takes ~40 s).
    budgetMs: Number.POSITIVE_INFINITY,
    herd: { publishers: 10, seconds: 3 },
  },
  full: {
    name: 'full',
    seconds: 20,
    shortSeconds: 12,
    ramp: [1, 4, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200],
    aacRamp: [10, 40, 80, 120, 150, 200],
    stereo: [10],
    transcode: [1, 4],
    confirmMisses: true,
    // The ramps must reach their ceilings: what follows them (stereo, transcode, herd) takes a few minutes.
    budgetMs: 19 * 60_000,
    herd: { publishers: 100, seconds: 6 },
  },
};

/** Length of the broadcast that warms each server process up (JIT, lazy modules, first spawn). */
const WARM_UP_SECONDS = 2;

const resultsFile = (plan: Plan['name']) =>
  fileURLToPath(new URL(plan === 'capacity' ? './results-capacity.json' : './results.json', import.meta.url));
const began = Date.now();
const elapsed = () => `${Math.round((Date.now() - began) / 1000)} s`;
const log = (line: string) => console.log(`[${elapsed().padStart(5)}] ${line}`);

/** Rough wall time of one step (media, starts, stop, probing the recordings), to keep within the budget. */
const stepMs = (mediaSeconds: number, publishers: number) => mediaSeconds * 1000 + 4000 + publishers * 100;

function requireTools(): void {
  for (const [tool, args] of [
    ['ffmpeg', ['-version']],
    ['ffprobe', ['-version']],
    ['nginx', ['-v']],
    ['stdbuf', ['--version']],
  ] as const) {
    try {
      execFileSync(tool, args, { stdio: 'ignore' });
    } catch {
      throw new Error(`The bench needs \`${tool}\` on PATH (Debian: apt-get install ffmpeg nginx libnginx-mod-rtmp coreutils).`);
    }
  }
}

/** Wall time to start the ffmpeg binary and have it exit (`-version`): a floor under every broadcast's start. */
function ffmpegLaunchMs(): number {
  const times = Array.from({ length: 5 }, () => {
    const start = performance.now();
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
    return performance.now() - start;
  });
  return Math.round(percentile(times, 50));
}

/** Size of the CDN bundle as a browser downloads it (gzip -9), if `npm run build` made it. */
function bundleSize(): { file: string; bytes: number; gzipKb: number } | undefined {
  const file = fileURLToPath(new URL('../dist/rtmp-broadcaster.min.js', import.meta.url));
  if (!existsSync(file)) return undefined;
  const bytes = readFileSync(file);
  return {
    file: 'dist/rtmp-broadcaster.min.js',
    bytes: bytes.length,
    gzipKb: Math.round(gzipSync(bytes, { level: 9 }).length / 102.4) / 10,
  };
}

/** The static ffmpeg build @ffmpeg-installer ships (a devDependency), if it is installed and runs here. */
async function findStaticFfmpeg(): Promise<string | undefined> {
  try {
    const installer = (await import('@ffmpeg-installer/ffmpeg')) as { default?: { path: string }; path?: string };
    const path = installer.default?.path ?? installer.path;
    if (!path) return undefined;
    execFileSync(path, ['-version'], { stdio: 'ignore' });
    return path;
  } catch {
    return undefined;
  }
}

/** N starts within one second, with Debian's ffmpeg and (when installed) a static build. */
function herdComparison(publishers: number, rounds: number, staticFfmpeg: string | undefined): Comparison {
  return {
    title: `herd: ${publishers} starts within 1 s`,
    publishers,
    rounds,
    startGapMs: 1000 / Math.max(1, publishers - 1),
    sides: [
      { label: 'Debian ffmpeg (shared libraries)', config: {} },
      ...(staticFfmpeg ? [{ label: 'static ffmpeg (@ffmpeg-installer)', config: { ffmpegPath: staticFfmpeg } }] : []),
    ],
  };
}

function describeStep(step: StepResult): string {
  const core = (value: number) => `${Math.round(value * 1000) / 10}%`;
  const cpu = step.steadyCpu ?? step.cpu;
  const delay = step.delay ? `${step.delay.chunkToViewerMs.p50}/${step.delay.chunkToViewerMs.p95} ms` : '–';
  return (
    `${step.label} N=${step.publishers}: ${step.realtime.kept ? 'real time' : `LOST real time (${step.realtime.misses.join('; ')})`}, ` +
    `slowest ${step.realtime.minRatio}x, Node ${core(cpu.serverNode)} + ffmpeg ${core(cpu.ffmpeg)} of a core per broadcast, ` +
    `machine ${cpu.machineBusyPercent}% busy, start p50 ${step.startLatencyMs.p50} ms, delay p50/p95 ${delay}`
  );
}

/** Where the CPU went in `step` (steady state), as shares of the whole machine. */
function cpuShares(step: StepResult, cores: number): string {
  const cpu = step.steadyCpu ?? step.cpu;
  // In the steady state every broadcast streams one media-second per wall-second.
  const share = (perBroadcast: number) => `${Math.round(((perBroadcast * step.publishers) / cores) * 1000) / 10}%`;
  return (
    `server Node ${share(cpu.serverNode)}, ffmpeg ${share(cpu.ffmpeg)}, nginx ${share(cpu.nginx)}, ` +
    `publishers ${share(cpu.publishers)} of ${cores} cores; the machine was ${cpu.machineBusyPercent}% busy, ` +
    `${Math.round((cpu.machineBusyPercent - cpu.measuredPercent) * 10) / 10} points of it other processes`
  );
}

/**
 * Broadcasts the cores could carry at 100 % at the steady per-broadcast cost of `step`: with
 * everything on this machine (server, ffmpeg, nginx, publishers), and with the server alone.
 * Less noisy than the ramp on a shared machine, but optimistic: nothing runs well at 100 %.
 */
function projectedCapacity(step: StepResult, cores: number): { fromStep: number; allOnThisMachine: number; serverOnly: number } {
  const cpu = step.steadyCpu ?? step.cpu;
  return {
    fromStep: step.publishers,
    allOnThisMachine: Math.floor(cores / (cpu.serverNode + cpu.ffmpeg + cpu.nginx + cpu.publishers)),
    serverOnly: Math.floor(cores / (cpu.serverNode + cpu.ffmpeg)),
  };
}

async function main(): Promise<void> {
  const plan = PLANS[process.argv.includes('--quick') ? 'quick' : process.argv.includes('--capacity') ? 'capacity' : 'full'];
  requireTools();
  const servers = new Set<ServerProcess>();
  let rtmp: RtmpServer | undefined;
  const cleanUp = async () => {
    await Promise.all([...servers].map((server) => server.close().catch(() => {})));
    await rtmp?.close().catch(() => {});
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  }

  try {
    const cores = cpus().length;
    log(`${plan.name} run on ${cores} × ${cpus()[0]?.model.trim()}; fixtures in ${CACHE_DIR}`);
    const [h264, vp8, h264Aac] = await Promise.all([
      makeFixture('h264', plan.seconds, 250),
      makeFixture('vp8', plan.shortSeconds, 250),
      makeFixture('h264-aac', plan.seconds, 250),
    ]);
    const h264Stereo = plan.stereo.length > 0 ? await makeFixture('h264-stereo', plan.seconds, 250) : undefined;
    const fixtures = [h264, vp8, h264Aac, ...(h264Stereo ? [h264Stereo] : [])];
    for (const f of fixtures) {
      log(
        `fixture ${f.codec} ${f.timesliceMs} ms: ${f.chunks.length} chunks over ${f.durationMs / 1000} s, ` +
          `${Math.round(f.bitsPerSecond / 1000)} kb/s, ${Math.round(f.bytes / f.chunks.length / 1024)} KiB per chunk, ${f.videoFrames.length} frames`,
      );
    }

    const launchMs = ffmpegLaunchMs();
    log(`ffmpeg itself takes ${launchMs} ms to start and exit (-version)`);
    rtmp = await startRtmpServer();
    const allowedPrefix = rtmp.url('');
    const server = await startServerProcess({ allowedPrefix });
    servers.add(server);
    log(`server process pid ${server.pid} at ${server.origin}; nginx-rtmp on port ${rtmp.port}`);
    let stepCount = 0;
    const run = async (label: string, fixture: Fixture, publishers: number, on = server): Promise<StepResult> => {
      const step = await runStep({ label, server: on, rtmp: rtmp!, fixture, publishers, streamPrefix: `step${stepCount++}` });
      if (label !== 'warm-up') log(describeStep(step));
      return step;
    };
    const warmUp = (on: ServerProcess) => run('warm-up', firstSeconds(h264, WARM_UP_SECONDS), 2, on);
    await warmUp(server);

    // What runs after the ramp, so the ramp knows how much time it may take.
    const afterRamp =
      plan.transcode.reduce((total, n) => total + stepMs(plan.shortSeconds, n), 0) +
      plan.stereo.reduce((total, n) => total + stepMs(plan.seconds, n), 0) +
      2 * stepMs(plan.herd.seconds, plan.herd.publishers) +
      10_000;
    /** Steps `counts` up until a step loses real time (twice, in the full plan) or the budget would run out. */
    const ramp = async (label: string, fixture: Fixture, counts: number[], reserveMs: number) => {
      const steps: StepResult[] = [];
      let ceiling: { publishers: number; lostAt?: number; stoppedBy: string } = { publishers: 0, stoppedBy: 'end of the ramp' };
      for (const publishers of counts) {
        if (Date.now() - began + stepMs(fixture.durationMs / 1000, publishers) + reserveMs > plan.budgetMs) {
          ceiling.stoppedBy = `time budget (next step N=${publishers} not run)`;
          break;
        }
        let step = await run(label, fixture, publishers);
        if (!step.realtime.kept && plan.confirmMisses) {
          log(`N=${publishers} lost real time; running it once more to rule out noise`);
          step = await run(label, fixture, publishers);
        }
        steps.push(step);
        if (!step.realtime.kept) {
          ceiling = { publishers: ceiling.publishers, lostAt: publishers, stoppedBy: step.realtime.misses.join('; ') };
          break;
        }
        ceiling.publishers = publishers;
      }
      return { steps, ceiling };
    };
    // The AAC ramp gets room for its first steps whatever the Opus ramp took.
    const aacReserve = plan.aacRamp.slice(0, 3).reduce((total, n) => total + stepMs(plan.seconds, n), 0);
    const { steps: passthrough, ceiling } = await ramp('passthrough', h264, plan.ramp, afterRamp + aacReserve);
    const { steps: passthroughAac, ceiling: aacCeiling } = await ramp('passthrough, AAC in', h264Aac, plan.aacRamp, afterRamp);

    // The same media with stereo Opus: what a stereo source costs the AAC encoder.
    const stereo: StepResult[] = [];
    for (const publishers of plan.stereo) stereo.push(await run('passthrough, stereo Opus', h264Stereo!, publishers));

    const transcode: StepResult[] = [];
    for (const publishers of plan.transcode) transcode.push(await run('transcode', vp8, publishers));
    const modes = transcode.flatMap((step) => {
      const copy = passthrough.find((p) => p.publishers === step.publishers);
      return copy ? [{ publishers: step.publishers, copy, transcode: step }] : [];
    });

    // The start herd, with Debian's ffmpeg and a static build, each side in its own server process.
    const comparisons: ComparisonResult[] = [];
    const staticFfmpeg = await findStaticFfmpeg();
    const herd = herdComparison(plan.herd.publishers, 1, staticFfmpeg);
    if (herd.sides.length > 1 && plan.herd.publishers > 0) {
      comparisons.push(await runComparison(herd, firstSeconds(h264, plan.herd.seconds), rtmp, warmUp, 'cmp0-', log));
    }
    const serverLogs = [...servers].flatMap((s) => s.logs);
    await cleanUp();
    servers.clear();
    rtmp = undefined;

    const steps = [...passthrough, ...passthroughAac, ...stereo, ...transcode];
    console.log(`\n== Passthrough ramp and transcode: real time and latency ==\n${realtimeTable(steps)}`);
    console.log(`\n== CPU (% of one core per broadcast) and memory ==\n${resourceTable(steps)}`);
    if (modes.length) console.log(`\n== Passthrough vs transcode at the same N ==\n${modeTable(modes)}`);
    for (const comparison of comparisons) {
      console.log(`\n== ${comparison.title} (each side its own server process; rounds interleaved) ==\n${comparisonTable(comparison)}`);
    }
    const last = passthrough.at(-1);
    console.log(
      `\nPassthrough kept real time up to N=${ceiling.publishers}` +
        (ceiling.lostAt ? `; lost it at N=${ceiling.lostAt}: ${ceiling.stoppedBy}.` : ` (stopped by ${ceiling.stoppedBy}).`),
    );
    if (last) console.log(`CPU at N=${last.publishers}: ${cpuShares(last, cores)}.`);
    console.log(
      `With AAC from the browser (nothing encoded), passthrough kept real time up to N=${aacCeiling.publishers}` +
        (aacCeiling.lostAt ? `; lost it at N=${aacCeiling.lostAt}: ${aacCeiling.stoppedBy}.` : ` (stopped by ${aacCeiling.stoppedBy}).`),
    );
    const lastAac = passthroughAac.at(-1);
    if (lastAac) console.log(`CPU at N=${lastAac.publishers} with AAC in: ${cpuShares(lastAac, cores)}.`);
    const largestKept = passthrough.filter((step) => step.realtime.kept).at(-1);
    const capacity = largestKept && projectedCapacity(largestKept, cores);
    if (capacity) {
      console.log(
        `At N=${capacity.fromStep}'s steady cost per broadcast, ${cores} cores at 100 % would carry ${capacity.allOnThisMachine} broadcasts ` +
          `with publishers and nginx on the same machine, ${capacity.serverOnly} with the server alone.`,
      );
    }
    const bundle = bundleSize();
    if (bundle)
      console.log(`CDN bundle (${bundle.file}): ${bundle.gzipKb} KB gzipped, Lit and socket.io-client included (target: at most 30 KB).`);
    if (serverLogs.length) console.log(`Server warnings/errors: ${serverLogs.length}, first: ${serverLogs[0]!.message}`);

    const results = {
      plan: plan.name,
      startedAt: new Date(began).toISOString(),
      durationSeconds: Math.round((Date.now() - began) / 1000),
      machine: {
        cores,
        cpu: cpus()[0]?.model.trim(),
        memoryGb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        ffmpeg: execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n', 1)[0],
        ffmpegLaunchMs: launchMs,
      },
      units: {
        cpu: 'CPU-seconds per media-second per broadcast (0.01 = 1 % of one core)',
        times: 'milliseconds unless named otherwise',
      },
      fixtures: fixtures.map(({ codec, mimeType, timesliceMs, chunks, durationMs, bytes, bitsPerSecond, videoFrames }) => ({
        codec,
        mimeType,
        timesliceMs,
        chunks: chunks.length,
        meanChunkBytes: Math.round(bytes / chunks.length),
        durationMs,
        bitsPerSecond,
        videoFrames: videoFrames.length,
      })),
      bundle,
      ceiling,
      aacCeiling,
      capacity,
      passthrough,
      passthroughAac,
      stereo,
      transcode,
      modes: modes.map(({ publishers, copy, transcode: t }) => ({ publishers, transcodeOverPassthroughCpu: cpuRatio(copy, t) })),
      comparisons: comparisons.map(({ title, sides, steps: runs }) => ({ title, sides, steps: runs })),
      serverLogs: serverLogs.slice(0, 50),
    };
    // Raw samples are for pooling rounds; the summaries above hold what they say.
    const withoutSamples = (key: string, value: unknown) => (key === 'samples' || key === 'startLatencySamples' ? undefined : value);
    await writeFile(`${resultsFile(plan.name)}.tmp`, `${JSON.stringify(results, withoutSamples, 2)}\n`);
    await rename(`${resultsFile(plan.name)}.tmp`, resultsFile(plan.name));
    log(`wrote ${resultsFile(plan.name)}`);
  } finally {
    await cleanUp();
  }
}

/** `--destinations`: only what 1, 2 and 4 destinations (and a recording) cost a broadcast (bench/destinations.ts). */
async function destinations(): Promise<void> {
  requireTools();
  const results = await runDestinationsBench({ seconds: process.argv.includes('--quick') ? 6 : 15, log });
  console.log(
    `\n== CPU per broadcast by outputs (% of one core; H.264 passthrough, 2 broadcasts at once) ==\n${destinationsTable(results)}`,
  );
}

/** The value after `--name` on the command line, as a positive whole number. */
function numberArgument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index < 0 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new TypeError(`Expected \`--${name}\` to be a positive whole number, got \`${process.argv[index + 1]}\``);
  return value;
}

/** `--herd [--publishers N] [--rounds R]`: only the start herd, with each side's per-start timeline. */
async function herd(): Promise<void> {
  requireTools();
  const publishers = numberArgument('publishers', PLANS.full.herd.publishers);
  const rounds = numberArgument('rounds', 1);
  const rtmp = await startRtmpServer();
  try {
    const fixture = firstSeconds(await makeFixture('h264', PLANS.full.seconds, 250), PLANS.full.herd.seconds);
    let steps = 0;
    const warmUp = (server: ServerProcess) =>
      runStep({
        label: 'warm-up',
        server,
        rtmp,
        fixture: firstSeconds(fixture, WARM_UP_SECONDS),
        publishers: 2,
        streamPrefix: `warm${steps++}`,
      });
    const result = await runComparison(herdComparison(publishers, rounds, await findStaticFfmpeg()), fixture, rtmp, warmUp, 'herd', log);
    console.log(`\n== ${result.title} (each side its own server process; rounds interleaved) ==\n${comparisonTable(result)}`);
  } finally {
    await rtmp.close();
  }
}

/** `--shed [--publishers 150] [--seconds 40] [--min-streams N]`: a herd offered to a load-shedding server (bench/shed.ts). */
async function shed(): Promise<void> {
  requireTools();
  const minStreams = process.argv.includes('--min-streams') ? numberArgument('min-streams', 10) : undefined;
  const result = await runShedBench({
    publishers: numberArgument('publishers', 150),
    seconds: numberArgument('seconds', 40),
    minStreams,
    log,
  });
  console.log(`\n== shed: ${result.offered} offered at once ==\n${JSON.stringify(result, null, 2)}`);
  await writeFile(fileURLToPath(new URL('./results-shed.json', import.meta.url)), `${JSON.stringify(result, null, 2)}\n`);
}

if (process.argv.includes('--destinations')) await destinations();
else if (process.argv.includes('--herd')) await herd();
else if (process.argv.includes('--shed')) await shed();
else await main();
