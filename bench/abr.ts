// `npm run bench -- --abr [--browser chromium|firefox] [--seconds 40]`: the adaptive-bitrate browser
// test (test/browser/adaptive-bitrate.test.ts) with the page's upload capped at 1.2 Mb/s for the
// issue's 40 s instead of CI's 12, in each browser: a busy 720p30 picture at 2.5 Mb/s through the
// WebCodecs recorder, the real server and nginx-rtmp. The test's own assertions decide pass or fail
// (live all along with no error, the publish covering ≥ 90 % of the time on air, stop() draining
// within 5 s, the target back to ≥ 80 % of 2.5 Mb/s within 20 s of the cap lifting); its one-line
// summary is printed per browser.
import { execa } from 'execa';
import { argValues, numberArgument } from './tools.js';

const browsers = argValues('browser');
const seconds = numberArgument('seconds', 40);
const results: { browser: string; passed: boolean; summary: string }[] = [];

for (const browser of browsers.length > 0 ? browsers : ['chromium', 'firefox']) {
  console.log(`abr: ${browser}, upload capped ${seconds} s…`);
  const run = await execa(
    'npx',
    ['web-test-runner', '--config', 'web-test-runner.config.mjs', '--files', 'test/browser/adaptive-bitrate.test.ts'],
    {
      env: { BROWSERS: browser, ABR_CAPPED_MS: String(seconds * 1000) },
      all: true,
      reject: false,
    },
  );
  const summary =
    run.all
      .split('\n')
      .find((line) => line.includes(`abr ${browser}:`))
      ?.trim() ?? '(no summary: the test failed before it)';
  const failure =
    run.exitCode === 0
      ? ''
      : `\n${run.all
          .split('\n')
          .filter((line) => /❌|AssertionError|Error:|expected/.test(line))
          .slice(0, 8)
          .join('\n')}`;
  console.log(`abr: ${browser}: ${run.exitCode === 0 ? 'passed' : 'FAILED'}\n  ${summary}${failure}`);
  results.push({ browser, passed: run.exitCode === 0, summary });
}
if (results.some((result) => !result.passed)) process.exitCode = 1;
