#!/usr/bin/env bash
# Runs the library's unit and model tests (allocator, epochs, HAMT, B+tree, DaoDB,
# queries) under AddressSanitizer, leak checking included. Needs a nightly toolchain
# (.ci/run installs it); builds into target/asan so it leaves the normal build alone.
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTFLAGS="-Zsanitizer=address -C target-cpu=x86-64-v2" \
  cargo +nightly test --quiet --lib --no-default-features \
  --target x86_64-unknown-linux-gnu --target-dir target/asan -- --test-threads=2
