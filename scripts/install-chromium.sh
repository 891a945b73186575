#!/usr/bin/env bash
# Makes a headless Chromium available for the admin page tests, which drive /usr/bin/chromium
# with playwright-core. Idempotent: installs Debian's chromium package only when it is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1) already installed"
  exit 0
fi
apt_script=install-chromium
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_require_root chromium "chromium at /usr/bin/chromium"
apt_refresh_for chromium
apt_install chromium fonts-dejavu-core
if [ ! -x /usr/bin/chromium ]; then
  echo "install-chromium: package installed but /usr/bin/chromium not found" >&2
  exit 1
fi
echo "chromium: installed $(/usr/bin/chromium --version 2>/dev/null | head -1)"
