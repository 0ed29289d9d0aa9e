// What the server accepts from MediaRecorder, and the ffmpeg command line it builds: checked as
// an array, then run through the real ffmpeg to prove every flag parses and the output plays.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { before, describe, test } from 'node:test';
import type { BroadcastStats } from '../../../client/protocol.js';
import { buildFfmpegArgs, parseMimeType, pusherArgs, recorderArgs, type FfmpegArgsOptions } from '../../../server/ffmpeg/args.js';
import { createProgressParser } from '../../../server/ffmpeg/progress.js';

describe('parseMimeType', () => {
  const copy = { inputFormat: 'matroska', video: 'copy' } as const;
  const transcode = { inputFormat: 'matroska', video: 'transcode' } as const;

  test('H.264 in Matroska or WebM is copied', () => {
    for (const mime of [
      'video/x-matroska;codecs=avc1',
      'video/x-matroska;codecs=avc1,opus',
      'video/x-matroska;codecs=avc1.42E01F,opus',
      'video/x-matroska;codecs="avc1.64001F, opus"',
      'video/webm;codecs=h264',
      'video/webm;codecs=H264,opus',
      'video/webm; codecs="h264"',
      'VIDEO/X-MATROSKA; CODECS=AVC1.4D401E',
    ]) {
      assert.deepEqual(parseMimeType(mime), copy, mime);
    }
  });

  test('VP8, VP9 and AV1 are transcoded', () => {
    for (const mime of [
      'video/webm;codecs=vp8',
      'video/webm;codecs=vp8,opus',
      'video/webm;codecs="vp8, opus"',
      'video/webm;codecs=vp9,opus',
      'video/webm;codecs="vp09.00.10.08"',
      'video/webm;codecs="vp09.00.10.08, opus"',
      'video/webm;codecs=av1',
      'video/webm;codecs="av01.0.04M.08,opus"',
      'video/x-matroska;codecs=vp9',
    ]) {
      assert.deepEqual(parseMimeType(mime), transcode, mime);
    }
  });

  test('without a codecs parameter the video is transcoded, whatever it turns out to be', () => {
    assert.deepEqual(parseMimeType('video/webm'), transcode);
    assert.deepEqual(parseMimeType('video/x-matroska'), transcode);
    assert.deepEqual(parseMimeType(' video/webm ; '), transcode);
    assert.deepEqual(parseMimeType('video/webm;foo=bar'), transcode);
  });

  test('other parameters are ignored, in any order', () => {
    assert.deepEqual(parseMimeType('video/webm;foo=bar;codecs=vp8,opus'), transcode);
    assert.deepEqual(parseMimeType('video/x-matroska;codecs="avc1";x="a;b"'), copy);
  });

  test('other containers are refused', () => {
    for (const mime of [
      'audio/mp4',
      'video/quicktime',
      'audio/webm;codecs=opus',
      'video/ogg',
      'video/x-flv',
      'video/webmx',
      'xvideo/webm',
      'video',
      '',
      'webm',
    ]) {
      assert.equal(parseMimeType(mime), undefined, mime);
    }
  });

  test('unknown codecs, audio-only lists and contradictions are refused', () => {
    for (const mime of [
      'video/webm;codecs=theora',
      'video/webm;codecs=hevc',
      'video/x-matroska;codecs=hev1.1.6.L93.B0',
      'video/webm;codecs=vp8,vorbis',
      'video/x-matroska;codecs=avc1,pcm',
      'video/webm;codecs=opus',
      'video/webm;codecs=',
      'video/webm;codecs=""',
      'video/webm;codecs=vp8,,opus',
      'video/webm;codecs=vp8,vp9',
      'video/webm;codecs=avc1,vp8',
      'video/webm;codecs=vp8;codecs=avc1',
      'video/webm;codecs="vp8',
      'video/webm;codecs',
      'video/webm;=vp8',
      'video/webm;codecs=vp8x',
      'video/webm;codecs=avc1x',
      'video/webm;codecs=vp8.',
    ]) {
      assert.equal(parseMimeType(mime), undefined, mime);
    }
  });

  test('fragmented MP4 (Safari): H.264 is copied, AAC is copied, Opus is encoded, other video is transcoded', () => {
    const cases: [string, unknown][] = [
      ['video/mp4;codecs=avc1,mp4a.40.2', { inputFormat: 'mp4', video: 'copy', audio: 'copy' }],
      ['video/mp4; codecs="avc1.42E01E, mp4a.40.2"', { inputFormat: 'mp4', video: 'copy', audio: 'copy' }],
      ['VIDEO/MP4;codecs=avc3.640028,mp4a.40.5', { inputFormat: 'mp4', video: 'copy', audio: 'copy' }],
      ['video/mp4;codecs=avc1,aac', { inputFormat: 'mp4', video: 'copy', audio: 'copy' }],
      ['video/mp4;codecs=avc1', { inputFormat: 'mp4', video: 'copy' }],
      ['video/mp4;codecs=avc1,opus', { inputFormat: 'mp4', video: 'copy' }],
      ['video/mp4;codecs=vp09.00.10.08,mp4a.40.2', { inputFormat: 'mp4', video: 'transcode', audio: 'copy' }],
      ['video/mp4', { inputFormat: 'mp4', video: 'transcode' }],
    ];
    for (const [mime, expected] of cases) assert.deepEqual(parseMimeType(mime), expected, mime);
    for (const mime of [
      'video/mp4;codecs=mp4a.40.2',
      'video/mp4;codecs=avc1,mp4a.40.2,opus',
      'video/mp4;codecs=avc1,mp4a.67',
      'video/mp4;codecs=hvc1',
      'video/webm;codecs=avc1,mp4a.40.2',
    ]) {
      assert.equal(parseMimeType(mime), undefined, mime);
    }
  });

  test('AAC in Matroska (the WebCodecs recorder) is copied; WebM, which has no AAC, is refused', () => {
    assert.deepEqual(parseMimeType('video/x-matroska;codecs=avc1,mp4a.40.2'), { inputFormat: 'matroska', video: 'copy', audio: 'copy' });
    assert.deepEqual(parseMimeType('video/x-matroska;codecs="avc1.42E01F, mp4a.40.2"'), {
      inputFormat: 'matroska',
      video: 'copy',
      audio: 'copy',
    });
    assert.deepEqual(parseMimeType('video/x-matroska;codecs=avc1,opus'), { inputFormat: 'matroska', video: 'copy' });
    const args = buildFfmpegArgs(options({ inputFormat: 'matroska', video: 'copy', audio: 'copy' }));
    assert.deepEqual([args[args.indexOf('-i') - 1], flagValue(args, '-c:v'), flagValue(args, '-c:a')], ['matroska', 'copy', 'copy']);
    for (const mime of ['video/webm;codecs=avc1,mp4a.40.2', 'video/x-matroska;codecs=avc1,mp4a.40.2,opus'])
      assert.equal(parseMimeType(mime), undefined, mime);
  });

  test('anything over 256 characters is refused', () => {
    const padded = `video/webm;codecs=vp8;x=${'a'.repeat(256)}`;
    assert.equal(parseMimeType(padded), undefined);
    const exact = `video/webm;x=${'a'.repeat(256 - 'video/webm;x='.length)}`;
    assert.equal(exact.length, 256);
    assert.deepEqual(parseMimeType(exact), transcode);
  });

  test('a non-string is refused, not thrown on', () => {
    assert.equal(parseMimeType(42 as unknown as string), undefined);
    assert.equal(parseMimeType(undefined as unknown as string), undefined);
  });
});

