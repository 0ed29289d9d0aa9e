// The api.video browser-to-rtmp quick start (server part), rewritten for rtmp-broadcaster.
import http from 'node:http';
import { BroadcastServer } from 'rtmp-broadcaster/server';

const server = http.createServer();
const broadcaster = new BroadcastServer(server, {
  // Pages allowed to connect: theirs allowed every origin ("*").
  allowedOrigins: [process.env.PAGE_ORIGIN ?? 'http://localhost:8080'],
  // Destinations a client may ask for: theirs pushed to any URL the page sent.
  allowedDestinations: [process.env.RTMP_PREFIX ?? 'rtmp://localhost/live/'],
});
server.listen(Number(process.env.PORT ?? 1234), () => console.log(`listening on ${server.address().port}`));
process.once('SIGTERM', async () => {
  await broadcaster.close();
  server.close();
});
