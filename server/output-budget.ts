// What a connection may cost the server's memory whatever its client does. Replies wait in the
// server while the client does not read them (its TCP window is full): a client that keeps sending
// small acknowledged messages and never reads grows the server without bound, so a connection
// with more than MAX_UNSENT_BYTES waiting is closed. And a message's binary attachments are held
// until its last one comes: the protocol needs one at most (a chunk), socket.io takes ten.
import * as socketioParser from 'socket.io-parser';
import type { BroadcastSocket } from './hooks.js';

/**
 * Replies a connection may have waiting for its client, in bytes: an honest client reads what it
 * is sent (an ack per chunk, stats once a second), so it never has more than a few KB waiting.
 */
export const MAX_UNSENT_BYTES = 1024 * 1024;

/** Binary attachments one message may carry: `data`'s chunk. */
export const MAX_ATTACHMENTS = 1;

/** socket.io's decoder, refusing a message that announces more than {@link MAX_ATTACHMENTS} (socket.io then closes the connection). */
class OneAttachmentDecoder extends socketioParser.Decoder {
  constructor(options?: ConstructorParameters<typeof socketioParser.Decoder>[0]) {
    super({ ...(typeof options === 'object' ? options : {}), maxAttachments: MAX_ATTACHMENTS });
  }
}

/** socket.io's parser with {@link OneAttachmentDecoder} (the `parser` option of socket.io's Server). */
export const broadcastParser: { Encoder: typeof socketioParser.Encoder; Decoder: typeof socketioParser.Decoder } = {
  ...socketioParser,
  Decoder: OneAttachmentDecoder,
};

interface EngineConnection {
  writeBuffer?: { data?: unknown }[];
  transport?: { socket?: { bufferedAmount?: unknown } };
}

/** Bytes waiting to reach the client: in engine.io's queue and in the WebSocket's send buffer. */
export function unsentBytes(socket: BroadcastSocket): number {
  const connection = socket.conn as unknown as EngineConnection;
  const buffered = connection.transport?.socket?.bufferedAmount;
  let bytes = typeof buffered === 'number' ? buffered : 0;
  for (const packet of connection.writeBuffer ?? []) {
    const data = packet.data;
    bytes += typeof data === 'string' ? data.length : data instanceof Uint8Array ? data.byteLength : 16;
  }
  return bytes;
}