function options(overrides: Partial<FfmpegArgsOptions> = {}): FfmpegArgsOptions {
  return {
    inputFormat: 'matroska',
    video: 'copy',
    destination: new URL('rtmp://ingest.example/live/KEY'),
    videoBitsPerSecond: 2_500_000,
    audioBitsPerSecond: 128_000,
    audioSampleRate: 44_100,
    framerate: 30,
    destinationTimeoutMs: 10_000,
    ...overrides,
  };
}

/** The value that follows `flag`, asserting the flag appears exactly once. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  if (at === -1) return undefined;
  assert.equal(args.lastIndexOf(flag), at, `${flag} appears once`);
  return args[at + 1];
}

describe('buildFfmpegArgs', () => {
  test('fragmented MP4 in: read as mp4, AAC copied as it is (no encoder, rate or bitrate)', () => {
    const args = buildFfmpegArgs(options({ inputFormat: 'mp4', audio: 'copy' }));
    assert.deepEqual(args.slice(args.indexOf('-i') - 2, args.indexOf('-i') + 2), ['-f', 'mp4', '-i', 'pipe:0']);
    assert.equal(flagValue(args, '-c:v'), 'copy');
    assert.equal(flagValue(args, '-c:a'), 'copy');
    for (const flag of ['-b:a', '-ar', '-ac', '-af']) assert.equal(flagValue(args, flag), undefined, flag);
    assert.equal(args.at(-1), 'rtmp://ingest.example/live/KEY');
    assert.equal(flagValue(buildFfmpegArgs(options({ inputFormat: 'mp4' })), '-c:a'), 'aac', 'Opus in MP4 is encoded');
  });

  test('copy mode: the exact command line', () => {
    assert.deepEqual(buildFfmpegArgs(options()), [
      '-hide_banner',
      '-loglevel',
      'level+warning',
      '-nostats',
      '-progress',
      'pipe:3',
      '-stats_period',
      '1',
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
      '-f',
      'matroska',
      '-i',
      'pipe:0',
      '-map',
      '0:v:0',
      '-map',
      '0:a:0?',
      '-c:v',
      'copy',
      '-c:a',
      'aac',
      '-aac_coder',
      'twoloop',
      '-b:a',
      '128000',
      '-ar',
      '44100',
      '-af',
      'aformat=channel_layouts=mono|stereo',
      '-f',
      'flv',
      '-flvflags',
      'no_duration_filesize',
      '-tcp_nodelay',
      '1',
      '-rw_timeout',
      '10000000',
      'rtmp://ingest.example/live/KEY',
    ]);
  });

  test('ffmpeg before 4.4 gets no -stats_period, and nothing else changes', () => {
    const current = buildFfmpegArgs(options());
    const old = buildFfmpegArgs(options({ statsPeriod: false }));
    assert.equal(flagValue(old, '-stats_period'), undefined);
    assert.deepEqual(
      old,
      current.filter((_, i) => i !== current.indexOf('-stats_period') && i !== current.indexOf('-stats_period') + 1),
    );
    assert.deepEqual(buildFfmpegArgs(options({ statsPeriod: true })), current);
  });

  test('transcode mode: x264 tuned for live, with bitrate cap, a constant frame rate and 2-second keyframes', () => {
    const args = buildFfmpegArgs(options({ video: 'transcode', videoBitsPerSecond: 3_000_000, framerate: 25 }));
    const video = args.slice(args.indexOf('-c:v'), args.indexOf('-c:a'));
    assert.deepEqual(video, [
      '-c:v',
      'libx264',
      '-threads',
      '1',
      '-preset',
      'veryfast',
      '-tune',
      'zerolatency',
      '-pix_fmt',
      'yuv420p',
      '-b:v',
      '3000000',
      '-maxrate',
      '3000000',
      '-bufsize',
      '6000000',
      '-r',
      '25',
      '-fps_mode',
      'cfr',
      '-g',
      '50',
      '-force_key_frames',
      'expr:gte(t,n_forced*2)',
    ]);
    assert.deepEqual(buildFfmpegArgs(options({ video: 'transcode', videoBitsPerSecond: 3_000_000, framerate: 25, fpsMode: true })), args);
  });

  test('ffmpeg before 5.1 gets -vsync cfr in place of -fps_mode cfr, and nothing else changes', () => {
    const current = buildFfmpegArgs(options({ video: 'transcode' }));
    const old = buildFfmpegArgs(options({ video: 'transcode', fpsMode: false }));
    assert.equal(flagValue(old, '-fps_mode'), undefined);
    assert.equal(flagValue(old, '-vsync'), 'cfr');
    assert.deepEqual(
      old,
      current.map((arg) => (arg === '-fps_mode' ? '-vsync' : arg)),
    );
  });

  test('copy mode ignores the video bitrate and frame rate', () => {
    const args = buildFfmpegArgs(options({ videoBitsPerSecond: 123, framerate: 7 }));
    for (const flag of ['-b:v', '-maxrate', '-bufsize', '-r', '-fps_mode', '-vsync', '-g', '-force_key_frames', '-preset'])
      assert.equal(flagValue(args, flag), undefined, flag);
    assert.deepEqual(buildFfmpegArgs(options({ fpsMode: false })), buildFfmpegArgs(options()), 'copying cannot change the frame rate');
    assert.ok(!args.includes('123') && !args.includes('14'));
  });

  test('audio options follow the request, rounded to integers', () => {
    const args = buildFfmpegArgs(options({ audioBitsPerSecond: 96_000.4, audioSampleRate: 48_000 }));
    assert.equal(flagValue(args, '-b:a'), '96000');
    assert.equal(flagValue(args, '-ar'), '48000');
    assert.equal(flagValue(args, '-c:a'), 'aac');
  });

  test("audioChannels: the recording's own layout (mono stays mono, more than two become stereo) unless forced", () => {
    const source = buildFfmpegArgs(options());
    assert.equal(flagValue(source, '-af'), 'aformat=channel_layouts=mono|stereo');
    assert.equal(flagValue(source, '-ac'), undefined);
    for (const channels of [1, 2] as const) {
      const forced = buildFfmpegArgs(options({ audioChannels: channels }));
      assert.equal(flagValue(forced, '-ac'), String(channels));
      assert.equal(flagValue(forced, '-af'), undefined);
    }
    assert.throws(() => buildFfmpegArgs(options({ audioChannels: 6 as never })), /Unknown audio channels 6/);
  });

  test("aacCoder picks ffmpeg's AAC search method, twoloop by default, and refuses others", () => {
    assert.equal(flagValue(buildFfmpegArgs(options()), '-aac_coder'), 'twoloop');
    assert.equal(flagValue(buildFfmpegArgs(options({ aacCoder: 'fast' })), '-aac_coder'), 'fast');
    assert.throws(() => buildFfmpegArgs(options({ aacCoder: 'anmr' as never })), /Unknown AAC coder anmr/);
  });

  test('the destination href is the last argument, exactly once, and rtmps works the same', () => {
    const destination = new URL('rtmps://user:pw@live-api-s.facebook.com:443/rtmp/FB-KEY?s_bl=1');
    const args = buildFfmpegArgs(options({ destination }));
    assert.equal(args.at(-1), destination.href);
    assert.equal(args.filter((a) => a.includes('FB-KEY')).length, 1);
    assert.equal(flagValue(args, '-rw_timeout'), '10000000');
  });

  test('an rtmps destination has its certificate verified, against tlsCaFile when given, unless tlsVerify is false', () => {
    const destination = new URL('rtmps://live-api-s.facebook.com:443/rtmp/FB-KEY');
    assert.equal(flagValue(buildFfmpegArgs(options({ destination })), '-tls_verify'), '1');
    const pinned = buildFfmpegArgs(options({ destination, tlsCaFile: '/etc/ssl/ingest.pem' }));
    assert.equal(flagValue(pinned, '-ca_file'), '/etc/ssl/ingest.pem');
    assert.equal(flagValue(buildFfmpegArgs(options({ destination, tlsVerify: false })), '-tls_verify'), undefined);
    assert.equal(flagValue(buildFfmpegArgs(options()), '-tls_verify'), undefined, 'plain rtmp has no TLS');
  });

  test('the timeout is in microseconds, and 0 leaves ffmpeg waiting as long as it likes', () => {
    assert.equal(flagValue(buildFfmpegArgs(options({ destinationTimeoutMs: 2_500 })), '-rw_timeout'), '2500000');
    const none = buildFfmpegArgs(options({ destinationTimeoutMs: 0 }));
    assert.equal(flagValue(none, '-rw_timeout'), undefined);
    assert.equal(none.at(-1), 'rtmp://ingest.example/live/KEY');
  });

  test('every element is a plain string, and only the input and the destination are URLs', () => {
    const args = buildFfmpegArgs(options({ video: 'transcode' }));
    for (const arg of args) assert.equal(typeof arg, 'string');
    assert.deepEqual(
      args.filter((a) => /^[a-z]+:/.test(a) && !a.startsWith('expr:')),
      ['pipe:3', 'pipe:0', 'rtmp://ingest.example/live/KEY'],
    );
  });

  test('refuses anything but rtmp and rtmps, even from a caller that skipped parseDestination', () => {
    for (const href of ['file:///tmp/out.flv', 'pipe:1', 'http://a.com/x', 'tcp://a.com:1']) {
      assert.throws(() => buildFfmpegArgs(options({ destination: new URL(href) })), RangeError, href);
    }
  });

  test('refuses numbers that would make a broken command line', () => {
    assert.throws(() => buildFfmpegArgs(options({ audioBitsPerSecond: 0 })), RangeError);
    assert.throws(() => buildFfmpegArgs(options({ audioSampleRate: Number.NaN })), RangeError);
    assert.throws(() => buildFfmpegArgs(options({ video: 'transcode', framerate: -1 })), RangeError);
    assert.throws(() => buildFfmpegArgs(options({ video: 'transcode', videoBitsPerSecond: Infinity })), RangeError);
    assert.throws(() => buildFfmpegArgs(options({ destinationTimeoutMs: -1 })), RangeError);
    assert.throws(() => buildFfmpegArgs(options({ video: 'other' as 'copy' })), RangeError);
  });
});

// ---- against the real ffmpeg -------------------------------------------------------------------

interface Run {
  code: number | null;
  stderr: string;
  progress: string;
}

/** Runs ffmpeg as the server does (stdin media, stderr log, progress on fd 3) and collects everything. */
function runFfmpeg(args: readonly string[], input: Buffer, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let progress = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    (child.stderr as Readable).setEncoding('utf8').on('data', (text: string) => (stderr += text));
    (child.stdio[3] as Readable).setEncoding('utf8').on('data', (text: string) => (progress += text));
    const stdin = child.stdin as Writable;
    stdin.on('error', () => {}); // ffmpeg stops reading once the destination fails.
    stdin.end(input);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, progress });
    });
  });
}

