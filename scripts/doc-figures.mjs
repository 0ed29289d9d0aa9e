// Writes the figures the docs quote about the build itself, measured, between markers such as
// `<!-- figure: bundle-gzip-kb -->29.6<!-- /figure -->` in README.md and docs/*.md: the CDN
// bundle's gzipped size, and the size of the package npm downloads. `npm run build` runs it last.
// `--check` writes nothing and exits 1 when a quoted figure is not the measured one
// (test/docs/doc-figures.test.ts runs it).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const root = new URL('../', import.meta.url);
const MARKER = /(<!-- figure: ([\w-]+) -->)([^<]*)(<!-- \/figure -->)/g;

/** Each figure by name: how it is measured and written. */
const FIGURES = {
  // KB of 1000 bytes, to a tenth: gzip -9 of dist/rtmp-broadcaster.min.js, as a CDN serves it.
  'bundle-gzip-kb': () => (gzipSync(readFileSync(new URL('dist/rtmp-broadcaster.min.js', root)), { level: 9 }).length / 1000).toFixed(1),
  // The same, for the parts the bundle loads on demand (dist/rtmp-broadcaster-<name>-<hash>.min.js).
  'socketio-gzip-kb': () => partGzipKb('socket-io'),
  'webcodecs-gzip-kb': () => partGzipKb('webcodecs'),
  'wasm-aac-gzip-kb': () => partGzipKb('wasm-aac'),
  // KB of the tarball `npm pack` makes, to the nearest 5 (so that editing a doc seldom moves it).
  'pack-kb': () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
    return String(Math.round(pack.size / 5000) * 5);
  },
};

function partGzipKb(name) {
  const dist = new URL('dist/', root);
  const file = readdirSync(dist).find((each) => each.startsWith(`rtmp-broadcaster-${name}-`) && each.endsWith('.min.js'));
  if (!file) throw new Error(`No dist/rtmp-broadcaster-${name}-*.min.js: run \`npm run build\`.`);
  return (gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length / 1000).toFixed(1);
}

const files = [
  'README.md',
  ...readdirSync(new URL('docs/', root))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const measured = new Map();
const measure = (name) => {
  if (!FIGURES[name]) throw new Error(`No figure named ${name}: scripts/doc-figures.mjs knows ${Object.keys(FIGURES).join(', ')}.`);
  if (!measured.has(name)) measured.set(name, FIGURES[name]());
  return measured.get(name);
};

const stale = [];
for (const file of files) {
  const current = readFileSync(new URL(file, root), 'utf8');
  const fresh = current.replace(MARKER, (_, open, name, value, close) => {
    const now = measure(name);
    if (value !== now) stale.push(`${file}: ${name} says ${value}, measured ${now}`);
    return `${open}${now}${close}`;
  });
  if (!process.argv.includes('--check') && fresh !== current) writeFileSync(new URL(file, root), fresh);
}
if (process.argv.includes('--check') && stale.length > 0) {
  console.error(`Stale figures (run \`npm run build\`, which measures and writes them):\n${stale.join('\n')}`);
  process.exit(1);
}
