// Browser tests: Debian's Chromium with a fake camera and microphone, talking to a real
// BroadcastServer and a real nginx-rtmp that the server plugin starts beside the test page.
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { tsImport } from 'tsx/esm/api';

const { broadcastServerPlugin } = await tsImport('./test/browser/server-plugin.ts', import.meta.url);

/** @type {import('@web/test-runner').TestRunnerConfig} */
export default {
  files: 'test/browser/**/*.test.ts',
  // Browser builds, not the default "development" ones: socket.io's debug builds import CommonJS.
  nodeResolve: { browser: true, exportConditions: ['browser'] },
  concurrency: 1,
  testsFinishTimeout: 180_000,
  testFramework: { config: { timeout: 30_000 } },
  browsers: [
    chromeLauncher({
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
    }),
  ],
  plugins: [
    // The tsconfig carries experimentalDecorators and useDefineForClassFields: false, which Lit's decorators need.
    esbuildPlugin({ ts: true, tsconfig: fileURLToPath(new URL('tsconfig.json', import.meta.url)) }),
    broadcastServerPlugin(),
  ],
};
