// Fails the test run when a test left a process behind: an ffmpeg the server spawned (it has our
// `-progress pipe:3`), a Chromium or Firefox the browser tests launched (fake media devices; puppeteer's
// Firefox profile), a test nginx, or a test redis-server (test/helpers/redis-server.ts marks its process title).
// Runs after the test runners have exited, so what they left is orphaned (its parent is now pid 1);
// processes of other programs still running on the machine keep their parents and are not counted.
import { readdirSync, readFileSync } from 'node:fs';

const signatures = [
  { name: 'ffmpeg', matches: (argv) => /(^|\/)ffmpeg$/.test(argv[0]) && argv.includes('pipe:3') },
  { name: 'chromium', matches: (argv) => /chrom/i.test(argv[0]) && argv.includes('--use-fake-device-for-media-stream') },
  { name: 'firefox', matches: (argv) => /firefox/i.test(argv[0]) && argv.some((arg) => arg.includes('puppeteer_dev_firefox_profile')) },
  { name: 'nginx', matches: (argv) => /nginx/.test(argv[0]) && argv.some((arg) => arg.includes('rtmp-server-')) },
  // redis-server replaces its argv with its process title, which carries the tests' mark.
  { name: 'redis-server', matches: (argv) => /redis-server/.test(argv[0]) && argv.join(' ').includes('rtmp-broadcaster-test') },
];

const leaks = [];
for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
  let argv, stat;
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    continue; // gone meanwhile
  }
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (argv.length === 0 || state === 'Z' || ppid !== '1') continue;
  const kind = signatures.find((signature) => signature.matches(argv));
  if (kind) leaks.push(`${kind.name} (pid ${pid}): ${argv.join(' ').slice(0, 160)}`);
}

if (leaks.length > 0) {
  console.error(`Tests left ${leaks.length} process(es) running:\n  ${leaks.join('\n  ')}`);
  process.exit(1);
}
console.log('No ffmpeg, Chromium, Firefox, test nginx or test redis-server left running.');
