// Which ffmpeg the demo runs, so that `npm install && npm start` works on a machine without one:
// the ffmpegPath option, else FFMPEG_PATH, else `ffmpeg` on PATH, else the static build that the
// @ffmpeg-installer/ffmpeg dev dependency put in node_modules (from 2018: the BroadcastServer
// notices and leaves out the options it lacks).
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { probeFfmpeg } from '../server/ffmpeg/capabilities.js';

/** The ffmpeg the demo chose, and why, for its start-up log. */
export interface ChosenFfmpeg {
  path: string;
  /** What it reports; undefined when it does not run. */
  version: string | undefined;
  source: 'ffmpegPath' | 'FFMPEG_PATH' | 'PATH' | '@ffmpeg-installer/ffmpeg' | 'none';
}

/** An explicit choice is kept even when it does not run (the log says so); the others only when they do. */
export async function chooseFfmpeg(option?: string, env: NodeJS.ProcessEnv = process.env): Promise<ChosenFfmpeg> {
  if (option) return { path: option, version: await versionOf(option), source: 'ffmpegPath' };
  if (env.FFMPEG_PATH) return { path: env.FFMPEG_PATH, version: await versionOf(env.FFMPEG_PATH), source: 'FFMPEG_PATH' };
  return (
    (await ifItRuns(await findOnPath(env.PATH), 'PATH')) ??
    (await ifItRuns(await bundledFfmpeg(), '@ffmpeg-installer/ffmpeg')) ?? { path: 'ffmpeg', version: undefined, source: 'none' }
  );
}

async function versionOf(path: string): Promise<string | undefined> {
  return (await probeFfmpeg(path))?.version;
}

async function ifItRuns(path: string | undefined, source: ChosenFfmpeg['source']): Promise<ChosenFfmpeg | undefined> {
  const version = path === undefined ? undefined : await versionOf(path);
  return path !== undefined && version !== undefined ? { path, version, source } : undefined;
}

/** The ffmpeg executable that a shell with this PATH would run. */
async function findOnPath(path = ''): Promise<string | undefined> {
  const name = process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg';
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function bundledFfmpeg(): Promise<string | undefined> {
  try {
    const { default: installer } = await import('@ffmpeg-installer/ffmpeg');
    return installer.path;
  } catch {
    // Not installed (npm install --omit=dev), or no build for this platform: it throws on import.
    return undefined;
  }
}
