// The stream header and Cluster boundaries the server needs to restart ffmpeg mid-broadcast,
// read from a real recording-like Matroska stream.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  askForNewRecording,
  clusterOpensOnKeyframe,
  findCluster,
  MatroskaHeader,
  MediaGate,
  videoTrackOf,
} from '../../server/restart-point.js';
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

/** Every Cluster's offset in `media`. */
function clusters(media: Buffer): number[] {
  const found: number[] = [];
  for (let at = findCluster(media); at >= 0; at = findCluster(media, at + 4)) found.push(at);
  return found;
}

/** The key flags of the video packets ffprobe reads from a Matroska stream, in order ('K' or '_'). */
function videoKeyFlags(media: Buffer): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'matroska-'));
  const input = join(dir, 'gated.mkv');
  writeFileSync(input, media);
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=flags', '-of', 'csv=p=0', input], {
    encoding: 'utf8',
  });
  assert.equal(probe.status, 0, probe.stderr);
  return probe.stdout
    .split('\n')
    .filter(Boolean)
    .map((flags) => flags[0]!);
}

test('the video track is read from the header; a Cluster opens on a keyframe or not as ffprobe says', async () => {
  const media = await makeFixture('h264-opus', { seconds: 6 });
  const header = new MatroskaHeader();
  header.observe(media);
  assert.equal(videoTrackOf(header.bytes!), 1);
  const audioOnly = Buffer.from(header.bytes!);
  // The same header with the video TrackEntry's type turned to audio (2): no video track.
  const type = audioOnly.indexOf(Buffer.from([0x83, 0x81, 0x01]));
  assert.ok(type > 0);
  audioOnly[type + 2] = 2;
  assert.equal(videoTrackOf(audioOnly), undefined);
  const verdicts = clusters(media).map((at, i, all) => {
    const cluster = media.subarray(at, all[i + 1] ?? media.byteLength);
    const flags = videoKeyFlags(Buffer.concat([header.bytes!, cluster]));
    // A Cluster with no video (the stream's last, of audio) does not tell: more may come.
    const truth = flags[0] === undefined ? undefined : flags[0] === 'K';
    assert.equal(clusterOpensOnKeyframe(cluster, 1), truth, `Cluster ${i}`);
    // Cut anywhere before its first video block, the answer waits for more bytes.
    assert.equal(clusterOpensOnKeyframe(cluster.subarray(0, 6), 1), undefined, `Cluster ${i}, 6 bytes`);
    return truth;
  });
  // The fixture's Clusters are 1 s long and its keyframes 2 s apart: both kinds are there.
  assert.ok(verdicts.includes(true) && verdicts.includes(false), verdicts.join());
});

test('after a restart the gate opens at the next Cluster that opens on a keyframe, however the stream is chunked', async () => {
  const media = await makeFixture('h264-opus', { seconds: 6 });
  const all = clusters(media);
  const header = media.subarray(0, all[0]);
  // Restart past a keyframe Cluster's start: the next Cluster opens between keyframes.
  const keyframed = all.filter((at, i) => clusterOpensOnKeyframe(media.subarray(at, all[i + 1]), 1));
  const restartFrom = keyframed[1]! + 4;
  const expected = keyframed[2]!;
  for (const size of [7, 1_000, 80_000]) {
    const gate = new MediaGate('matroska');
    const out: Uint8Array[] = [];
    let at = 0;
    let restarted = false;
    for (const chunk of splitChunks(media, size)) {
      if (!restarted && at >= restartFrom) {
        // Restarted between chunks, as the server does; a Cluster opening between keyframes lies in the way.
        assert.ok(all.some((cluster) => cluster >= at && cluster < expected));
        gate.restart('recording-or-cluster');
        restarted = true;
      }
      const passed = gate.pass(chunk);
      if (passed && restarted) out.push(passed);
      at += chunk.byteLength;
    }
    const gated = Buffer.concat(out);
    assert.deepEqual(gated, Buffer.concat([header, media.subarray(expected)]), `chunks of ${size} bytes`);
    const flags = videoKeyFlags(gated);
    assert.equal(flags[0], 'K', `chunks of ${size} bytes: the first video packet is a keyframe`);
  }
});

test("a Cluster ID inside a frame is no Cluster: what follows it does not read as a Cluster's children", async () => {
  const media = await makeFixture('h264-opus', { seconds: 3 });
  const all = clusters(media);
  const keyframed = media.subarray(all[0], all[1]);
  assert.equal(clusterOpensOnKeyframe(keyframed, 1), true);
  // The four bytes of a Cluster ID in a frame's data, a size, then bytes no Cluster child begins with.
  const inFrame = Buffer.from([0x00, 0x1f, 0x43, 0xb6, 0x75, 0x81, 0x42, 0x00, 0x00]);
  assert.equal(clusterOpensOnKeyframe(inFrame.subarray(1), 1), false);
  const gate = new MediaGate('matroska');
  gate.pass(media.subarray(0, all[0]! + 4));
  gate.restart('recording-or-cluster');
  assert.deepEqual(gate.pass(Buffer.concat([inFrame, keyframed])), Buffer.concat([media.subarray(0, all[0]), keyframed]));
});

test('a stream whose Clusters never open on a keyframe still gets through after a few', async () => {
  const media = await makeFixture('h264-opus', { seconds: 10 });
  const all = clusters(media);
  const between = all.map((at, i) => media.subarray(at, all[i + 1])).filter((cluster) => clusterOpensOnKeyframe(cluster, 1) === false);
  assert.ok(between.length >= 5, `${between.length} Clusters open between keyframes`);
  const gate = new MediaGate('matroska');
  gate.pass(media.subarray(0, all[0]! + 4));
  gate.restart('recording-or-cluster');
  const passed = between.map((cluster) => gate.pass(cluster));
  assert.deepEqual(
    passed.map((bytes) => bytes !== undefined),
    [false, false, false, false, true, ...between.slice(5).map(() => true)],
  );
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
