#!/usr/bin/env bash
# Makes redis-server and redis-cli available for the tests (which start their own instances on
# free loopback ports). Installs Debian's redis-server package only when missing, without letting
# it start a service on the standard port.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  echo "redis: $(redis-server --version | cut -d' ' -f3) already installed"
  exit 0
fi
apt_script=install-redis
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_require_root redis-server "redis-server and redis-cli"
apt_refresh_for redis-server
apt_hold_services
apt_install redis-server
echo "redis: installed $(redis-server --version | cut -d' ' -f3)"
