#!/usr/bin/env bash
# Runs CI as it runs after a stop, N times in a row: clones HEAD into a temporary folder once, then
# runs `bash .ci/run` there (CI=true, no standard input) N times, printing for each run pass/fail,
# its duration and the names of the tests that failed. Each run's whole log is kept in the temporary
# folder until the end (its path is printed); a failed run's log is copied to the log folder (-k DIR,
# default /tmp). Every run is its own process group, ended when the run ends or the soak is
# interrupted, and a run that leaves a test process behind (scripts/check-leaks.mjs) counts as failed.
# With -b BROWSER (chromium or firefox), each run is that browser's suite alone instead
# (`BROWSERS=BROWSER npm run test:browser`, then the leak check), after one `npm ci` and build.
#
#   scripts/ci-soak.sh [-k DIR] [-b chromium|firefox] N
set -uo pipefail

keep=/tmp
browser=""
while [ $# -gt 1 ]; do
  case "$1" in
    -k) keep=$2; shift 2 ;;
    -b) browser=$2; shift 2 ;;
    *) break ;;
  esac
done
runs=${1:-}
case "$runs" in '' | *[!0-9]*) echo "usage: scripts/ci-soak.sh [-k DIR] [-b chromium|firefox] N" >&2; exit 2 ;; esac
case "$browser" in '' | chromium | firefox) ;; *) echo "-b takes chromium or firefox" >&2; exit 2 ;; esac

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
work=$(mktemp -d "${TMPDIR:-/tmp}/ci-soak.XXXXXX")
group=""

# Ends the current run's process group (the run itself, its test runners, browsers, ffmpegs, nginx).
end_group() {
  [ -n "$group" ] || return 0
  kill -TERM -- "-$group" 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$group" 2>/dev/null
  group=""
}
cleanup() {
  end_group
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

git clone -q --no-hardlinks "$repo" "$work/clone" && git -C "$work/clone" checkout -q "$commit" || exit 1
# CI finds a copy of shared/ beside the clone.
[ -d "$repo/../shared" ] && cp -r "$repo/../shared" "$work/shared"
what=".ci/run"
[ -n "$browser" ] && what="BROWSERS=$browser npm run test:browser"
echo "soak: $runs run(s) of $what at $(git -C "$repo" log -1 --format='%h %s' | cut -c1-72)"
echo "soak: clone in $work/clone"

# The names of the failing tests in a run's log: node's test runner lists them under
# "failing tests:" as "✖ name (ms)"; web-test-runner prints " ❌ suite > name" per failing test;
# check-leaks prints "Tests left N process(es) running".
failures() {
  sed -n '/failing tests:/,$p' "$1" | grep -E '^\s*✖ ' | sed -E 's/^\s*✖ /  node: /; s/ \([0-9.]+ms\)$//' | sort -u
  grep -E '^\s*❌ ' "$1" | sed -E 's/^\s*❌ /  browser: /' | sort -u
  grep -E '^Tests left [0-9]+ process' "$1" | sed 's/^/  /'
}

if [ -n "$browser" ]; then
  (cd "$work/clone" && npm ci --no-audit --no-fund >"$work/setup.log" 2>&1 && npm run build >>"$work/setup.log" 2>&1) ||
    { echo "soak: npm ci or the build failed:"; tail -n 15 "$work/setup.log"; exit 1; }
fi

passed=0
for run in $(seq 1 "$runs"); do
  log="$work/run-$run.log"
  started=$(date +%s)
  # setsid: the run gets a process group of its own, so everything it starts can be ended with it.
  if [ -n "$browser" ]; then
    (cd "$work/clone" && CI=true BROWSERS=$browser exec setsid sh -c 'npm run --silent test:browser && node scripts/check-leaks.mjs' </dev/null >"$log" 2>&1) &
  else
    (cd "$work/clone" && CI=true exec setsid bash .ci/run </dev/null >"$log" 2>&1) &
  fi
  group=$!
  wait "$group"
  status=$?
  end_group
  seconds=$(( $(date +%s) - started ))
  duration=$(printf '%dm%02ds' $((seconds / 60)) $((seconds % 60)))
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "run $run/$runs: pass in $duration"
  else
    echo "run $run/$runs: FAIL (exit $status) in $duration"
    names=$(failures "$log")
    if [ -n "$names" ]; then echo "$names"; else tail -n 15 "$log" | sed 's/^/  | /'; fi
    cp "$log" "$keep/ci-soak-run-$run.log" && echo "  log: $keep/ci-soak-run-$run.log"
  fi
done
echo "soak: $passed of $runs passed"
[ "$passed" -eq "$runs" ]
