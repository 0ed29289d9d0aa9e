// Browser tests: Debian's Chromium and Firefox ESR with a fake camera and microphone, talking to a
// real BroadcastServer and a real nginx-rtmp that the server plugin starts beside the test page.
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { puppeteerLauncher } from '@web/test-runner-puppeteer';
import { tsImport } from 'tsx/esm/api';

/**
 * Which browsers run the suite: both by default, one after the other; BROWSERS=chromium (or
 * firefox) for one. CHROME_PATH and FIREFOX_PATH (default /usr/bin/firefox-esr) point at others.
 */
const BROWSERS = (process.env.BROWSERS ?? 'chromium,firefox').split(',').map((name) => name.trim());

const { broadcastServerPlugin } = await tsImport('./test/browser/server-plugin.ts', import.meta.url);

/** Debian's Chromium, with its fake camera (a test pattern) and microphone (a beep). */
const chromium = chromeLauncher({
  launchOptions: {
    executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
    ],
  },
});

/** Firefox through puppeteer over WebDriver BiDi. Its fake devices: a test pattern and a tone. */
const firefox = puppeteerLauncher({
  launchOptions: {
    browser: 'firefox',
    executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.autoplay.default': 0,
      'media.autoplay.block-webaudio': false,
    },
  },
});

/** @type {import('@web/test-runner').TestRunnerConfig} */
export default {
  files: 'test/browser/**/*.test.ts',
  // Browser builds, not the default "development" ones: socket.io's debug builds import CommonJS.
  nodeResolve: { browser: true, exportConditions: ['browser'] },
  concurrency: 1,
  // One browser at a time: both share the server plugin's one BroadcastServer, nginx-rtmp and proxy.
  concurrentBrowsers: 1,
  testsFinishTimeout: 180_000,
  testFramework: { config: { timeout: 30_000 } },
  browsers: [...(BROWSERS.includes('chromium') ? [chromium] : []), ...(BROWSERS.includes('firefox') ? [firefox] : [])],
  plugins: [
    // The tsconfig carries experimentalDecorators and useDefineForClassFields: false, which Lit's decorators need.
    esbuildPlugin({ ts: true, tsconfig: fileURLToPath(new URL('tsconfig.json', import.meta.url)) }),
    broadcastServerPlugin(),
  ],
};
