#!/usr/bin/env bash
# The main demo, in two parts:
#  1. four writer processes and a watcher share one slab file, zero-copy (examples/demo.rs);
#  2. a C, a Java and a Node process update and read one slab at the same time
#     (scripts/cross-runtime.sh), after building the C programs, the Java classes and the
#     Node addon if they are not built yet.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== 1. Rust: writer processes and a watcher on one slab =="
cargo run --quiet --release --example demo -- "$@"

echo
echo "== 2. C, Java and Node processes on one slab at once =="
cargo build --quiet --release --lib
if [ ! -x build/examples-c/eve_cross_runtime ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build --target eve_cross_runtime >/dev/null 2>&1 || { echo "demo: building the C programs failed" >&2; exit 1; }
examples-java/run.sh compile
if [ ! -f examples-node/build/Release/eve.node ]; then
  (cd examples-node && npm ci --no-audit --no-fund --silent >/dev/null)
fi
./scripts/cross-runtime.sh 20000
