// How ffmpeg ended becomes the error a person reads. The logs below are what ffmpeg 5.1.9 really
// printed with our command line in each situation; the last tests make it fail for real.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { BroadcastError, type ErrorPayload } from '../../../client/protocol.js';
import { createRedactor } from '../../../server/destination.js';
import { buildFfmpegArgs } from '../../../server/ffmpeg/args.js';
import { lastMeaningfulLine, mapFfmpegExit, type FfmpegExit } from '../../../server/ffmpeg/exit.js';

const CODEC_WARNING = [
  '[matroska,webm @ 0x55bcbd588b40] [warning] Could not find codec parameters for stream 0 (Video: h264, none(progressive), 160x120): unspecified pixel format',
  "Consider increasing the value for the 'analyzeduration' (0) and 'probesize' (32) options",
];

/** Real stderr of ffmpeg 5.1.9 run with buildFfmpegArgs' flags, keyed by what was done to it. */
const LOGS = {
  garbageStdin: [
    '[matroska,webm @ 0x5636fae7eb40] [error] EBML header parsing failed',
    '[error] pipe:0: Invalid data found when processing input',
  ],
  textStdin: [
    '[matroska,webm @ 0x55bb48ee2b40] [error] File ended prematurely',
    '[matroska,webm @ 0x55bb48ee2b40] [error] EBML header parsing failed',
    '[error] pipe:0: Invalid data found when processing input',
  ],
  mp4Stdin: [
    '[matroska,webm @ 0x557caf76cb40] [error] 0x00 at pos 0 (0x0) invalid as first byte of an EBML number',
    '[matroska,webm @ 0x557caf76cb40] [error] EBML header parsing failed',
    '[error] pipe:0: Invalid data found when processing input',
  ],
  first40Bytes: ['[error] pipe:0: End of file'],
  first300Bytes: [
    '[matroska,webm @ 0x56033a54bb40] [error] File ended prematurely at pos. 300 (0x12c)',
    '[matroska,webm @ 0x56033a54bb40] [error] Duplicate element',
    '[matroska,webm @ 0x56033a54bb40] [error] File ended prematurely',
    '[error] pipe:0: Input/output error',
  ],
  audioOnly: ["[fatal] Stream map '0:v:0' matches no streams.", "To ignore this, add a trailing '?' to the map."],
  refused: [
    ...CODEC_WARNING,
    '[tcp @ 0x55bcbd5dfe00] [error] Connection to tcp://127.0.0.1:1?tcp_nodelay=1 failed: Connection refused',
    '[rtmp @ 0x55bcbd5df700] [error] Cannot open connection tcp://127.0.0.1:1?tcp_nodelay=1',
    '[error] rtmp://127.0.0.1:1/live/SECRETKEY: Connection refused',
  ],
  rtmpsRefused: [
    ...CODEC_WARNING,
    '[tcp @ 0x55c5487b5b80] [error] Connection to tcp://127.0.0.1:1 failed: Connection refused',
    '[rtmps @ 0x55c5487a1700] [error] Cannot open connection tls://127.0.0.1:1',
    '[error] rtmps://127.0.0.1:1/live/SECRETKEY: Connection refused',
  ],
  unresolvable: [
    ...CODEC_WARNING,
    '[tcp @ 0x55f8002cde40] [error] Failed to resolve hostname nonexistent.invalid: Name or service not known',
    '[rtmp @ 0x55f8002cd700] [error] Cannot open connection tcp://nonexistent.invalid:1935?tcp_nodelay=1',
    '[error] rtmp://nonexistent.invalid/live/SECRETKEY: Input/output error',
  ],
  // A TCP server that accepts and never says a word, with -rw_timeout 3000000.
  silentServer: [
    ...CODEC_WARNING,
    '[rtmp @ 0x556ef8b55700] [error] Cannot read RTMP handshake response',
    '[error] rtmp://127.0.0.1:19360/live/SECRETKEY: Connection timed out',
  ],
  // A TCP server that accepts and closes (or resets) at once.
  closingServer: [
    ...CODEC_WARNING,
    '[rtmp @ 0x55d8cd1a3700] [error] Cannot read RTMP handshake response',
    '[error] rtmp://127.0.0.1:19361/live/SECRETKEY: Connection reset by peer',
  ],
  // rtmp:// pointed at an HTTP server (nginx).
  httpServer: [
    ...CODEC_WARNING,
    '[rtmp @ 0x560154861700] [error] Cannot read RTMP handshake response',
    '[error] rtmp://127.0.0.1:19381/live/SECRETKEY: End of file',
  ],
  rtmpsToClosingServer: [
    ...CODEC_WARNING,
    '[tls @ 0x559f3a01de00] [error] Error in the pull function.',
    '[tls @ 0x559f3a01de00] [error] IO error: End of file',
    '[rtmps @ 0x559f3a01d700] [error] Cannot open connection tls://127.0.0.1:19361',
    '[error] rtmps://127.0.0.1:19361/live/SECRETKEY: End of file',
  ],
  // rtmps:// pointed at a plain RTMP port (nginx-rtmp): the TLS handshake waits for the timeout.
  rtmpsToPlainRtmp: [
    ...CODEC_WARNING,
    '[tls @ 0x557b3d97fe00] [error] Error in the pull function.',
    '[tls @ 0x557b3d97fe00] [error] IO error: Connection timed out',
    '[rtmps @ 0x557b3d97f700] [error] Cannot open connection tls://127.0.0.1:19380',
    '[error] rtmps://127.0.0.1:19380/live/SECRETKEY: Connection timed out',
  ],
  // nginx-rtmp `deny publish all`: the connection is dropped once media flows.
  publishDenied: [
    ...CODEC_WARNING,
    '[error] av_interleaved_write_frame(): Broken pipe',
    '[error] av_interleaved_write_frame(): Broken pipe',
    '[error] av_interleaved_write_frame(): Broken pipe',
    '[error] Error writing trailer of rtmp://127.0.0.1:19380/deny/SECRETKEY: Broken pipe',
    '[error] Error closing file rtmp://127.0.0.1:19380/deny/SECRETKEY: Broken pipe',
  ],
  // nginx-rtmp with an on_publish hook answering 403, and with an application it does not have.
  publishHookRefused: [...CODEC_WARNING, '[error] rtmp://127.0.0.1:19380/hook/SECRETKEY: Input/output error'],
  // nginx-rtmp when the stream key is already being published.
  alreadyPublishing: [
    ...CODEC_WARNING,
    '[rtmp @ 0x55a35f489700] [error] Server error: Already publishing',
    '[error] rtmp://127.0.0.1:19380/live/DUPKEY: Operation not permitted',
  ],
  // The ingest went away one second into the broadcast.
  ingestDiedMidStream: [
    ...CODEC_WARNING,
    '[error] av_interleaved_write_frame(): Connection reset by peer',
    '[error] av_interleaved_write_frame(): Connection reset by peer',
    '[error] av_interleaved_write_frame(): Connection reset by peer',
    '[error] Error writing trailer of rtmp://127.0.0.1:19370/live/SECRETKEY: Connection reset by peer',
    '[error] Error closing file rtmp://127.0.0.1:19370/live/SECRETKEY: Broken pipe',
  ],
  // SIGTERM while streaming a video-only recording: exit code 255.
  sigterm: [
    '[warning] Codec AVOption b (set bitrate (in bits/s)) specified for output file #0 (rtmp://127.0.0.1:19380/live/SECRETKEY) has not been used for any stream. The most likely reason is either wrong type (e.g. a video option with no video streams) or that it is a private option of some encoder which was not actually used for any stream.',
  ],
} satisfies Record<string, string[]>;

