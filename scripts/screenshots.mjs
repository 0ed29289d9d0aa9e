// Screenshots of <rtmp-broadcaster> on the demo page for the README (docs/element-*.png): idle,
// the green room (desktop and a 390 px phone), live (desktop, a 390 px phone, dark), live with the microphone muted, with an error, and the destination form. Runs the demo in-process and drives headless Chromium's fake camera.
// Usage: npm run build && node --import tsx scripts/screenshots.mjs
import puppeteer from 'puppeteer-core';
import { startDemo } from '../demo/server.ts';

const demo = await startDemo({ port: 0, rtmpPort: 19355, log: () => {} });
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
  ],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 720, height: 900 });
  const shoot = async (name) => {
    const element = await page.$('rtmp-broadcaster');
    await element.screenshot({ path: `docs/element-${name}.png` });
    console.log(`docs/element-${name}.png`);
  };
  await page.goto(demo.url);
  await page.waitForFunction(() => customElements.get('rtmp-broadcaster'));
  // The pickers come once the browser listed the devices (with the fake UI, access is granted already).
  await page.waitForFunction(() => document.querySelector('rtmp-broadcaster').shadowRoot.querySelector('[part~=camera-select]'));
  await shoot('idle');

  // The green room, opened with the element's own Preview button: camera and meter, nothing sent.
  await page.evaluate(() => document.querySelector('rtmp-broadcaster').shadowRoot.querySelector('[part~=preview-button]').click());
  await page.waitForFunction(() => document.querySelector('rtmp-broadcaster').hasAttribute('previewing'));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await shoot('preview');
  await page.setViewport({ width: 390, height: 844 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  await shoot('preview-phone');
  await page.setViewport({ width: 720, height: 900 });

  // The demo's own start button, as a person would press it.
  await page.evaluate(() => document.querySelector('rtmp-broadcaster').shadowRoot.querySelector('[part~=start-button]').click());
  await page.waitForFunction(() => document.querySelector('rtmp-broadcaster').getAttribute('state') === 'live');
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await shoot('live');
  // The same broadcast on a 390 px phone, and in a dark color scheme.
  await page.setViewport({ width: 390, height: 844 });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await shoot('live-phone');
  await page.setViewport({ width: 720, height: 900 });
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await shoot('live-dark');
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
  // The person mutes the microphone with the element's own toggle.
  await page.evaluate(() => document.querySelector('rtmp-broadcaster').shadowRoot.querySelector('[part~=mic-button]').click());
  await page.waitForFunction(() => document.querySelector('rtmp-broadcaster').hasAttribute('audio-muted'));
  await shoot('muted');
  await page.evaluate(() => document.querySelector('rtmp-broadcaster').stop());

  await page.evaluate(async () => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    await document
      .querySelector('rtmp-broadcaster')
      .start()
      .catch(() => {});
  });
  await shoot('error');

  // The destination form (`destination-form`, on in the demo): a service picked, its key typed and
  // masked. A fresh page, and nothing is sent from it.
  await page.goto(demo.url);
  await page.waitForFunction(
    () => document.querySelector('rtmp-broadcaster').shadowRoot.querySelector('rtmp-destination-form')?.shadowRoot,
  );
  await page.evaluate(() => {
    const form = document.querySelector('rtmp-broadcaster').shadowRoot.querySelector('rtmp-destination-form').shadowRoot;
    const select = form.querySelector('[part~=preset-select]');
    select.value = 'twitch';
    select.dispatchEvent(new Event('change'));
    const key = form.querySelector('[part~=key-input]');
    key.value = 'live_0123456789_example';
    key.dispatchEvent(new Event('input'));
  });
  await shoot('destination-form');
} finally {
  await browser.close();
  await demo.close();
}
