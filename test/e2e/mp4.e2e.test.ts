// Fragmented MP4 as Safari records it (H.264 + AAC), made by ffmpeg at test time since no Safari
// runs here, sent in chunks over the real protocol; nginx-rtmp's recording shows what arrived.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { splitChunks } from '../helpers/fixtures.js';
import { waitForNoChildren } from '../helpers/processes.js';
import { keyframeTimes, probe, videoPacketTimes } from '../helpers/probe.js';
import { startRtmpServer, type RtmpServer } from '../helpers/rtmp-server.js';
import { ended, send, sendAll, start, startStack, stop, type ClientSocket, type Stack } from '../helpers/stack.js';
import { SAFARI_MIME } from '../helpers/constants.js';

const run = promisify(execFile);
const FPS = 30;

let dir: string;
let rtmp: RtmpServer;
let stack: Stack;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-mp4-'));
  rtmp = await startRtmpServer();
  stack = await startStack({ allowedDestinations: [rtmp.url('')], destinationRetryDelayMs: 200 });
});

after(async () => {
  await stack.close();
  await rtmp.close();
  await rm(dir, { recursive: true, force: true });
  await waitForNoChildren('ffmpeg', 5_000);
});

/** Fragmented MP4 like Safari's: H.264 (keyframe every 2 s) + 48 kHz AAC at 64 kb/s, a fragment per 250 ms. */
async function safariLikeRecording(name: string, seconds: number): Promise<{ file: string; bytes: Buffer }> {
  const file = join(dir, `${name}.mp4`);
  await run('ffmpeg', [
    '-hide_banner',
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=640x360:rate=${FPS}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-profile:v',
    'baseline',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(FPS * 2),
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-ar',
    '48000',
    '-ac',
    '2',
    '-t',
    String(seconds),
    '-movflags',
    'frag_keyframe+empty_moov+default_base_moof',
    '-frag_duration',
    '250000',
    '-f',
    'mp4',
    '-y',
    file,
  ]);
  return { file, bytes: await readFile(file) };
}

/** Sends chunks at the pace a recorder makes them, until `stopWhen` says so. */
async function sendPaced(socket: ClientSocket, chunks: Buffer[], everyMs: number, stopWhen = () => false): Promise<void> {
  for (const chunk of chunks) {
    if (stopWhen()) return;
    assert.deepEqual(await send(socket, chunk), { ok: true });
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

describe('fragmented MP4 from Safari', () => {
  test('goes out with its H.264 copied frame for frame and its AAC copied at its own rate and bitrate', async () => {
    const source = await safariLikeRecording('copied', 4);
    const socket = await stack.client();
    const answer = await start(socket, { mimeType: SAFARI_MIME, rtmpUrl: rtmp.url('safari') });
    assert.ok(answer.ok && answer.video === 'copy', JSON.stringify(answer));
    const acks = await sendAll(socket, splitChunks(source.bytes, 16 * 1024));
    assert.ok(acks.every((ack) => ack.ok));
    assert.deepEqual(await stop(socket), { ok: true });

    const [sent, received] = await Promise.all([
      probe(source.file, { countFrames: true }),
      probe(await rtmp.recording('safari'), { countFrames: true }),
    ]);
    assert.equal(received.format, 'flv');
    assert.deepEqual(
      { codec: received.video.codec, profile: received.video.profile, width: received.video.width, frames: received.video.frames },
      { codec: 'h264', profile: sent.video.profile, width: 640, frames: sent.video.frames },
    );
    // The server's own AAC would be 44.1 kHz at 128 kb/s: these are the recording's.
    assert.equal(received.audio?.codec, 'aac');
    assert.equal(received.audio?.sampleRate, 48_000);
    assert.ok(
      Math.abs(received.audio!.bitRate - sent.audio!.bitRate) < sent.audio!.bitRate * 0.1,
      `audio ${received.audio!.bitRate} b/s, sent ${sent.audio!.bitRate} b/s`,
    );
  });

  test('is reconnected after the destination dropped it on a new recording the client starts when asked', async () => {
    const [first, second] = await Promise.all([safariLikeRecording('first', 6), safariLikeRecording('second', 4)]);
    const socket = await stack.client();
    let asked = false;
    socket.on('restart-recording', (ack) => {
      asked = true;
      ack({ ok: true });
    });
    const restored = new Promise<number>((resolve) => socket.once('destination-restored', () => resolve(Date.now())));
    const firstChunks = splitChunks(first.bytes, Math.ceil(first.bytes.length / 24));

    assert.ok((await start(socket, { mimeType: SAFARI_MIME, rtmpUrl: rtmp.url('safari-restarts') })).ok);
    await sendPaced(socket, firstChunks.slice(0, 8), 250);
    await rtmp.published('safari-restarts');
    const cutAt = Date.now();
    await rtmp.stop();
    await rtmp.start();
    await sendPaced(socket, firstChunks.slice(8), 250, () => asked);
    assert.ok(asked, 'the server asked for a new recording');
    await sendPaced(socket, splitChunks(second.bytes, Math.ceil(second.bytes.length / 16)), 250);
    assert.ok((await restored) - cutAt < 5_000, 'reconnected within 5 s');
    assert.deepEqual(await stop(socket), { ok: true });

    assert.equal(rtmp.events.filter((event) => event.name === 'safari-restarts' && event.call === 'publish').length, 2);
    const file = await rtmp.recording('safari-restarts');
    const received = await probe(file, { countFrames: true });
    assert.equal(received.video.frames, 4 * FPS, 'the new recording, every frame');
    const [firstFrame] = await videoPacketTimes(file);
    assert.equal((await keyframeTimes(file))[0], firstFrame, 'starting on a keyframe');
  });

  test('ends with DESTINATION_UNREACHABLE when the destination drops it and the client cannot restart its recording', async () => {
    const source = await safariLikeRecording('no-restart', 6);
    const socket = await stack.client();
    const lost = new Promise<void>((resolve) => socket.once('destination-lost', () => resolve()));
    const end = ended(socket);
    socket.on('restart-recording', (ack) => ack({ ok: false }));
    const chunks = splitChunks(source.bytes, Math.ceil(source.bytes.length / 24));

    assert.ok((await start(socket, { mimeType: SAFARI_MIME, rtmpUrl: rtmp.url('safari-no-restart') })).ok);
    await sendPaced(socket, chunks.slice(0, 8), 250);
    await rtmp.published('safari-no-restart');
    await rtmp.stop();
    await rtmp.start();
    // Media keeps coming, as from a recorder; what arrives after the end is refused.
    let over = false;
    void end.then(() => (over = true));
    for (const chunk of chunks.slice(8)) {
      if (over) break;
      await send(socket, chunk);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await lost;
    const message = await end;
    assert.equal(message.reason, 'error');
    assert.equal(message.error?.code, 'DESTINATION_UNREACHABLE');
    assert.match(message.error!.message, /could not restart its recording/);
  });
});
