// What the ffmpeg binary in use accepts. Builds before 4.4 (such as the 2018 static one that
// @ffmpeg-installer/ffmpeg ships) refuse `-stats_period`, and builds before 5.1 `-fps_mode`; each
// exits before reading any media on an option it does not know.
import { execa } from 'execa';
import { ffmpegEnvironment } from './environment.js';

/** What one ffmpeg binary can do, as far as the command line we build cares. */
export interface FfmpegCapabilities {
  /** The version it reports, e.g. `5.1.9-0+deb12u1` or, for a git build, `N-47683-g0e8eb07980-static`. */
  version: string;
  /** Accepts `-stats_period` (ffmpeg 4.4 and later). */
  statsPeriod: boolean;
  /** Accepts `-fps_mode` (ffmpeg 5.1 and later; before it, `-vsync` does the same, and 5.1 calls `-vsync` deprecated). */
  fpsMode: boolean;
}

/** The options a capability stands for, as the probe passes them. */
const OPTIONS = {
  statsPeriod: ['-stats_period', '1'],
  fpsMode: ['-fps_mode', 'cfr'],
} as const;

// `-version` answers at once; this only bounds a binary that hangs.
const PROBE_TIMEOUT_MS = 10_000;

/** Asks the binary itself; undefined when it cannot be run or is not ffmpeg. Never throws. */
export async function probeFfmpeg(ffmpegPath: string): Promise<FfmpegCapabilities | undefined> {
  // A git build's version (`N-47683-g...`) says nothing of its options, so try the options
  // themselves: ffmpeg parses the whole command line before `-version` prints and exits.
  // A current build takes them all at once: one run.
  const current = await reportedVersion(ffmpegPath, Object.values(OPTIONS).flat());
  if (current !== undefined) return { version: current, statsPeriod: true, fpsMode: true };
  const version = await reportedVersion(ffmpegPath, []);
  if (version === undefined) return undefined;
  const accepts = async (options: readonly string[]) => (await reportedVersion(ffmpegPath, options)) !== undefined;
  const [statsPeriod, fpsMode] = await Promise.all([accepts(OPTIONS.statsPeriod), accepts(OPTIONS.fpsMode)]);
  return { version, statsPeriod, fpsMode };
}

/** The version from `ffmpeg [options] -version`, or undefined if that run failed. */
async function reportedVersion(ffmpegPath: string, options: readonly string[]): Promise<string | undefined> {
  const run = await execa(ffmpegPath, ['-hide_banner', ...options, '-version'], {
    reject: false,
    stdin: 'ignore',
    timeout: PROBE_TIMEOUT_MS,
    env: ffmpegEnvironment(),
    extendEnv: false,
  });
  if (run.exitCode !== 0) return undefined;
  return /^ffmpeg version (\S+)/.exec(run.stdout)?.[1];
}
