// The argv options of a transcoded broadcast, for the hardening tests that build one.
import type { FfmpegArgsOptions } from '../../../server/ffmpeg/args.js';

/** VP8/VP9 in Matroska to H.264 on stdout at 120 fps, the most a request may ask. */
export const TRANSCODE: FfmpegArgsOptions = {
  inputFormat: 'matroska',
  video: 'transcode',
  destination: 'pipe',
  videoBitsPerSecond: 2_500_000,
  audioBitsPerSecond: 128_000,
  audioSampleRate: 44_100,
  framerate: 120,
  destinationTimeoutMs: 10_000,
};
