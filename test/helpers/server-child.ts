// A BroadcastServer alone in a child process, so that a test can measure that process's memory
// under a client's abuse. Options come as JSON in argv[2]; the port goes to the parent over IPC.
// Asked `measure`, it collects garbage (run it with --expose-gc) and answers with its memory: what
// the server holds, not what it has yet to collect. It ends when its parent goes away.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BroadcastServer, type BroadcastServerOptions } from '../../server/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as BroadcastServerOptions;
const http = createServer();
new BroadcastServer(http, { logLevel: 'error', ...options });
http.listen(0, '127.0.0.1', () => process.send?.({ port: (http.address() as AddressInfo).port }));
process.on('message', (message) => {
  if (message !== 'measure') return;
  (globalThis as { gc?: () => void }).gc?.();
  process.send?.({ memory: process.memoryUsage() });
});
process.on('disconnect', () => process.exit(0));
