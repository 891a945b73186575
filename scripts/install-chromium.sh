#!/usr/bin/env bash
# Makes a headless Chromium available for the admin page tests (driven by playwright-core at
# /usr/bin/chromium). Idempotent: installs Debian's chromium package only when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1) already installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get; install chromium at /usr/bin/chromium by other means" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium: installed $(/usr/bin/chromium --version 2>/dev/null | head -1)"
