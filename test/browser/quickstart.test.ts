/// <reference types="mocha" />
// The client half of the api.video quick start, rewritten for us (demo/quickstart/client.mjs, shown
// in the README): it goes live and the RTMP server receives the broadcast.
import { expect } from '@open-wc/testing';
import { broadcastConfig, probeRecording, record } from './commands.js';
// @ts-expect-error: a plain JavaScript module, as a user would write it.
import { goLive } from '../../demo/quickstart/client.mjs';

describe('the quick start for those coming from api.video', () => {
  it('goes live with the README client code and the destination receives H.264 and AAC', async () => {
    const { server, rtmpUrl } = await broadcastConfig('quickstart-client');
    const client = await goLive(server, rtmpUrl);
    expect(client.state).to.equal('live');
    await record(2_000);
    await client.stop();
    const received = await probeRecording('quickstart-client');
    expect(received.video).to.include({ codec: 'h264' });
    expect(received.audio).to.include({ codec: 'aac' });
  });
});
