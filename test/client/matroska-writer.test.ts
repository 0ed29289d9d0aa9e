// The live Matroska writer, fed real H.264, AAC and Opus frames, read back by ffprobe and by the
// server's restart-point detection.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { audioSpecificConfig, MatroskaWriter, opusHead } from '../../client/recorder/matroska-writer.js';
import { clusterOpensOnKeyframe, findCluster, MatroskaHeader, startsRecording, videoTrackOf } from '../../server/restart-point.js';
import { aacFrames, h264Frames, opusPackets } from '../helpers/encoded-frames.js';
import { removeOnExit } from '../helpers/reaper.js';

const run = promisify(execFile);
/** Capture clocks do not start at 0: WebCodecs timestamps are the camera's, in microseconds. */
const ORIGIN_US = 7_000_123_456;
const FRAME_US = 1_000_000 / 30;

interface Probed {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string; channels?: number }[];
  packets: { stream_index: number; pts_time: string; flags: string }[];
}

const dir = mkdtempSync(join(tmpdir(), 'matroska-writer-'));
removeOnExit(dir);
let files = 0;

async function ffprobe(bytes: Uint8Array): Promise<Probed> {
  const path = join(dir, `${files++}.mkv`);
  writeFileSync(path, bytes);
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_type,codec_name,width,height,sample_rate,channels:packet=stream_index,pts_time,flags',
    '-of',
    'json',
    path,
  ]);
  return JSON.parse(stdout) as Probed;
}

function videoPackets(probed: Probed): { ms: number; keyframe: boolean }[] {
  const index = probed.streams.findIndex((stream) => stream.codec_type === 'video');
  return probed.packets
    .filter((packet) => packet.stream_index === index)
    .map((packet) => ({ ms: Math.round(Number(packet.pts_time) * 1000), keyframe: packet.flags.startsWith('K') }));
}

