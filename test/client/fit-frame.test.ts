// Where a picture of a new shape goes inside the recording's frame (client/recorder/fit-frame.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitInside, sameShape } from '../../client/recorder/fit-frame.js';

test('a portrait picture in a landscape recording fills its height, centred, with bars left and right', () => {
  assert.deepEqual(fitInside(720, 1280, 1280, 720), { x: 437, y: 0, width: 405, height: 720 });
  assert.deepEqual(fitInside(360, 640, 640, 360), { x: 218, y: 0, width: 203, height: 360 });
});

test('a wider picture fills the width, with bars above and below', () => {
  assert.deepEqual(fitInside(1920, 800, 1280, 720), { x: 0, y: 93, width: 1280, height: 533 });
});

test('a picture of the same shape fills the frame, at any size', () => {
  assert.deepEqual(fitInside(1920, 1080, 1280, 720), { x: 0, y: 0, width: 1280, height: 720 });
  assert.deepEqual(fitInside(640, 360, 1280, 720), { x: 0, y: 0, width: 1280, height: 720 });
});

test('shapes within 1 % are the same (an odd pixel cut off is not a new shape); beyond, they are not', () => {
  assert.equal(sameShape(1280, 720, 1280, 720), true);
  assert.equal(sameShape(1921, 1081, 1920, 1080), true);
  assert.equal(sameShape(1920, 1080, 1280, 720), true);
  assert.equal(sameShape(1280, 740, 1280, 720), false);
  assert.equal(sameShape(720, 1280, 1280, 720), false);
  assert.equal(sameShape(1920, 1050, 1920, 1080), false);
});
