// What <rtmp-broadcaster> makes of its attributes and properties: checks on the media to open,
// the options of its BroadcastClient, and the `rtmp-url` attribute's list.
import type { BroadcastClientOptions } from '../broadcast-client.js';
import type { RecorderChoice } from '../recorder/create.js';
import type { BroadcastSource } from './media-source.controller.js';

const SOURCES: readonly BroadcastSource[] = ['camera', 'screen', 'none'];

/** The element's settings these read; numbers removed as attributes read as null. */
export interface ElementSettings {
  server?: string;
  rtmpUrl?: string | string[];
  auth?: Record<string, unknown>;
  source: BroadcastSource;
  stream?: MediaStream;
  videoBitrate?: number | null;
  audioBitrate?: number | null;
  framerate?: number | null;
  audioSampleRate?: number | null;
  timeslice?: number | null;
  recorder?: RecorderChoice;
}

/** Throws a TypeError naming a wrong `source` or `stream`, before anything opens. */
export function checkMedia({ source, stream }: Pick<ElementSettings, 'source' | 'stream'>): void {
  if (!SOURCES.includes(source)) {
    throw new TypeError(`Expected \`source\` to be "camera", "screen" or "none", got \`${String(source)}\``);
  }
  if (source === 'none' && !stream) throw new TypeError('Expected `stream` to be set when `source` is "none"');
  if (stream !== undefined && !(stream instanceof MediaStream && stream.getVideoTracks().length > 0)) {
    throw new TypeError('Expected `stream` to be a MediaStream with a video track');
  }
}

/** The client's options from the element's attributes and properties; `rtmpUrl` (the destination form's) replaces the element's. */
export function clientOptions(element: ElementSettings, rtmpUrl = element.rtmpUrl): BroadcastClientOptions {
  // Removed number attributes read as null; the client wants them absent to apply its defaults.
  return {
    server: element.server ?? location.origin,
    rtmpUrl: [rtmpUrl ?? []].flat().length ? rtmpUrl : undefined,
    auth: element.auth,
    videoBitsPerSecond: element.videoBitrate ?? undefined,
    audioBitsPerSecond: element.audioBitrate ?? undefined,
    framerate: element.framerate ?? undefined,
    audioSampleRate: element.audioSampleRate ?? undefined,
    timeslice: element.timeslice ?? undefined,
    recorder: element.recorder ?? undefined,
  };
}

/** The hosts of the destinations, without scheme, path or key: `a.rtmp.youtube.com, live.twitch.tv`. */
export function destinationHosts(rtmpUrl: string | string[] | undefined): string {
  return [rtmpUrl ?? []]
    .flat()
    .map((url) => /^rtmps?:\/\/([^/?#]+)/i.exec(url)?.[1]?.replace(/^.*@/, '') ?? '')
    .filter(Boolean)
    .join(', ');
}

/** `rtmp-url="a b": one URL stays a string, as before; several (whitespace never occurs in a URL) become a list. */
export function destinationList(value: string | null): string | string[] | undefined {
  const urls = (value ?? '').split(/\s+/).filter(Boolean);
  return urls.length > 1 ? urls : urls[0];
}

/** Caught before connecting: a URL pasted without its scheme is the most common slip. */
export function missingScheme(rtmpUrl: string | string[] | undefined): boolean {
  return [rtmpUrl ?? []].flat().some((url) => !/^rtmps?:\/\//i.test(url));
}