function exit(overrides: Partial<FfmpegExit>): FfmpegExit {
  return { exitCode: 1, stopRequested: false, ffmpegPath: 'ffmpeg', logTail: [], ...overrides };
}

/** Maps a real log as the session would: every line through the redactor first. */
function mapLog(lines: readonly string[], destination = 'rtmp://127.0.0.1:1/live/SECRETKEY'): ErrorPayload | undefined {
  const redact = createRedactor(new URL(destination));
  return mapFfmpegExit(exit({ logTail: lines.map(redact) }))?.toJSON();
}

describe('mapFfmpegExit: normal ends', () => {
  test('exit code 0 is never an error, asked for or not', () => {
    assert.equal(mapFfmpegExit(exit({ exitCode: 0 })), undefined);
    assert.equal(mapFfmpegExit(exit({ exitCode: 0, stopRequested: true, logTail: LOGS.refused })), undefined);
  });

  test('255 and stop signals are normal only after we asked ffmpeg to stop', () => {
    for (const end of [{ exitCode: 255 }, { signal: 'SIGTERM' }, { signal: 'SIGINT' }, { signal: 'SIGKILL' }]) {
      assert.equal(
        mapFfmpegExit(exit({ exitCode: undefined, ...end, stopRequested: true, logTail: LOGS.sigterm })),
        undefined,
        JSON.stringify(end),
      );
      const error = mapFfmpegExit(exit({ exitCode: undefined, ...end, stopRequested: false, logTail: LOGS.sigterm }));
      assert.equal(error?.code, 'FFMPEG_EXITED', JSON.stringify(end));
    }
  });

  test('a failure after a stop request is still a failure', () => {
    assert.equal(
      mapFfmpegExit(exit({ exitCode: 1, stopRequested: true, logTail: LOGS.ingestDiedMidStream }))?.code,
      'DESTINATION_UNREACHABLE',
    );
    assert.equal(mapFfmpegExit(exit({ exitCode: undefined, signal: 'SIGSEGV', stopRequested: true }))?.code, 'FFMPEG_EXITED');
  });
});

