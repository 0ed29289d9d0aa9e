// Reading frames out of a live WebM stream, however it is chunked: the writer's own output and a
// real ffmpeg recording.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MatroskaWriter } from '../../client/recorder/matroska-writer.js';
import { WebmBlockReader, type WebmFrame } from '../../client/recorder/webm-blocks.js';
import { h264Frames, opusPackets } from '../helpers/encoded-frames.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';

function readAll(stream: Uint8Array, chunkBytes: number): WebmFrame[] {
  const reader = new WebmBlockReader();
  return splitChunks(Buffer.from(stream), chunkBytes).flatMap((chunk) => reader.push(chunk));
}

test('every frame comes out with its time and bytes, whatever the chunk size', async () => {
  const video = await h264Frames(30, 30);
  const opus = await opusPackets(1);
  const writer = new MatroskaWriter({
    video: { width: 320, height: 240, avcC: video.avcC },
    audio: { codec: 'opus', sampleRate: 48_000, channels: 2 },
  });
  const parts = [writer.header(), writer.video(video.frames[0]!.data, 0, true)];
  for (const [i, packet] of opus.packets.entries()) parts.push(writer.audio(packet, i * 20_000));
  const stream = Buffer.concat(parts);
  for (const size of [1, 7, 1_000, stream.length]) {
    const frames = readAll(stream, size);
    assert.equal(frames.length, 1 + opus.packets.length, `chunks of ${size} bytes`);
    assert.deepEqual(
      frames.slice(1).map((frame) => frame.timestampUs),
      opus.packets.map((_, i) => i * 20_000),
    );
    assert.deepEqual(Buffer.from(frames[5]!.data), Buffer.from(opus.packets[4]!));
  }
});

test("an ffmpeg WebM recording's frames: as many as ffmpeg wrote, in time order", async () => {
  const media = await makeFixture('h264-opus', { seconds: 2, fps: 30 });
  const frames = readAll(media, 4_096);
  // 60 video frames and 2 s of 20 ms Opus packets, give or take the encoder's edges.
  assert.ok(frames.length >= 60 + 95 && frames.length <= 60 + 105, `${frames.length} frames`);
  assert.ok(frames.every((frame) => frame.data.byteLength > 0));
});
