#!/usr/bin/env bash
# Builds everything and runs every test suite. CI runs exactly this (through .ci/run).
#
# Suites today: formatting and lints, the Rust unit, model and multi-process tests, and a
# build of the benchmarks. The C (ctest), Java and Node suites join here as the C ABI and
# the host bindings land (issues 3 and 4).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

step "cargo fmt --check"
cargo fmt --all -- --check || fail "formatting (run cargo fmt)"

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings || fail "clippy"

step "cargo build --release (library, examples, benchmarks)"
cargo build --release --all-targets --quiet || fail "release build"

step "cargo test --release (Rust: unit, model, multi-process, crash and bad-file tests)"
cargo test --release --quiet || fail "Rust tests"

step "demo"
cargo run --quiet --release --example demo >/dev/null || fail "the demo"

printf '\nAll suites passed.\n'