describe('mapFfmpegExit: ffmpeg missing', () => {
  test('ENOENT and EACCES say how to install ffmpeg or where to point the server', () => {
    for (const code of ['ENOENT', 'EACCES']) {
      const error = mapFfmpegExit(exit({ exitCode: undefined, spawnErrorCode: code, ffmpegPath: '/opt/ff/ffmpeg' }));
      assert.equal(error?.code, 'FFMPEG_NOT_FOUND');
      assert.match(error.message, /apt-get install ffmpeg/);
      assert.match(error.message, /brew install ffmpeg/);
      assert.match(error.message, /ffmpegPath/);
      assert.match(error.message, /FFMPEG_PATH/);
      assert.match(error.message, /\/opt\/ff\/ffmpeg/);
    }
    assert.match(mapFfmpegExit(exit({ spawnErrorCode: 'EACCES' }))!.message, /not executable/);
  });

  test('other spawn failures are not blamed on a missing install', () => {
    const error = mapFfmpegExit(exit({ exitCode: undefined, spawnErrorCode: 'EMFILE' }));
    assert.equal(error?.code, 'FFMPEG_EXITED');
    assert.match(error.message, /EMFILE/);
  });

  test('the codes a real spawn reports map the same way', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rtmp-broadcaster-exit-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const notExecutable = join(dir, 'ffmpeg');
    await writeFile(notExecutable, '#!/bin/sh\n');
    await chmod(notExecutable, 0o644);
    for (const path of [join(dir, 'missing', 'ffmpeg'), notExecutable]) {
      const code = await new Promise<string | undefined>((resolve) => {
        const child = spawn(path, ['-version']);
        child.on('error', (error: NodeJS.ErrnoException) => resolve(error.code));
        child.on('spawn', () => resolve(undefined));
      });
      const error = mapFfmpegExit(exit({ exitCode: undefined, spawnErrorCode: code, ffmpegPath: path }));
      assert.equal(error?.code, 'FFMPEG_NOT_FOUND', `${path}: ${code}`);
    }
  });
});

describe('mapFfmpegExit: media the server cannot read', () => {
  for (const name of ['garbageStdin', 'textStdin', 'mp4Stdin', 'first40Bytes', 'first300Bytes'] as const) {
    test(`${name} → INVALID_MEDIA`, () => {
      const error = mapLog(LOGS[name]);
      assert.equal(error?.code, 'INVALID_MEDIA');
      assert.match(error.message, /^The server could not read the media sent by the browser \(.+\)\.$/);
    });
  }

  test('says which part failed when ffmpeg says so', () => {
    assert.equal(
      mapLog(LOGS.garbageStdin)?.message,
      'The server could not read the media sent by the browser (EBML header parsing failed).',
    );
    assert.equal(mapLog(LOGS.first300Bytes)?.message, 'The server could not read the media sent by the browser (File ended prematurely).');
  });

  test('a recording without video says so', () => {
    assert.deepEqual(mapLog(LOGS.audioOnly), { code: 'INVALID_MEDIA', message: 'The media sent by the browser has no video track.' });
  });

  test('the codec-parameters warning we cause on purpose is not an error', () => {
    assert.equal(mapLog([...CODEC_WARNING, '[fatal] something else entirely'])?.code, 'FFMPEG_EXITED');
    assert.equal(mapLog(['[matroska,webm @ 0x1] [error] Could not find codec parameters for stream 0'])?.code, 'INVALID_MEDIA');
  });
});

