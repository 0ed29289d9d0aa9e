// Starting the processes of a planned broadcast: the fan-out's copy-only ffmpegs (several
// destinations or a recording), then the broadcast's own ffmpeg, whose log is watched for frames
// over `maxPixels` (it would drop them all and run on) and for input it reads without using (garbage).
import type { ErrorPayload } from '../client/protocol.js';
import { Broadcast } from './broadcast.js';
import type { BroadcastOptions } from './broadcast-options.js';
import { FanOut } from './fanout.js';
import type { InputMedia } from './ffmpeg/args.js';
import { frameOverLimit } from './ffmpeg/frame-limit.js';
import { InputStallWatch, isDemuxerError } from './ffmpeg/input-stall.js';
import { FfmpegProcess } from './ffmpeg/process.js';
import type { HookContext } from './hooks.js';
import type { Logger } from './logger.js';
import type { Settings } from './options.js';
import type { StartPlan } from './start-plan.js';

export interface LaunchInput {
  context: HookContext;
  media: InputMedia;
  plan: StartPlan;
  destinations: readonly URL[];
  recording: string | undefined;
  settings: Settings;
  sendFfmpegOutput: boolean;
  log: Logger;
  closing(): boolean;
  forClient(error: ErrorPayload): ErrorPayload;
  report: BroadcastOptions['report'];
}

/** Starts the broadcast's processes; rejects (with whatever started ended) when they cannot run. */
export async function launchBroadcast(input: LaunchInput): Promise<Broadcast> {
  const { context, media, plan, destinations, recording, settings, log } = input;
  const { ffmpegPath, stopTimeoutMs, killTimeoutMs, maxBufferedBytes, destinationRetries, destinationRetryDelayMs } = settings;
  const fanOut = plan.fanned
    ? await FanOut.start({
        sessionId: context.sessionId,
        log,
        ffmpegPath,
        targets: plan.targets,
        args: plan.targetArgs,
        retries: destinationRetries,
        retryDelayMs: destinationRetryDelayMs,
        stopTimeoutMs,
        killTimeoutMs,
        maxBufferedBytes,
      })
    : undefined;
  let broadcast: Broadcast | undefined;
  broadcast = await Broadcast.start({
    context,
    video: media.video,
    inputFormat: media.inputFormat,
    recording,
    fanOut,
    spawn: async (request) => {
      // Garbage after a good header: ffmpeg reads it (the client is acknowledged) and nothing comes out.
      const stall = new InputStallWatch((error) => {
        if (broadcast?.accepting) void broadcast.stop(error.toJSON());
      });
      const process = await FfmpegProcess.start({
        ffmpegPath,
        args: plan.args,
        destination: destinations[0]!,
        pipeOutput: plan.fanned,
        stopTimeoutMs,
        killTimeoutMs,
        ...request,
        onStats: (stats) => {
          stall.progress(stats);
          request.onStats(stats);
        },
        onOutput: (line) => {
          if (isDemuxerError(line)) stall.damaged();
          request.onOutput(line);
        },
      });
      stall.watch(process);
      void process.ended.then(() => stall.stop());
      return process;
    },
    idleTimeoutMs: settings.idleTimeoutMs,
    maxDurationMs: settings.maxDurationMs,
    maxBufferedBytes,
    destinationRetries,
    destinationRetryDelayMs,
    sendFfmpegOutput: input.sendFfmpegOutput,
    closing: input.closing,
    forClient: input.forClient,
    report: input.report,
    log,
  });
  const started = broadcast;
  started.on('output', (line) => {
    const tooLarge = frameOverLimit(line);
    if (tooLarge && started.accepting) void started.stop(tooLarge.toJSON());
  });
  return started;
}
