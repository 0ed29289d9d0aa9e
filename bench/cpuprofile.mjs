// `node bench/cpuprofile.mjs FILE.cpuprofile [FROM_S TO_S] [TOP]`: where a server process's main
// thread spent its time, from a `--cpu-prof` profile (bench/README.md, "Node's own CPU"). Without
// a window it prints the busy share of each second, to pick the steady state; with one, self time
// by package and by function, and inclusive time, as shares of the busy (non-idle) time.
import { readFileSync } from 'node:fs';

const [file, fromArg, toArg, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/cpuprofile.mjs FILE.cpuprofile [FROM_S TO_S] [TOP]');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
// A sample's time is the delta to the next one.
let clock = 0;
const at = profile.timeDeltas.map((delta) => (clock += delta));
const weight = (i) => profile.timeDeltas[i + 1] ?? 0;
const isIdle = (id) => nodes.get(id).callFrame.functionName === '(idle)';

if (fromArg === undefined) {
  const busy = [];
  profile.samples.forEach((id, i) => {
    const second = Math.floor(at[i] / 1e6);
    busy[second] = (busy[second] ?? 0) + (isIdle(id) ? 0 : weight(i));
  });
  console.log(Array.from(busy, (us, second) => `${second}s:${Math.round((us ?? 0) / 1e4)}%`).join(' '));
  process.exit(0);
}

const from = Number(fromArg) * 1e6;
const to = Number(toArg) * 1e6;
const top = Number(topArg ?? 30);
const where = (frame) => {
  const url = frame.url.replace(/^file:\/\/.*?node_modules\//, 'npm:').replace(/^file:\/\/.*?\/(server|client|bench)\//, '$1/');
  return { url, pkg: url.startsWith('npm:') ? url.split('/').slice(0, url.startsWith('npm:@') ? 2 : 1).join('/') : url.startsWith('node:') ? url.split('/').slice(0, 2).join('/') : url || frame.functionName };
};
const label = (frame) => `${frame.functionName || '(anonymous)'} ${where(frame).url}:${frame.lineNumber + 1}`;
const self = new Map();
const byPackage = new Map();
const inclusive = new Map();
const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
let busy = 0;
profile.samples.forEach((id, i) => {
  if (at[i] < from || at[i] >= to || isIdle(id)) return;
  const us = weight(i);
  busy += us;
  const frame = nodes.get(id).callFrame;
  add(self, label(frame), us);
  add(byPackage, where(frame).pkg, us);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parents.get(cur)) {
    const key = label(nodes.get(cur).callFrame);
    if (!seen.has(key)) add(inclusive, key, us);
    seen.add(key);
  }
});
const print = (title, map) => {
  console.log(`--- ${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${key}`);
  }
};
console.log(`${fromArg}-${toArg} s: main thread busy ${(busy / 1e6).toFixed(2)} s (${((100 * busy) / (to - from)).toFixed(1)} % of one core)`);
print('self time by package', byPackage);
print('self time by function', self);
print('inclusive time', inclusive);
