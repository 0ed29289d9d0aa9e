// The environment ffmpeg runs with. It parses media from clients, so it gets only what running
// and reaching a destination need, never the server's secrets (BROADCAST_TOKEN, cloud keys,
// database URLs), which any process of the same user could read from /proc/PID/environ.

// PATH finds ffmpeg and its helpers; LD_LIBRARY_PATH a custom build's libraries; SSL_CERT_* the
// CAs an rtmps:// destination is checked against; TZ, LANG and LC_* shape its log; TMPDIR scratch.
const PASSED = /^(?:PATH|LD_LIBRARY_PATH|SSL_CERT_FILE|SSL_CERT_DIR|TMPDIR|TZ|LANG|LC_[A-Z]+)$/;

/** The subset of `env` ffmpeg is given (use with execa's `extendEnv: false`). */
export function ffmpegEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => PASSED.test(entry[0]) && entry[1] !== undefined),
  );
}
