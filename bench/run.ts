// `npm run bench` (up to 19 minutes), `-- --quick` (under a minute), `-- --capacity` (the ramps alone), `-- --webcodecs` (the
// WebCodecs AAC ramp alone), `-- --recorders` (each browser's path side by side), `-- --herd` (the start herd alone),
// `-- --shed` (150 offered at once to a load-shedding server, bench/shed.ts), `-- --glass` (real browsers,
// bench/glass.ts) or `-- --abr` (the adaptive-bitrate browser test capped 40 s, bench/abr.ts): the real
// BroadcastServer in its own process, a real nginx-rtmp on loopback, and simulated browsers in this
// process. Ramps the number of H.264 broadcasts until real time is lost, sets transcoding beside
// passthrough, times a herd of starts; prints tables and writes bench/results.json (not committed).
// How each figure is measured: bench/README.md.
import { execFileSync } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startRtmpServer, type RtmpServer } from '../test/helpers/rtmp-server.js';
import { comparisonTable, runComparison, type Comparison, type ComparisonResult } from './compare.js';
import { destinationsTable, runDestinationsBench } from './destinations.js';
import { CACHE_DIR, firstSeconds, makeFixture, type Fixture } from './fixtures.js';
import { cpuRatio, cpuShares, describeStep, modeTable, projectedCapacity, realtimeTable, resourceTable } from './report.js';
import { recordersTable, runRecordersBench } from './recorders.js';
import { startServerProcess, type ServerProcess } from './server-control.js';
import type { LoadSheddingOptions } from '../server/headroom.js';
import { runShedBench } from './shed.js';
import { runStep, type StepResult } from './step.js';
import { argValues, bundleSize, ffmpegLaunchMs, findStaticFfmpeg, numberArgument, requireTools } from './tools.js';

