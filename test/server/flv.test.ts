// The FLV reader behind the fan-out, on real FLV from ffmpeg cut at every possible kind of boundary.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { FlvReader } from '../../server/flv.js';
import { makeFixture } from '../helpers/fixtures.js';

/** The fixture as the broadcast's ffmpeg writes it for the fan-out: H.264 copied, AAC, FLV. */
async function flv(seconds: number): Promise<Buffer> {
  const input = await makeFixture('h264-opus', { seconds });
  const child = execFile(
    'ffmpeg',
    [
      '-v',
      'error',
      '-f',
      'matroska',
      '-i',
      'pipe:0',
      '-c:v',
      'copy',
      '-c:a',
      'aac',
      '-f',
      'flv',
      '-flvflags',
      'no_duration_filesize',
      'pipe:1',
    ],
    {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const out = new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    child.stdout!.on('data', (part: Buffer) => parts.push(part));
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(parts)) : reject(new Error(`ffmpeg exited ${code}`))));
  });
  child.stdin!.end(input);
  return out;
}

test('cuts FLV into whole tags whatever the chunk boundaries, and keeps the preamble', async () => {
  const bytes = await flv(4);
  for (const size of [1, 7, 4096, bytes.length]) {
    const reader = new FlvReader();
    const tags = [];
    for (let at = 0; at < bytes.length; at += size) tags.push(...reader.push(bytes.subarray(at, at + size)));
    assert.ok(reader.ready, 'header and both sequence headers seen');
    assert.deepEqual(
      Buffer.concat([reader.preamble.header, ...tags.map((tag) => tag.bytes)]),
      bytes,
      `chunks of ${size} bytes lose nothing`,
    );
    assert.ok(tags.filter((tag) => tag.keyframe).length >= 2, 'a keyframe every 2 s');
    // ffmpeg ends H.264 in FLV with an end-of-sequence tag flagged as a keyframe: a reader joining
    // there would get no picture at all, so only tags holding a picture count as keyframes.
    const last = tags.at(-1)!;
    assert.deepEqual([last.type, last.bytes[11], last.bytes[12]], [9, 0x17, 2], 'the stream ends with an AVC end of sequence');
    assert.equal(last.keyframe, false, 'which is no place to join');
    assert.ok(
      tags.every((tag) => !tag.keyframe || tag.bytes[12] === 1),
      'every keyframe holds a picture',
    );
    assert.ok(reader.start.subarray(0, 3).equals(Buffer.from('FLV')));
  }
});

test('a reader joining later gets a stream ffprobe reads from the next keyframe on', async () => {
  const bytes = await flv(4);
  const reader = new FlvReader();
  const tags = reader.push(bytes);
  const second = tags.findIndex((tag, index) => tag.keyframe && index > 0 && tags.slice(0, index).some((earlier) => earlier.keyframe));
  const joined = Buffer.concat([reader.start, ...tags.slice(second).map((tag) => tag.bytes)]);
  const probe = promisify(execFile);
  const child = probe('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-show_entries',
    'stream=codec_name,nb_read_frames',
    '-of',
    'csv=p=0',
    'pipe:0',
  ]);
  child.child.stdin!.end(joined);
  const { stdout } = await child;
  assert.match(stdout, /h264,60/, 'the second half: 2 s of 30 fps video');
  assert.match(stdout, /aac,\d+/);
});

test('refuses bytes that are not FLV', () => {
  assert.throws(() => new FlvReader().push(Buffer.from('not an flv stream')), /FLV header/);
});
