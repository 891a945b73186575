#!/usr/bin/env bash
# Makes `promtool` and `prometheus` available for the dashboard and alert tests (SPEC §7).
# Idempotent: does nothing when both are already installed. Otherwise installs the distribution's
# prometheus package (Debian/Ubuntu) without letting it start a service: tests run their own
# instances on free loopback ports, and a packaged one would sit on :9090.
set -euo pipefail

have_tools() {
  { command -v promtool || [ -x /usr/bin/promtool ]; } >/dev/null 2>&1 &&
    { command -v prometheus || [ -x /usr/bin/prometheus ]; } >/dev/null 2>&1
}

if have_tools; then
  echo "prometheus tools present: $(command -v promtool || echo /usr/bin/promtool)"
  exit 0
fi

apt_script=install-prometheus
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_require_root prometheus "prometheus (promtool, prometheus)"
apt_refresh_for prometheus
apt_hold_services
apt_install prometheus

# Should a service have started anyway (no policy-rc.d support), stop it so :9090 stays free.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
elif command -v service >/dev/null 2>&1; then
  as_root service prometheus stop >/dev/null 2>&1 || true
fi

if ! have_tools; then
  echo "install-prometheus: package installed but promtool/prometheus not found" >&2
  exit 1
fi
echo "installed prometheus package: $(promtool --version 2>&1 | head -n 1)"
