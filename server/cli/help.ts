// The CLI's --help text, made from the one table of options.
import { OPTIONS, type OptionName, type OptionSpec } from './config.js';

/** The --help text. */
export function helpText(): string {
  const lines = [
    'Usage: rtmp-broadcaster [options]',
    '',
    'Relays browsers broadcasting with <rtmp-broadcaster> to RTMP ingests (YouTube, Twitch, any',
    'RTMP server) with ffmpeg. Serves the socket.io endpoint the element connects to, /healthz and',
    'Prometheus /metrics with --metrics-token; logs JSON lines on stdout; ends broadcasts cleanly on SIGTERM and SIGINT.',
    '',
    'Each option may instead come from the environment variable shown; a flag wins over it.',
    '',
    'Options:',
  ];
  for (const [name, spec] of Object.entries(OPTIONS) as [OptionName, OptionSpec][]) {
    const short = spec.short ? `-${spec.short}, ` : '';
    const flag = `  ${short}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    lines.push(spec.env ? `${flag.padEnd(44)} ${spec.env}` : flag, ...wrap(spec.help, 80 - 6).map((line) => `      ${line}`));
  }
  lines.push(
    '',
    'Clients send the token with the connection:',
    '  <rtmp-broadcaster server="https://relay.example.com"> and element.auth = { token: \'...\' },',
    "  or new BroadcastClient({ server, auth: { token: '...' } }).",
    '',
    'Examples:',
    '  RTMP_URL=rtmp://a.rtmp.youtube.com/live2/KEY BROADCAST_TOKEN=secret \\',
    '    rtmp-broadcaster --allow-origin https://example.com',
    '  rtmp-broadcaster --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem \\',
    '    --allow-destination rtmp://a.rtmp.youtube.com/live2 \\',
    '    --allow-destination rtmp://live.twitch.tv/app',
    '  # every broadcast to YouTube and Twitch at once, and to a file:',
    '  RTMP_URL="rtmp://a.rtmp.youtube.com/live2/KEY1 rtmp://live.twitch.tv/app/KEY2" \\',
    '    rtmp-broadcaster --record /var/recordings',
    '  # every core of this machine, one limit for all of them:',
    '  RTMP_URL=... MAX_STREAMS=40 rtmp-broadcaster --workers auto',
    '  # several machines behind a load balancer, one limit and one list for all:',
    '  RTMP_URL=... MAX_STREAMS=200 REDIS_URL=redis://redis.internal:6379 rtmp-broadcaster --host 0.0.0.0',
    '',
    'Exit status: 0 after a clean shutdown, 1 when the server fails, 2 for bad options.',
    '',
  );
  return lines.join('\n');
}

/** Breaks `text` into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
