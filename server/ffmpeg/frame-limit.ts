// A transcoding ffmpeg refuses frames over `maxPixels` (`-max_pixels`) but keeps reading its input,
// dropping every frame: its log says so at the first one, and the broadcast must end then, not at
// its idle timeout.
import { BroadcastError } from '../../client/protocol.js';

const TOO_LARGE = /Picture size (\d+x\d+) exceeds specified max pixel count (\d+)/;

/** INVALID_MEDIA for a log line saying a frame is over the limit; undefined for any other line. */
export function frameOverLimit(line: string): BroadcastError | undefined {
  const found = TOO_LARGE.exec(line);
  if (!found) return undefined;
  return new BroadcastError(
    'INVALID_MEDIA',
    `The video is ${found[1]}, more than the ${found[2]} pixels a frame this server transcodes may have: record at a lower resolution.`,
  );
}