/** A short recording like MediaRecorder's, made by ffmpeg's test sources. */
async function recording(video: 'h264' | 'vp8', audio: boolean, seconds = 2, channels: 1 | 2 = 1): Promise<Buffer> {
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=30'];
  if (audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-ac', String(channels));
  args.push('-t', String(seconds));
  if (video === 'h264') args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '30');
  else args.push('-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '300k');
  if (audio) args.push('-c:a', 'libopus', '-b:a', '48k');
  args.push('-f', video === 'h264' ? 'matroska' : 'webm', '-');
  return fixture(args);
}

/** What ffmpeg run with `args` writes to stdout. */
function fixture(args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`fixture ffmpeg failed: ${stderr}`))));
  });
}

/**
 * VP8 + Opus in WebM whose frame rate drops as Firefox's does while the camera is hidden: 2 s at
 * 30 fps, 2 s at 2 fps, 1 s at 30 fps again, timestamps kept as they are (variable frame rate).
 */
function recordingWithSlowFrames(): Promise<Buffer> {
  const video = [
    'testsrc2=size=160x120:rate=30:duration=2[a]',
    'testsrc2=size=160x120:rate=2:duration=2[b]',
    'testsrc2=size=160x120:rate=30:duration=1[c]',
    '[a][b][c]concat=n=3:v=1:a=0',
  ].join(';');
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    video,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    '5',
    '-fps_mode',
    'passthrough',
    '-c:v',
    'libvpx',
    '-deadline',
    'realtime',
    '-b:v',
    '300k',
    '-c:a',
    'libopus',
    '-b:a',
    '48k',
    '-f',
    'webm',
    '-',
  ];
  return fixture(args);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** ffmpeg as a one-shot RTMP server: accepts one publisher and describes what it received (and saves it to `file`). */
