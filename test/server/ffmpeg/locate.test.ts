// Which ffmpeg the server runs: the option, else FFMPEG_PATH, else the one on PATH.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { locateFfmpeg } from '../../../server/ffmpeg/locate.js';

test('the option wins over the environment', () => {
  assert.equal(locateFfmpeg('/opt/ffmpeg/bin/ffmpeg', { FFMPEG_PATH: '/usr/local/bin/ffmpeg' }), '/opt/ffmpeg/bin/ffmpeg');
});

test('FFMPEG_PATH is used when there is no option', () => {
  assert.equal(locateFfmpeg(undefined, { FFMPEG_PATH: '/usr/local/bin/ffmpeg' }), '/usr/local/bin/ffmpeg');
  assert.equal(locateFfmpeg('', { FFMPEG_PATH: '/usr/local/bin/ffmpeg' }), '/usr/local/bin/ffmpeg');
});

test('plain `ffmpeg` from PATH when neither is set', () => {
  assert.equal(locateFfmpeg(undefined, {}), 'ffmpeg');
  assert.equal(locateFfmpeg(undefined, { FFMPEG_PATH: '' }), 'ffmpeg');
});

test('reads process.env by default', () => {
  const saved = process.env.FFMPEG_PATH;
  try {
    process.env.FFMPEG_PATH = '/from/process/env/ffmpeg';
    assert.equal(locateFfmpeg(), '/from/process/env/ffmpeg');
    delete process.env.FFMPEG_PATH;
    assert.equal(locateFfmpeg(), 'ffmpeg');
  } finally {
    if (saved === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = saved;
  }
});
