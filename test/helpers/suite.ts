// What most end-to-end test files share: one nginx-rtmp for the whole file, and the check that no
// ffmpeg outlives the file's tests.
import { after, before } from 'node:test';
import { waitForNoChildren } from './processes.js';
import { startRtmpServer, type RtmpServer } from './rtmp-server.js';

/** Registers before/after hooks for an RTMP server; the returned object stands for it once started. */
export function useRtmpServer(): RtmpServer {
  let server: RtmpServer | undefined;
  before(async () => {
    server = await startRtmpServer();
  });
  after(async () => {
    await server?.close();
    await waitForNoChildren('ffmpeg', 5_000);
  });
  return new Proxy({} as RtmpServer, {
    get(_target, key) {
      if (!server) throw new Error('The RTMP server starts in before(): use it inside tests.');
      const value = Reflect.get(server, key) as unknown;
      return typeof value === 'function' ? value.bind(server) : value;
    },
  });
}
