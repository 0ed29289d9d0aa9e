// Which recorder type the client asks the browser for, given what the browser can record.
/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { chooseMimeType } from '../../client/recorder/choose.js';
import { recordsH264 } from './commands.js';

/** A browser that records exactly `types`. */
function browserRecording(...types: string[]): (type: string) => boolean {
  return (type) => types.includes(type);
}

describe('chooseMimeType', () => {
  it('prefers H.264 in WebM, which the server copies without transcoding', () => {
    const everything = () => true;
    expect(chooseMimeType(true, everything)).to.equal('video/webm;codecs=h264,opus');
  });

  it('takes H.264 in Matroska when the browser names it that way', () => {
    const supported = browserRecording('video/x-matroska;codecs=avc1,opus', 'video/webm;codecs=vp8,opus');
    expect(chooseMimeType(true, supported)).to.equal('video/x-matroska;codecs=avc1,opus');
  });

  it('falls back to VP9, then VP8, then plain WebM', () => {
    expect(chooseMimeType(true, browserRecording('video/webm;codecs=vp9,opus', 'video/webm;codecs=vp8,opus'))).to.equal('video/webm;codecs=vp9,opus');
    expect(chooseMimeType(true, browserRecording('video/webm;codecs=vp8,opus', 'video/webm'))).to.equal('video/webm;codecs=vp8,opus');
    expect(chooseMimeType(true, browserRecording('video/webm'))).to.equal('video/webm');
  });

  it('leaves Opus out when the stream has no audio track', () => {
    const supported = browserRecording('video/webm;codecs=h264,opus', 'video/webm;codecs=h264');
    expect(chooseMimeType(false, supported)).to.equal('video/webm;codecs=h264');
  });

  it('takes H.264 and AAC in MP4, as Safari records them, over VP9 and VP8 in WebM', () => {
    const safari = browserRecording('video/mp4;codecs=avc1,mp4a.40.2', 'video/mp4;codecs=avc1', 'video/webm;codecs=vp8,opus');
    expect(chooseMimeType(true, safari)).to.equal('video/mp4;codecs=avc1,mp4a.40.2');
    expect(chooseMimeType(false, safari)).to.equal('video/mp4;codecs=avc1');
  });

  it('finds nothing in a browser that records neither WebM nor MP4 with H.264', () => {
    expect(chooseMimeType(true, browserRecording('video/mp4;codecs=hvc1,mp4a.40.2', 'video/ogg'))).to.equal(undefined);
  });

  it('picks a type this browser really records: H.264 in Chromium, VP8 in Firefox', () => {
    const type = chooseMimeType(true, (candidate) => MediaRecorder.isTypeSupported(candidate));
    expect(type).to.equal(recordsH264 ? 'video/webm;codecs=h264,opus' : 'video/webm;codecs=vp8,opus');
  });
});