function rtmpReceiver(port: number, file?: string): Promise<Run> {
  const url = `rtmp://127.0.0.1:${port}/live/KEY`;
  const output = file ? ['-f', 'flv', '-y', file] : ['-f', 'null', '-'];
  return runFfmpeg(
    ['-hide_banner', '-loglevel', 'info', '-listen', '1', '-timeout', '20', '-i', url, '-c', 'copy', ...output],
    Buffer.alloc(0),
  );
}

/** The video packets of a file in order: presentation time in seconds, and whether it is a keyframe. */
function videoPackets(file: string): Promise<{ time: number; key: boolean }[]> {
  return new Promise((resolve, reject) => {
    const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file];
    const child = spawn('ffprobe', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`ffprobe exited ${code}`));
      const packets = out
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(','));
      resolve(packets.map(([time, flags]) => ({ time: Number(time), key: flags!.includes('K') })).sort((a, b) => a.time - b.time));
    });
  });
}

/** Presentation times of the keyframes among `packets`, in seconds. */
function keyframeTimes(packets: readonly { time: number; key: boolean }[]): number[] {
  return packets.filter((packet) => packet.key).map((packet) => packet.time);
}

/** The longest time between two consecutive video frames, in seconds. */
function longestGap(packets: readonly { time: number }[]): number {
  return Math.max(...packets.slice(1).map((packet, i) => packet.time - packets[i]!.time));
}

