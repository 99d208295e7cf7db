#!/usr/bin/env bash
# Builds and tests the Node binding: libeve (cargo), node_modules (npm ci, offline addon
# build against /usr/include/node), the addon (node-gyp), then `node --test test/`.
# Works from any directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$here"

step() { printf '\n==> %s\n' "$*"; }

if [ "${EVE_NODE_SKIP_CARGO:-}" != 1 ] && command -v cargo >/dev/null 2>&1; then
  step "cargo build --release --lib (libeve.so)"
  (cd "$repo" && cargo build --release --lib --quiet)
fi
if [ ! -f "$repo/target/release/libeve.so" ]; then
  echo "missing $repo/target/release/libeve.so: run cargo build --release --lib" >&2
  exit 1
fi

built=0
if [ ! -d node_modules ]; then
  step "npm ci (builds the addon with node-gyp --nodedir=/usr)"
  npm ci --no-audit --no-fund
  built=1
fi
if [ "$built" != 1 ]; then
  step "node-gyp rebuild --nodedir=/usr"
  npm run --silent build >/dev/null
fi
test -f build/Release/eve.node

step "node --test test/"
node --test test/
