// What the tests send as a browser would, in one place.

/** Chromium's MediaRecorder with H.264: copied by the server, Opus turned into AAC. */
export const H264_MIME = 'video/x-matroska;codecs=avc1,opus';
/** Firefox's MediaRecorder: VP8 (transcoded to H.264) and Opus in WebM. */
export const VP8_MIME = 'video/webm;codecs=vp8,opus';
/** Safari's MediaRecorder: fragmented MP4 with H.264 and AAC, both copied. */
export const SAFARI_MIME = 'video/mp4;codecs=avc1.42E01E,mp4a.40.2';
