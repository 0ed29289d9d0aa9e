// The framework typings (`rtmp-broadcaster/react`, `/vue`, `/svelte`, written by `npm run build`
// from custom-elements.json) checked by each framework's own type checker: the demo apps
// (demo/frameworks) and the recipes of docs/recipes.md type-check, and every line marked "error:" in the
// wrong-usage fixture beside them fails, and nothing else does.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = (name: string) => resolve(root, 'node_modules/.bin', name);

/** What a type checker reported: `file:line` of each error, the file relative to the repository. */
type Report = Set<string>;

/** Runs a checker to its end, whatever its exit code, and reads its errors with `pattern` (groups: file, line). */
function check(command: string, args: string[], pattern: RegExp): Promise<{ errors: Report; output: string }> {
  return new Promise((settle) => {
    execFile(command, args, { cwd: root, maxBuffer: 16 * 1024 * 1024 }, (_error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      const errors = new Set([...output.matchAll(pattern)].map(([, file, line]) => `${file}:${line}`));
      settle({ errors, output });
    });
  });
}

/** The lines of `fixture` that must fail: each one after a comment saying "error:". */
function expectedErrors(fixture: string): Report {
  const lines = readFileSync(resolve(root, fixture), 'utf8').split('\n');
  return new Set(lines.flatMap((line, index) => (/error: /.test(line) ? [`${fixture}:${index + 2}`] : [])));
}

/** The framework recipes of docs/recipes.md, by the language of their code block: vue, ts (Angular), svelte, tsx. */
function readmeRecipes(): Map<string, string> {
  const doc = readFileSync(resolve(root, 'docs/recipes.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Vue, Angular, Svelte and React'));
  return new Map([...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, language, code]) => [language!, code!]));
}

/** tsc and vue-tsc: `file(line,col): error TS…`. */
const tscErrors = /^(\S+)\((\d+),\d+\): error TS\d+/gm;

const checkers = [
  {
    framework: 'React and Angular (tsc)',
    fixture: 'test/types/react/wrong.tsx',
    recipes: { tsx: 'test/types/react/readme-react.tsx', ts: 'test/types/react/readme-angular.ts' },
    run: () => check(bin('tsc'), ['-p', 'test/types/react/tsconfig.json', '--pretty', 'false'], tscErrors),
  },
  {
    framework: 'Vue (vue-tsc)',
    fixture: 'test/types/vue/Wrong.vue',
    recipes: { vue: 'test/types/vue/ReadmeVue.vue' },
    run: () => check(bin('vue-tsc'), ['-p', 'test/types/vue/tsconfig.json', '--pretty', 'false'], tscErrors),
  },
  {
    framework: 'Svelte (svelte-check)',
    fixture: 'test/types/svelte/Wrong.svelte',
    recipes: { svelte: 'test/types/svelte/ReadmeSvelte.svelte' },
    run: () =>
      check(
        bin('svelte-check'),
        ['--workspace', root, '--tsconfig', resolve(root, 'test/types/svelte/tsconfig.json'), '--output', 'machine', '--fail-on-warnings'],
        /^\d+ (?:ERROR|WARNING) "([^"]+)" (\d+):\d+/gm,
      ),
  },
];

const recipes = readmeRecipes();

for (const { framework, fixture, recipes: recipeFiles, run } of checkers) {
  test(`${framework}: the demo app and the docs' recipe type-check with the typings, and each misuse in ${fixture} is an error`, async (t) => {
    const expected = expectedErrors(fixture);
    assert.ok(expected.size > 0, `${fixture} marks the lines that must fail`);
    // The recipes are written beside the fixture (the checker's tsconfig includes them) for the run.
    for (const [language, file] of Object.entries(recipeFiles)) {
      const code = recipes.get(language);
      assert.ok(code, `docs/recipes.md has a \`\`\`${language} recipe`);
      writeFileSync(resolve(root, file), code);
      t.after(() => rmSync(resolve(root, file), { force: true }));
    }
    const { errors, output } = await run();
    assert.deepEqual([...errors].sort(), [...expected].sort(), output);
  });
}
