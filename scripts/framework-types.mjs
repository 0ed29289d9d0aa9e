// Writes the framework typings of <rtmp-broadcaster> from custom-elements.json (npm run build,
// after `cem analyze`): JSX IntrinsicElements for React, GlobalComponents for Vue, and
// SvelteHTMLElements for Svelte, published as the type-only entries `rtmp-broadcaster/react`,
// `/vue` and `/svelte`. The manifest gives the names and docs; the types come from the class and
// its event map, so they cannot drift from the code. (The custom-element-*-integration generators
// were tried: on this manifest they type the `lang` attribute as RtmpBroadcaster["undefined"], offer
// the read-only `state` and `client` as props, leave the events' detail types unimported, and write
// Svelte 4's `on:event` syntax.)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const outdir = new URL('dist/frameworks/', root);
const manifest = JSON.parse(readFileSync(new URL('custom-elements.json', root), 'utf8'));
const element = manifest.modules
  .flatMap((module) => module.declarations ?? [])
  .find((declaration) => declaration.customElement && declaration.tagName === 'rtmp-broadcaster');
if (!element) throw new Error('custom-elements.json describes no <rtmp-broadcaster>: run `cem analyze` first.');

/** A JSDoc comment of `text`, indented for a member. */
const doc = (text) => (text ? `  /** ${text.replace(/\s+/g, ' ').replaceAll('*/', '*\\/')} */\n` : '');
const key = (name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `'${name}'`);
const member = ({ name, type, description }) => `${doc(description)}  ${key(name)}?: ${type};\n`;

/** The properties a page may set: public, writable, not static. */
const properties = (element.members ?? [])
  .filter((m) => m.kind === 'field' && !m.static && !m.readonly && (m.privacy ?? 'public') === 'public' && !m.name.startsWith('#'))
  .map((m) => ({ name: m.name, type: `RtmpBroadcaster['${m.name}']`, description: m.description }));
const attributeOf = new Map((element.attributes ?? []).filter((a) => a.fieldName).map((a) => [a.fieldName, a]));
/**
 * The attributes named otherwise than their property (`rtmp-url`), for JSX and Svelte, which set
 * them as attributes. Not the boolean ones: present means on, whatever the value, so `false`
 * would switch them on; their property (`noAudio`) is there instead.
 */
const attributes = properties
  .map(({ name }) => attributeOf.get(name))
  .filter((a) => a && a.name !== a.fieldName && a.type?.text !== 'boolean')
  .map((a) => ({
    name: a.name,
    type: `AttributeValue<RtmpBroadcaster['${a.fieldName}']>`,
    description: `${a.description ?? ''} The \`${a.name}\` attribute.`.trim(),
  }));
const events = (element.events ?? []).map((e) => ({ name: e.name, description: e.description }));
/** `rtmp-statechange` → `RtmpStatechange`, as Vue's `@rtmp-statechange` looks for `onRtmpStatechange`. */
const pascal = (name) => name.replace(/(^|-)(\w)/g, (_, __, letter) => letter.toUpperCase());
const listener = (event) => `(event: RtmpBroadcasterEventMap['${event.name}']) => void`;

const header = (what, usage) => `// Generated from custom-elements.json by scripts/framework-types.mjs: do not edit.
// ${what} Enable with \`${usage}\` in any file of the app.
`;
const elementImport = `import type { RtmpBroadcaster, RtmpBroadcasterEventMap } from '../client/index.js';\n`;
const attributeValue = `
/** A number attribute takes the number or its text. */
type AttributeValue<T> = T extends number ? T | \`\${number}\` : T;
`;
/** The summary's first sentence: the analyzer's summary runs on into the description. */
const summary = `  /** ${element.summary?.replace(/\s+/g, ' ').split(/(?<=\.) /)[0] ?? ''} */\n`;

/** Props for JSX and Svelte: properties, differently named attributes, and `on<event>` listeners. */
const attributeProps = (intro) => `
/** ${intro} */
export interface RtmpBroadcasterProps {
${[...properties, ...attributes, ...events.map((e) => ({ name: `on${e.name}`, type: listener(e), description: e.description }))].map(member).join('')}}
`;

const files = {
  'react.d.ts':
    header(
      'React 19 JSX types for <rtmp-broadcaster>: its properties, attributes and events.',
      "import type {} from 'rtmp-broadcaster/react';",
    ) +
    `import type { DetailedHTMLProps, HTMLAttributes } from 'react';\n${elementImport}${attributeValue}` +
    attributeProps(
      'What JSX takes on <rtmp-broadcaster>: React 19 sets what the element has as properties, the rest as attributes, and listens to `on<event>` props as its events.',
    ) +
    `
declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
${summary.replace(/^/gm, '    ').trimEnd()}
      'rtmp-broadcaster': DetailedHTMLProps<HTMLAttributes<RtmpBroadcaster>, RtmpBroadcaster> & RtmpBroadcasterProps;
    }
  }
}
`,
  'svelte.d.ts':
    header(
      'Svelte 5 types for <rtmp-broadcaster>: its properties, attributes and events.',
      "import type {} from 'rtmp-broadcaster/svelte';",
    ) +
    `import type { HTMLAttributes } from 'svelte/elements';\n${elementImport}${attributeValue}` +
    attributeProps(
      'What Svelte takes on <rtmp-broadcaster>: Svelte sets what the element has as properties, the rest as attributes, and listens to `on<event>` attributes as its events.',
    ) +
    `
declare module 'svelte/elements' {
  interface SvelteHTMLElements {
${summary.replace(/^/gm, '  ').trimEnd()}
    'rtmp-broadcaster': HTMLAttributes<RtmpBroadcaster> & RtmpBroadcasterProps;
  }
}
`,
  'vue.d.ts':
    header('Vue 3 template types for <rtmp-broadcaster>: its properties and events.', "import type {} from 'rtmp-broadcaster/vue';") +
    `import type { HTMLAttributes } from 'vue';\n${elementImport}
/** What a Vue template takes on <rtmp-broadcaster>: its properties (\`:rtmp-url\` is \`rtmpUrl\`) and \`@rtmp-…\` listeners. */
export interface RtmpBroadcasterProps {
${[...properties, ...events.map((e) => ({ name: `on${pascal(e.name)}`, type: listener(e), description: e.description }))].map(member).join('')}}

declare module 'vue' {
  interface GlobalComponents {
${summary.replace(/^/gm, '  ').trimEnd()}
    'rtmp-broadcaster': new () => RtmpBroadcaster & { $props: HTMLAttributes & RtmpBroadcasterProps };
  }
}
`,
};

mkdirSync(outdir, { recursive: true });
for (const [name, text] of Object.entries(files)) writeFileSync(new URL(name, outdir), text);
