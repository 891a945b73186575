#!/usr/bin/env bash
# Makes redis-server and redis-cli available for the tests (which start their own instances on
# free loopback ports). Installs Debian's redis-server package only when missing.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  echo "redis: $(redis-server --version | cut -d' ' -f3) already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d keeps the package from starting a service on the standard port.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
$SUDO rm -f /usr/sbin/policy-rc.d
echo "redis: installed $(redis-server --version | cut -d' ' -f3)"