function concat(parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

test('H.264 + AAC: ffprobe reads the codecs, size, every frame, its keyframes and timestamps', async () => {
  const video = await h264Frames(90, 30);
  const aac = await aacFrames(3);
  const writer = new MatroskaWriter({
    video: { width: 320, height: 240, avcC: video.avcC },
    audio: { codec: 'aac', sampleRate: 48_000, channels: 2 },
  });
  const parts = [writer.header()];
  // Interleaved as two encoders would hand them out: by timestamp, audio a little late.
  let a = 0;
  video.frames.forEach((frame, i) => {
    const us = ORIGIN_US + i * FRAME_US;
    parts.push(writer.video(frame.data, us, frame.keyframe));
    for (; a < aac.length && ORIGIN_US + (a * 1024 * 1e6) / 48_000 < us - 30_000; a++)
      parts.push(writer.audio(aac[a]!, ORIGIN_US + (a * 1024 * 1e6) / 48_000));
  });
  const probed = await ffprobe(concat(parts));
  const [videoStream, audioStream] = [
    probed.streams.find((s) => s.codec_type === 'video')!,
    probed.streams.find((s) => s.codec_type === 'audio')!,
  ];
  assert.deepEqual([videoStream.codec_name, videoStream.width, videoStream.height], ['h264', 320, 240]);
  assert.deepEqual([audioStream.codec_name, audioStream.sample_rate, audioStream.channels], ['aac', '48000', 2]);
  const packets = videoPackets(probed);
  assert.equal(packets.length, 90);
  assert.deepEqual(
    packets.flatMap((packet, i) => (packet.keyframe ? [i] : [])),
    [0, 30, 60],
  );
  assert.deepEqual(
    packets.map((packet) => packet.ms),
    video.frames.map((_, i) => Math.round((i * FRAME_US) / 1000)),
  );
  const audioPackets = probed.packets.filter((packet) => packet.stream_index === probed.streams.indexOf(audioStream));
  assert.equal(audioPackets.length, a);
});

test('H.264 + Opus: the OpusHead, made or the encoder’s, describes the track', async () => {
  const video = await h264Frames(30, 30);
  const opus = await opusPackets(1);
  for (const description of [undefined, opus.head]) {
    const writer = new MatroskaWriter({
      video: { width: 320, height: 240, avcC: video.avcC },
      audio: { codec: 'opus', sampleRate: 48_000, channels: 2, description },
    });
    const parts = [writer.header()];
    for (const [i, frame] of video.frames.entries()) parts.push(writer.video(frame.data, ORIGIN_US + i * FRAME_US, frame.keyframe));
    for (const [i, packet] of opus.packets.entries()) parts.push(writer.audio(packet, ORIGIN_US + i * 20_000));
    const probed = await ffprobe(concat(parts));
    const audio = probed.streams.find((s) => s.codec_type === 'audio')!;
    assert.deepEqual([audio.codec_name, audio.sample_rate, audio.channels], ['opus', '48000', 2]);
    assert.equal(probed.packets.filter((packet) => packet.stream_index === probed.streams.indexOf(audio)).length, opus.packets.length);
  }
  assert.deepEqual(
    [...opusHead(2, 48_000).subarray(0, 12)],
    [...opus.head.subarray(0, 12)],
    'the made OpusHead matches libopus’s (version, channels, pre-skip)',
  );
});

test('AudioSpecificConfig for AAC-LC at the rates browsers encode', () => {
  assert.deepEqual([...audioSpecificConfig(48_000, 2)], [0x11, 0x90]);
  assert.deepEqual([...audioSpecificConfig(44_100, 1)], [0x12, 0x08]);
  assert.throws(() => audioSpecificConfig(12_345, 2), /no sample rate 12345/);
});

test('nothing before the first keyframe is written, neither video nor earlier audio', async () => {
  const video = await h264Frames(40, 30);
  const writer = new MatroskaWriter({
    video: { width: 320, height: 240, avcC: video.avcC },
    audio: { codec: 'aac', sampleRate: 48_000, channels: 2 },
  });
  const [aac] = await aacFrames(0.1);
  assert.equal(writer.audio(aac!, ORIGIN_US).byteLength, 0);
  // Start from the second GOP's tail: frames 25..29 are no keyframes.
  for (let i = 25; i < 30; i++) assert.equal(writer.video(video.frames[i]!.data, ORIGIN_US + i * FRAME_US, false).byteLength, 0);
  assert.ok(writer.video(video.frames[30]!.data, ORIGIN_US + 30 * FRAME_US, true).byteLength > 0);
  assert.equal(writer.audio(aac!, ORIGIN_US).byteLength, 0, 'audio older than the first keyframe');
});

test('a Cluster opens on every keyframe, and when a relative timecode would overflow 16 bits', async () => {
  const video = await h264Frames(60, 30);
  const writer = new MatroskaWriter({ video: { width: 320, height: 240, avcC: video.avcC } });
  const header = writer.header();
  const blocks = video.frames.map((frame, i) =>
    writer.video(frame.data, ORIGIN_US + i * FRAME_US + (i >= 40 ? 40_000_000 : 0), frame.keyframe),
  );
  const opening = blocks.flatMap((block, i) => (findCluster(block) === 0 ? [i] : []));
  assert.deepEqual(opening, [0, 30, 40], 'keyframes 0 and 30, then frame 40 after a 40 s gap');
  assert.ok(
    blocks.every((block) => findCluster(block) <= 0),
    'a Cluster only ever starts a returned chunk',
  );
  const packets = videoPackets(await ffprobe(concat([header, ...blocks])));
  assert.equal(packets.length, 60);
  assert.equal(packets[40]!.ms, Math.round((40 * FRAME_US) / 1000) + 40_000, 'the timestamp after the gap is kept');
});

test("the server's restart-point detection reads the writer's stream: header, then a new ffmpeg from any Cluster (each opens on a keyframe)", async () => {
  const video = await h264Frames(90, 30);
  const writer = new MatroskaWriter({
    video: { width: 320, height: 240, avcC: video.avcC },
    audio: { codec: 'opus', sampleRate: 48_000, channels: 2 },
  });
  const first = writer.header();
  assert.ok(startsRecording(first), 'a new recording is recognized by its EBML header');
  const blocks = video.frames.map((frame, i) => writer.video(frame.data, ORIGIN_US + i * FRAME_US, frame.keyframe));
  const stream = concat([first, ...blocks]);
  const seen = new MatroskaHeader();
  for (const chunk of [first, ...blocks]) seen.observe(chunk);
  assert.deepEqual(seen.bytes, Buffer.from(first), 'the header is exactly what precedes the first Cluster');
  // As the server does on a restart: the header, then the stream from a later Cluster on, one
  // whose video opens on a keyframe (each of the writer's does).
  const later = findCluster(stream, first.byteLength + 1);
  const track = videoTrackOf(seen.bytes!);
  assert.equal(track, 1);
  assert.equal(clusterOpensOnKeyframe(stream.subarray(later), track!), true);
  const packets = videoPackets(await ffprobe(concat([seen.bytes!, stream.subarray(later)])));
  assert.equal(packets.length, 60);
  assert.ok(packets[0]!.keyframe, 'the new ffmpeg starts on a keyframe');
});
