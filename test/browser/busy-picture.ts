// A picture no encoder squeezes under its bitrate, for the tests that measure bitrates.
import { stopTracks } from './commands.js';

/**
 * A picture of moving noise at 30 fps (1280×720 unless told), which no encoder squeezes under its
 * bitrate, and the fake microphone.
 */
export async function busyPicture(width = 1280, height = 720): Promise<{ stream: MediaStream; stop(): void }> {
  // Noise drawn 16 times larger at 720p (as many cells at any size), smoothed, panning: a picture
  // that changes everywhere, every frame (pixel-sized noise at random offsets fits no bitrate:
  // 33 Mb/s came out for 2.5 asked).
  const scale = width / 80;
  const margin = 16 * scale;
  const noise = document.createElement('canvas');
  noise.width = (width + margin) / scale;
  noise.height = (height + margin) / scale;
  const noiseContext = noise.getContext('2d')!;
  const pixels = noiseContext.createImageData(noise.width, noise.height);
  const words = new Uint32Array(pixels.data.buffer);
  for (let i = 0; i < words.length; i++) words[i] = (Math.random() * 0x1000000) | 0xff000000;
  noiseContext.putImageData(pixels, 0, 0);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d')!;
  let frame = 0;
  const draw = () => {
    frame++;
    const x = (margin / 2) * (1 + 0.94 * Math.sin(frame / 20));
    const y = (margin / 2) * (1 + 0.94 * Math.cos(frame / 27));
    context.drawImage(noise, -x, -y, noise.width * scale, noise.height * scale);
  };
  draw();
  const timer = setInterval(draw, 1_000 / 30);
  const video = canvas.captureStream(30);
  const audio = await navigator.mediaDevices.getUserMedia({ audio: true });
  const stream = new MediaStream([...video.getVideoTracks(), ...audio.getAudioTracks()]);
  return {
    stream,
    stop() {
      clearInterval(timer);
      stopTracks(stream);
    },
  };
}
