#!/usr/bin/env bash
# Builds everything and runs every test suite. CI runs exactly this (through .ci/run).
#
# Suites: formatting and lints; the Rust unit, model, multi-process and crash tests; the
# header checked against the Rust ABI (bindgen, cc); the C examples and tests through CMake
# and ctest; consumers of the installed package; the Java (FFM) and Node (Node-API) hosts'
# suites; C, Java and Node processes sharing one slab at once; the library's tests under
# AddressSanitizer; every fuzz target for a bounded time; the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

step "cargo fmt --check"
cargo fmt --all -- --check || fail "formatting (run cargo fmt)"

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings || fail "clippy"

step "cargo build --release (library, examples, benchmarks)"
cargo build --workspace --release --all-targets --quiet || fail "release build"

step "cargo test --release --workspace (Rust: unit, model, multi-process, crash and bad-file tests; the header against the Rust ABI through bindgen and cc)"
cargo test --workspace --release --quiet || fail "Rust tests"

step "include/eve.h is in sync with src/ffi"
if [ -d .git ] && ! git diff --quiet -- include/; then
  git --no-pager diff -- include/ | head -40
  fail "include/eve.h changed when it was regenerated: commit the new header"
fi

step "C: cmake build + ctest"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null || fail "cmake configure"
cmake --build build >/dev/null || fail "cmake build"
(cd build && ctest --output-on-failure) || fail "ctest"

step "C: installed package (find_package and pkg-config)"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix/install" >/dev/null || fail "cmake --install"
mkdir -p "$prefix/consumer"
cat >"$prefix/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(eve REQUIRED)
add_executable(consumer version.c)
target_link_libraries(consumer PRIVATE eve::eve)
CMAKE
cp examples-c/version.c "$prefix/consumer/"
cmake -S "$prefix/consumer" -B "$prefix/consumer/build" -DCMAKE_PREFIX_PATH="$prefix/install" >/dev/null \
  && cmake --build "$prefix/consumer/build" >/dev/null \
  && "$prefix/consumer/build/consumer" || fail "find_package(eve) consumer"
export PKG_CONFIG_PATH="$prefix/install/lib/pkgconfig"
cc examples-c/version.c $(pkg-config --cflags --libs eve) -Wl,-rpath,"$prefix/install/lib" \
  -o "$prefix/pc-consumer" && "$prefix/pc-consumer" || fail "pkg-config consumer"

step "Java: FFM binding (examples-java, JUnit)"
examples-java/run.sh test || fail "Java tests"

step "Node: Node-API addon (examples-node, node:test)"
EVE_NODE_SKIP_CARGO=1 examples-node/test.sh || fail "Node tests"

step "cross-runtime: C, Java and Node processes on one slab at once"
./scripts/cross-runtime.sh 2000 || fail "cross-runtime test"

step "AddressSanitizer: the library's unit and model tests"
if cargo +nightly --version >/dev/null 2>&1; then
  ./scripts/sanitize.sh || fail "AddressSanitizer"
else
  fail "AddressSanitizer needs a nightly toolchain (.ci/run installs it)"
fi

step "fuzzing: every cargo-fuzz target for a bounded time (queries, transaction data, query runs, damaged slab files, Yin programs)"
if cargo +nightly --version >/dev/null 2>&1 && command -v cargo-fuzz >/dev/null 2>&1; then
  ./scripts/fuzz.sh || fail "fuzzing"
else
  fail "fuzzing needs a nightly toolchain and cargo-fuzz (.ci/run installs them)"
fi

step "demo"
cargo run --quiet --release --example demo >/dev/null || fail "the demo"

printf '\nAll suites passed.\n'
