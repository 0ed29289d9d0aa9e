// `rtmp-broadcaster/server`: the Node side.
export { BroadcastServer } from './broadcast-server.js';
export type {
  BroadcastHooks,
  BroadcastServerEvents,
  BroadcastServerOptions,
  BroadcastSocket,
  ConnectionInfo,
  DestinationRef,
  ErrorContext,
  HookContext,
  RecordOption,
  StartOverrides,
  StopSummary,
} from './broadcast-server.js';
export type { SessionInfo, SessionState } from './session-info.js';
export type { AacCoder, AudioChannels } from './ffmpeg/args.js';
export type { Admission, AdmissionRequest } from './admission.js';
export type { AllowedDestinations } from './destination.js';
export type { AllowedOrigins } from './origin.js';
export type { Logger, LogLevel, LogFields } from './logger.js';
export { BroadcastError, ERRORS } from '../client/protocol.js';
export type * from '../client/protocol.js';
