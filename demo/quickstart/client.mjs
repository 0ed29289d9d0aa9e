// The api.video browser-to-rtmp quick start (client part), rewritten for rtmp-broadcaster.
import { BroadcastClient } from 'rtmp-broadcaster/client';

export async function goLive(server, rtmpUrl) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const client = new BroadcastClient({ server, rtmpUrl });
  client.addEventListener('error', (event) => console.log(`An error occurred: ${event.detail.message}`));
  await client.start(stream);
  return client;
}
