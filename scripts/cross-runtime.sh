#!/usr/bin/env bash
# The cross-runtime proof: a C, a Java and a Node process run at the same time on one slab
# file. Each increments the shared counter K times (compare-and-swap on a raw root) and puts
# K keys of its own; each then waits for the counter to reach 3·K and checks every key of
# every runtime, reading the others' values in place. Fails unless all three succeed.
#
#   ./scripts/cross-runtime.sh [K]      (default 2000)
#
# Needs the C programs (cmake build in build/), the Java classes (examples-java) and the
# Node addon (examples-node) built; ./scripts/test-all.sh and ./scripts/demo.sh build them.
set -euo pipefail
cd "$(dirname "$0")/.."

k=${1:-2000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
slab="$dir/cross.slab"
all=c,java,node

java_home=$(examples-java/run.sh --java-home)
c_program=build/examples-c/eve_cross_runtime
[ -x "$c_program" ] || { echo "cross-runtime: $c_program is not built (cmake)" >&2; exit 1; }
[ -d examples-java/target/classes/dev/eve ] || { echo "cross-runtime: examples-java is not compiled" >&2; exit 1; }

start_ns=$(date +%s%N)
"$c_program" "$slab" "$k" c "$all" &
c_pid=$!
"$java_home/bin/java" --enable-native-access=ALL-UNNAMED -Deve.library="$PWD/target/release/libeve.so" \
  -cp examples-java/target/classes dev.eve.examples.CrossRuntime "$slab" "$k" java "$all" &
java_pid=$!
node examples-node/cross-runtime.js "$slab" "$k" node "$all" &
node_pid=$!

failed=0
for runtime in c java node; do
  pid_var="${runtime}_pid"
  if ! wait "${!pid_var}"; then
    echo "cross-runtime: the $runtime process failed" >&2
    failed=1
  fi
done
[ "$failed" -eq 0 ] || exit 1
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
printf 'cross-runtime: C, Java and Node each made %s increments and %s keys on one slab; all agree (%s ms)\n' \
  "$k" "$k" "$elapsed_ms"