describe('mapFfmpegExit: destination problems', () => {
  const expectations: Record<string, string> = {
    refused: 'The RTMP destination could not be reached (Connection refused).',
    rtmpsRefused: 'The RTMP destination could not be reached (Connection refused).',
    unresolvable: 'The RTMP destination could not be reached (its host name could not be resolved).',
    silentServer: 'The RTMP destination could not be reached (Connection timed out).',
    closingServer: 'The RTMP destination closed the connection during the RTMP handshake (Connection reset by peer).',
    httpServer: 'The RTMP destination closed the connection during the RTMP handshake (End of file).',
    rtmpsToClosingServer: 'The secure connection to the RTMPS destination failed (End of file).',
    rtmpsToPlainRtmp: 'The secure connection to the RTMPS destination failed (Connection timed out).',
    publishDenied: 'The RTMP destination closed the connection (Broken pipe). If this happened at the start, check the stream key.',
    publishHookRefused: 'The RTMP destination could not be reached or refused the stream (Input/output error).',
    alreadyPublishing: 'The RTMP destination rejected the stream (Already publishing).',
    ingestDiedMidStream:
      'The RTMP destination closed the connection (Connection reset by peer). If this happened at the start, check the stream key.',
  };
  for (const [name, message] of Object.entries(expectations)) {
    test(`${name} → DESTINATION_UNREACHABLE`, () => {
      assert.deepEqual(mapLog(LOGS[name as keyof typeof LOGS]), { code: 'DESTINATION_UNREACHABLE', message });
    });
  }

  test('lines written by other ffmpeg versions or servers map the same way', () => {
    const cases: [string[], RegExp][] = [
      [['[out#0/flv @ 0x1] [error] Error opening output rtmp://a.example/live/***: Connection refused'], /\(Connection refused\)/],
      [['[error] Error opening output files: Connection refused'], /\(Connection refused\)/],
      [['[tcp @ 0x1] [error] Connection to tcp://10.0.0.1:1935 failed: No route to host'], /\(No route to host\)/],
      [
        ['[tcp @ 0x1] [error] Failed to resolve hostname x.example: Temporary failure in name resolution'],
        /host name could not be resolved/,
      ],
      [['[rtmp @ 0x1] [error] Server error: NetStream.Publish.BadName'], /rejected the stream \(NetStream\.Publish\.BadName\)/],
      [['[error] NetStream.Publish.BadName'], /check the stream key/],
      [['[rtmp @ 0x1] [error] Unknown connect error (unsupported authentication method?)'], /authentication failed/],
      [['[rtmp @ 0x1] [error] RTMP Handshake S2 Error'], /during the RTMP handshake/],
    ];
    for (const [lines, message] of cases) {
      const error = mapFfmpegExit(exit({ logTail: lines }));
      assert.equal(error?.code, 'DESTINATION_UNREACHABLE', lines[0]);
      assert.match(error.message, message, lines[0]);
    }
  });

  test('the last kind of error wins: a damaged cluster ffmpeg got over does not hide a lost ingest', () => {
    const lines = [
      '[matroska,webm @ 0x5592d8090c00] [error] Element at 0x16fe ending at 0xfc878 exceeds containing master element ending at 0xc64b',
      ...LOGS.ingestDiedMidStream,
    ];
    assert.equal(mapLog(lines)?.code, 'DESTINATION_UNREACHABLE');
    assert.equal(mapLog([...LOGS.refused, ...LOGS.garbageStdin])?.code, 'INVALID_MEDIA');
  });

  test('messages never contain the stream key (the log tail is redacted first)', () => {
    for (const lines of Object.values(LOGS)) {
      const error = mapLog(lines);
      assert.ok(!error?.message.includes('SECRETKEY'), error?.message);
    }
  });
});

