// The figures the docs quote about the build (the CDN bundle's gzipped size, the package's
// download size) are the measured ones: scripts/doc-figures.mjs, which `npm run build` runs, wrote
// them, and nothing changed since.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('every figure between <!-- figure --> markers in README.md and docs/ is the measured one', () => {
  const script = fileURLToPath(new URL('../../scripts/doc-figures.mjs', import.meta.url));
  const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});
