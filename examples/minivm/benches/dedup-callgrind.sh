#!/usr/bin/env bash
# Instructions of one freeze with and without dedup (callgrind; repeatable, unlike wall-clock
# time on a shared host), for the seed modules and, with MINIVM_CORPUS, the corpus. Prints a
# Markdown table. Only the function `measured` of benches/dedup.rs is counted (boot and imports
# are outside it).
#
#   MINIVM_CORPUS=$PWD/target/corpus/mpy examples/minivm/benches/dedup-callgrind.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
exe=$(cargo bench -p minivm --bench dedup --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sets="seed"
[[ -n "${MINIVM_CORPUS:-}" ]] && sets="seed corpus"
printf '| set | dedup | objects | instructions | Ir/object |\n|---|---|---|---|---|\n'
for set in $sets; do
    for d in off on; do
        file="$out/cg.$set.$d"
        objects=$(MINIVM_DEDUP_ONE="$set,$d" valgrind --tool=callgrind --toggle-collect='*measured*' \
            --callgrind-out-file="$file" "$exe" 2>/dev/null | sed -n 's/.*objects=\([0-9]*\) .*/\1/p')
        ir=$(callgrind_annotate "$file" 2>/dev/null | grep 'PROGRAM TOTALS' | tr -d ',' | awk '{print $1}')
        printf '| %s | %s | %s | %s | %.0f |\n' "$set" "$d" "$objects" "$ir" "$(awk -v a="$ir" -v n="$objects" 'BEGIN { print a / n }')"
    done
done
