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

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-prometheus: no apt-get; install prometheus (promtool, prometheus) by other means" >&2
  exit 1
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-prometheus: not root and no sudo; cannot install the prometheus package" >&2
    exit 1
  fi
fi
as_root() { "${sudo_cmd[@]}" "$@"; }

# Refresh the package lists only when the package is unknown to apt (fresh image, empty lists).
if ! apt-cache show prometheus >/dev/null 2>&1; then
  as_root apt-get update -qq >/dev/null
fi

# policy-rc.d answering 101 tells invoke-rc.d not to start services during the install. An
# existing policy is left alone.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then as_root rm -f "$policy"; fi; }
trap cleanup EXIT

log=$(mktemp)
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  prometheus >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"

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
