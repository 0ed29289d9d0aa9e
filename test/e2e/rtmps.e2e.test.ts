// End to end over TLS: a broadcast to an rtmps:// destination reaches nginx-rtmp through stunnel
// (a TLS terminator with a self-signed certificate). stunnel only speaks TLS on its port and
// nginx only plain RTMP on its own, so a recording proves ffmpeg published over TLS.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeFixture, splitChunks } from '../helpers/fixtures.js';
import { probe } from '../helpers/probe.js';
import { useRtmpServer } from '../helpers/suite.js';
import { ended, sendAll, start, startStack, stop } from '../helpers/stack.js';
import { startTlsTerminator, type TlsTerminator } from '../helpers/tls-terminator.js';
import { H264_MIME } from '../helpers/constants.js';

const CHUNK_BYTES = 80_000;

const rtmp = useRtmpServer();

describe('an rtmps:// destination', () => {
  // Inside the suite so they run after the file-level hooks have started nginx and before they stop it.
  let tls: TlsTerminator | undefined;
  before(async () => {
    tls = await startTlsTerminator(rtmp.port);
  });
  after(async () => {
    await tls?.close();
  });

  test('a broadcast is published over TLS and recorded as H.264 + AAC', async () => {
    const base = `rtmps://127.0.0.1:${tls!.port}/live/`;
    // The terminator's certificate is self-signed: the server trusts it through tlsCaFile.
    const stack = await startStack({ allowedDestinations: [base], tlsCaFile: tls!.certFile });
    try {
      const socket = await stack.client();
      const answer = await start(socket, { mimeType: H264_MIME, rtmpUrl: `${base}secure` });
      assert.ok(answer.ok && answer.video === 'copy', JSON.stringify(answer));
      const acks = await sendAll(socket, splitChunks(await makeFixture('h264-opus'), CHUNK_BYTES));
      assert.ok(
        acks.every((ack) => ack.ok),
        'every chunk acknowledged',
      );
      assert.deepEqual(await stop(socket), { ok: true });

      const received = await probe(await rtmp.recording('secure'));
      assert.equal(received.video?.codec, 'h264');
      assert.equal(received.audio?.codec, 'aac');
      assert.ok(Math.abs(received.durationSec - 5) <= 0.5, `duration ${received.durationSec} s is 5 s ± 10 %`);
      assert.deepEqual(stack.broadcaster.sessions(), []);
    } finally {
      await stack.close();
    }
  });

  test('a certificate the server does not trust is refused: DESTINATION_UNREACHABLE, nothing published', async () => {
    const base = `rtmps://127.0.0.1:${tls!.port}/live/`;
    const stack = await startStack({ allowedDestinations: [base] });
    try {
      const socket = await stack.client();
      const message = ended(socket);
      assert.ok((await start(socket, { mimeType: H264_MIME, rtmpUrl: `${base}impostor` })).ok);
      await sendAll(socket, splitChunks(await makeFixture('h264-opus', { seconds: 1 }), CHUNK_BYTES)).catch(() => []);
      assert.equal((await message).error?.code, 'DESTINATION_UNREACHABLE');
      assert.equal(rtmp.events.filter((event) => event.name === 'impostor').length, 0, 'nothing reached the ingest');
    } finally {
      await stack.close();
    }
  });
});
