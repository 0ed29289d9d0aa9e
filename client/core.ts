// `rtmp-broadcaster/client`: the client class and the protocol it speaks, without the element (no Lit).
export { BroadcastClient } from './broadcast-client.js';
export type {
  BroadcastClientEventMap,
  BroadcastClientOptions,
  BroadcastState,
  StateChangeDetail,
} from './broadcast-client.js';
export { BroadcastError, ERRORS, isErrorCode } from './protocol.js';
export type * from './protocol.js';