/** Publishes, retrying while the receiver has not started listening yet. */
async function publish(args: readonly string[], input: Buffer): Promise<Run> {
  for (let attempt = 0; ; attempt++) {
    const run = await runFfmpeg(args, input);
    if (!run.stderr.includes('Connection refused') || attempt >= 50) return run;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const OPTION_ERRORS =
  /Unrecognized option|Option not found|Error splitting the argument list|Invalid argument|No such filter|Unknown encoder|not found for output|Error parsing/;

describe('the fan-out outputs', () => {
  test('the broadcast ffmpeg writes FLV to stdout, with no network option ffmpeg would refuse for a pipe', () => {
    const args = buildFfmpegArgs({
      inputFormat: 'matroska',
      video: 'copy',
      destination: 'pipe',
      videoBitsPerSecond: 2_500_000,
      audioBitsPerSecond: 128_000,
      audioSampleRate: 44_100,
      framerate: 30,
      destinationTimeoutMs: 10_000,
    });
    assert.deepEqual(args.slice(-5), ['-f', 'flv', '-flvflags', 'no_duration_filesize', 'pipe:1']);
    assert.ok(!args.includes('-rw_timeout') && !args.includes('-tcp_nodelay'));
  });

  test('a pusher copies FLV from stdin to its destination, the URL last and alone', () => {
    const url = new URL('rtmps://live.example.com/app/key');
    const args = pusherArgs({ destination: url, destinationTimeoutMs: 5_000, tlsCaFile: '/ca.pem' });
    assert.deepEqual(args.slice(args.indexOf('-f'), args.indexOf('-f') + 8), ['-f', 'flv', '-i', 'pipe:0', '-map', '0', '-c', 'copy']);
    assert.deepEqual(args.slice(-9), ['-tcp_nodelay', '1', '-rw_timeout', '5000000', '-tls_verify', '1', '-ca_file', '/ca.pem', url.href]);
    assert.throws(() => pusherArgs({ destination: new URL('file:///etc/passwd'), destinationTimeoutMs: 0 }), /rtmp: or rtmps:/);
  });

  test('a recorder writes the container its extension names, fragmented for MP4, never over an existing file', () => {
    const mp4 = recorderArgs({ path: '/srv/rec/a.mp4' });
    assert.equal(mp4[0], '-n');
    assert.deepEqual(mp4.slice(-5), ['-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', 'file:/srv/rec/a.mp4']);
    assert.deepEqual(recorderArgs({ path: '/srv/rec/a.MKV' }).slice(-3), ['-f', 'matroska', 'file:/srv/rec/a.MKV']);
    assert.deepEqual(recorderArgs({ path: '/srv/rec/a.flv' }).slice(-3), ['-f', 'flv', 'file:/srv/rec/a.flv']);
    assert.throws(() => recorderArgs({ path: 'relative.mp4' }), /absolute/);
    assert.throws(() => recorderArgs({ path: '/srv/rec/a.txt' }), /\.mp4, \.mkv, \.flv/);
  });
});

describe('buildFfmpegArgs with the real ffmpeg', () => {
  let h264: Buffer;
  let vp8: Buffer;
  let h264Silent: Buffer;
  let vp8Long: Buffer;
  let h264Stereo: Buffer;
  before(async () => {
    [h264, vp8, h264Silent, vp8Long, h264Stereo] = await Promise.all([
      recording('h264', true),
      recording('vp8', true),
      recording('h264', false),
      recording('vp8', true, 5),
      recording('h264', true, 2, 2),
    ]);
  });

  for (const video of ['copy', 'transcode'] as const) {
    test(`${video}: every flag parses, and ffmpeg gets as far as connecting`, async () => {
      const args = buildFfmpegArgs(options({ video, destination: new URL('rtmp://127.0.0.1:1/live/x'), destinationTimeoutMs: 3_000 }));
      const run = await runFfmpeg(args, video === 'copy' ? h264 : vp8);
      assert.doesNotMatch(run.stderr, OPTION_ERRORS);
      assert.match(run.stderr, /Connection refused/);
      assert.equal(run.code, 1);
    });
  }

  test('copy: H.264 + stereo Opus arrives at an RTMP server as H.264 + stereo AAC, with progress on fd 3', async () => {
    const port = await freePort();
    const received = rtmpReceiver(port);
    const args = buildFfmpegArgs(options({ destination: new URL(`rtmp://127.0.0.1:${port}/live/KEY`) }));
    const sent = await publish(args, h264Stereo);
    const receiver = await received;
    assert.equal(sent.code, 0, sent.stderr);
    assert.doesNotMatch(sent.stderr, /\[(error|fatal)\]/);
    assert.match(receiver.stderr, /Video: h264 \([^)]*\), yuv420p[^\n]*160x120/);
    assert.match(receiver.stderr, /Audio: aac \(LC\), 44100 Hz, stereo/);
    assert.match(receiver.stderr, /frame=\s*60\b/, 'every frame arrived');

    const blocks: { stats: BroadcastStats; ended: boolean }[] = [];
    createProgressParser((stats, ended) => blocks.push({ stats, ended }))(sent.progress);
    const last = blocks.at(-1);
    assert.ok(last?.ended, 'progress ends with progress=end');
    assert.equal(last.stats.frames, 60);
    assert.ok(Math.abs(last.stats.durationMs - 2000) < 100, `durationMs ${last.stats.durationMs}`);
  });

  test('transcode: VP8 arrives as H.264 High at the requested constant frame rate, a keyframe every 2 seconds of media time', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-args-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'received.flv');
    const port = await freePort();
    const received = rtmpReceiver(port, file);
    // The browser was asked for 60 fps but delivers 30: every frame goes out twice.
    const args = buildFfmpegArgs(
      options({
        video: 'transcode',
        videoBitsPerSecond: 500_000,
        framerate: 60,
        destination: new URL(`rtmp://127.0.0.1:${port}/live/KEY`),
      }),
    );
    const sent = await publish(args, vp8Long);
    const receiver = await received;
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(receiver.stderr, /Video: h264 \(High\), yuv420p/);
    // The recording's mono stays mono (audioChannels 'source').
    assert.match(receiver.stderr, /Audio: aac \(LC\), 44100 Hz, mono/);
    const packets = await videoPackets(file);
    assert.ok(Math.abs(packets.length - 5 * 60) <= 3, `${packets.length} frames in 5 s`);
    assert.ok(longestGap(packets) <= 1 / 60 + 0.002, `frames up to ${longestGap(packets)} s apart`);
    const keyframes = keyframeTimes(packets);
    assert.deepEqual(
      keyframes.map((time) => Math.round(time)),
      [0, 2, 4],
      `keyframes at ${keyframes.join(', ')}`,
    );
  });

  test('transcode: frames the browser recorded slowly (a hidden camera in Firefox) go out at the constant frame rate', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-args-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const input = join(dir, 'recorded.webm');
    const file = join(dir, 'received.flv');
    const recorded = await recordingWithSlowFrames();
    await writeFile(input, recorded);
    assert.ok(longestGap(await videoPackets(input)) >= 0.45, 'the recording has its slow stretch');
    const port = await freePort();
    const received = rtmpReceiver(port, file);
    const args = buildFfmpegArgs(
      options({ video: 'transcode', videoBitsPerSecond: 500_000, destination: new URL(`rtmp://127.0.0.1:${port}/live/KEY`) }),
    );
    const sent = await publish(args, recorded);
    const receiver = await received;
    assert.equal(sent.code, 0, sent.stderr);
    assert.doesNotMatch(sent.stderr, /\[(error|fatal)\]/);
    assert.match(receiver.stderr, /Video: h264 \(High\), yuv420p[^\n]*30 fps/);
    const packets = await videoPackets(file);
    const duration = packets.at(-1)!.time - packets[0]!.time;
    assert.ok(Math.abs(duration - 5) < 0.1, `${duration} s of video`);
    assert.ok(Math.abs(packets.length - 5 * 30) <= 2, `${packets.length} frames in ${duration} s`);
    // FLV timestamps are whole milliseconds: 1/30 s is 33 or 34 ms.
    assert.ok(longestGap(packets) <= 1 / 30 + 0.002, `frames up to ${longestGap(packets)} s apart`);
    const keyframes = keyframeTimes(packets);
    assert.deepEqual(
      keyframes.map((time) => Math.round(time)),
      [0, 2, 4],
      `keyframes at ${keyframes.join(', ')}`,
    );
  });

  test('a recording without audio goes out video only', async () => {
    const port = await freePort();
    const received = rtmpReceiver(port);
    const args = buildFfmpegArgs(options({ destination: new URL(`rtmp://127.0.0.1:${port}/live/KEY`) }));
    const sent = await publish(args, h264Silent);
    const receiver = await received;
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(receiver.stderr, /Video: h264/);
    assert.doesNotMatch(receiver.stderr, /Audio:/);
  });

  test('-rw_timeout ends ffmpeg when the ingest accepts TCP but never answers', async () => {
    const silent = createServer(() => {}); // accepts and keeps every socket open, saying nothing
    const sockets = new Set<Socket>();
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const args = buildFfmpegArgs(options({ destination: new URL(`rtmp://127.0.0.1:${port}/live/KEY`), destinationTimeoutMs: 1_000 }));
      const started = Date.now();
      const run = await runFfmpeg(args, h264, 15_000);
      const elapsed = Date.now() - started;
      assert.equal(run.code, 1);
      assert.match(run.stderr, /Connection timed out/);
      assert.ok(elapsed >= 900 && elapsed < 8_000, `ended after ${elapsed} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
