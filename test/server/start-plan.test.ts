// The start plan: which destinations a broadcast gets and every ffmpeg command line it runs,
// decided from the request, the start hook's overrides, the settings and ffmpeg's capabilities.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BroadcastError } from '../../client/protocol.js';
import { parseMimeType } from '../../server/ffmpeg/args.js';
import { resolveSettings } from '../../server/options.js';
import { chooseDestinations, planStart, type StartPlanInput } from '../../server/start-plan.js';
import { H264_MIME, VP8_MIME } from '../helpers/constants.js';

const A = 'rtmp://a.example/live/key-a';
const B = 'rtmp://b.example/live/key-b';

describe('chooseDestinations', () => {
  test('a client may name destinations the allow-list admits, each at most once', () => {
    const urls = chooseDestinations({ mimeType: H264_MIME, rtmpUrl: [A, B] }, {}, 4, ['rtmp://a.example/', 'rtmp://b.example/']);
    assert.deepEqual(urls.map(String), [A, B]);
    assert.throws(() => chooseDestinations({ mimeType: H264_MIME, rtmpUrl: [A, A] }, {}, 4, ['rtmp://a.example/']), {
      code: 'INVALID_REQUEST',
    });
  });

  test('a destination off the allow-list, or none at all, is refused with its code', () => {
    assert.throws(
      () => chooseDestinations({ mimeType: H264_MIME, rtmpUrl: B }, {}, 4, ['rtmp://a.example/']),
      (error: BroadcastError) => {
        assert.equal(error.code, 'DESTINATION_NOT_ALLOWED');
        assert.doesNotMatch(error.message, /key-b/, 'the stream key stays out of the message');
        return true;
      },
    );
    assert.throws(() => chooseDestinations({ mimeType: H264_MIME, rtmpUrl: A }, {}, 4, undefined), { code: 'DESTINATION_NOT_ALLOWED' });
    assert.throws(() => chooseDestinations({ mimeType: H264_MIME }, {}, 4, undefined), { code: 'INVALID_REQUEST' });
  });

  test('more destinations than maxDestinations are refused', () => {
    assert.throws(() => chooseDestinations({ mimeType: H264_MIME, rtmpUrl: [A, B] }, {}, 1, ['rtmp://']), { code: 'INVALID_REQUEST' });
  });

  test("the start hook's destinations are trusted over the client's; an unusable one is the server's INTERNAL error", () => {
    const urls = chooseDestinations({ mimeType: H264_MIME, rtmpUrl: A }, { rtmpUrl: B }, 4, undefined);
    assert.deepEqual(urls.map(String), [B]);
    assert.throws(() => chooseDestinations({ mimeType: H264_MIME }, { rtmpUrl: 'http://not-rtmp.example/' }, 4, undefined), {
      code: 'INTERNAL',
    });
    assert.throws(() => chooseDestinations({ mimeType: H264_MIME }, { rtmpUrl: [A, B] }, 1, undefined), { code: 'INTERNAL' });
  });
});

function input(overrides: Partial<StartPlanInput> = {}): StartPlanInput {
  const request = overrides.request ?? { mimeType: H264_MIME };
  return {
    request,
    media: parseMimeType(request.mimeType)!,
    overrides: {},
    destinations: [new URL(A)],
    recording: undefined,
    settings: {
      audioSampleRate: 44_100,
      aacCoder: 'twoloop',
      audioChannels: 'source',
      destinationTimeoutMs: 10_000,
      maxPixels: 1920 * 1080,
    },
    tls: { tlsVerify: true },
    capabilities: { version: '7.0', statsPeriod: true, fpsMode: true },
    ...overrides,
  };
}

/** The value after `flag` in argv. */
const flagValue = (args: readonly string[], flag: string) => args[args.indexOf(flag) + 1];

describe('planStart', () => {
  test('one destination and no recording: the broadcast ffmpeg publishes itself, no fan-out', () => {
    const plan = planStart(input());
    assert.equal(plan.fanned, false);
    assert.deepEqual(plan.targets, []);
    assert.equal(plan.args.at(-1), A);
  });

  test('several destinations or a recording: FLV to a pipe, one output each, the recording last', () => {
    const plan = planStart(input({ destinations: [new URL(A), new URL(B)], recording: '/tmp/out.mp4' }));
    assert.equal(plan.fanned, true);
    assert.equal(plan.args.at(-1), 'pipe:1');
    assert.deepEqual(
      plan.targets.map((target) => target.kind),
      ['destination', 'destination', 'recording'],
    );
    const [first, , recording] = plan.targets;
    assert.equal(plan.targetArgs(first!).at(-1), A);
    assert.equal(plan.targetArgs(recording!).at(-1), 'file:/tmp/out.mp4');
    assert.ok(!planStart(input({ recording: '/tmp/only.mkv' })).args.includes(A), 'a recorded broadcast publishes through its output');
  });

  test("the start hook's numbers win over the request's; the settings fill in the rest", () => {
    const request = { mimeType: VP8_MIME, videoBitsPerSecond: 1_000_000, framerate: 25, audioSampleRate: 48_000 };
    const plan = planStart(
      input({ request, media: parseMimeType(VP8_MIME)!, overrides: { videoBitsPerSecond: 600_000, audioChannels: 2 } }),
    );
    assert.equal(flagValue(plan.args, '-b:v'), '600000');
    assert.equal(flagValue(plan.args, '-r'), '25');
    assert.equal(flagValue(plan.args, '-ar'), '48000');
    assert.equal(flagValue(plan.args, '-ac'), '2');
    const defaults = planStart(input({ request: { mimeType: VP8_MIME }, media: parseMimeType(VP8_MIME)! }));
    assert.equal(flagValue(defaults.args, '-b:v'), '2500000');
    assert.equal(flagValue(defaults.args, '-ar'), '44100');
  });

  test("the server's maxPixels reaches a transcoding ffmpeg's decoder; BroadcastServer checks it like its other options", () => {
    const vp8 = { request: { mimeType: VP8_MIME }, media: parseMimeType(VP8_MIME)! };
    const settings = { ...input().settings, maxPixels: 640 * 360 };
    assert.equal(flagValue(planStart(input({ ...vp8, settings })).args, '-max_pixels'), String(640 * 360));
    assert.equal(flagValue(planStart(input(vp8)).args, '-max_pixels'), String(1920 * 1080));
    assert.equal(resolveSettings({ ffmpegPath: 'ffmpeg' }).maxPixels, 1920 * 1080);
    assert.equal(resolveSettings({ ffmpegPath: 'ffmpeg', maxPixels: 1280 * 720 }).maxPixels, 1280 * 720);
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, '2073600']) {
      assert.throws(() => resolveSettings({ ffmpegPath: 'ffmpeg', maxPixels: bad as number }), /`maxPixels`/, String(bad));
    }
  });

  test('an old ffmpeg (no -stats_period, no -fps_mode) gets command lines it accepts', () => {
    const old = planStart(input({ capabilities: { version: '4.3', statsPeriod: false, fpsMode: false }, recording: '/tmp/out.flv' }));
    assert.ok(!old.args.includes('-stats_period') && !old.args.includes('-fps_mode'));
    assert.ok(!old.targetArgs(old.targets[0]!).includes('-stats_period'));
    assert.ok(planStart(input()).args.includes('-stats_period'));
  });
});
