// One test for every framework demo app (demo/frameworks/<app>): mounted in Chromium, it binds the
// element's attributes and properties from the framework's state, goes live and stops through
// start() and stop(), shows each rtmp- event it heard, and the RTMP server receives the broadcast.
/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { Mount } from '../../../demo/frameworks/log.js';
import { broadcastConfig, probeRecording, startRequest } from '../commands.js';

/**
 * Resolves once `ready()` holds, asking again whenever anything under `root` changes; rejects
 * naming `what` if that takes longer than the test has left, so a failure says which step hung.
 */
function until(root: Node, what: string, ready: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ready()) return resolve();
    const observer = new MutationObserver(() => {
      if (!ready()) return;
      observer.disconnect();
      clearTimeout(timer);
      resolve();
    });
    const timer = setTimeout(() => {
      observer.disconnect();
      reject(new Error(`Still waiting for ${what}; the app shows: ${root.textContent?.replace(/\s+/g, ' ').trim()}`));
    }, 20_000);
    observer.observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

/** Describes the demo app of demo/frameworks/`app`, built with `framework`. */
export function describeFrameworkApp(framework: string, app: string): void {
  describe(`the ${framework} demo app`, () => {
    let container: HTMLElement;
    let unmount: (() => void) | undefined;
    /** What the framework warned about or logged as an error (in development builds, misuses). */
    let complaints: unknown[][];
    const { warn, error } = console;

    beforeEach(() => {
      container = document.createElement('div');
      document.body.append(container);
      complaints = [];
      console.warn = (...args: unknown[]) => void complaints.push(args);
      console.error = (...args: unknown[]) => void complaints.push(args);
    });

    afterEach(() => {
      unmount?.();
      unmount = undefined;
      container.remove();
      Object.assign(console, { warn, error });
    });

    it('binds the element from its state, goes live and stops through start() and stop(), and shows every event', async () => {
      const stream = `framework-${app}`;
      const { server, rtmpUrl } = await broadcastConfig(stream);
      const { mount } = (await import(`/__framework-apps/${app}.js`)) as { mount: Mount };
      unmount = await mount(container, { server });
      const find = <T extends Element>(selector: string) => container.querySelector<T>(selector);
      const text = (selector: string) => find(selector)?.textContent?.trim() ?? '';
      const lines = () => [...container.querySelectorAll('.events li')].map((line) => line.textContent?.trim());
      await until(container, 'the app to render <rtmp-broadcaster>', () => container.querySelector('rtmp-broadcaster') !== null);
      const element = container.querySelector('rtmp-broadcaster')!;

      // What the element has as a property goes in as one; the rest as attributes.
      expect(element.server).to.equal(server);
      expect(element.framerate).to.equal(24);
      expect(element.hasAttribute('framerate'), 'framerate set as a property').to.be.false;
      expect(element.getAttribute('video-bitrate')).to.equal('1000000');
      expect(element.rtmpUrl ?? '').to.equal('');

      // Typing the destination changes the app's state, which the framework hands to the element.
      find<HTMLInputElement>('input[name="rtmp-url"]')!.focus();
      await sendKeys({ type: rtmpUrl });
      await until(container, 'the typed destination to reach the rtmp-url attribute', () => element.getAttribute('rtmp-url') === rtmpUrl);
      expect(element.rtmpUrl).to.equal(rtmpUrl);

      find<HTMLButtonElement>('button.start')!.click();
      await until(container, 'the app to show the live state and its first stats', () => text('.state') === 'live' && text('.kbps') !== '');
      find<HTMLButtonElement>('button.stop')!.click();
      await until(container, 'the app to log rtmp-ended', () => lines().includes('rtmp-ended stopped'));

      expect(lines()).to.deep.equal([
        'rtmp-statechange connecting',
        'rtmp-statechange live',
        'rtmp-statechange stopping',
        'rtmp-statechange ended',
        'rtmp-ended stopped',
      ]);
      expect(text('.state')).to.equal('ended');
      expect(text('.kbps')).to.match(/^\d+(\.\d+)? kb\/s$/);
      expect(text('.error')).to.equal('');

      expect(await startRequest(stream)).to.include({ rtmpUrl, videoBitsPerSecond: 1_000_000, framerate: 24 });
      const received = await probeRecording(stream);
      expect(received.video.codec).to.equal('h264');
      expect(received.audio?.codec).to.equal('aac');
      expect(received.durationSec).to.be.greaterThan(0);

      unmount();
      unmount = undefined;
      expect(element.isConnected, 'unmounting removes the element').to.be.false;
      expect(
        complaints.map((args) => args.map(String).join(' ')),
        'warnings and errors in the console',
      ).to.deep.equal([]);
    });
  });
}
