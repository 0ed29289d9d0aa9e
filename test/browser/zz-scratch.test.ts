/// <reference types="mocha" />
import { expect } from '@open-wc/testing';

describe('scratch', () => {
  it('MediaRecorder event order at stop', async function () {
    this.timeout(170_000);
    const cam = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true });
    const results: string[] = [];
    for (let i = 0; i < 30; i++) {
      const tracks = cam.getTracks().map((t) => t.clone());
      const rec = new MediaRecorder(new MediaStream(tracks), { mimeType: 'video/webm' });
      const events: string[] = [];
      let stopped = false;
      rec.addEventListener('dataavailable', (e) => events.push((stopped ? 'LATE:' : '') + 'd' + e.data.size));
      const stop = new Promise((r) => rec.addEventListener('stop', () => { stopped = true; events.push('stop'); r(null); }));
      rec.start(200);
      await new Promise((r) => setTimeout(r, 800 + (i % 5) * 150));
      if (i % 2) for (const t of tracks) t.enabled = false;
      await new Promise((r) => setTimeout(r, (i % 3) * 130));
      rec.stop();
      await stop;
      await new Promise((r) => setTimeout(r, 600));
      for (const t of tracks) t.stop();
      const late = events.filter((e) => e.startsWith('LATE'));
      results.push(`${i} paused=${i % 2} late=${late.length} tail=${events.slice(-4).join(',')}`);
    }
    console.log(results.join('\n'));
    expect(1).to.equal(1);
  });
});
