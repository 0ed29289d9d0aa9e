// What the ffmpeg binary in use accepts. Builds before 4.4 (such as the 2018 static one that
// @ffmpeg-installer/ffmpeg ships) refuse `-stats_period` and exit before reading any media.
import { execa } from 'execa';

/** What one ffmpeg binary can do, as far as the command line we build cares. */
export interface FfmpegCapabilities {
  /** The version it reports, e.g. `5.1.9-0+deb12u1` or, for a git build, `N-47683-g0e8eb07980-static`. */
  version: string;
  /** Accepts `-stats_period` (ffmpeg 4.4 and later). */
  statsPeriod: boolean;
}

// `-version` answers at once; this only bounds a binary that hangs.
const PROBE_TIMEOUT_MS = 10_000;

/** Asks the binary itself; undefined when it cannot be run or is not ffmpeg. Never throws. */
export async function probeFfmpeg(ffmpegPath: string): Promise<FfmpegCapabilities | undefined> {
  // A git build's version (`N-47683-g...`) says nothing of its options, so try the option itself:
  // ffmpeg parses the whole command line before `-version` prints and exits.
  for (const statsPeriod of [true, false]) {
    const version = await reportedVersion(ffmpegPath, statsPeriod ? ['-stats_period', '1'] : []);
    if (version !== undefined) return { version, statsPeriod };
  }
  return undefined;
}

/** The version from `ffmpeg [options] -version`, or undefined if that run failed. */
async function reportedVersion(ffmpegPath: string, options: readonly string[]): Promise<string | undefined> {
  const run = await execa(ffmpegPath, ['-hide_banner', ...options, '-version'], {
    reject: false,
    stdin: 'ignore',
    timeout: PROBE_TIMEOUT_MS,
  });
  if (run.exitCode !== 0) return undefined;
  return /^ffmpeg version (\S+)/.exec(run.stdout)?.[1];
}
