// `rtmp-broadcaster/client`: the client class and the protocol it speaks, without the element (no Lit).
export { BroadcastClient } from './broadcast-client.js';
export type {
  BroadcastClientEventMap,
  BroadcastClientOptions,
  BroadcastState,
  FfmpegOutputDetail,
  StateChangeDetail,
} from './broadcast-client.js';
export { AAC_SAMPLE_RATES, BroadcastError, ERRORS, isErrorCode, REQUEST_LIMITS } from './protocol.js';
export type * from './protocol.js';
