// The WebCodecs recorder's audio where AudioEncoder has no AAC (Chromium and Firefox on Linux):
// AAC made by the WASM encoder, loaded on demand, from the raw audio (Chromium's
// MediaStreamTrackProcessor) or from Opus decoded (Firefox), and copied by the server.
/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { BroadcastClient } from '../../client/core.js';
import { opusPackets, SourceClock } from '../../client/recorder/frame-sources.js';
import { broadcastConfig, openCamera, probeLevels, probeRecording, record, serverLog, startRequest, stopTracks } from './commands.js';

describe('WebCodecs recorder audio without a native AAC encoder', () => {
  it("AAC from the WASM encoder, copied by the server, its duration the broadcast's", async function () {
    this.timeout(60_000);
    const camera = await openCamera();
    const native = await AudioEncoder.isConfigSupported({ codec: 'mp4a.40.2', sampleRate: 48_000, numberOfChannels: 2, bitrate: 128_000 })
      .then(({ supported }) => supported === true)
      .catch(() => false);
    const client = new BroadcastClient({ ...(await broadcastConfig('webcodecs-aac')), recorder: 'webcodecs' });
    const startedAt = performance.now();
    await client.start(camera);
    const sessionId = client.sessionId!;
    await record(4_000);
    await client.stop();
    const wallSec = (performance.now() - startedAt) / 1_000;
    stopTracks(camera);

    const request = await startRequest('webcodecs-aac');
    const started = (await serverLog(sessionId)).split('\n').find((line) => line.includes('broadcast started'));
    expect(started, 'the server logged the start').to.be.a('string');
    const wasmLoaded = performance.getEntriesByType('resource').some(({ name }) => name.includes('wasm-aac'));
    expect(request?.mimeType).to.equal('video/x-matroska;codecs=avc1,mp4a.40.2');
    expect(started).to.include('"audio":"copy"', 'the server copies the audio');
    // Only where the browser has no AAC of its own is the encoder's chunk fetched.
    expect(wasmLoaded).to.equal(!native, 'the WASM chunk was loaded');
    const received = await probeRecording('webcodecs-aac');
    expect(received.audio?.codec).to.equal('aac');
    expect(received.durationSec).to.be.within(3, wallSec + 0.5);
    const { audio } = await probeLevels('webcodecs-aac');
    const audioEnd = audio.at(-1)?.time ?? 0;
    const videoEnd = received.videoPacketTimes.at(-1) ?? 0;
    // The audio runs as long as the picture, its last moments too (Firefox's last Opus blob came
    // after stop() and was lost: ~200 ms short), and carries the microphone's sound.
    expect(audioEnd).to.be.within(videoEnd - 0.1, received.durationSec + 0.1, `audio ends ${audioEnd} s, video ${videoEnd} s`);
    expect(audio.some(({ peakDb }) => peakDb !== null && peakDb > -40)).to.equal(true, 'sound, not silence');
    console.log(
      `webcodecs-aac ${navigator.userAgent.includes('Firefox') ? 'firefox' : 'chromium'}: ${request?.mimeType}, audio ends ${audioEnd.toFixed(2)} s, video ${videoEnd.toFixed(2)} s, of ${received.durationSec.toFixed(2)} s`,
    );
  });

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
