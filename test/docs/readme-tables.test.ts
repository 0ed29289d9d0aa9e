// The element's reference tables in docs/element.md are the ones scripts/element-docs.mjs makes
// from custom-elements.json (which `npm run build` makes from the element's JSDoc), so they are not
// stale, and every attribute, property, event, slot, part and CSS property is documented.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

interface Named {
  name: string;
  privacy?: string;
  kind?: string;
  static?: boolean;
}
interface Declaration {
  customElement?: boolean;
  tagName?: string;
  attributes?: Named[];
  members?: Named[];
  events?: Named[];
  slots?: Named[];
  cssParts?: Named[];
  cssProperties?: Named[];
}

const manifest = JSON.parse(readFileSync(new URL('../../custom-elements.json', import.meta.url), 'utf8')) as {
  modules: { declarations?: Declaration[] }[];
};
const element = manifest.modules
  .flatMap((module) => module.declarations ?? [])
  .find((declaration) => declaration.customElement && declaration.tagName === 'rtmp-broadcaster');
const section = readFileSync(new URL('../../docs/element.md', import.meta.url), 'utf8');

test('the manifest describes <rtmp-broadcaster>', () => {
  assert.equal(element?.tagName, 'rtmp-broadcaster');
});

test('docs/element.md holds the tables the manifest gives (not stale)', () => {
  const script = fileURLToPath(new URL('../../scripts/element-docs.mjs', import.meta.url));
  // Exits 1 with a message naming `npm run build` when the generated text differs.
  execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' });
});

const groups: [string, (declaration: Declaration) => Named[]][] = [
  ['attribute', (d) => d.attributes ?? []],
  ['property', (d) => (d.members ?? []).filter((m) => m.kind === 'field' && !m.static && (m.privacy ?? 'public') === 'public')],
  ['event', (d) => d.events ?? []],
  ['slot', (d) => d.slots ?? []],
  ['part', (d) => d.cssParts ?? []],
  ['CSS property', (d) => d.cssProperties ?? []],
];
for (const [kind, list] of groups) {
  test(`every ${kind} in custom-elements.json is in docs/element.md`, () => {
    const names = list(element!).map((item) => item.name);
    assert.ok(names.length > 0, `the manifest lists ${kind}s`);
    const missing = names.filter((name) => !section.includes(`\`${name}\``));
    assert.deepEqual(missing, [], `${kind}s missing from docs/element.md`);
  });
}
