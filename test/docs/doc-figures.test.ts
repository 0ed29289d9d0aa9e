// The figures the docs quote about the build (the CDN bundle's gzipped size, the package's
// download size) are the measured ones: scripts/doc-figures.mjs, which `npm run build` runs, wrote
// them, and nothing changed since. And the CDN URLs the docs show name this version.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

test('every figure between <!-- figure --> markers in README.md and docs/ is the measured one', () => {
  const script = fileURLToPath(new URL('../../scripts/doc-figures.mjs', import.meta.url));
  const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});

test('every CDN URL in README.md and docs/ names a version range this package is in', () => {
  const root = new URL('../../', import.meta.url);
  const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
  const docs = [
    'README.md',
    ...readdirSync(new URL('docs/', root))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ];
  const urls = docs.flatMap((file) =>
    [...readFileSync(new URL(file, root), 'utf8').matchAll(/https:\/\/unpkg\.com\/rtmp-broadcaster(@[^/]*)?\//g)].map(([url, range]) => ({
      file,
      url,
      range,
    })),
  );
  assert.ok(urls.length > 0, 'the docs show the CDN URL');
  for (const { file, url, range } of urls) {
    // A range of major.minor (`@0.1`) follows this version's fixes but not a protocol change.
    assert.ok(
      range !== undefined && version.startsWith(`${range.slice(1)}.`),
      `${file}: ${url} should name @${version.split('.').slice(0, 2).join('.')}`,
    );
  }
});

test('the first script a CDN page loads is at most 30 KB gzipped, and loads no other part before it runs', () => {
  const bundle = readFileSync(new URL('../../dist/rtmp-broadcaster.min.js', import.meta.url));
  const text = bundle.toString('utf8');
  // A static import of a part would load with the first script: only import() (on demand) may name one.
  const staticParts = [...text.matchAll(/(?:^|[;}])\s*import\s*[^(]*?["']\.\/(rtmp-broadcaster-[\w-]+\.min\.js)["']/g)].map(
    (match) => match[1],
  );
  assert.deepEqual(staticParts, [], 'parts loaded with the first script');
  assert.ok(text.includes('rtmp-broadcaster-socket-io-'), 'socket.io comes on demand');
  const kb = gzipSync(bundle, { level: 9 }).length / 1000;
  assert.ok(kb <= 30, `dist/rtmp-broadcaster.min.js is ${kb.toFixed(1)} KB gzipped`);
});