describe('mapFfmpegExit: anything else', () => {
  test('FFMPEG_EXITED with how it ended and the last line worth reading', () => {
    const error = mapFfmpegExit(
      exit({
        exitCode: 1,
        logTail: [
          '[libx264 @ 0x55] [error] broken ffmpeg default settings detected',
          '[error] Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0',
          'Conversion failed!',
          '',
        ],
      }),
    );
    assert.ok(error instanceof BroadcastError, 'the one error form');
    assert.deepEqual(error.toJSON(), {
      code: 'FFMPEG_EXITED',
      message:
        'ffmpeg stopped unexpectedly (exit code 1): Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0',
    });
  });

  test('a muxer error that is not a network errno is not blamed on the destination', () => {
    const error = mapFfmpegExit(exit({ logTail: ['[error] av_interleaved_write_frame(): Invalid argument'] }));
    assert.equal(error?.code, 'FFMPEG_EXITED');
    assert.match(error.message, /Invalid argument/);
  });

  test('a signal nobody asked for, with or without a log', () => {
    assert.deepEqual(mapFfmpegExit(exit({ exitCode: undefined, signal: 'SIGKILL' }))?.toJSON(), {
      code: 'FFMPEG_EXITED',
      message: 'ffmpeg stopped unexpectedly (signal SIGKILL).',
    });
    assert.deepEqual(mapFfmpegExit(exit({ exitCode: 255, logTail: LOGS.sigterm }))?.toJSON(), {
      code: 'FFMPEG_EXITED',
      message: 'ffmpeg stopped unexpectedly (exit code 255).',
    });
  });
});

describe('lastMeaningfulLine', () => {
  test('skips blanks, summaries, repeats, hints and stats, and drops the component address and level', () => {
    const lines = [
      '[tcp @ 0x55bcbd5dfe00] [error] Connection to tcp://127.0.0.1:1 failed: Connection refused',
      '    Last message repeated 4 times',
      'frame=   60 fps=0.0 q=-1.0 Lsize=N/A time=00:00:02.02 bitrate=N/A speed=  46x',
      'progress=end',
      "To ignore this, add a trailing '?' to the map.",
      'Conversion failed!',
      'Exiting normally, received signal 15.',
      '[info] something chatty',
      '   ',
      '',
    ];
    assert.equal(lastMeaningfulLine(lines), 'Connection to tcp://127.0.0.1:1 failed: Connection refused');
  });

  test('prefers the last error over later warnings, but takes a warning when nothing else is there', () => {
    assert.equal(
      lastMeaningfulLine(['[error] the cause', '[flv @ 0x1] [warning] Failed to update header with correct duration.']),
      'the cause',
    );
    assert.equal(
      lastMeaningfulLine(['[flv @ 0x1] [warning] Failed to update header with correct duration.']),
      'Failed to update header with correct duration.',
    );
    assert.equal(lastMeaningfulLine(['plain line without a level']), 'plain line without a level');
    assert.equal(lastMeaningfulLine(["[fatal] Stream map '0:v:0' matches no streams."]), "Stream map '0:v:0' matches no streams.");
  });

  test('undefined when nothing is worth showing', () => {
    assert.equal(lastMeaningfulLine([]), undefined);
    assert.equal(lastMeaningfulLine(['', 'Conversion failed!', ...CODEC_WARNING.slice(1), LOGS.sigterm[0]!]), undefined);
  });

  test('keeps a very long line readable', () => {
    const shown = lastMeaningfulLine([`[error] ${'x'.repeat(5000)}`]);
    assert.ok(shown && shown.length <= 300 && shown.endsWith('…'));
  });
});

// ---- against the real ffmpeg -------------------------------------------------------------------

interface Outcome {
  exitCode: number | undefined;
  signal: string | undefined;
  logTail: string[];
}

