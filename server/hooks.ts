// The operator's hooks: what they learn (the context), running them so that they never take the
// server down, and checking what the start hook (and the `record` function) hand back.
import { access, mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { Socket } from 'socket.io';
import {
  AAC_SAMPLE_RATES,
  BroadcastError,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type StartRequest,
} from '../client/protocol.js';
import type { StopSummary } from './session-info.js';
import { seconds, settleWithin } from './deadline.js';
import { describe, toBroadcastError } from './errors.js';
import { AUDIO_CHANNELS, recorderArgs, type AudioChannels } from './ffmpeg/args.js';
import type { Logger } from './logger.js';

export type BroadcastSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** What every hook learns about the broadcast it runs for. */
export interface HookContext {
  sessionId: string;
  socket: BroadcastSocket;
  /** The socket.io handshake `auth` object the client connected with (tokens go here). */
  auth: Record<string, unknown>;
  remoteAddress: string;
  /** The validated start request. */
  request: StartRequest;
}

/** The error hook's context: errors can happen before a broadcast exists (data before start). */
export type ErrorContext = Omit<HookContext, 'sessionId' | 'request'> & {
  sessionId?: string;
  request?: StartRequest;
};

/** What the start hook may change. The server choosing the destination is the secure default. */
export interface StartOverrides {
  /** The destination, or several (at most `maxDestinations`); trusted, so the allow-list does not apply. */
  rtmpUrl?: string | string[];
  /** Record the broadcast to this absolute path (.mp4, .mkv or .flv), or `false` for no recording; overrides the `record` option. */
  record?: string | false;
  videoBitsPerSecond?: number;
  audioBitsPerSecond?: number;
  framerate?: number;
  audioSampleRate?: number;
  /** AAC channels for this broadcast: 'source', 1 or 2; overrides the `audioChannels` option. */
  audioChannels?: AudioChannels;
}

/** Where to record a broadcast: a directory (files named `<sessionId>.mp4`), or a function returning an absolute path (or undefined for none). */
export type RecordOption = string | ((context: HookContext) => string | undefined | Promise<string | undefined>);

export interface BroadcastHooks {
  /** Runs before each broadcast; throw to refuse (a BroadcastError keeps its code, anything else is UNAUTHORIZED). */
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing keeps the defaults, and TypeScript needs void for that
  start?(context: HookContext): StartOverrides | void | Promise<StartOverrides | void>;
  /** Runs after every broadcast, whatever ended it. */
  stop?(context: HookContext, summary: StopSummary): void | Promise<void>;
  /** Runs on every error a client is told about. */
  error?(context: ErrorContext, error: BroadcastError): void | Promise<void>;
}

/** Thrown when a hook does not settle within `hookTimeoutMs`. */
class HookTimeout extends Error {}

/** Runs a hook of the operator's code, which must never take the server down (nor hold it for longer than `timeoutMs`): what it throws is logged. */
export async function runHook(log: Logger, name: string, call: () => unknown, timeoutMs = Infinity): Promise<void> {
  try {
    await settleWithin(Promise.resolve().then(call), { timeoutMs, late: () => new HookTimeout() });
  } catch (caught) {
    if (caught instanceof HookTimeout) log.error(`the ${name} hook did not settle within ${seconds(timeoutMs)}; no longer waiting for it`);
    else log.error(`the ${name} hook threw`, { error: describe(caught) });
  }
}

/**
 * Runs the start hook: what it throws refuses the broadcast, and so does not answering within
 * `timeoutMs` (UNAUTHORIZED) or `signal` aborting (its reason); what it returns must be usable.
 */
export async function runStartHook(
  log: Logger,
  hook: BroadcastHooks['start'],
  context: HookContext,
  limits: { timeoutMs: number; signal: AbortSignal },
): Promise<StartOverrides> {
  if (!hook) return {};
  // biome-ignore lint/suspicious/noConfusingVoidType: what the start hook may return (see BroadcastHooks)
  let result: StartOverrides | void;
  const late = () => {
    log.error('the start hook did not answer in time; the start is refused', {
      sessionId: context.sessionId,
      hookTimeoutMs: limits.timeoutMs,
    });
    return new BroadcastError(
      'UNAUTHORIZED',
      `The start hook did not answer within ${seconds(limits.timeoutMs)}, so the broadcast was refused.`,
    );
  };
  try {
    result = await settleWithin(
      Promise.resolve().then(() => hook(context)),
      { ...limits, late },
    );
  } catch (caught) {
    throw toBroadcastError(caught, 'UNAUTHORIZED');
  }
  if (result === undefined || result === null) return {};
  if (typeof result !== 'object') {
    log.error('the start hook returned something that is not an object', { type: typeof result });
    throw new BroadcastError('INTERNAL', undefined, 'The start hook returned something that is not an object.');
  }
  const rate = result.audioSampleRate;
  if (rate !== undefined && !AAC_SAMPLE_RATES.includes(rate as (typeof AAC_SAMPLE_RATES)[number])) {
    log.error('the start hook returned an unusable audioSampleRate', { audioSampleRate: rate });
    throw new BroadcastError('INTERNAL', undefined, `The start hook returned audioSampleRate ${String(rate)}, which AAC cannot carry.`);
  }
  const channels = result.audioChannels;
  if (channels !== undefined && !AUDIO_CHANNELS.includes(channels)) {
    log.error('the start hook returned unusable audioChannels', { audioChannels: String(channels) });
    throw new BroadcastError(
      'INTERNAL',
      undefined,
      `The start hook returned audioChannels ${String(channels)}; it must be ${AUDIO_CHANNELS.join(', ')}.`,
    );
  }
  return result;
}

/** Where the operator records this broadcast, if anywhere (the client has no say); its directory is made. */
export async function recordingPath(
  log: Logger,
  option: RecordOption | undefined,
  context: HookContext,
  overrides: StartOverrides,
  limits: { timeoutMs: number; signal: AbortSignal },
): Promise<string | undefined> {
  let path: unknown;
  try {
    if (overrides.record !== undefined) path = overrides.record === false ? undefined : overrides.record;
    else if (typeof option === 'string') path = join(option, `${context.sessionId}.mp4`);
    else if (typeof option === 'function') {
      const late = () => new Error(`The record function did not answer within ${seconds(limits.timeoutMs)}.`);
      path = await settleWithin(
        Promise.resolve().then(() => option(context)),
        { ...limits, late },
      );
    }
    if (path === undefined) return undefined;
    if (typeof path !== 'string' || !isAbsolute(path)) throw new Error(`A recording path must be an absolute path, got ${String(path)}.`);
    recorderArgs({ path });
    await mkdir(dirname(path), { recursive: true });
  } catch (caught) {
    if (caught === limits.signal.reason) throw caught;
    log.error('the recording path is unusable', { error: describe(caught) });
    throw new BroadcastError('INTERNAL', undefined, describe(caught));
  }
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (exists) {
    log.error('the recording file already exists; refusing to overwrite it', { recording: path });
    throw new BroadcastError('INTERNAL', undefined, 'The recording file already exists.');
  }
  return path;
}
