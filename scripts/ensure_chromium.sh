#!/usr/bin/env bash
# The browser tests drive the system Chromium (Debian package `chromium`); browsers cannot be
# downloaded by Playwright here. Install it with apt where we can, else stop with a clear message.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing the Debian package 'chromium' for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  exit 0
fi
echo "ERROR: the browser tests need Chromium at /usr/bin/chromium." >&2
echo "Install the Debian package 'chromium' (sudo apt-get install chromium) and run make test again." >&2
exit 1
