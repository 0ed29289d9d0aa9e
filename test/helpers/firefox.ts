// How the tests and the glass bench launch Firefox ESR (through puppeteer over WebDriver BiDi): its
// binary and preferences, with the fake camera (a test pattern) and microphone (a tone) granted
// without a prompt. Shared by web-test-runner.config.mjs and bench/glass.ts.

/** The Firefox binary: FIREFOX_PATH, else Debian's Firefox ESR. */
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** Fake media devices without a prompt, and media that may play without a gesture. */
export const FIREFOX_PREFS: Record<string, boolean | number> = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.block-webaudio': false,
};
