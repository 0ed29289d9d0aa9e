// The Opus source of the WebCodecs recorder (Firefox: an audio-only MediaRecorder, decoded then
// encoded to AAC) keeps its last packets. The AAC a broadcast carries, made by the WASM encoder
// where AudioEncoder has none and copied by the server, is checked in webcodecs.test.ts.
/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { opusPackets, SourceClock } from '../../client/recorder/frame-sources.js';
import { openCamera, record, stopTracks } from './commands.js';

describe('WebCodecs recorder audio from Opus (Firefox)', () => {
  it('the Opus source (Firefox) hands out its last packets before its stop() resolves', async () => {
    const camera = await openCamera();
    const origin = performance.now();
    let lastUs = 0;
    const source = await opusPackets(camera.getAudioTracks()[0]!, 200, new SourceClock(origin), (_data, timestampUs) => {
      lastUs = timestampUs;
    });
    await record(1_000);
    const stoppedMs = performance.now() - origin;
    await source.stop();
    stopTracks(camera);
    // Packets are 20 ms; the last blob (up to a 200 ms timeslice of them) comes after stop().
    expect(lastUs / 1000).to.be.above(
      stoppedMs - 100,
      `last packet at ${(lastUs / 1000).toFixed(0)} ms, stopped at ${stoppedMs.toFixed(0)} ms`,
    );
  });
});
