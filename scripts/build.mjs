// `npm run build`: the bundles (rollup), the package's JavaScript and typings for client/ and
// server/ (tsc), the element's manifest (cem) and what is written from it, and the docs' figures.
//
// `--typecheck-all` (what `npm test` runs) also type-checks the whole project (tests, demo, bench)
// in the same tsc run, instead of a `tsc --noEmit` of its own before the build: one program of
// ~8 s in place of two (12 s and 7 s of CI's two cores). That run emits every file into `.tsc-all/`,
// at dist/'s depth so the source maps' relative paths hold, and client/ and server/ are moved into
// dist/ from there: the same files `tsc -p tsconfig.build.json` writes (same compiler options).
//
// `--bundles-only` stops after the bundles (a fresh dist/ with what a page loads); `--no-bundles`
// does the rest. scripts/test-suites.sh starts the browser suite, which needs only the bundles,
// between the two.
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const typecheckAll = process.argv.includes('--typecheck-all');
const bundles = !process.argv.includes('--no-bundles');
const rest = !process.argv.includes('--bundles-only');
const bin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: 'inherit' });

if (bundles) {
  rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
  run(bin('rollup'), ['-c']);
}
if (!rest) process.exit(0);
if (typecheckAll) {
  const all = new URL('../.tsc-all/', import.meta.url);
  rmSync(all, { recursive: true, force: true });
  try {
    run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit', 'false', '--rootDir', '.', '--outDir', '.tsc-all']);
    for (const part of ['client', 'server']) {
      const from = new URL(part, all);
      if (!existsSync(from)) throw new Error(`tsc wrote no ${part}/ into .tsc-all/`);
      const to = new URL(`../dist/${part}`, import.meta.url);
      rmSync(to, { recursive: true, force: true });
      renameSync(from, to);
    }
  } finally {
    rmSync(all, { recursive: true, force: true });
  }
} else {
  run(bin('tsc'), ['-p', 'tsconfig.build.json']);
}
run(bin('cem'), ['analyze']);
for (const script of ['framework-types', 'element-docs', 'doc-figures']) run(process.execPath, [`scripts/${script}.mjs`]);
