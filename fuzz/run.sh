#!/bin/sh
# Run every fuzz target for SECONDS seconds each (default 20). Needs nightly and cargo-fuzz
# (`cargo install cargo-fuzz`). Exits non-zero on the first crash; the input is left in
# fuzz/artifacts/<target>/.
set -eu
cd "$(dirname "$0")"
secs="${1:-20}"
for target in decode mutate_mount power_cut; do
    echo "== fuzz $target for ${secs}s"
    cargo +nightly fuzz run "$target" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536
done