/** Runs ffmpeg with the server's argv for `destination`, feeding `input`; returns what a session sees. */
function runBroadcast(destination: string, input: Buffer, timeoutMs = 2_000): Promise<Outcome> {
  const url = new URL(destination);
  const redact = createRedactor(url);
  const args = buildFfmpegArgs({
    inputFormat: 'matroska',
    video: 'copy',
    destination: url,
    videoBitsPerSecond: 1_000_000,
    audioBitsPerSecond: 64_000,
    audioSampleRate: 44_100,
    framerate: 30,
    destinationTimeoutMs: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    (child.stderr as Readable).setEncoding('utf8').on('data', (text: string) => (stderr += text));
    (child.stdio[3] as Readable).resume();
    (child.stdin as Writable).on('error', () => {});
    (child.stdin as Writable).end(input);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const logTail = stderr
        .split(/\r?\n/)
        .filter((line) => line.trim())
        .map(redact);
      resolve({ exitCode: code ?? undefined, signal: signal ?? undefined, logTail });
    });
  });
}

function makeMedia(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args, '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exited ${code}`))));
  });
}

const h264 = () =>
  makeMedia([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=96x64:rate=15',
    '-t',
    '1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-f',
    'matroska',
  ]);

async function tcpServer(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number; close: () => void }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    server,
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

function assertMapped(outcome: Outcome, code: string, message: RegExp) {
  const error = mapFfmpegExit({ ...outcome, stopRequested: false, ffmpegPath: 'ffmpeg' });
  assert.equal(error?.code, code, outcome.logTail.join('\n'));
  assert.match(error.message, message, outcome.logTail.join('\n'));
  assert.ok(!outcome.logTail.join('\n').includes('SECRETKEY'), 'the log tail is redacted');
  assert.ok(!error.message.includes('SECRETKEY'));
}

describe('mapFfmpegExit with the real ffmpeg failing', () => {
  test('garbage on stdin → INVALID_MEDIA', async () => {
    const garbage = Buffer.alloc(64 * 1024, 'not a matroska file, just text. ');
    const outcome = await runBroadcast('rtmp://127.0.0.1:1/live/SECRETKEY', garbage);
    assert.equal(outcome.exitCode, 1);
    assertMapped(outcome, 'INVALID_MEDIA', /could not read the media/);
  });

  test('a WebM without video → INVALID_MEDIA naming the missing track', async () => {
    const audioOnly = await makeMedia(['-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '0.5', '-c:a', 'libopus', '-f', 'webm']);
    const outcome = await runBroadcast('rtmp://127.0.0.1:1/live/SECRETKEY', audioOnly);
    assertMapped(outcome, 'INVALID_MEDIA', /no video track/);
  });

  test('a port nobody listens on → DESTINATION_UNREACHABLE (Connection refused)', async () => {
    const outcome = await runBroadcast('rtmp://127.0.0.1:1/live/SECRETKEY', await h264());
    assertMapped(outcome, 'DESTINATION_UNREACHABLE', /^The RTMP destination could not be reached \(Connection refused\)\.$/);
  });

  test('a server that accepts and closes at once → DESTINATION_UNREACHABLE in the handshake', async (t) => {
    const closing = await tcpServer((socket) => socket.destroy());
    t.after(closing.close);
    const outcome = await runBroadcast(`rtmp://127.0.0.1:${closing.port}/live/SECRETKEY`, await h264());
    assertMapped(outcome, 'DESTINATION_UNREACHABLE', /during the RTMP handshake \((Connection reset by peer|End of file)\)/);
  });

  test('a server that accepts and never answers → DESTINATION_UNREACHABLE (timed out) after -rw_timeout', async (t) => {
    const silent = await tcpServer(() => {});
    t.after(silent.close);
    const outcome = await runBroadcast(`rtmp://127.0.0.1:${silent.port}/live/SECRETKEY`, await h264(), 1_000);
    assertMapped(outcome, 'DESTINATION_UNREACHABLE', /could not be reached \(Connection timed out\)/);
  });

  test('rtmps:// to a server that does not speak TLS → DESTINATION_UNREACHABLE about the secure connection', async (t) => {
    const closing = await tcpServer((socket) => socket.destroy());
    t.after(closing.close);
    const outcome = await runBroadcast(`rtmps://127.0.0.1:${closing.port}/live/SECRETKEY`, await h264());
    assertMapped(outcome, 'DESTINATION_UNREACHABLE', /secure connection to the RTMPS destination failed/);
  });
});
