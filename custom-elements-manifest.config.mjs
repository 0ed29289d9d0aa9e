// `npm run build` writes custom-elements.json from the element's JSDoc header: editors, framework
// wrappers and the README's tables (test/docs/readme-tables.test.ts) read it.
export default {
  globs: [
    'client/element/rtmp-broadcaster.attributes.ts',
    'client/element/rtmp-broadcaster.component.ts',
    'client/element/rtmp-broadcaster.ts',
  ],
  outdir: '.',
  litelement: true,
  plugins: [
    {
      // The analyzer also lists the private emit() helper's `new CustomEvent(type)` as an event
      // named "type": keep only the element's own, prefixed events.
      name: 'prefixed-events-only',
      packageLinkPhase({ customElementsManifest }) {
        for (const module of customElementsManifest.modules) {
          for (const declaration of module.declarations ?? []) {
            if (declaration.events) declaration.events = declaration.events.filter((event) => event.name.startsWith('rtmp-'));
            // The attributes' base class (rtmp-broadcaster.attributes.ts) is no element of its own.
            if (declaration.customElement && !declaration.tagName) delete declaration.customElement;
          }
        }
      },
    },
  ],
};
