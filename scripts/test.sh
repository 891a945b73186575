#!/usr/bin/env bash
# `npm test`: makes sure what the tests need is here (Node 24, redis-server, promtool and
# prometheus, headless Chromium), then runs the type check and the whole node:test suite. Test
# files run one at a time: the whole-process rate tests need the machine's cores to themselves.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source .ci/node-env.sh
bash scripts/install-redis.sh
bash scripts/install-prometheus.sh
bash scripts/install-chromium.sh
node_modules/.bin/tsc -p tsconfig.json
exec node --test --test-concurrency=1 --test-timeout=120000 "proxy/test/**/*.test.ts"
