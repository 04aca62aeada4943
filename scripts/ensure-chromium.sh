#!/usr/bin/env bash
# Make sure Debian's Chromium (/usr/bin/chromium) and fonts for it to render text are
# installed, for the browser tests (tests/ui/test_browser.py, tests/ui/test_accessibility.py).
# Playwright drives this Chromium: never run `playwright install`.
# Installs the Debian packages as root, else with sudo when available, else fails.
# Usage: scripts/ensure-chromium.sh   (prints the browser's path on its last line)
set -euo pipefail
chromium="/usr/bin/chromium"
fonts=(fonts-dejavu-core fonts-liberation)
packages=()
if [ ! -x "$chromium" ]; then
  packages=(chromium "${fonts[@]}")
elif ! { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list 2>/dev/null | head -n 1)" ]; }; then
  packages=("${fonts[@]}")  # without fonts Chromium draws every character as an empty box
fi
if [ "${#packages[@]}" -gt 0 ]; then
  echo "installing the Debian packages: ${packages[*]}" >&2
  if [ "$(id -u)" = "0" ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "Chromium or its fonts are missing and this user cannot install Debian packages" >&2
    echo "(not root, and sudo is not available). As root run:" >&2
    echo "  apt-get install ${packages[*]}" >&2
    exit 1
  fi
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq "${packages[@]}" >&2
fi
[ -x "$chromium" ] || { echo "could not install Chromium ($chromium is missing)" >&2; exit 1; }
echo "$chromium"
