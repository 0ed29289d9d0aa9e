// What the browser tests ask of the server plugin (see server-plugin.ts), and the fake camera.
import { executeServerCommand } from '@web/test-runner-commands';
import type { BroadcastState } from '../../client/core.js';
import type { RtmpBroadcaster } from '../../client/element/rtmp-broadcaster.js';
import type { StartRequest } from '../../client/protocol.js';
import type {
  BroadcastConfig,
  BroadcastConfigRequest,
  RecordingProbe,
  RefusingDestination,
  RtmpEventsAnswer,
  ServerLogAnswer,
  SilentDestination,
  LevelsAnswer,
  StartRequestAnswer,
} from './server-plugin.js';

/**
 * The stream name a test's `stream` publishes under in this browser: the browsers of a run share
 * one RTMP server, so each gets its own names (`firefox-blip`), and one's publishes and recordings
 * never count as another's.
 */
function streamName(stream: string): string {
  return `${navigator.userAgent.includes('Firefox') ? 'firefox' : 'chromium'}-${stream}`;
}

/**
 * Where this test's broadcast goes; each test publishes under its own stream name. With
 * `viaProxy` the client reaches the server through a TCP proxy that {@link blip} can cut.
 */
export function broadcastConfig(stream: string, { viaProxy = false } = {}): Promise<BroadcastConfig> {
  return executeServerCommand<BroadcastConfig, BroadcastConfigRequest>('broadcast-config', { stream: streamName(stream), viaProxy });
}

/** A network blip: every connection through the proxy drops, and new ones are refused for `ms`. */
export async function blip(ms: number): Promise<void> {
  await executeServerCommand<boolean, { ms: number }>('blip', { ms });
}

/** Caps the upload through the proxy (page to server) at `bitsPerSecond`; null lifts the cap. */
export async function throttleUpload(bitsPerSecond: number | null): Promise<void> {
  await executeServerCommand<boolean, { bitsPerSecond: number | null }>('throttle-upload', { bitsPerSecond });
}

/** What the RTMP server notified about `stream`, oldest first: 'publish', 'publish_done', 'record_done'. */
export async function rtmpEvents(stream: string): Promise<string[]> {
  const answer = await executeServerCommand<RtmpEventsAnswer, { stream: string }>('rtmp-events', { stream: streamName(stream) });
  return answer.calls;
}

/** What the broadcast servers logged lately (info and up) that mentions `text`, e.g. a session id: for a failing test's message. */
export async function serverLog(text: string): Promise<string> {
  const answer = await executeServerCommand<ServerLogAnswer, { text: string }>('server-log', { text });
  return answer.lines.join('\n');
}

/** A destination the server allows and no RTMP server answers: ffmpeg's connection is refused. */
export async function refusingDestination(stream: string): Promise<string> {
  const answer = await executeServerCommand<RefusingDestination, { stream: string }>('refusing-destination', {
    stream: streamName(stream),
  });
  return answer.rtmpUrl;
}

/** A destination the server allows whose listener accepts the connection and never speaks RTMP. */
export async function silentDestination(stream: string): Promise<string> {
  const answer = await executeServerCommand<SilentDestination, { stream: string }>('silent-destination', { stream: streamName(stream) });
  return answer.rtmpUrl;
}

/**
 * Resolves once the server is done with the broadcast to `rtmpUrl`: it has seen its client leave
 * and finished the broadcast (if it started one), so it tells that client nothing more. At once
 * when no start for `rtmpUrl` reached the server.
 */
export async function broadcastOver(rtmpUrl: string): Promise<void> {
  await executeServerCommand<boolean, { rtmpUrl: string }>('broadcast-over', { rtmpUrl });
}

/** What the RTMP server recorded of `stream`, once the publish has ended. */
export function probeRecording(stream: string): Promise<RecordingProbe> {
  return executeServerCommand<RecordingProbe, { stream: string }>('probe-recording', { stream: streamName(stream) });
}

/**
 * Decodes what the RTMP server recorded of `stream`: each video frame's time and brightest luma
 * (of the part `crop` says, `w:h:x:y` in ffmpeg's terms, if given), each audio frame's time and
 * peak (dBFS, null for digital silence).
 */
export function probeLevels(stream: string, crop?: string): Promise<LevelsAnswer> {
  return executeServerCommand<LevelsAnswer, { stream: string; crop?: string }>('probe-levels', { stream: streamName(stream), crop });
}

/** The start request the server received for `stream`, or null if none came. */
export async function startRequest(stream: string): Promise<StartRequest | null> {
  const answer = await executeServerCommand<StartRequestAnswer, { stream: string }>('start-request', { stream: streamName(stream) });
  return answer.request;
}

/**
 * Whether this browser's MediaRecorder records H.264, which the server copies to RTMP untouched.
 * Chromium's does; Firefox's records only VP8 (and VP9), which the server transcodes to H.264.
 */
export const recordsH264 = MediaRecorder.isTypeSupported('video/webm;codecs=h264');

/** What the server does with this browser's video from MediaRecorder: 'copy' for H.264, 'transcode' for VP8/VP9. */
export const mediaRecorderVideoMode = recordsH264 ? 'copy' : 'transcode';

/**
 * What the server does with this browser's video from the default recorder (`auto`): 'copy', as
 * both test browsers encode H.264 with WebCodecs; where a browser has no VideoEncoder, MediaRecorder's.
 */
export const expectedVideoMode = typeof VideoEncoder === 'function' ? 'copy' : mediaRecorderVideoMode;

/** The size the tests of the 1280×720 default capture at. */
export const HD = { width: 1280, height: 720 } as const;
/**
 * The size every other test captures at: the browsers' software H.264 encoders cost ~4× less than
 * at 720p (Firefox's content process 13.6 CPU-s instead of 32.5 over broadcast-client.test.ts),
 * which leaves CI's two cores to the tests' real-time media.
 */
export const SMALL = { width: 640, height: 360 } as const;

/** The browser's fake camera (a test pattern) and microphone (a beep or tone), at `size`. */
export function openCamera(size: { width: number; height: number } = SMALL): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({ video: { ...size }, audio: true });
}

export function stopTracks(stream: MediaStream | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** Lets the camera record `ms` of media: the length of the content, not a wait for an event. */
export function record(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves on the element's first `rtmp-statechange` to `state`. */
export function stateReached(element: RtmpBroadcaster, state: BroadcastState): Promise<void> {
  return new Promise((resolve) => {
    const check = (event: CustomEvent<{ state: BroadcastState }>) => {
      if (event.detail.state !== state) return;
      element.removeEventListener('rtmp-statechange', check);
      resolve();
    };
    element.addEventListener('rtmp-statechange', check);
  });
}
