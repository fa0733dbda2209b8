#!/usr/bin/env bash
# sealpass benchmarks: ./build.sh bench [--quick] [--no-variants] [--no-native] [--no-browsers]
# Builds sealpass for Node and the browser into bench/.build/, checks every peer
# against the pinned vectors and against sealpass (before any timing), measures
# throughput, cold start and size, runs the native criterion ceiling, and
# regenerates bench/RESULTS.md from the figures of this run.
set -euo pipefail
export PATH=/usr/local/bin:$HOME/.cargo/bin:$PATH
export PUPPETEER_SKIP_DOWNLOAD=1
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
BUILD="$BENCH/.build"
RES="$BUILD/results"

QUICK=0 VARIANTS=1 NATIVE=1 BROWSERS=1
for a in "$@"; do
  case $a in
  --quick) QUICK=1 ;;
  --no-variants) VARIANTS=0 ;;
  --no-native) NATIVE=0 ;;
  --no-browsers) BROWSERS=0 ;;
  *) echo "bench/run.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
if [[ $QUICK == 1 ]]; then
  export BENCH_CFG='{"samples":3,"sampleMs":200,"warmupMs":100}' BENCH_COLD_RUNS=3
  CRIT_ARGS=(--warm-up-time 1 --measurement-time 2 --sample-size 10)
else
  export BENCH_CFG='{"samples":7,"sampleMs":400,"warmupMs":300}' BENCH_COLD_RUNS=9
  CRIT_ARGS=(--warm-up-time 2 --measurement-time 5)