interface Plan {
  name: 'quick' | 'full' | 'capacity' | 'webcodecs';
  /** Media each publisher sends per ramp step: long enough for a steady state after the start-ups. */
  seconds: number;
  /** Media per transcode step. */
  shortSeconds: number;
  /** Passthrough publisher counts, in order; the ramp stops at the first that loses real time. */
  ramp: number[];
  /** Publisher counts of the ramp where browsers send AAC in fragmented MP4 (nothing is encoded). */
  aacRamp: number[];
  /** Publisher counts of the ramp sending what the WebCodecs recorder sends: Matroska H.264 + AAC, 200-ms chunks (copied). */
  webcodecsRamp: number[];
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
    webcodecsRamp: [],
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
    webcodecsRamp: [10],
    stereo: [],
    transcode: [1],
    confirmMisses: false,
    // A fixed plan: every step runs (the ramp's time estimates would skip it; the run takes ~40 s).
    budgetMs: Number.POSITIVE_INFINITY,
    herd: { publishers: 10, seconds: 3 },
  },
  // The WebCodecs recorder's Matroska H.264 + AAC alone (about 4 minutes): issue 18's "≥ 150 publishers kept real time".
  webcodecs: {
    name: 'webcodecs',
    seconds: 20,
    shortSeconds: 12,
    ramp: [],
    aacRamp: [],
    webcodecsRamp: [50, 100, 150, 200],
    stereo: [],
    transcode: [],
    confirmMisses: true,
    budgetMs: 10 * 60_000,
    herd: { publishers: 0, seconds: 0 },
  },
  full: {
    name: 'full',
    seconds: 20,
    shortSeconds: 12,
    ramp: [1, 4, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200],
    aacRamp: [10, 40, 80, 120, 150, 200],
    webcodecsRamp: [],
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

const resultsFile = (plan: Plan['name'] | 'recorders') =>
  fileURLToPath(new URL(plan === 'full' || plan === 'quick' ? './results.json' : `./results-${plan}.json`, import.meta.url));
const began = Date.now();
const elapsed = () => `${Math.round((Date.now() - began) / 1000)} s`;
const log = (line: string) => console.log(`[${elapsed().padStart(5)}] ${line}`);

/** Rough wall time of one step (media, starts, stop, probing the recordings), to keep within the budget. */
const stepMs = (mediaSeconds: number, publishers: number) => mediaSeconds * 1000 + 4000 + publishers * 100;

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

async function main(): Promise<void> {
  const flag = (['quick', 'capacity', 'webcodecs'] as const).find((name) => process.argv.includes(`--${name}`));
  const plan = PLANS[flag ?? 'full'];
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
    const ifUsed = (counts: number[], make: () => Promise<Fixture>) => (counts.length > 0 ? make() : undefined);
    const [h264, vp8, h264Aac, webcodecsAac] = await Promise.all([
      makeFixture('h264', plan.seconds, 250),
      ifUsed(plan.transcode, () => makeFixture('vp8', plan.shortSeconds, 250)),
      ifUsed(plan.aacRamp, () => makeFixture('h264-aac', plan.seconds, 250)),
      // At the WebCodecs recorder's default timeslice (150 ms, client/recorder/create.ts), as it hands its chunks out.
      ifUsed(plan.webcodecsRamp, () => makeFixture('webcodecs-aac', plan.seconds, 150)),
    ]);
    const h264Stereo = await ifUsed(plan.stereo, () => makeFixture('h264-stereo', plan.seconds, 250));
    const fixtures = [h264, vp8, h264Aac, webcodecsAac, h264Stereo].filter((f): f is Fixture => f !== undefined);
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
    const { steps: passthroughAac, ceiling: aacCeiling } = await ramp('passthrough, AAC in', h264Aac!, plan.aacRamp, afterRamp);
    const { steps: webcodecs, ceiling: webcodecsCeiling } = await ramp('WebCodecs AAC', webcodecsAac!, plan.webcodecsRamp, afterRamp);

    // The same media with stereo Opus: what a stereo source costs the AAC encoder.
    const stereo: StepResult[] = [];
    for (const publishers of plan.stereo) stereo.push(await run('passthrough, stereo Opus', h264Stereo!, publishers));

    const transcode: StepResult[] = [];
    for (const publishers of plan.transcode) transcode.push(await run('transcode', vp8!, publishers));
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

    const steps = [...passthrough, ...passthroughAac, ...webcodecs, ...stereo, ...transcode];
    console.log(`\n== Passthrough ramp and transcode: real time and latency ==\n${realtimeTable(steps)}`);
    console.log(`\n== CPU (% of one core per broadcast) and memory ==\n${resourceTable(steps)}`);
    if (modes.length) console.log(`\n== Passthrough vs transcode at the same N ==\n${modeTable(modes)}`);
    for (const comparison of comparisons) {
      console.log(`\n== ${comparison.title} (each side its own server process; rounds interleaved) ==\n${comparisonTable(comparison)}`);
    }
    console.log('');
    const summarize = (what: string, ran: StepResult[], reached: typeof ceiling, suffix: string) => {
      if (ran.length === 0) return;
      console.log(
        `${what} kept real time up to N=${reached.publishers}` +
          (reached.lostAt ? `; lost it at N=${reached.lostAt}: ${reached.stoppedBy}.` : ` (stopped by ${reached.stoppedBy}).`),
      );
      const last = ran.at(-1)!;
      console.log(`CPU at N=${last.publishers}${suffix}: ${cpuShares(last, cores)}.`);
    };
    summarize('Passthrough', passthrough, ceiling, '');
    summarize('With AAC from the browser in fMP4 (nothing encoded), passthrough', passthroughAac, aacCeiling, ' with AAC in');
    summarize(
      "With the WebCodecs recorder's Matroska H.264 + AAC (nothing encoded), passthrough",
      webcodecs,
      webcodecsCeiling,
      ' (WebCodecs AAC)',
    );
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
      webcodecsCeiling,
      capacity,
      passthrough,
      passthroughAac,
      webcodecs,
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

/** `--recorders [--seconds S] [--rounds R] [--publishers N]`: every browser's recording path side by side (bench/recorders.ts). */
async function recorders(): Promise<void> {
  requireTools();
  const options = {
    seconds: numberArgument('seconds', 15),
    rounds: numberArgument('rounds', 2),
    publishers: numberArgument('publishers', 10),
  };
  const results = await runRecordersBench({ ...options, log });
  console.log(
    `\n== Server CPU per media-second per broadcast by recording path (steady state, rounds pooled) ==\n${recordersTable(results)}`,
  );
  await writeFile(
    resultsFile('recorders'),
    `${JSON.stringify({ startedAt: new Date(began).toISOString(), ...options, results }, null, 2)}\n`,
  );
  log(`wrote ${resultsFile('recorders')}`);
}

/**
 * `--shed [--publishers 150] [--seconds 40] [--min-streams N] [--shedding JSON]`: a herd offered to a
 * load-shedding server (bench/shed.ts); `--shedding '{"maxCpu":0.9}'` overrides its options.
 */
async function shed(): Promise<void> {
  requireTools();
  const shedding: LoadSheddingOptions = JSON.parse(argValues('shedding')[0] ?? '{}');
  if (process.argv.includes('--min-streams')) shedding.minStreams = numberArgument('min-streams', 10);
  const result = await runShedBench({
    publishers: numberArgument('publishers', 150),
    seconds: numberArgument('seconds', 40),
    shedding,
    log,
  });
  console.log(`\n== shed: ${result.offered} offered at once ==\n${JSON.stringify(result, null, 2)}`);
  await writeFile(fileURLToPath(new URL('./results-shed.json', import.meta.url)), `${JSON.stringify(result, null, 2)}\n`);
}

if (process.argv.includes('--glass')) await import('./glass.js');
else if (process.argv.includes('--abr')) await import('./abr.js');
else if (process.argv.includes('--destinations')) await destinations();
else if (process.argv.includes('--recorders')) await recorders();
else if (process.argv.includes('--herd')) await herd();
else if (process.argv.includes('--shed')) await shed();
else await main();
