// AAC-LC encoded in the browser by ffmpeg's encoder built to WASM (@mediabunny/aac-encoder,
// MPL-2.0), running in its own worker. Only webcodecs-audio.ts imports this, on demand: it is a
// chunk of its own (~250 KB gzipped, the WASM inside), loaded only where AudioEncoder has no AAC.
import { registerAacEncoder } from '@mediabunny/aac-encoder';
import { type AudioSample, registeredEncoder } from './mediabunny-shim.js';
import type { AudioEncoding, EncodedAudioSink } from './webcodecs-audio.js';

/** Whether the encoder registers with the recorder's stand-in for `mediabunny`. */
export function wasmAacRegisters(): boolean {
  registerAacEncoder();
  return registeredEncoder() !== undefined;
}

export async function startWasmAac(
  config: AudioEncoderConfig,
  sink: EncodedAudioSink,
  onError: (error: Error) => void,
): Promise<AudioEncoding> {
  registerAacEncoder();
  const Encoder = registeredEncoder();
  // An app that bundles the real `mediabunny` gets its registry, not ours: the caller falls back.
  if (!Encoder) throw new Error('the WASM AAC encoder did not register with the recorder');
  const encoder = new Encoder();
  encoder.codec = 'aac';
  encoder.config = config;
  encoder.onPacket = (packet) => sink(packet.data, Math.round(packet.timestamp * 1e6));
  await encoder.init();
  let failed = false;
  // The encoder takes one frame at a time: each waits for the one before.
  let queue = Promise.resolve();
  const run = (step: () => Promise<void>): Promise<void> => {
    queue = queue
      .then(() => (failed ? undefined : step()))
      .catch((caught: unknown) => {
        if (failed) return;
        failed = true;
        onError(caught instanceof Error ? caught : new Error(String(caught)));
      });
    return queue;
  };
  return {
    encode(data) {
      // Read now: the caller closes `data` once this returns.
      const sample = interleaved(data);
      void run(() => encoder.encode(sample));
    },
    flush: () => run(() => encoder.flush()),
    close() {
      failed = true;
      encoder.close();
    },
  };
}

/** The frame's samples interleaved (what the encoder reads), from planar 32-bit float. */
function interleaved(data: AudioData): AudioSample {
  const { numberOfFrames, numberOfChannels } = data;
  const samples = new Float32Array(numberOfFrames * numberOfChannels);
  const plane = new Float32Array(numberOfFrames);
  for (let c = 0; c < numberOfChannels; c++) {
    data.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
    for (let i = 0; i < numberOfFrames; i++) samples[i * numberOfChannels + c] = plane[i]!;
  }
  const bytes = new Uint8Array(samples.buffer);
  return {
    timestamp: data.timestamp / 1e6,
    numberOfFrames,
    allocationSize: () => bytes.byteLength,
    copyTo: (destination) => destination.set(bytes),
  };
}
