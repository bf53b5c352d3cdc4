#!/usr/bin/env bash
# minivm workloads: image density, residual RAM and heap after freeze, per module, from one run
# of the minivm binary per boot (a fresh flash file each time). Prints a Markdown table, then a
# per-kind breakdown of each image (benches/minivm-kinds.py).
#
#   benches/minivm-density.sh                       # the bundled demo modules, and uasyncio if fetched
#   UASYNCIO=DIR benches/minivm-density.sh          # DIR: the `mpy` tree of tools/fetch-uasyncio
#
# uasyncio is third-party code fetched at run time (examples/minivm/tools/fetch-uasyncio, default
# target/uasyncio); it is skipped when absent.
#
#   density      = flash-section bytes / heap bytes freed     (MicroPythonRT 0.895, target <= 0.80)
#   with maps    = all bytes of the batch up to its commit record (header, both sections, roots,
#                  pointer map, object map) / heap bytes freed
#   residual RAM = RAM-section bytes / flash-section bytes    (MicroPythonRT 0.8 %, target <= 0.5 %)
#   heap after   = heap used after freeze + gc.collect() - heap used before the import (target <= 0)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target_dir=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release -p minivm --bin minivm
minivm="$target_dir/release/minivm"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

demo="$root/examples/minivm/py"
uasyncio=${UASYNCIO:-$root/target/uasyncio/mpy}

used() { sed -n 's/^GC: total: [0-9]*, used: \([0-9]*\),.*/\1/p' | sed -n "${1}p"; }

# run NAME PATH: boot 1 measures the import, boot 2 (fresh flash) freezes it.
run() {
    local name=$1 path=$2 flash="$work/$1.flash"
    printf 'import gc\nimport micropython\ngc.collect()\nmicropython.mem_info()\nimport %s\ngc.collect()\nmicropython.mem_info()\n' \
        "$name" >"$work/b1.txt"
    printf 'import gc\nimport micropython\nimport freeze\ngc.collect()\nmicropython.mem_info()\nfreeze.import_modules(%s)\ngc.collect()\nmicropython.mem_info()\n' \
        "'$name'" >"$work/b2.txt"
    rm -f "$flash"
    local out1 out2
    out1=$("$minivm" --flash "$flash" --path "$path" "$work/b1.txt")
    rm -f "$flash"
    out2=$("$minivm" --flash "$flash" --path "$path" "$work/b2.txt")
    local before after base2 after2
    before=$(used 1 <<<"$out1")
    after=$(used 2 <<<"$out1")
    base2=$(used 1 <<<"$out2")
    after2=$(used 2 <<<"$out2")
    local flash_b ram_b objects qstrs
    read -r flash_b ram_b objects qstrs < <(sed -n \
        's/^froze \([0-9]*\) flash bytes, \([0-9]*\) ram bytes, \([0-9]*\) objects, \([0-9]*\) qstrs$/\1 \2 \3 \4/p' \
        <<<"$out2" | awk '{f+=$1; r+=$2; o+=$3; q+=$4} END {print f, r, o, q}')
    local batch
    batch=$(python3 "$root/benches/minivm-kinds.py" --total "$flash")
    awk -v n="$name" -v b="$before" -v a="$after" -v f="$flash_b" -v r="$ram_b" -v o="$objects" \
        -v q="$qstrs" -v t="$batch" -v b2="$base2" -v a2="$after2" 'BEGIN {
        freed = a - b
        printf "| %s | %d | %d | %d | %d | %d | %.3f | %.3f | %.2f %% | %+d |\n",
            n, freed, o, q, f, r, f / freed, t / freed, 100 * r / f, a2 - b2
    }'
    python3 "$root/benches/minivm-kinds.py" "$flash" >"$work/$name.kinds"
}

echo "| module | heap freed (B) | objects | qstrs | flash section (B) | RAM section (B) | density | with maps | residual RAM | heap after − before (B) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
modules=(counter tinysched)
for m in "${modules[@]}"; do run "$m" "$demo"; done
if [[ -d "$uasyncio" ]]; then
    run uasyncio "$uasyncio"
    modules+=(uasyncio)
fi
for m in "${modules[@]}"; do
    echo
    echo "$m, by kind:"
    echo
    cat "$work/$m.kinds"
done
