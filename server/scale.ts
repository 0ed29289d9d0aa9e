// What every way of running several BroadcastServer processes gives each one (Redis across
// machines, node:cluster on one): a shared broadcast limit, a shared listing, socket.io's adapter.
import type { Admission } from './admission.js';
import type { BroadcastServer } from './broadcast-server.js';
import type { SessionInfo } from './session-info.js';

/** A broadcast in the cluster-wide listing. */
export interface ClusterSessionInfo extends SessionInfo {
  /** The process running it (`hostname:pid` unless named with the `node` option). */
  node: string;
  /** When that process last reported it, in milliseconds since the epoch (`bytesIn` and `stats` are that old). */
  updatedAt: number;
}

/** One process's handle on the cluster: pass `admission` to its BroadcastServer, then `attach` the server. */
export interface Scale {
  /** This process's name in `sessions()`: `hostname:pid` unless named otherwise. */
  readonly node: string;
  /** The BroadcastServer's `admission` option: enforces `maxStreams` across the cluster. */
  readonly admission: Admission;
  /** Puts socket.io's adapter on the server (before it listens) and reports its broadcasts for `sessions()`. */
  attach(broadcaster: BroadcastServer): Promise<void>;
  /** Every live broadcast of every process in the cluster. */
  sessions(): Promise<ClusterSessionInfo[]>;
  /** Stops reporting and gives back what this process holds. Call after `broadcaster.close()`. */
  close(): Promise<void>;
}
