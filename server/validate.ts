// Checks what a client sends before anything acts on it: everything on the wire is untrusted.
import {
  AAC_SAMPLE_RATES,
  BroadcastError,
  MAX_MIME_TYPE_LENGTH,
  MAX_URL_LENGTH,
  REQUEST_LIMITS,
  type StartRequest,
} from '../client/protocol.js';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** However many destinations a server allows, a request naming more than this is not a real one. */
const MAX_LISTED_DESTINATIONS = 64;

/** Returns a clean copy of a start request or throws INVALID_REQUEST naming the bad field. */
export function validateStartRequest(raw: unknown): StartRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid('The start request must be an object.');
  }
  const input = raw as Record<string, unknown>;
  const { mimeType, rtmpUrl } = input;
  // A MIME type is printable ASCII: anything else is an attempt to smuggle text into logs or messages.
  if (typeof mimeType !== 'string' || mimeType.length === 0 || mimeType.length > MAX_MIME_TYPE_LENGTH || !PRINTABLE_ASCII.test(mimeType)) {
    throw invalid(`\`mimeType\` must be a non-empty string of at most ${MAX_MIME_TYPE_LENGTH} printable ASCII characters.`);
  }
  const request: StartRequest = { mimeType };
  if (Array.isArray(rtmpUrl)) {
    if (rtmpUrl.length === 0 || rtmpUrl.length > MAX_LISTED_DESTINATIONS) {
      throw invalid(`\`rtmpUrl\` must be a URL or a list of 1 to ${MAX_LISTED_DESTINATIONS} URLs.`);
    }
    rtmpUrl.forEach((url, index) => {
      checkUrl(url, `rtmpUrl[${index}]`);
    });
    request.rtmpUrl = [...(rtmpUrl as string[])];
  } else if (rtmpUrl !== undefined) {
    checkUrl(rtmpUrl, 'rtmpUrl');
    request.rtmpUrl = rtmpUrl as string;
  }
  for (const field of Object.keys(REQUEST_LIMITS) as (keyof typeof REQUEST_LIMITS)[]) {
    const value = input[field];
    if (value === undefined) continue;
    const [min, max] = REQUEST_LIMITS[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw invalid(`\`${field}\` must be a number from ${min} to ${max}.`);
    }
    request[field] = value;
  }
  const { audioSampleRate } = input;
  if (audioSampleRate !== undefined) {
    if (!AAC_SAMPLE_RATES.includes(audioSampleRate as (typeof AAC_SAMPLE_RATES)[number])) {
      throw invalid(`\`audioSampleRate\` must be one of ${AAC_SAMPLE_RATES.join(', ')}.`);
    }
    request.audioSampleRate = audioSampleRate as number;
  }
  return request;
}

function checkUrl(url: unknown, name: string): void {
  if (typeof url !== 'string' || url.length > MAX_URL_LENGTH) {
    throw invalid(`\`${name}\` must be a string of at most ${MAX_URL_LENGTH} characters.`);
  }
}

function invalid(message: string): BroadcastError {
  return new BroadcastError('INVALID_REQUEST', message);
}
