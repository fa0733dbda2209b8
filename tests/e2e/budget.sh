#!/usr/bin/env bash
# tests/e2e/budget.sh DIR... — the accept page's transfer budget: index.html +
# app.js + app.css + sealpass_bg.wasm + favicon.svg (everything the page
# loads) of each built page directory, gzip -9,
# at most 29,696 B (29 KB; was 30 KB until the nightly size build, #18). One `ok`/`FAIL` line per directory; exit 1 on any failure.
set -uo pipefail
BUDGET=29696
rc=0
for dir in "$@"; do
    total=0
    for f in index.html app.js app.css sealpass_bg.wasm favicon.svg; do
        [[ -f $dir/$f ]] || { echo "FAIL budget: $dir/$f missing"; rc=1; continue 2; }
        total=$((total + $(gzip -9c "$dir/$f" | wc -c)))
    done
    figure="$total B gzip ($(awk -v t="$total" 'BEGIN{printf "%.1f", t/1024}') KiB) of $BUDGET B"
    if ((total <= BUDGET)); then echo "ok   budget: $dir: page transfer $figure"; else
        echo "FAIL budget: $dir: page transfer $figure"
        rc=1
    fi
done
exit $rc
