// The CDN bundle: dist/rtmp-broadcaster.min.js, one minified ES module with Lit and
// socket.io-client inside, which registers <rtmp-broadcaster> when imported (package.json's
// "unpkg" and "jsdelivr" point at it).
//
// Rollup makes only this file. The npm entry points (`.`, `./client`, `./server`) and their .d.ts
// come from `tsc -p tsconfig.build.json`: module for module, with lit and socket.io-client left as
// imports for the app's bundler to share and dedupe, so there is nothing for rollup to add there.
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
    // The WebCodecs recorder is imported on demand: its own file beside the bundle, loaded by pages that use it.
    chunkFileNames: 'rtmp-broadcaster-[name]-[hash].min.js',
    format: 'es',
    sourcemap: true,
  },
  plugins: [
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
    terser({ ecma: 2020, module: true, compress: { passes: 2 }, format: { comments: false } }),
  ],
};
