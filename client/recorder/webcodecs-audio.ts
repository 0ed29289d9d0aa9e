// The WebCodecs recorder's audio encoder: the browser's AudioEncoder (AAC or Opus), or where it
// has no AAC, ffmpeg's AAC encoder built to WASM (@mediabunny/aac-encoder), loaded on demand as
// its own chunk, so the server copies AAC instead of encoding it.
import { type FrameSource, opusPackets, type SourceClock } from './frame-sources.js';
import type { AudioSetup } from './webcodecs-config.js';

/** Where an encoded frame goes: its bytes and its timestamp in microseconds. */
export type EncodedAudioSink = (data: Uint8Array, timestampUs: number) => void;

/** One audio encoder, whichever kind: frames in (the caller closes them), encoded frames out. */
export interface AudioEncoding {
  encode(data: AudioData): void;
  /** Resolves once every frame given has come out. */
  flush(): Promise<void>;
  close(): void;
}

/**
 * Loads the WASM AAC encoder's chunk (once); false where it cannot run, e.g. where an app's own
 * bundler gave it the real `mediabunny` instead of the recorder's stand-in.
 */
export async function loadsWasmAac(): Promise<boolean> {
  try {
    return (await import('./wasm-aac.js')).wasmAacRegisters();
  } catch {
    return false;
  }
}

/** Starts the encoder `setup` names; rejects if it cannot start. */
export async function startAudioEncoder(
  setup: AudioSetup & { config: AudioEncoderConfig },
  sink: EncodedAudioSink,
  onError: (error: Error) => void,
): Promise<AudioEncoding> {
  if (setup.wasm) {
    const { startWasmAac } = await import('./wasm-aac.js');
    return startWasmAac(setup.config, sink, onError);
  }
  const encoder = new AudioEncoder({
    output: (chunk) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      sink(data, chunk.timestamp);
    },
    error: onError,
  });
  encoder.configure(setup.config);
  return {
    encode(data) {
      if (encoder.state === 'configured') encoder.encode(data);
    },
    flush: () => encoder.flush(),
    close() {
      if (encoder.state !== 'closed') encoder.close();
    },
  };
}

/**
 * Audio of `track` as AudioData where no raw audio can be read (Firefox): the Opus packets of an
 * audio-only MediaRecorder, decoded by AudioDecoder, for the WASM AAC encoder. Its stop() resolves
 * once the last packets are decoded and handed to `sink`.
 */
export async function decodedOpus(
  track: MediaStreamTrack,
  channels: number,
  timeslice: number,
  clock: SourceClock,
  sink: (data: AudioData) => void,
  onError: (error: Error) => void,
): Promise<FrameSource> {
  const decoder = new AudioDecoder({ output: sink, error: onError });
  decoder.configure({ codec: 'opus', sampleRate: 48_000, numberOfChannels: channels });
  const packets = await opusPackets(track, timeslice, clock, (data, timestamp) => {
    if (decoder.state === 'configured') decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp, data }));
  });
  return {
    async stop() {
      await packets.stop();
      if (decoder.state === 'configured') await decoder.flush().catch(() => {});
      if (decoder.state !== 'closed') decoder.close();
    },
  };
}

/** Whether Opus can be decoded here (for {@link decodedOpus}). */
export async function decodesOpus(channels: number): Promise<boolean> {
  if (typeof AudioDecoder === 'undefined') return false;
  try {
    return (await AudioDecoder.isConfigSupported({ codec: 'opus', sampleRate: 48_000, numberOfChannels: channels })).supported === true;
  } catch {
    return false;
  }
}
