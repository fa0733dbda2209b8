#!/usr/bin/env bash
# tests/e2e/budget.sh DIR... — the accept page's transfer budget: index.html +
# app.js + app.css + sealpass_bg.wasm + favicon.svg (everything the page
# loads) of each built page directory, gzip -9,
# at most 29,696 B (29 KB; was 30 KB until the nightly size build, #18), and
# a wasm with no SIMD instruction (the page must load in engines without
# Wasm SIMD; only the speed builds use it). One `ok`/`FAIL` line per
# directory and check; exit 1 on any failure.
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
    # binaryen's wasm-dis (installed with wasm-opt by build.sh) prints every
    # v128 operation by name.
    if ! command -v wasm-dis >/dev/null; then
        echo "FAIL no-simd: wasm-dis (binaryen) not found"
        rc=1
    elif ! text=$(wasm-dis "$dir/sealpass_bg.wasm" 2>&1); then
        echo "FAIL no-simd: wasm-dis could not read $dir/sealpass_bg.wasm: ${text:0:200}"
        rc=1
    elif simd=$(grep -cE '\b(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\.' <<<"$text"); ((simd > 0)); then
        echo "FAIL no-simd: $dir/sealpass_bg.wasm has $simd SIMD instructions"
        rc=1
    else
        echo "ok   no-simd: $dir/sealpass_bg.wasm has no SIMD instruction"
    fi
done
exit $rc
