// The stream header and Cluster boundaries the server needs to restart ffmpeg mid-broadcast,
// read from a real recording-like Matroska stream.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { askForNewRecording, findCluster, MatroskaHeader, MediaGate } from '../../server/restart-point.js';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';

test('the header is everything before the first Cluster, however the stream is chunked', async () => {
  const media = await makeFixture('h264-opus', { seconds: 3 });
  const first = findCluster(media);
  assert.ok(first > 0);
  for (const size of [7, 1_000, 80_000]) {
    const header = new MatroskaHeader();
    for (const chunk of splitChunks(media, size)) header.observe(chunk);
    assert.deepEqual(header.bytes, media.subarray(0, first), `chunks of ${size} bytes`);
  }
});

test('a first Cluster whose ID is split between two chunks still ends the header there', async () => {
  const media = await makeFixture('h264-opus', { seconds: 3 });
  const first = findCluster(media);
  for (const cut of [1, 2, 3]) {
    const header = new MatroskaHeader();
    // A recorder's chunk may end inside the 4-byte Cluster ID, even over several small chunks.
    for (const chunk of [media.subarray(0, first + cut - 1), media.subarray(first + cut - 1, first + cut), media.subarray(first + cut)])
      header.observe(chunk);
    assert.deepEqual(header.bytes, media.subarray(0, first), `the ID cut after ${cut} byte(s)`);
  }
});

test('header + any later Cluster is a stream ffmpeg copies from its next keyframe', async () => {
  const media = await makeFixture('h264-opus', { seconds: 5 });
  const header = new MatroskaHeader();
  header.observe(media);
  // The fixture has a Cluster every second and a keyframe every two, so this Cluster may start
  // between keyframes: ffmpeg's stream copy drops what precedes the first keyframe (no -copyinkf).
  const later = findCluster(media, Math.floor(media.byteLength / 2));
  assert.ok(later > 0);
  const dir = mkdtempSync(join(tmpdir(), 'matroska-'));
  const input = join(dir, 'resumed.mkv');
  const output = join(dir, 'resumed.flv');
  writeFileSync(input, Buffer.concat([header.bytes!, media.subarray(later)]));
  const copy = spawnSync('ffmpeg', ['-v', 'error', '-f', 'matroska', '-i', input, '-map', '0:v:0', '-c:v', 'copy', '-f', 'flv', output]);
  assert.equal(copy.status, 0, String(copy.stderr));
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=flags', '-of', 'csv=p=0', output], {
    encoding: 'utf8',
  });
  const flags = probe.stdout.trim().split('\n');
  assert.ok(flags.length >= 30, `${flags.length} video packets`);
  assert.match(flags[0]!, /^K/, 'the output starts on a keyframe');
});

test('a stream with no Cluster in its first megabyte is given up on', () => {
  const header = new MatroskaHeader();
  for (let i = 0; i < 20; i++) header.observe(new Uint8Array(100_000));
  header.observe(Uint8Array.from([0x1f, 0x43, 0xb6, 0x75]));
  assert.equal(header.bytes, undefined);
});

describe("askForNewRecording: the gate waits by the client's answer", () => {
  const RECORDING = Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x01, 0x1f, 0x43, 0xb6, 0x75, 0x01]);
  const CLUSTER = Buffer.from([0x00, 0x1f, 0x43, 0xb6, 0x75, 0x02]);

  /** A gate that has seen a recording's header; `answer` is what the client's ack was given. */
  function asked(answerMs = 1_000) {
    const gate = new MediaGate('matroska');
    gate.pass(RECORDING);
    let answer: ((reply?: { ok?: unknown }) => void) | undefined;
    let declined = 0;
    const declines = () => {
      declined++;
      gate.restart('recording-or-cluster');
    };
    askForNewRecording(gate, (ack) => (answer = ack), { current: () => true, declined: declines, answerMs });
    return { gate, answer: (reply?: { ok?: unknown }) => answer!(reply), declined: () => declined };
  }

  test('a yes: only the new recording opens the gate', () => {
    const { gate, answer, declined } = asked();
    answer({ ok: true });
    assert.equal(gate.pass(CLUSTER), undefined, 'not at a Cluster of the old recording');
    assert.deepEqual(gate.pass(RECORDING), RECORDING);
    assert.equal(declined(), 0);
  });

  test('a no: the fallback at once, the next Cluster behind the header', () => {
    const { gate, answer, declined } = asked();
    answer({ ok: false });
    assert.equal(declined(), 1);
    assert.equal(gate.restartAt, 'recording-or-cluster');
  });

  test('no answer in time: the fallback; a yes after that still counts while the gate has not opened', async () => {
    const { gate, answer, declined } = asked(20);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(declined(), 1);
    assert.equal(gate.restartAt, 'recording-or-cluster');
    answer({ ok: true });
    assert.equal(gate.restartAt, 'new-recording', 'waits for the new recording again');
    assert.equal(gate.pass(CLUSTER), undefined);
    assert.deepEqual(gate.pass(RECORDING), RECORDING);
  });

  test('a yes after the gate opened at a Cluster changes nothing', async () => {
    const { gate, answer } = asked(20);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.ok(gate.pass(CLUSTER));
    answer({ ok: true });
    assert.equal(gate.restartAt, undefined);
  });
});
