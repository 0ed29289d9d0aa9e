// A destination that drops a broadcast whose recording has a single keyframe, at its start, as
// Firefox's VP8 does: the new ffmpeg cannot start at a later Cluster (nothing there decodes), so
// the server asks the client to restart its recording and starts the new ffmpeg on that.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createMetrics } from '../../server/metrics.js';
import { splitChunks } from '../helpers/fixtures.js';
import { waitForNoChildren } from '../helpers/processes.js';
import { keyframeTimes, probe, videoPacketTimes } from '../helpers/probe.js';
import { startRtmpServer } from '../helpers/rtmp-server.js';
import { send, start, startStack, stop } from '../helpers/stack.js';
import { VP8_MIME } from '../helpers/constants.js';

const run = promisify(execFile);
const CHUNK_MS = 250;

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-restart-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
  await waitForNoChildren('ffmpeg', 5_000);
});

/** A live WebM recording like Firefox's: VP8 with one keyframe (the first frame), Opus, a Cluster per 250 ms. */
async function firefoxLikeRecording(name: string, seconds: number): Promise<Buffer> {
  const file = join(dir, `${name}.webm`);
  await run('ffmpeg', [
    '-hide_banner',
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-c:v',
    'libvpx',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-b:v',
    '1M',
    // One keyframe for the whole recording.
    '-g',
    '100000',
    '-keyint_min',
    '100000',
    '-c:a',
    'libopus',
    '-ac',
    '2',
    '-b:a',
    '96k',
    '-t',
    String(seconds),
    '-f',
    'webm',
    '-live',
    '1',
    '-cluster_time_limit',
    String(CHUNK_MS),
    '-y',
    file,
  ]);
  return readFile(file);
}

describe('a destination that drops a broadcast recorded with one keyframe', () => {
  test('is reconnected on a new recording the client starts when asked, with video from its first frame', async () => {
    const [first, second] = await Promise.all([firefoxLikeRecording('first', 6), firefoxLikeRecording('second', 4)]);
    assert.equal((await keyframeTimes(join(dir, 'first.webm'))).length, 1, 'the fixture has a single keyframe');
    const rtmp = await startRtmpServer();
    const stack = await startStack({ allowedDestinations: [rtmp.url('')], destinationRetryDelayMs: 200 });
    const metrics = await createMetrics(stack.broadcaster);
    try {
      const socket = await stack.client();
      let asked = false;
      socket.on('restart-recording', (ack) => {
        asked = true;
        ack({ ok: true });
      });
      const restored = new Promise<number>((resolve) => socket.once('destination-restored', () => resolve(Date.now())));
      // Chunks of ~250 ms of media, at the pace a recorder makes them.
      const paced = async (chunks: Buffer[], stopWhen = () => false) => {
        for (const chunk of chunks) {
          if (stopWhen()) return;
          assert.deepEqual(await send(socket, chunk), { ok: true });
          await new Promise((resolve) => setTimeout(resolve, CHUNK_MS));
        }
      };
      const firstChunks = splitChunks(first, Math.ceil(first.length / 24));
      const secondChunks = splitChunks(second, Math.ceil(second.length / 16));

      assert.ok((await start(socket, { mimeType: VP8_MIME, rtmpUrl: rtmp.url('one-keyframe') })).ok);
      await paced(firstChunks.slice(0, 8));
      await rtmp.published('one-keyframe');
      const cutAt = Date.now();
      await rtmp.stop();
      await rtmp.start();
      // The old recording goes on until the server asks for a new one, which the client then sends.
      await paced(firstChunks.slice(8), () => asked);
      assert.ok(asked, 'the server asked for a new recording');
      await paced(secondChunks);
      assert.ok((await restored) - cutAt < 5_000, 'reconnected within 5 s');
      assert.deepEqual(await stop(socket), { ok: true });

      assert.equal(rtmp.events.filter((event) => event.name === 'one-keyframe' && event.call === 'publish').length, 2);
      const exposition = await metrics.metrics();
      assert.match(exposition, /^rtmp_broadcaster_ffmpeg_restarts_total 1$/m, 'one ffmpeg restart counted');
      assert.match(exposition, /^rtmp_broadcaster_destination_restored_total 1$/m, 'and it published again');
      // nginx's file now holds the second publish: the new recording, transcoded, whole.
      const file = await rtmp.recording('one-keyframe');
      const received = await probe(file);
      assert.equal(received.video.codec, 'h264');
      assert.equal(received.audio?.codec, 'aac');
      assert.ok(received.durationSec >= 3.5, `the new recording arrived whole (${received.durationSec} s)`);
      const [firstFrame] = await videoPacketTimes(file);
      const keys = await keyframeTimes(file);
      assert.ok(
        keys[0]! - firstFrame! < 0.1,
        `video from the first frame on (first keyframe at ${keys[0]} s, first frame at ${firstFrame} s)`,
      );
    } finally {
      await stack.close();
      await rtmp.close();
    }
  });
});
