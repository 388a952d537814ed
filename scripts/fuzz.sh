#!/usr/bin/env bash
# Runs each fuzz target (fuzz/fuzz_targets: sql, csv, jsonl, split) for
# SECONDS seconds (default 60) with cargo-fuzz on the nightly toolchain,
# installing cargo-fuzz if it is missing.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Each target starts from its saved inputs in tests/data/fuzz/<target>/ (and
# the corpus it grew before, in fuzz/corpus/<target>/, not versioned). An
# input that crashes a target is copied to tests/data/fuzz/<target>/, where
# `cargo test` (tests/hostile_input.rs) runs it from then on: commit it with
# the fix. Exits 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(sql csv jsonl split)
fi

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

crashed=()
for target in "${targets[@]}"; do
    corpus="fuzz/corpus/$target"
    saved="tests/data/fuzz/$target"
    artifacts="fuzz/artifacts/$target"
    mkdir -p "$corpus" "$saved" "$artifacts"
    echo "== $target: ${seconds}s"
    if ! cargo +nightly fuzz run "$target" "$corpus" "$saved" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1; then
        crashed+=("$target")
    fi
    for artifact in "$artifacts"/*; do
        [ -f "$artifact" ] || continue
        mv "$artifact" "$saved/"
        echo "kept $saved/$(basename "$artifact"): commit it with its fix"
    done
done

if [ ${#crashed[@]} -gt 0 ]; then
    echo "crashed: ${crashed[*]}"
    exit 1
fi
echo "no crash in: ${targets[*]} (${seconds}s each)"
