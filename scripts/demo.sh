#!/usr/bin/env bash
# The main demo: several processes share one slab file, zero-copy (see examples/demo.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release --example demo -- "$@"
