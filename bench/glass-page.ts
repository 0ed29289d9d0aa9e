// The page of the glass-to-ingest bench (bench/glass.ts), served at http://localhost (a secure
// context, as WebCodecs needs), and the code it draws. The page broadcasts with the built client
// (dist/rtmp-broadcaster.min.js) either a canvas that shows the wall clock (epoch ms) as a strip of
// black and white blocks, redrawn 30 times a second from a Worker's timer (so a hidden page keeps
// drawing), or the fake camera; the microphone (fake too) is the audio track either way.

/** The code's layout: a sync pattern, then the time's bits, most significant first; two identical rows. */
export const CODE = { sync: [1, 0, 1, 0], bits: 44, blockWidth: 24, blockHeight: 40, rows: 2 } as const;

/** Height of the strip the reader keeps (the rest of the picture is not read). */
export const CODE_HEIGHT = CODE.blockHeight * CODE.rows;

/**
 * The epoch-ms time a frame's strip shows (`gray`: `width` × `height` luma bytes, top rows of the
 * picture), or undefined when the sync pattern is off or the two rows disagree (not a coded frame).
 */
export function readCode(gray: Uint8Array, width: number, height: number): number | undefined {
  const blocks = CODE.sync.length + CODE.bits;
  if (width < blocks * CODE.blockWidth || height < CODE_HEIGHT) return undefined;
  const rows: number[] = [];
  for (let row = 0; row < CODE.rows; row++) {
    const bits: number[] = [];
    for (let i = 0; i < blocks; i++) {
      // The mean of the block's middle (a third of it each way): edges blur at 2.5 Mb/s.
      let sum = 0;
      let count = 0;
      const x0 = i * CODE.blockWidth + CODE.blockWidth / 3;
      const y0 = row * CODE.blockHeight + CODE.blockHeight / 3;
      for (let y = Math.round(y0); y < Math.round(y0 + CODE.blockHeight / 3); y++) {
        for (let x = Math.round(x0); x < Math.round(x0 + CODE.blockWidth / 3); x++) {
          sum += gray[y * width + x]!;
          count++;
        }
      }
      bits.push(sum / count > 128 ? 1 : 0);
    }
    if (CODE.sync.some((bit, i) => bits[i] !== bit)) return undefined;
    rows.push(bits.slice(CODE.sync.length).reduce((value, bit) => value * 2 + bit, 0));
  }
  return rows.every((value) => value === rows[0]) ? rows[0] : undefined;
}

/** The page: `window.glass` has `open(source)`, `start(options)`, `stop()`, `visibility()`. */
export function glassPage(): string {
  return `<!doctype html>
<meta charset="utf-8">
<title>glass</title>
<body style="margin:0">
<script type="module">
import { BroadcastClient } from '/dist/rtmp-broadcaster.min.js';
const CODE = ${JSON.stringify(CODE)};
const W = 1280, H = 720;
let stream, client, worker, errors = [];

function draw(ctx) {
  const now = Math.round(performance.timeOrigin + performance.now());
  // A moving picture below the strip, so the encoder has something to do.
  ctx.fillStyle = 'hsl(' + ((now / 20) % 360) + ' 50% 35%)';
  ctx.fillRect(0, 0, W, H);
  for (let i = 0; i < 12; i++) {
    ctx.fillStyle = 'hsl(' + ((i * 30 + now / 10) % 360) + ' 80% 60%)';
    ctx.fillRect((now / 4 + i * 97) % W, 100 + i * 50, 160, 40);
  }
  const bits = [...CODE.sync];
  for (let i = CODE.bits - 1; i >= 0; i--) bits.push(Math.floor(now / 2 ** i) % 2);
  for (let row = 0; row < CODE.rows; row++) {
    bits.forEach((bit, i) => {
      ctx.fillStyle = bit ? '#fff' : '#000';
      ctx.fillRect(i * CODE.blockWidth, row * CODE.blockHeight, CODE.blockWidth, CODE.blockHeight);
    });
  }
}

window.glass = {
  async open(source) {
    const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    if (source === 'camera') {
      const camera = await navigator.mediaDevices.getUserMedia({ video: { width: W, height: H, frameRate: 30 } });
      stream = new MediaStream([...camera.getVideoTracks(), ...mic.getAudioTracks()]);
    } else {
      const canvas = document.createElement('canvas');
      canvas.width = W;
      canvas.height = H;
      const ctx = canvas.getContext('2d');
      draw(ctx);
      // A Worker's timer: not throttled in a hidden page, unlike requestAnimationFrame and the page's timers.
      const code = 'setInterval(() => postMessage(0), 1000 / 30)';
      worker = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
      worker.onmessage = () => draw(ctx);
      stream = new MediaStream([...canvas.captureStream().getVideoTracks(), ...mic.getAudioTracks()]);
    }
    const settings = stream.getVideoTracks()[0].getSettings();
    return { width: settings.width, height: settings.height };
  },
  async start({ rtmpUrl, recorder, timeslice }) {
    client = new BroadcastClient({ server: location.origin, rtmpUrl, recorder, adaptiveBitrate: false, ...(timeslice ? { timeslice } : {}) });
    client.addEventListener('error', (event) => errors.push(String(event.detail?.code)));
    await client.start(stream);
  },
  async stop() {
    await client?.stop();
    client = undefined;
    return errors;
  },
  close() {
    worker?.terminate();
    for (const track of stream?.getTracks() ?? []) track.stop();
  },
  visibility: () => document.visibilityState,
};
window.glassReady = true;
</script>`;
}
