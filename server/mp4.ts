// Just enough fragmented MP4 (Safari's MediaRecorder) to recognize where a recording begins: an
// `ftyp` box, then `moov`. A new ffmpeg after the destination dropped starts on a new recording
// the client makes when asked, never in the middle of one (that would need a `moof` whose first
// video sample is a keyframe, which Safari's fragments do not promise).

const FTYP = [0x66, 0x74, 0x79, 0x70];

/** Whether `chunk` is the first of an MP4 recording: it opens with an `ftyp` box. */
export function startsMp4Recording(chunk: Uint8Array): boolean {
  return chunk.byteLength >= 8 && FTYP.every((byte, i) => chunk[4 + i] === byte);
}
