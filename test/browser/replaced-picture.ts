// What the RTMP server received of a broadcast whose bright picture (a fake camera) was replaced
// on air by a black one: checked by the client's and the element's tests of replacing the camera.
import { expect } from '@open-wc/testing';
import { probeLevels } from './commands.js';

/** The recording of `stream` is bright for its first second, black for its last, with no break in between. */
export async function expectBrightThenBlack(stream: string): Promise<void> {
  const { frames } = await probeLevels(stream);
  const list = frames.map(({ time, luma }) => `${time.toFixed(2)}:${Math.round(luma)}`).join(' ');
  const end = frames.at(-1)!.time;
  const gaps = frames.slice(1).map(({ time }, i) => time - frames[i]!.time);
  expect(end).to.be.above(3, list);
  expect(
    frames.filter(({ time }) => time < 1).every(({ luma }) => luma > 60),
    `the first picture first (${list})`,
  ).to.equal(true);
  const last = frames.filter(({ time }) => time > end - 1);
  expect(last.length).to.be.at.least(10, list);
  expect(
    last.every(({ luma }) => luma < 30),
    `the new picture at the end (${list})`,
  ).to.equal(true);
  expect(Math.max(...gaps)).to.be.at.most(0.6, `no break (${list})`);
}
