// A TCP proxy on loopback that can cut every connection through it and refuse new ones for a
// while (a Wi-Fi blip between a client and the server, on demand), and cap the upload (client to
// server) with a token bucket: a slow uplink, on demand.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** http://127.0.0.1:PORT, forwarding to the target. */
  origin: string;
  /** Destroys every connection at once; connections opened during the next `ms` are dropped too. */
  cut(ms: number): void;
  /** Caps what goes from clients to the target at `bitsPerSecond` (all connections together); undefined lifts the cap. */
  throttleUpload(bitsPerSecond: number | undefined): void;
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:<ephemeral> to `targetPort` on 127.0.0.1. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let downUntil = 0;
  const bucket = new TokenBucket();
  const server: Server = createServer((client) => {
    if (Date.now() < downUntil) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(from);
      if (from === client) bucket.pipe(from, to);
      else from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        open.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut(ms) {
      downUntil = Date.now() + ms;
      for (const socket of open) socket.destroy();
    },
    throttleUpload(bitsPerSecond) {
      bucket.setRate(bitsPerSecond);
    },
    async close() {
      bucket.setRate(undefined);
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Bytes a client may hold queued in the proxy before it stops reading from it (backpressure). */
const QUEUE_BYTES = 64 * 1024;
/** The bucket refills this often; at most this long's worth of tokens (a burst) waits in it. */
const REFILL_MS = 10;
const BURST_MS = 50;

/** Forwards through one shared token bucket when a rate is set, straight through otherwise. */
class TokenBucket {
  #bytesPerMs: number | undefined;
  #tokens = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = 0;
  readonly #queues = new Map<Socket, { to: Socket; parts: Buffer[]; bytes: number }>();

  setRate(bitsPerSecond: number | undefined): void {
    this.#bytesPerMs = bitsPerSecond === undefined ? undefined : bitsPerSecond / 8_000;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#bytesPerMs === undefined) {
      // Lifted: whatever waits goes at once.
      for (const [from, queue] of this.#queues) this.#release(from, queue, Infinity);
      return;
    }
    this.#tokens = 0;
    this.#last = performance.now();
    this.#timer = setInterval(() => this.#refill(), REFILL_MS);
  }

  pipe(from: Socket, to: Socket): void {
    const queue = { to, parts: [] as Buffer[], bytes: 0 };
    this.#queues.set(from, queue);
    from.on('data', (data: Buffer) => {
      if (this.#bytesPerMs === undefined && queue.bytes === 0) {
        to.write(data);
        return;
      }
      queue.parts.push(data);
      queue.bytes += data.byteLength;
      if (queue.bytes > QUEUE_BYTES) from.pause();
    });
    from.on('end', () => to.end());
    from.on('close', () => this.#queues.delete(from));
  }

  #refill(): void {
    const now = performance.now();
    const rate = this.#bytesPerMs ?? 0;
    this.#tokens = Math.min(this.#tokens + (now - this.#last) * rate, BURST_MS * rate);
    this.#last = now;
    for (const [from, queue] of this.#queues) this.#tokens = this.#release(from, queue, this.#tokens);
  }

  /** Writes up to `tokens` bytes of what `from` queued; returns the tokens left. */
  #release(from: Socket, queue: { to: Socket; parts: Buffer[]; bytes: number }, tokens: number): number {
    while (tokens > 0 && queue.parts.length > 0) {
      const head = queue.parts[0]!;
      const size = Math.min(head.byteLength, Math.floor(tokens));
      if (size === 0) break;
      queue.to.write(head.subarray(0, size));
      if (size === head.byteLength) queue.parts.shift();
      else queue.parts[0] = head.subarray(size);
      queue.bytes -= size;
      tokens -= size;
    }
    if (queue.bytes <= QUEUE_BYTES && from.isPaused()) from.resume();
    return tokens;
  }
}
