// A BroadcastServer alone in a process that records every broadcast, so a test can SIGKILL it
// mid-broadcast. Arguments: the allowed destination prefix and the recordings' directory; prints
// `port <n>` once listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BroadcastServer } from '../../server/index.js';

const [allowedPrefix, directory] = process.argv.slice(2);
if (!allowedPrefix || !directory) throw new Error('usage: record-server.ts <allowed rtmp prefix> <recordings directory>');
const http = createServer();
new BroadcastServer(http, { allowedDestinations: [allowedPrefix], record: directory, logger: false });
http.listen(0, '127.0.0.1', () => console.log(`port ${(http.address() as AddressInfo).port}`));
