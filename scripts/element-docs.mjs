// Writes the element's reference tables in docs/element.md (attributes and properties, methods,
// events, slots, parts, CSS custom properties) from custom-elements.json, which `cem analyze` makes
// from the element's JSDoc: `npm run build` runs it after the analyzer, so the docs cannot drift
// from the code. Only the text between the two markers is written. `--check` writes nothing and
// exits 1 when the file is not what the manifest gives (test/docs/readme-tables.test.ts runs it).
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const START = '<!-- element-tables:start (generated from custom-elements.json by scripts/element-docs.mjs; edit the JSDoc, not this) -->';
const END = '<!-- element-tables:end -->';

/** One table cell: a single line, pipes escaped. */
const cell = (text) => (text ?? '').replace(/\s+/g, ' ').trim().replaceAll('|', '\\|');
const code = (text) => (text ? `\`${cell(text)}\`` : '—');
const table = (head, rows) =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');

/** The markdown between the markers, from the manifest's <rtmp-broadcaster> declaration. */
export function renderElementTables(manifest) {
  const element = manifest.modules
    .flatMap((module) => module.declarations ?? [])
    .find((declaration) => declaration.customElement && declaration.tagName === 'rtmp-broadcaster');
  if (!element) throw new Error('custom-elements.json describes no <rtmp-broadcaster>: run `cem analyze` first.');
  const isPublic = (member) => !member.static && (member.privacy ?? 'public') === 'public' && !member.name.startsWith('#');
  // What a page sets first (declared in rtmp-broadcaster.attributes.ts), then what it reads.
  const fields = (element.members ?? [])
    .filter((member) => member.kind === 'field' && isPublic(member))
    .sort((a, b) => Number(Boolean(a.readonly)) - Number(Boolean(b.readonly)));
  const methods = (element.members ?? []).filter((member) => member.kind === 'method' && isPublic(member));
  // Attributes with no property of their own, such as the global `lang`.
  const bare = (element.attributes ?? []).filter((attribute) => !attribute.fieldName);

  const properties = [
    ...fields.map((field) => [
      field.attribute ? `${code(field.attribute)}${field.reflects ? ' (reflected)' : ''}` : '—',
      `${code(field.name)}${field.readonly ? ' (read-only)' : ''}`,
      code(field.type?.text),
      code(field.default),
      cell(field.description),
    ]),
    ...bare.map((attribute) => [
      code(attribute.name),
      '—',
      code(attribute.type?.text),
      code(attribute.default),
      cell(attribute.description ?? 'The global attribute; see above.'),
    ]),
  ];
  return [
    '## Attributes and properties',
    '',
    table(['Attribute', 'Property', 'Type', 'Default', 'Meaning'], properties),
    '',
    '## Methods',
    '',
    table(
      ['Method', 'Returns', ''],
      methods.map((method) => [`${code(`${method.name}()`)}`, code(method.return?.type?.text), cell(method.description)]),
    ),
    '',
    '## Events',
    '',
    'All bubble out of the shadow root (`bubbles`, `composed`) and are typed in `GlobalEventHandlersEventMap`.',
    '',
    table(
      ['Event', '`detail`', 'When'],
      (element.events ?? []).map((event) => [code(event.name), code(event.type?.text), cell(event.description)]),
    ),
    '',
    '## Slots',
    '',
    table(
      ['Slot', ''],
      (element.slots ?? []).map((slot) => [code(slot.name), cell(slot.description)]),
    ),
    '',
    '## Parts',
    '',
    table(
      ['Part', ''],
      (element.cssParts ?? []).map((part) => [code(part.name), cell(part.description)]),
    ),
    '',
    '## CSS custom properties',
    '',
    table(
      ['Property', 'Default', ''],
      (element.cssProperties ?? []).map((property) => [code(property.name), code(property.default), cell(property.description)]),
    ),
  ].join('\n');
}

/** `markdown` with the text between the markers replaced by the tables. */
export function withElementTables(markdown, manifest) {
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/element.md lacks the markers ${START} … ${END}.`);
  return `${markdown.slice(0, start + START.length)}\n${renderElementTables(manifest)}\n${markdown.slice(end)}`;
}

const file = new URL('docs/element.md', root);
if (import.meta.url === `file://${process.argv[1]}`) {
  const manifest = JSON.parse(readFileSync(new URL('custom-elements.json', root), 'utf8'));
  const current = readFileSync(file, 'utf8');
  const fresh = withElementTables(current, manifest);
  if (process.argv.includes('--check')) {
    if (fresh !== current) {
      console.error('docs/element.md is stale: run `npm run build` (it regenerates the tables from custom-elements.json).');
      process.exit(1);
    }
  } else if (fresh !== current) writeFileSync(file, fresh);
}
