#!/bin/sh
# Runs the Node suite, the Chromium suite and the Firefox suite side by side: all three spend most of
# their time waiting for real-time media (ffmpeg, nginx-rtmp, the browsers' fake cameras), so
# together they take little more than the longest. Every port, temp dir and nginx/redis instance is
# per test, each browser's test runner has its own server plugin (BroadcastServer, nginx-rtmp,
# throttling proxy) and its own port, and the browsers' output is printed after the Node suite's so
# the three do not interleave. Fails if any fails.
set -u
cd "$(dirname "$0")/.."
chromium_log=$(mktemp "${TMPDIR:-/tmp}/rtmp-broadcaster-chromium-tests.XXXXXX")
firefox_log=$(mktemp "${TMPDIR:-/tmp}/rtmp-broadcaster-firefox-tests.XXXXXX")
# Two free ports for the two test runners' dev servers (left to themselves, both would take 8000).
ports=$(node -e "
const net = require('node:net');
const a = net.createServer().listen(0, '127.0.0.1', () => {
  const b = net.createServer().listen(0, '127.0.0.1', () => {
    console.log(a.address().port, b.address().port);
    a.close();
    b.close();
  });
});")
set -- $ports
BROWSERS=chromium WTR_PORT=$1 npm run --silent test:browser >"$chromium_log" 2>&1 &
chromium=$!
BROWSERS=firefox WTR_PORT=$2 npm run --silent test:browser >"$firefox_log" 2>&1 &
firefox=$!
npm run --silent test:node
node_status=$?
wait "$chromium"
chromium_status=$?
wait "$firefox"
firefox_status=$?
cat "$chromium_log" "$firefox_log"
rm -f "$chromium_log" "$firefox_log"
[ "$node_status" -eq 0 ] && [ "$chromium_status" -eq 0 ] && [ "$firefox_status" -eq 0 ]
