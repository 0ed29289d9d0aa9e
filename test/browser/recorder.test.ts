// Which recorder type the client asks the browser for, given what the browser can record.
/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { chooseMimeType } from '../../client/recorder/choose.js';
import { Recorder } from '../../client/recorder/media-recorder.js';
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
    expect(chooseMimeType(true, browserRecording('video/webm;codecs=vp9,opus', 'video/webm;codecs=vp8,opus'))).to.equal(
      'video/webm;codecs=vp9,opus',
    );
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

/**
 * A MediaRecorder whose events a test scripts: `stop()` runs `onStop`, which fires what a browser
 * would (data, then `stop`), in whatever order the test wants to check.
 */
class ScriptedRecorder extends EventTarget {
  static isTypeSupported(): boolean {
    return true;
  }
  static onStop: (recorder: ScriptedRecorder) => void = () => {};
  state: RecordingState = 'inactive';

  start(): void {
    this.state = 'recording';
    queueMicrotask(() => this.dispatchEvent(new Event('start')));
  }

  stop(): void {
    this.state = 'inactive';
    ScriptedRecorder.onStop(this);
  }

  /** Fires `dataavailable` with a blob of `size` bytes. */
  fire(size: number): void {
    this.dispatchEvent(new BlobEvent('dataavailable', { data: new Blob([new Uint8Array(size)]) }));
  }
}

describe('Recorder', () => {
  const realRecorder = window.MediaRecorder;
  let stream: MediaStream;
  let chunks: number[];
  let recorder: Recorder;

  beforeEach(async () => {
    window.MediaRecorder = ScriptedRecorder as unknown as typeof MediaRecorder;
    stream = document.createElement('canvas').captureStream();
    chunks = [];
    const onChunk = (chunk: ArrayBuffer) => chunks.push(chunk.byteLength);
    recorder = new Recorder(stream, {
      videoBitsPerSecond: 1e6,
      audioBitsPerSecond: 1e5,
      timeslice: 200,
      onChunk,
      onError: () => {},
      onEnd: () => {},
    });
    await recorder.start();
  });

  afterEach(() => {
    window.MediaRecorder = realRecorder;
    for (const track of stream.getTracks()) track.stop();
  });

  it('hands out the last data Firefox fires after `stop` (an empty blob before it) before stop() resolves', async () => {
    // What Firefox did 3 times in 120 stops on a loaded machine.
    ScriptedRecorder.onStop = (scripted) => {
      scripted.fire(0);
      scripted.dispatchEvent(new Event('stop'));
      setTimeout(() => scripted.fire(300), 50);
    };
    await recorder.stop();
    expect(chunks).to.deep.equal([300]);
  });

  it('hands out nothing after stop() resolved, even what a recording fires later', async () => {
    let fired!: () => void;
    const late = new Promise<void>((resolve) => (fired = resolve));
    ScriptedRecorder.onStop = (scripted) => {
      scripted.fire(200);
      scripted.dispatchEvent(new Event('stop'));
      setTimeout(() => {
        scripted.fire(999);
        fired();
      }, 20);
    };
    await recorder.stop();
    expect(chunks).to.deep.equal([200]);
    await late;
    // Handing out goes through a promise chain: give it every chance to run.
    await recorder.stop();
    expect(chunks).to.deep.equal([200], 'what came after the end was dropped');
  });
});
