// The README's element tables agree with custom-elements.json, which `npm run build` makes from
// the element's JSDoc: every attribute, property, event, slot, part and CSS property is documented.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

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
const element = manifest.modules.flatMap((module) => module.declarations ?? []).find((declaration) => declaration.customElement);
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Element'), readme.indexOf('## Client'));

test('the manifest describes <rtmp-broadcaster>', () => {
  assert.equal(element?.tagName, 'rtmp-broadcaster');
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
  test(`every ${kind} in custom-elements.json is in the README's element tables`, () => {
    const names = list(element!).map((item) => item.name);
    assert.ok(names.length > 0, `the manifest lists ${kind}s`);
    const missing = names.filter((name) => !section.includes(`\`${name}\``));
    assert.deepEqual(missing, [], `${kind}s missing from the README`);
  });
}
