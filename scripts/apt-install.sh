# Shared by the install-*.sh scripts (sourced, not run): installing a Debian/Ubuntu package as
# root, through sudo when not root, refreshing the package lists only when needed and keeping
# packaged services from starting (tests run their own instances on free loopback ports).
# The sourcing script sets `set -euo pipefail` and `apt_script` (its name, for messages).

# Fails unless apt-get is here and the script can act as root; defines as_root.
# $1: the package; $2: what to install by other means when there is no apt-get.
apt_require_root() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$apt_script: no apt-get; install $2 by other means" >&2
    exit 1
  fi
  apt_sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      apt_sudo=(sudo)
    else
      echo "$apt_script: not root and no sudo; cannot install the $1 package" >&2
      exit 1
    fi
  fi
}

as_root() { "${apt_sudo[@]}" "$@"; }

# Refreshes the package lists only when $1 is unknown to apt (fresh image, empty lists).
apt_refresh_for() {
  if ! apt-cache show "$1" >/dev/null 2>&1; then
    as_root apt-get update -qq >/dev/null
  fi
}

# policy-rc.d answering 101 tells invoke-rc.d not to start services during the install. An
# existing policy is left alone; ours is removed when the script exits.
apt_policy=/usr/sbin/policy-rc.d
apt_own_policy=0
apt_hold_services() {
  if [ ! -e "$apt_policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $apt_policy && chmod 755 $apt_policy"
    apt_own_policy=1
  fi
  trap apt_release_services EXIT
}
apt_release_services() { if [ "$apt_own_policy" = 1 ]; then as_root rm -f "$apt_policy"; fi; }

# Installs the packages quietly; on failure shows apt's output and fails.
apt_install() {
  local log
  log=$(mktemp)
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
}
