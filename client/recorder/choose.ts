// Which recorder type to ask the browser for: the first of the server's preferred types it records.

/**
 * Recorder types in order of preference, each with the audio codec it carries. H.264 comes first
 * because the server can copy it to RTMP untouched (Chromium calls H.264 in Matroska either way;
 * Safari records it, with AAC, only in MP4); VP9 and VP8 make it transcode.
 */
const VIDEO_TYPES: [type: string, audio: string][] = [
  ['video/webm;codecs=h264', 'opus'],
  ['video/x-matroska;codecs=avc1', 'opus'],
  ['video/mp4;codecs=avc1', 'mp4a.40.2'],
  ['video/webm;codecs=vp9', 'opus'],
  ['video/webm;codecs=vp8', 'opus'],
];

/**
 * The first recorder type `isTypeSupported` accepts: H.264 (in WebM, Matroska, then MP4 with AAC),
 * then VP9, then VP8 (with Opus when there is audio), then whatever plain WebM the browser makes.
 * Undefined if it makes none of these.
 */
export function chooseMimeType(hasAudio: boolean, isTypeSupported: (type: string) => boolean): string | undefined {
  const withAudio = VIDEO_TYPES.map(([type, audio]) => (hasAudio ? `${type},${audio}` : type));
  return [...withAudio, 'video/webm'].find((type) => isTypeSupported(type));
}
