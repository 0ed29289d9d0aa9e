#!/bin/sh
# Runs the Node suite and the browser suite side by side: both spend most of their time waiting for
# real-time media (ffmpeg, nginx-rtmp, the browsers' fake cameras), so together they take little
# more than the longer of the two. Every port, temp dir and nginx/redis instance is per test, and
# the browser suite's output is printed after the Node suite's so the two do not interleave.
# Fails if either fails.
set -u
cd "$(dirname "$0")/.."
log=$(mktemp "${TMPDIR:-/tmp}/rtmp-broadcaster-browser-tests.XXXXXX")
npm run --silent test:browser >"$log" 2>&1 &
browser=$!
npm run --silent test:node
node_status=$?
wait "$browser"
browser_status=$?
cat "$log"
rm -f "$log"
[ "$node_status" -eq 0 ] && [ "$browser_status" -eq 0 ]
