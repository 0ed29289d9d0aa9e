#!/bin/sh
# npm test's build and suites. The browser suite needs only the bundles (dist/*.min.js): it starts
# as soon as rollup has made them, while tsc type-checks the whole project and writes the rest of
# dist/ (scripts/build.mjs), which the Node suite needs (the recipes pack the package). Then the
# Node suite runs beside the browser suite: both spend most of their time waiting for real-time
# media (ffmpeg, nginx-rtmp, the browsers' fake cameras), so together they take little more than
# the longer of the two. Every port, temp dir and nginx/redis instance is per test, and the browser
# suite's output is printed after the Node suite's so the two do not interleave. Fails if the
# build or either suite fails (a failed type-check stops the browser suite), and in CI if the build
# rewrote a committed file (below).
set -u
cd "$(dirname "$0")/.."
# The build writes what the docs say about the code (figures, element tables, framework typings,
# the manifest): what is committed must be what it writes, or the docs' checks pass here on files
# they have just rewritten. Tracked files are hashed before and after; in CI a change fails the run.
tracked() { git ls-files -z 2>/dev/null | xargs -0 -r sha1sum 2>/dev/null; }
before=$(mktemp "${TMPDIR:-/tmp}/rtmp-broadcaster-tracked.XXXXXX")
tracked >"$before"
node scripts/build.mjs --bundles-only || { rm -f "$before"; exit 1; }
log=$(mktemp "${TMPDIR:-/tmp}/rtmp-broadcaster-browser-tests.XXXXXX")
# `npm run test:browser`'s command, run directly so that $! is web-test-runner itself: a failed
# build stops it with SIGINT (as Ctrl-C does; it closes its browsers), and it stays in this process
# group, where a Ctrl-C or CI's end of the run reaches it.
./node_modules/.bin/web-test-runner --config web-test-runner.config.mjs >"$log" 2>&1 &
browser=$!
built=true
stale=""
if node scripts/build.mjs --no-bundles --typecheck-all; then
  stale=$(tracked | diff "$before" - | sed -n 's/^> [0-9a-f]*  //p')
  if [ -n "$stale" ]; then
    echo "npm run build rewrote committed files; commit what it wrote:" >&2
    echo "$stale" | sed 's/^/  /' >&2
  fi
else
  built=false
fi
rm -f "$before"
if [ "$built" = false ] || { [ -n "$stale" ] && [ -n "${CI:-}" ]; }; then
  kill -INT "$browser" 2>/dev/null
  wait "$browser"
  rm -f "$log"
  exit 1
fi
npm run --silent test:node
node_status=$?
wait "$browser"
browser_status=$?
cat "$log"
rm -f "$log"
[ "$node_status" -eq 0 ] && [ "$browser_status" -eq 0 ]
