// What @mediabunny/aac-encoder needs of `mediabunny`, and nothing more: the bundle and the test
// server resolve `mediabunny` to this file (rollup.config.mjs, web-test-runner.config.mjs), so the
// WASM AAC encoder's class comes to the recorder directly, without Mediabunny's muxers (~100 KB).

/** The encoded packet the AAC encoder hands out: timestamp and duration in seconds. */
export class EncodedPacket {
  constructor(
    readonly data: Uint8Array,
    readonly type: 'key' | 'delta',
    readonly timestamp: number,
    readonly duration: number,
  ) {}
}

/** The audio the encoder reads: interleaved 32-bit float, its timestamp in seconds. */
export interface AudioSample {
  readonly timestamp: number;
  readonly numberOfFrames: number;
  allocationSize(options: { format: 'f32'; planeIndex: 0 }): number;
  copyTo(destination: Uint8Array, options: { format: 'f32'; planeIndex: 0 }): void;
}

/** The base class Mediabunny's custom encoders extend: the fields it sets before `init()`. */
export class CustomAudioEncoder {
  declare codec: 'aac';
  declare config: AudioEncoderConfig;
  declare onPacket: (packet: EncodedPacket, metadata?: EncodedAudioChunkMetadata) => unknown;
}

export interface ShimAudioEncoder extends CustomAudioEncoder {
  init(): Promise<void>;
  encode(sample: AudioSample): Promise<void>;
  flush(): Promise<void>;
  close(): void;
}

export const Logging = { _error: (...parts: unknown[]): void => console.error(...parts) };

let registered: (new () => ShimAudioEncoder) | undefined;

export function registerEncoder(encoder: unknown): void {
  registered = encoder as new () => ShimAudioEncoder;
}

/** The encoder class registered last, if one was. */
export function registeredEncoder(): (new () => ShimAudioEncoder) | undefined {
  return registered;
}
