// The api.video browser-to-rtmp quick start (server part), rewritten for rtmp-broadcaster.
import http from 'node:http';
import { BroadcastServer } from 'rtmp-broadcaster/server';

// Pages allowed to connect: theirs allowed every origin ("*").
const pageOrigin = process.env.PAGE_ORIGIN ?? 'http://localhost:8080';
// Destinations a client may ask for: theirs pushed to any URL the page sent.
const rtmpPrefix = process.env.RTMP_PREFIX ?? 'rtmp://localhost/live/';

const server = http.createServer();
const broadcaster = new BroadcastServer(server, {
  allowedOrigins: [pageOrigin],
  allowedDestinations: [rtmpPrefix],
});
// This machine only (theirs listened on every interface); HOST=0.0.0.0 behind a proxy.
server.listen(Number(process.env.PORT ?? 1234), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}: pages on ${pageOrigin} may broadcast to ${rtmpPrefix}…`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await broadcaster.close(); // ends every broadcast cleanly
    process.exit(0);
  });
}
