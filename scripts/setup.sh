#!/bin/sh
# Installs what the tests and the demo need from outside npm, when it is missing: ffmpeg,
# Chromium and Firefox ESR (the browsers BROWSERS names, both by default), nginx with the RTMP module,
# stunnel (for the rtmps:// tests) and redis-server (for the scaling tests)
# (Debian/Ubuntu, as root or with sudo).
# Runs before `npm test`; safe to run again (it does nothing when all is there).
set -eu
cd "$(dirname "$0")/.."

missing=""
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing="$missing ffmpeg"
# The browser suites run in both unless BROWSERS names fewer (BROWSERS=chromium).
case "${BROWSERS:-chromium,firefox}" in
  *chromium*) [ -n "${CHROME_PATH:-}" ] || command -v chromium >/dev/null 2>&1 || missing="$missing chromium" ;;
esac
case "${BROWSERS:-chromium,firefox}" in
  *firefox*) [ -n "${FIREFOX_PATH:-}" ] || command -v firefox-esr >/dev/null 2>&1 || missing="$missing firefox-esr" ;;
esac
[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing="$missing nginx libnginx-mod-rtmp"
command -v stunnel4 >/dev/null 2>&1 || command -v stunnel >/dev/null 2>&1 || missing="$missing stunnel4"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"

if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "rtmp-broadcaster tests need:$missing. Install them with your package manager, then run npm test again." >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing$missing with apt-get ..."
  $sudo apt-get update -qq
  # SETUP_UNSAFE_IO: a throwaway machine (CI), where dpkg need not sync each file it unpacks.
  unsafe_io=""
  [ -z "${SETUP_UNSAFE_IO:-}" ] || unsafe_io="-o Dpkg::Options::=--force-unsafe-io"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $unsafe_io $missing >/dev/null
fi

# SETUP_SKIP_NPM: the caller runs `npm ci` itself (.ci/run, side by side with this).
[ -n "${SETUP_SKIP_NPM:-}" ] || [ -d node_modules ] || npm ci --no-audit --no-fund
