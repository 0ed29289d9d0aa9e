// What the bench needs from the machine and reports about it: the tools on PATH, how long ffmpeg
// takes to launch, the CDN bundle's size, the static ffmpeg build beside Debian's.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { percentile } from './stats.js';

export function requireTools(): void {
  for (const [tool, args] of [
    ['ffmpeg', ['-version']],
    ['ffprobe', ['-version']],
    ['nginx', ['-v']],
    ['stdbuf', ['--version']],
  ] as const) {
    try {
      execFileSync(tool, args, { stdio: 'ignore' });
    } catch {
      throw new Error(`The bench needs \`${tool}\` on PATH (Debian: apt-get install ffmpeg nginx libnginx-mod-rtmp coreutils).`);
    }
  }
}

/** Wall time to start the ffmpeg binary and have it exit (`-version`): a floor under every broadcast's start. */
export function ffmpegLaunchMs(): number {
  const times = Array.from({ length: 5 }, () => {
    const start = performance.now();
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
    return performance.now() - start;
  });
  return Math.round(percentile(times, 50));
}

/** Size of the CDN bundle as a browser downloads it (gzip -9), if `npm run build` made it. */
export function bundleSize(): { file: string; bytes: number; gzipKb: number } | undefined {
  const file = fileURLToPath(new URL('../dist/rtmp-broadcaster.min.js', import.meta.url));
  if (!existsSync(file)) return undefined;
  const bytes = readFileSync(file);
  return {
    file: 'dist/rtmp-broadcaster.min.js',
    bytes: bytes.length,
    gzipKb: Math.round(gzipSync(bytes, { level: 9 }).length / 102.4) / 10,
  };
}

/** The static ffmpeg build @ffmpeg-installer ships (a devDependency), if it is installed and runs here. */
export async function findStaticFfmpeg(): Promise<string | undefined> {
  try {
    const installer = (await import('@ffmpeg-installer/ffmpeg')) as { default?: { path: string }; path?: string };
    const path = installer.default?.path ?? installer.path;
    if (!path) return undefined;
    execFileSync(path, ['-version'], { stdio: 'ignore' });
    return path;
  } catch {
    return undefined;
  }
}

/** The value after `--name` on the command line, as a positive whole number. */
export function numberArgument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index < 0 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new TypeError(`Expected \`--${name}\` to be a positive whole number, got \`${process.argv[index + 1]}\``);
  return value;
}

/** Every value given after `--name` on the command line, in order (`--browser chromium --browser firefox`). */
export function argValues(name: string): string[] {
  return process.argv.flatMap((arg, i) => (arg === `--${name}` && process.argv[i + 1] ? [process.argv[i + 1]!] : []));
}
