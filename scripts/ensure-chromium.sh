#!/usr/bin/env bash
# Headless Chromium for the browser tests (app end-to-end, report rendering).
# Installs Debian's chromium when we are root on a Debian-like machine; otherwise says
# why the `browser` tests will be skipped. Never downloads a browser build of its own.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "could not install chromium: browser tests will be skipped"
else
  echo "note: /usr/bin/chromium not found and not root: browser tests will be skipped"
fi
exit 0
