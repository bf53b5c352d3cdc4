#!/usr/bin/env bash
# Instructions per frozen object, counted by callgrind (repeatable, unlike wall-clock time on a
# shared host), for each freeze path and graph size. Prints a Markdown table.
#
#   benches/callgrind.sh                          # side inobj naive walk store × 1e3 … 1e6
#   MODES="side naive" SIZES="1000 100000" benches/callgrind.sh
#   CACHE=1 benches/callgrind.sh                  # also simulate caches (8 MiB last level)
#
# Only the function `measured` of benches/callgrind.rs is counted (the graph is built outside).
set -euo pipefail
cd "$(dirname "$0")/.."
MODES=${MODES:-"side inobj naive walk store"}
SIZES=${SIZES:-"1000 10000 100000 1000000"}
exe=$(cargo bench --bench callgrind --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cache=()
events="Ir"
if [[ -n "${CACHE:-}" ]]; then
    cache=(--cache-sim=yes --LL=8388608,16,64)
fi
printf '| mode | objects | Ir/object |%s\n' "${CACHE:+ D1 misses/object | LL misses/object |}"
printf '|---|---|---|%s\n' "${CACHE:+---|---|}"
for mode in $MODES; do
    for n in $SIZES; do
        file="$out/cg.$mode.$n"
        objects=$(valgrind --tool=callgrind "${cache[@]}" --toggle-collect='*measured*' \
            --callgrind-out-file="$file" "$exe" "$mode" "$n" 2>/dev/null |
            sed -n 's/.* objects=\([0-9]*\) .*/\1/p')
        totals=$(callgrind_annotate "$file" 2>/dev/null | grep 'PROGRAM TOTALS' | tr -d ',' |
            sed 's/([^)]*)//g')
        read -r -a t <<<"$totals"
        ir=$(awk -v a="${t[0]}" -v n="$objects" 'BEGIN { printf "%.0f", a / n }')
        if [[ -n "${CACHE:-}" ]]; then
            # Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
            d1=$(awk -v a="${t[4]}" -v b="${t[5]}" -v n="$objects" 'BEGIN { printf "%.2f", (a + b) / n }')
            ll=$(awk -v a="${t[7]}" -v b="${t[8]}" -v n="$objects" 'BEGIN { printf "%.2f", (a + b) / n }')
            printf '| %s | %s | %s | %s | %s |\n' "$mode" "$objects" "$ir" "$d1" "$ll"
        else
            printf '| %s | %s | %s |\n' "$mode" "$objects" "$ir"
        fi
    done
done
