// `npm run bench -- --node-cpu [--against DIR] [--node-options FLAGS] [--publishers N] [--rounds R] [--seconds S]`: only
// the server's Node process per passthrough broadcast, this checkout against another one (DIR, a
// checkout with node_modules, e.g. main's) or against itself (to see the noise), each side in its
// own server process, rounds alternating (bench/compare.ts). Profile a side with
// BENCH_SERVER_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
import { join, resolve } from 'node:path';
import { startRtmpServer } from '../test/helpers/rtmp-server.js';
import { comparisonTable, runComparison } from './compare.js';
import { firstSeconds, makeFixture } from './fixtures.js';
import { runStep, type StepResult } from './step.js';
import type { ServerProcess } from './server-control.js';

const pct = (cpuSecondsPerSecond: number) => (cpuSecondsPerSecond * 100).toFixed(3);
const ratio = (a: number, b: number) => (a / b).toFixed(3);

export async function runNodeCpuBench(log: (line: string) => void): Promise<void> {
  const flag = (name: string, fallback: string) => {
    const at = process.argv.indexOf(name);
    return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
  };
  const publishers = Number(flag('--publishers', '20'));
  const rounds = Number(flag('--rounds', '2'));
  const seconds = Number(flag('--seconds', '20'));
  const against = process.argv.includes('--against') ? resolve(flag('--against', '')) : undefined;
  // Node/V8 flags for the second side only (e.g. '--max-semi-space-size=2'), as an operator would set them.
  const nodeOptions = process.argv.includes('--node-options') ? flag('--node-options', '') : undefined;
  const fixture = await makeFixture('h264', seconds, 250);
  const rtmp = await startRtmpServer();
  try {
    const warmUp = (server: ServerProcess) =>
      runStep({ label: 'warm-up', server, rtmp, fixture: firstSeconds(fixture, 2), publishers: 2, streamPrefix: `warm${server.pid}` });
    const result = await runComparison(
      {
        title: `server Node process, passthrough, N=${publishers}, ${seconds} s`,
        publishers,
        rounds,
        startGapMs: 100,
        sides: [
          { label: against ? `other (${against})` : 'this checkout (A)', config: against ? { script: join(against, 'bench/server-process.ts') } : {} },
          nodeOptions
            ? { label: `this checkout, NODE_OPTIONS=${nodeOptions}`, config: { env: { NODE_OPTIONS: nodeOptions } } }
            : { label: 'this checkout', config: {} },
        ],
      },
      fixture,
      rtmp,
      warmUp,
      'node-cpu-',
      log,
    );
    console.log(`\n== ${result.title} (each side its own server process; rounds interleaved) ==\n${comparisonTable(result)}`);
    // Each round's pair ran back to back, so its ratio is less exposed to load drifting over the run.
    const node = (step: StepResult) => (step.steadyCpu ?? step.cpu).serverNode;
    const pairs = Array.from({ length: rounds }, (_, round) => result.steps.slice(round * 2, round * 2 + 2));
    for (const [round, [first, second]] of pairs.entries()) {
      console.log(`round ${round + 1}: Node ${pct(node(first!))} vs ${pct(node(second!))} %core/bc (${ratio(node(second!), node(first!))}x)`);
    }
    const [base, mine] = result.sides;
    console.log(`Node, this checkout / first side: ${pct(mine!.serverNode)} / ${pct(base!.serverNode)} %core/bc = ${ratio(mine!.serverNode, base!.serverNode)}x`);
  } finally {
    await rtmp.close();
  }
}
