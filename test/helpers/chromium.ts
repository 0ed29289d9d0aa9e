// How the tests launch Debian's Chromium: its binary and flags, with the fake camera (a test
// pattern) and microphone (a beep). Shared by web-test-runner.config.mjs and the Node tests that
// drive a page with puppeteer-core (test/recipes/).

/** The Chromium binary: CHROME_PATH, else Debian's. */
export const CHROMIUM_PATH = process.env.CHROME_PATH ?? '/usr/bin/chromium';

/** Headless Chromium's flags: fake media devices granted without a prompt, nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
];