fi
step() { printf '\n== bench: %s\n' "$*"; }
mkdir -p "$BUILD" "$RES"
rm -f "$RES"/*.json "$RES"/*.txt

step "machine load before: $(uptime)"
uptime > "$RES/load-before.txt"
date -u '+%Y-%m-%d %H:%M:%S UTC' > "$RES/started.txt"
# What the builds are made from: commit, whether the inputs of the Wasm builds
# have uncommitted changes, and a hash of both, at the start and again at the
# end; report.mjs warns if they differ (src/ edited during the run).
SRC_PATHS=(src crates/open crates/wasm Cargo.toml Cargo.lock scripts/wasm-env.sh)
src_state() {
  local head hash dirty=""
  head=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) || { echo "unknown -"; return; }
  git -C "$ROOT" diff --quiet HEAD -- "${SRC_PATHS[@]}" 2>/dev/null || dirty="+uncommitted"
  hash=$({ git -C "$ROOT" rev-parse HEAD; git -C "$ROOT" diff HEAD -- "${SRC_PATHS[@]}"; } 2>/dev/null | sha256sum | cut -c1-12)
  echo "$head$dirty $hash"
}
src_state > "$RES/src-before.txt"

step "npm dependencies (bench/package-lock.json)"
if [[ ! -d $BENCH/node_modules || $BENCH/package-lock.json -nt $BENCH/node_modules/.package-lock.json ]]; then
  (cd "$BENCH" && npm ci --no-audit --no-fund)
fi

# sealpass's own wasm, built exactly like the shipped builds: scripts/wasm-env.sh
# (shared with scripts/pack.sh and scripts/build-www.sh) gives the features, the
# RUSTFLAGS and the opt-level ("size" for browser builds, "speed" for Node);
# [profile.release] and the wasm-opt flags come from crates/wasm/Cargo.toml. A bench-only
# cargo target dir keeps the shared target/ out of it.
if [[ -f $ROOT/scripts/wasm-env.sh ]]; then
  # shellcheck source=/dev/null
  source "$ROOT/scripts/wasm-env.sh"
else
  SEALPASS_WASM_FEATURES=""
  sealpass_wasm_env() { export RUSTFLAGS="" CARGO_PROFILE_RELEASE_OPT_LEVEL=3; }
fi
: > "$RES/builds.txt"
wasm_build() { # size|speed out-dir target features(comma-separated, may be empty)
  local kind=$1 out=$2 target=$3 feats
  (
    sealpass_wasm_env "$ROOT" "$kind"
    feats=$(echo "$4,${SEALPASS_WASM_FEATURES:-}" | sed -E 's/,+/,/g; s/^,//; s/,$//')
    if [[ -n ${SEALPASS_WASM_RUSTFLAGS:-} ]]; then export RUSTFLAGS="$RUSTFLAGS $SEALPASS_WASM_RUSTFLAGS"; fi
    cfgs=$(grep -oE -- '--cfg [^ ]+' <<<"$RUSTFLAGS" | tr '\n' ' ' | sed 's/ $//' || true)
    echo "$(basename "$out"): ${kind} build, opt-level ${CARGO_PROFILE_RELEASE_OPT_LEVEL:-3}, RUSTFLAGS ${cfgs:-(no --cfg)}, wasm-pack build --release --target $target${feats:+ --features $feats}" >> "$RES/builds.txt"
    CARGO_TARGET_DIR="$BUILD/target" \
      wasm-pack --log-level warn build --release --target "$target" --out-dir "$out" --no-pack --no-typescript --out-name sealpass "$ROOT/crates/wasm" ${feats:+--features "$feats"} \
      > "$RES/wasm-build-$(basename "$out").txt" 2>&1
    # Web builds ship with short import names (scripts/pack.sh, build-www.sh).
    if [[ $target == web && -f $ROOT/scripts/short-imports.mjs ]]; then
      node "$ROOT/scripts/short-imports.mjs" "$out" >> "$RES/wasm-build-$(basename "$out").txt" 2>&1
    fi
  ) || { tail -30 "$RES/wasm-build-$(basename "$out").txt"; exit 1; }
}
step "wasm builds (nodejs+open, web seal-only, web+open)"
wasm_build speed "$BUILD/node-open" nodejs open
echo '{"type":"commonjs"}' > "$BUILD/node-open/package.json"
wasm_build size "$BUILD/web" web ""
wasm_build size "$BUILD/web-open" web open
# The fast browser build (opt-level and features of the "speed" kind, --target web):
# web-fast with open for the throughput pages, web-fast-seal for its size.
wasm_build speed "$BUILD/web-fast" web open
wasm_build speed "$BUILD/web-fast-seal" web ""
cat "$RES/builds.txt"

# twiggy for the size profile (bench/variants.sh); crates.io is reachable.
if ! command -v twiggy >/dev/null; then
  step "cargo install twiggy --locked (size profile)"
  nice -n 10 cargo install twiggy --locked > "$RES/twiggy-install.txt" 2>&1 || { tail -5 "$RES/twiggy-install.txt"; echo "twiggy install failed: no size profile" >&2; }
fi

step "correctness gate: pinned vectors and cross-opening (before timing)"
(cd "$BENCH" && node check.mjs)

step "browser bundles (esbuild --minify)"
(cd "$BENCH" && node bundles.mjs)

step "sizes"
(cd "$BENCH" && node sizes.mjs)

if [[ $NATIVE == 1 ]]; then
  step "native ceiling (criterion)"
  rm -rf "$BUILD/target-native/criterion"
  (cd "$ROOT" && CARGO_TARGET_DIR="$BUILD/target-native" cargo bench -p sealpass-open --bench envelope -- "${CRIT_ARGS[@]}") \
    > "$RES/criterion.txt" 2>&1 || { tail -20 "$RES/criterion.txt"; echo "criterion failed" >&2; }
  grep -E '^(seal|open)/|time:' "$RES/criterion.txt" | head -20 || true
fi

step "throughput in Node"
(cd "$BENCH" && node node-bench.mjs)

step "cold start in Node"
(cd "$BENCH" && node cold-node.mjs)

if [[ $BROWSERS == 1 ]]; then
  step "throughput and cold start in headless Chromium and Firefox"
  (cd "$BENCH" && node browser-bench.mjs) || echo "browser step failed (non-fatal; RESULTS.md will say which figures are missing)" >&2
fi

step "anatomy: what one seal costs, primitive by primitive (Node)"
(cd "$BENCH" && node anatomy.mjs)

if [[ $VARIANTS == 1 ]]; then
  step "profile: build variants (opt-level, field backend, base table, wasm-min) in Node"
  bash "$BENCH/variants.sh" > "$RES/variants-build.txt" 2>&1 || echo "variants step failed (non-fatal)" >&2
  grep '^variant ' "$RES/variants-build.txt" || tail -20 "$RES/variants-build.txt"
fi

if [[ -x $BENCH/load/run.sh || -f $BENCH/load/run.sh ]]; then
  step "relay load test (bench/load/run.sh)"
  bash "$BENCH/load/run.sh" > "$RES/load.txt" 2>&1 || echo "relay load test failed (non-fatal)" >&2
  grep -oE "load: .*" "$RES/load.txt" | sort -u || tail -30 "$RES/load.txt"
fi

step "./build.sh serve, second run (bench/serve/run.sh)"
bash "$BENCH/serve/run.sh" "$([[ $QUICK == 1 ]] && echo 3 || echo 5)" > "$RES/serve.txt" 2>&1 || echo "serve timing failed (non-fatal)" >&2
grep -E "^serve: " "$RES/serve.txt" || tail -20 "$RES/serve.txt"

uptime > "$RES/load-after.txt"
src_state > "$RES/src-after.txt"
step "machine load after: $(cat "$RES/load-after.txt")"
step "writing bench/RESULTS.md"
(cd "$BENCH" && node report.mjs)
