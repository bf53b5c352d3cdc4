#!/usr/bin/env bash
# Replays the seed session on the host: three runs of minivm on one flash file, each run a
# "boot" (a second run on the same file is a soft reboot that keeps the frozen image).
#
#   boot 1  seed-1.txt  fresh flash: baseline heap, then the heap cost of importing tinysched
#   boot 2  seed-2.txt  freeze.import_modules('tinysched', 'counter'): heap back at baseline
#   boot 3  seed-3.txt  the image mounts at boot; frozen modules import from flash
#
# Usage: examples/minivm/demo/run-seed.sh [FLASH_FILE]
#   FLASH_FILE  default: a new temporary file, deleted at exit; an existing file is erased first.
#   MINIVM      command to run instead of `cargo run -p minivm --bin minivm --`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
modules="$(cd "$here/../py" && pwd)"

if [[ $# -ge 1 ]]; then
    flash="$1"
else
    flash="$(mktemp "${TMPDIR:-/tmp}/minivm-seed.XXXXXX")"
    trap 'rm -f "$flash"' EXIT
fi
# A missing or empty file is a fresh, erased flash to minivm.
rm -f "$flash"

cd "$root"
if [[ -n "${MINIVM:-}" ]]; then
    read -r -a minivm <<<"$MINIVM"
else
    # Build first so cargo's progress lines stay out of the session output.
    cargo build --quiet -p minivm --bin minivm
    minivm=(cargo run --quiet -p minivm --bin minivm --)
fi

for boot in 1 2 3; do
    echo "======== boot $boot: $(sed -n '1s/^# //p' "$here/seed-$boot.txt")"
    "${minivm[@]}" --echo --flash "$flash" --path "$modules" "$here/seed-$boot.txt"
done
