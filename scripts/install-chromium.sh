#!/usr/bin/env bash
# Makes a headless Chromium available for the admin page tests, which drive /usr/bin/chromium
# with playwright-core. Idempotent: installs Debian's chromium package only when it is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1) already installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get; install chromium at /usr/bin/chromium by other means" >&2
  exit 1
fi
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-chromium: not root and no sudo; cannot install the chromium package" >&2
    exit 1
  fi
fi
as_root() { "${sudo_cmd[@]}" "$@"; }
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when the package is unknown to apt (fresh image, empty lists).
if ! apt-cache show chromium >/dev/null 2>&1; then as_root apt-get update -qq; fi
as_root apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
if [ ! -x /usr/bin/chromium ]; then
  echo "install-chromium: package installed but /usr/bin/chromium not found" >&2
  exit 1
fi
echo "chromium: installed $(/usr/bin/chromium --version 2>/dev/null | head -1)"
