#!/usr/bin/env bash
# tests/e2e/budget.sh DIR... — the accept page's transfer budget: index.html +
# app.js + app.css + sealpass_bg.wasm + favicon.svg (everything the page
# loads) of each built page directory, gzip -9,
# at most 28,160 B (27.5 KB; 30 KB until the nightly size build, 29 KB until
# -Zlocation-detail=none, #18); a wasm with no SIMD instruction (the page
# must load in engines without Wasm SIMD; only the speed builds use it); and
# no Rust source path in the wasm (the size build drops panic locations:
# scripts/wasm-env.sh). One `ok`/`FAIL` line per directory and check; exit 1
# on any failure.
set -uo pipefail
BUDGET=28160
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
    # A source path such as "src/seal.rs" or ".../chacha20-0.9.1/src/lib.rs".
    paths=$(LC_ALL=C grep -aoE '[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]*\.rs' "$dir/sealpass_bg.wasm" | head -3 | tr '\n' ' ')
    if [[ -n $paths ]]; then
        echo "FAIL no-paths: $dir/sealpass_bg.wasm names Rust sources: $paths"
        rc=1
    else
        echo "ok   no-paths: $dir/sealpass_bg.wasm names no Rust source file"
    fi
done
exit $rc
