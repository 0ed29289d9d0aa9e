// The CDN bundle: dist/rtmp-broadcaster.min.js, one minified ES module with Lit and
// socket.io-client inside, which registers <rtmp-broadcaster> when imported (package.json's
// "unpkg" and "jsdelivr" point at it).
//
// Rollup makes only this file. The npm entry points (`.`, `./client`, `./server`) and their .d.ts
// come from `tsc -p tsconfig.build.json`: module for module, with lit and socket.io-client left as
// imports for the app's bundler to share and dedupe, so there is nothing for rollup to add there.
import { fileURLToPath } from 'node:url';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';

export default {
  input: 'client/index.ts',
  // The parts imported on demand import what they share (Lit, the strings) from the bundle itself,
  // which may export more than client/index.ts does, rather than through a third file.
  preserveEntrySignatures: 'allow-extension',
  output: {
    dir: 'dist',
    entryFileNames: 'rtmp-broadcaster.min.js',
    // The WebCodecs recorder and the WASM AAC encoder are imported on demand: files of their own
    // beside the bundle, loaded by pages that use them (the WASM is inside the encoder's chunk).
    chunkFileNames: 'rtmp-broadcaster-[name]-[hash].min.js',
    // socket.io's client loads when a broadcast starts (client/socket.ts): one chunk, named for it.
    manualChunks: (id) =>
      /[/\\]node_modules[/\\](socket\.io-client|socket\.io-parser|engine\.io-client|engine\.io-parser|@socket\.io)[/\\]/.test(id)
        ? 'socket-io'
        : undefined,
    format: 'es',
    sourcemap: true,
  },
  plugins: [
    // @mediabunny/aac-encoder (the WASM AAC chunk) needs only a few names of `mediabunny`: the
    // recorder's own stand-in gives them and hands the encoder's class to the recorder.
    {
      name: 'mediabunny-shim',
      resolveId: (source) =>
        source === 'mediabunny' ? fileURLToPath(new URL('client/recorder/mediabunny-shim.ts', import.meta.url)) : null,
    },
    // Browser builds: socket.io's "node" and debug builds pull in `ws`, `debug` and CommonJS.
    nodeResolve({ browser: true, exportConditions: ['browser'] }),
    esbuild({
      // Reads tsconfig.json: experimentalDecorators and useDefineForClassFields: false, as Lit's decorators need.
      tsconfig: 'tsconfig.json',
      target: 'es2022',
      // TypeScript only. With its default .js loader, this plugin resolves every relative `./x.js`
      // itself, which skips the "browser" field map that swaps engine.io-client's Node transports.
      loaders: { '.js': false },
    }),
    // The WASM AAC encoder's map would carry its 1 MB source (the WebAssembly as a string) into
    // the package: its map keeps the names and lines, not the library's text.
    {
      name: 'slim-vendor-maps',
      generateBundle(_options, bundle) {
        for (const file of Object.values(bundle)) {
          if (file.type !== 'asset' || !file.fileName.endsWith('.map')) continue;
          const map = JSON.parse(String(file.source));
          if (!map.sources?.some((source) => source.includes('@mediabunny'))) continue;
          map.sourcesContent = map.sources.map((source, i) => (source.includes('@mediabunny') ? null : map.sourcesContent?.[i]));
          file.source = JSON.stringify(map);
        }
      },
    },
    terser({ ecma: 2020, module: true, compress: { passes: 2 }, format: { comments: false } }),
  ],
};
