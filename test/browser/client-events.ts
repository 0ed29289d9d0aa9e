/// <reference types="mocha" />
// What the client tests in test/browser/ share: their camera, and the client's events as promises.
import { oneEvent } from '@open-wc/testing';
import type { BroadcastClient, BroadcastState, BroadcastStats, EndedMessage } from '../../client/core.js';
import { broadcastOver, openCamera, stopTracks } from './commands.js';

/** Resolves with the first stats report from the server that satisfies `test`. */
export function statsWhere(client: BroadcastClient, test: (stats: BroadcastStats) => boolean): Promise<BroadcastStats> {
  return new Promise((resolve) => {
    const check = (event: CustomEvent<BroadcastStats>) => {
      if (!test(event.detail)) return;
      client.removeEventListener('stats', check);
      resolve(event.detail);
    };
    client.addEventListener('stats', check);
  });
}

/** Resolves with the time (performance.now()) of the client's next statechange to `state`. */
export function stateReached(client: BroadcastClient, state: BroadcastState): Promise<number> {
  return new Promise((resolve) => {
    const check = (event: CustomEvent<{ state: BroadcastState }>) => {
      if (event.detail.state !== state) return;
      client.removeEventListener('statechange', check);
      resolve(performance.now());
    };
    client.addEventListener('statechange', check);
  });
}

/**
 * Every `ended` the client emits from now until the server is done with the broadcast to
 * `rtmpUrl`: the window opens before the broadcast starts and closes, after the first `ended`,
 * once the server has seen the client leave and finished the broadcast.
 */
export async function endedUntilOver(client: BroadcastClient, rtmpUrl: string): Promise<EndedMessage[]> {
  const ended: EndedMessage[] = [];
  client.addEventListener('ended', (event) => ended.push(event.detail));
  await oneEvent(client, 'ended');
  await broadcastOver(rtmpUrl);
  return ended;
}

/** An ended message as `reason` and, if it failed, the error's code. */
export function endedSummary({ reason, error }: EndedMessage): string {
  return error ? `${reason} ${error.code}` : reason;
}

/** The fake camera and microphone, opened before each test of the suite and stopped after it. */
export function useCamera(): () => MediaStream {
  let camera: MediaStream | undefined;
  beforeEach(async () => {
    camera = await openCamera();
  });
  afterEach(() => {
    stopTracks(camera);
    camera = undefined;
  });
  return () => camera!;
}
