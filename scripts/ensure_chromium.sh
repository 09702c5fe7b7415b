#!/usr/bin/env bash
# The system packages the tests need: Chromium (Debian package `chromium`) for the browser tests
# (browsers cannot be downloaded by Playwright here), and DejaVu Sans (`fonts-dejavu-core`), the
# font the safety-plan PDF prints names in any script with (its tests check the embedded glyphs).
# Install what is missing with apt where we can, else stop with a clear message naming the package.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || [ -f /usr/share/fonts/dejavu/DejaVuSans.ttf ] \
  || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing the Debian package(s) ${missing[*]} for the tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "ERROR: the tests need the Debian package(s): ${missing[*]}." >&2
echo "Install them (sudo apt-get install ${missing[*]}) and run make test again." >&2
exit 1
