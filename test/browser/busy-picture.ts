// A picture no encoder squeezes under its bitrate, for the tests that measure bitrates.
import { stopTracks } from './commands.js';

/** A 1280×720 picture of moving noise at 30 fps, which no encoder squeezes under its bitrate, and the fake microphone. */
export async function busyPicture(): Promise<{ stream: MediaStream; stop(): void }> {
  const width = 1280;
  const height = 720;
  // Noise drawn 16 times larger, smoothed, panning: a picture that changes everywhere, every frame
  // (pixel-sized noise at random offsets fits no bitrate: 33 Mb/s came out for 2.5 asked).
  const noise = document.createElement('canvas');
  noise.width = (width + 256) / 16;
  noise.height = (height + 256) / 16;
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
    const x = 128 + 120 * Math.sin(frame / 20);
    const y = 128 + 120 * Math.cos(frame / 27);
    context.drawImage(noise, -x, -y, noise.width * 16, noise.height * 16);
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
