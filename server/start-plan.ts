// What a broadcast will run, decided without side effects: its destinations (the start hook's,
// trusted; or the client's, checked against the allow-list) and, from the request, the hook's
// overrides, the server's settings and what the ffmpeg binary accepts, every ffmpeg command line.
import { BroadcastError, type StartRequest } from '../client/protocol.js';
import { isAllowedDestination, parseDestination, redactDestination, type AllowedDestinations } from './destination.js';
import type { FanOutTarget } from './fanout.js';
import { buildFfmpegArgs, pusherArgs, recorderArgs, type AudioChannels, type InputMedia } from './ffmpeg/args.js';
import type { FfmpegCapabilities } from './ffmpeg/capabilities.js';
import { describe } from './errors.js';
import type { StartOverrides } from './hooks.js';
import { DEFAULTS, type Settings } from './options.js';

/** The start hook's destinations are trusted; a client's are used only if the allow-list admits every one. */
export function chooseDestinations(
  request: StartRequest,
  overrides: StartOverrides,
  maxDestinations: number,
  allowed: AllowedDestinations | undefined,
): URL[] {
  const max = maxDestinations;
  if (overrides.rtmpUrl !== undefined) {
    try {
      const urls = [overrides.rtmpUrl].flat().map((url) => parseDestination(url));
      if (urls.length === 0 || urls.length > max) throw new Error(`${urls.length} destinations, and maxDestinations is ${max}.`);
      if (hasDuplicate(urls)) throw new Error('The same destination is listed twice.');
      return urls;
    } catch (caught) {
      throw new BroadcastError('INTERNAL', 'The server chose a destination it cannot use.', describe(caught));
    }
  }
  if (request.rtmpUrl === undefined) {
    throw new BroadcastError('INVALID_REQUEST', 'No destination: the request has no `rtmpUrl` and the server set none.');
  }
  const listed = [request.rtmpUrl].flat();
  if (listed.length > max) {
    throw new BroadcastError(
      'INVALID_REQUEST',
      `A broadcast may go to at most ${max} destination(s) on this server; the request lists ${listed.length}.`,
    );
  }
  const urls = listed.map((url) => parseDestination(url));
  for (const url of urls) {
    if (!isAllowedDestination(url, allowed)) {
      throw new BroadcastError('DESTINATION_NOT_ALLOWED', `The server does not allow broadcasting to ${redactDestination(url)}.`);
    }
  }
  if (hasDuplicate(urls)) throw new BroadcastError('INVALID_REQUEST', 'The same destination is listed twice in `rtmpUrl`.');
  return urls;
}

export interface StartPlanInput {
  request: StartRequest;
  /** The client's container and codecs, from its MIME type. */
  media: InputMedia;
  overrides: StartOverrides;
  destinations: readonly URL[];
  recording: string | undefined;
  settings: Pick<Settings, 'audioSampleRate' | 'aacCoder' | 'audioChannels' | 'destinationTimeoutMs' | 'maxPixels'>;
  tls: { tlsVerify: boolean; tlsCaFile?: string };
  /** Unknown when ffmpeg cannot run at all; starting it then reports FFMPEG_NOT_FOUND. */
  capabilities: FfmpegCapabilities | undefined;
}

export interface StartPlan {
  /** One destination and no recording: the broadcast's ffmpeg publishes itself. Otherwise it writes FLV to a pipe for a fan-out. */
  fanned: boolean;
  /** argv of the broadcast's ffmpeg. */
  args: string[];
  /** With a fan-out: its outputs, destinations first, then the recording. */
  targets: FanOutTarget[];
  /** argv of the copy-only ffmpeg for one output of the fan-out. */
  targetArgs(target: FanOutTarget): string[];
}

/** Every ffmpeg command line of a broadcast. */
export function planStart(input: StartPlanInput): StartPlan {
  const { request, media, overrides, destinations, recording, settings, tls, capabilities } = input;
  const chosen = { ...request, ...pickNumbers(overrides) };
  const statsPeriod = capabilities?.statsPeriod ?? true;
  const fanned = destinations.length > 1 || recording !== undefined;
  const audioChannels: AudioChannels = overrides.audioChannels ?? settings.audioChannels;
  const args = buildFfmpegArgs({
    inputFormat: media.inputFormat,
    ...(media.audio ? { audio: media.audio } : {}),
    video: media.video,
    destination: fanned ? 'pipe' : destinations[0]!,
    videoBitsPerSecond: chosen.videoBitsPerSecond ?? DEFAULTS.videoBitsPerSecond,
    audioBitsPerSecond: chosen.audioBitsPerSecond ?? DEFAULTS.audioBitsPerSecond,
    framerate: chosen.framerate ?? DEFAULTS.framerate,
    audioSampleRate: chosen.audioSampleRate ?? settings.audioSampleRate,
    aacCoder: settings.aacCoder,
    audioChannels,
    destinationTimeoutMs: settings.destinationTimeoutMs,
    maxPixels: settings.maxPixels,
    statsPeriod,
    fpsMode: capabilities?.fpsMode ?? true,
    ...tls,
  });
  const targets: FanOutTarget[] = fanned
    ? [
        ...destinations.map((url) => ({ kind: 'destination' as const, url })),
        ...(recording === undefined ? [] : [{ kind: 'recording' as const, path: recording }]),
      ]
    : [];
  return {
    fanned,
    args,
    targets,
    targetArgs: (target) =>
      target.kind === 'destination'
        ? pusherArgs({ destination: target.url, destinationTimeoutMs: settings.destinationTimeoutMs, statsPeriod, ...tls })
        : recorderArgs({ path: target.path, statsPeriod }),
  };
}

/** Whether two of the URLs are the same destination. */
function hasDuplicate(urls: readonly URL[]): boolean {
  return new Set(urls.map((url) => url.href)).size !== urls.length;
}

/** The start hook's numbers that replace the request's. */
function pickNumbers(overrides: StartOverrides): Partial<StartRequest> {
  const picked: Partial<StartRequest> = {};
  for (const key of ['videoBitsPerSecond', 'audioBitsPerSecond', 'framerate', 'audioSampleRate'] as const) {
    if (typeof overrides[key] === 'number') picked[key] = overrides[key];
  }
  return picked;
}
