// ffmpeg runs with a minimal environment: the server's secrets (BROADCAST_TOKEN, cloud keys,
// database URLs) are not readable from /proc/PID/environ of a process that parses client media.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { makeFixture, splitChunks } from '../../helpers/fixtures.js';
import { useRtmpServer } from '../../helpers/suite.js';
import { sendAll, start, startStack, stop } from '../../helpers/stack.js';

const rtmp = useRtmpServer();

test('ffmpeg inherits neither BROADCAST_TOKEN nor any other secret from the server’s environment', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ffmpeg-env-'));
  const seen = join(dir, 'environ');
  const ffmpeg = execFileSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).trim();
  // Records the environment it was given, then is ffmpeg.
  const wrapper = join(dir, 'ffmpeg');
  await writeFile(wrapper, `#!/bin/sh\nenv >> '${seen}'\nexec '${ffmpeg}' "$@"\n`);
  await chmod(wrapper, 0o755);
  const saved = { BROADCAST_TOKEN: process.env.BROADCAST_TOKEN, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.BROADCAST_TOKEN = 'token-from-the-environment';
  process.env.AWS_SECRET_ACCESS_KEY = 'cloud-secret';
  const stack = await startStack({ ffmpegPath: wrapper, allowedDestinations: [rtmp.url('')] });
  try {
    const socket = await stack.client();
    const started = await start(socket, { mimeType: 'video/x-matroska;codecs=avc1,opus', rtmpUrl: rtmp.url('env') });
    assert.ok(started.ok, JSON.stringify(started));
    assert.ok((await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), 64_000))).every((ack) => ack.ok));
    assert.deepEqual(await stop(socket), { ok: true });
    const environ = await readFile(seen, 'utf8');
    // Names only in the messages: the machine's environment is not for a test log.
    const names = environ
      .split('\n')
      .map((line) => line.split('=')[0])
      .filter(Boolean);
    assert.ok(names.includes('PATH'), 'ffmpeg still finds what PATH names');
    assert.deepEqual(
      names.filter((name) => name === 'BROADCAST_TOKEN' || name === 'AWS_SECRET_ACCESS_KEY'),
      [],
      `ffmpeg got ${names.join(' ')}`,
    );
    assert.ok(!environ.includes('token-from-the-environment') && !environ.includes('cloud-secret'), 'no secret value under another name');
  } finally {
    await stack.close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await rm(dir, { recursive: true, force: true });
  }
});
