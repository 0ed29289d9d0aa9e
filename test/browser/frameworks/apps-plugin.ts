// Serves the framework demo apps (demo/frameworks/<app>/main.ts[x]) to the browser tests as one
// ES module each, bundled by esbuild at request time with each framework's own compiler: Vue's
// SFC compiler, svelte/compiler, esbuild's automatic JSX runtime for React, and Angular's JIT
// compiler in the page. `rtmp-broadcaster` resolves to the element's source. The compilers load
// only when an app is asked for, so other browser test runs do not pay for them.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin as TestRunnerPlugin } from '@web/dev-server-core';
import { build, type Plugin } from 'esbuild';

/** Where the page imports an app from (framework-app.ts): `${APPS_PATH}vue.js` is demo/frameworks/vue. */
const APPS_PATH = '/__framework-apps/';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Tells Vue's compiler that the tag is no Vue component. */
const isCustomElement = (tag: string) => tag === 'rtmp-broadcaster';

/** Vue single-file components, the template compiled into the script's setup function. */
const vueSfc: Plugin = {
  name: 'vue-sfc',
  setup(builder) {
    builder.onLoad({ filter: /\.vue$/ }, async ({ path }) => {
      const { compileScript, parse: parseSfc } = await import('vue/compiler-sfc');
      // The template's AST is made by parse(), so it is told about the custom element there too.
      const { descriptor, errors } = parseSfc(await readFile(path, 'utf8'), { filename: path, templateParseOptions: { isCustomElement } });
      if (errors.length > 0) throw errors[0];
      const script = compileScript(descriptor, {
        id: basename(path),
        inlineTemplate: true,
        templateOptions: { compilerOptions: { isCustomElement } },
      });
      return { contents: script.content, loader: script.lang === 'ts' ? 'ts' : 'js', resolveDir: dirname(path) };
    });
  },
};

/** Svelte 5 components, compiled for the browser. */
const svelte: Plugin = {
  name: 'svelte',
  setup(builder) {
    builder.onLoad({ filter: /\.svelte$/ }, async ({ path }) => {
      const { compile: compileSvelte } = await import('svelte/compiler');
      const { js, warnings } = compileSvelte(await readFile(path, 'utf8'), { filename: path, generate: 'client' });
      return {
        contents: js.code,
        loader: 'js',
        resolveDir: dirname(path),
        warnings: warnings.map((warning) => ({ text: warning.message })),
      };
    });
  },
};

/** The entry module of demo/frameworks/<app>. */
function entryOf(app: string): string | undefined {
  if (!/^[a-z]+$/.test(app)) return undefined;
  return ['main.ts', 'main.tsx'].map((file) => `${root}demo/frameworks/${app}/${file}`).find((path) => existsSync(path));
}

/** Answers `${APPS_PATH}<app>.js` with that demo app, bundled. */
export function frameworkAppsPlugin(): TestRunnerPlugin {
  return {
    name: 'framework-apps',
    async serve(context) {
      if (!context.path.startsWith(APPS_PATH)) return undefined;
      const app = context.path.slice(APPS_PATH.length).replace(/\.js$/, '');
      const entry = entryOf(app);
      if (!entry) return undefined;
      const result = await build({
        entryPoints: [entry],
        absWorkingDir: root,
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        // Experimental decorators, which both Lit's and Angular's (JIT) need.
        tsconfig: `${root}tsconfig.json`,
        jsx: 'automatic',
        alias: { 'rtmp-broadcaster': './client/index.ts' },
        define: {
          'process.env.NODE_ENV': '"development"',
          __VUE_OPTIONS_API__: 'false',
          __VUE_PROD_DEVTOOLS__: 'false',
          __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
        },
        sourcemap: 'inline',
        logLevel: 'silent',
        plugins: [vueSfc, svelte],
      });
      // A demo app compiles cleanly: a framework's warning (an unknown element, a11y) fails its test.
      if (result.warnings.length > 0) throw new Error(`${app} demo app: ${result.warnings.map((warning) => warning.text).join('; ')}`);
      return { body: result.outputFiles[0]!.text, type: 'js' };
    },
  };
}
