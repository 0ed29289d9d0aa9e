// `rtmp-broadcaster`: everything `rtmp-broadcaster/client` exports, plus the <rtmp-broadcaster>
// element, which importing this module registers.
export * from './core.js';
export { RtmpBroadcaster } from './element/rtmp-broadcaster.js';
export type { BroadcastSource, MuteChangeDetail, RtmpBroadcasterEventMap } from './element/rtmp-broadcaster.js';
