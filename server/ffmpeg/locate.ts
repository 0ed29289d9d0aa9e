// Which ffmpeg binary to run.

/** The ffmpegPath option, else FFMPEG_PATH, else `ffmpeg` from PATH: an explicit choice always beats the environment. */
export function locateFfmpeg(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof option === 'string' && option !== '') return option;
  const fromEnv = env.FFMPEG_PATH;
  if (typeof fromEnv === 'string' && fromEnv !== '') return fromEnv;
  return 'ffmpeg';
}
