#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (default 20 s each; EVE_FUZZ_SECONDS to
# change), starting from the corpora kept in fuzz/corpus/. New inputs go to a temporary
# directory, so a run leaves the repository as it was; EVE_FUZZ_KEEP=1 adds them to the
# kept corpora instead (then `cargo +nightly fuzz cmin <target>` keeps them small).
# Needs a nightly toolchain and cargo-fuzz (.ci/run installs both). A crash fails the run
# and leaves the input in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${EVE_FUZZ_SECONDS:-20}"
targets=(query_text query_run transaction open_file yin_compile)
cargo +nightly fuzz build >/dev/null
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "$scratch/$target"
  corpora=("$scratch/$target" "fuzz/corpus/$target")
  [ "${EVE_FUZZ_KEEP:-}" = 1 ] && corpora=("fuzz/corpus/$target")
  line=$(cargo +nightly fuzz run "$target" "${corpora[@]}" -- -max_total_time="$seconds" -max_len=512 2>&1 \
    | grep -E "^Done [0-9]+ runs" || true)
  if [ -z "$line" ]; then
    echo "fuzz target $target failed (see fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  echo "fuzz $target: $line"
done
