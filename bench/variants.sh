#!/usr/bin/env bash
# Profile evidence for RESULTS.md: the seal-only web build of sealpass under
# several build settings (each in its own target dir, so flags never thrash a
# cache), then variants.mjs measures wasm size and seal throughput in Node.
set -euo pipefail
export PATH=/usr/local/bin:$HOME/.cargo/bin:$PATH
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
V="$BENCH/.build/variants"
mkdir -p "$V"
# Same cargo arguments as the shipped seal-only web build (set by run.sh from scripts/pack.sh).
read -r -a WEB_ARGS <<< "${SEALPASS_WEB_ARGS:-}"
FEAT=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue)
build() { # name opt-level rustflags [extra cargo args]
  local name=$1 opt=$2 flags=$3
  shift 3
  CARGO_TARGET_DIR="$BENCH/.build/target-var-$name" RUSTFLAGS="$flags" CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt \
    wasm-pack --log-level warn build --release --no-opt --target web --out-dir "$V/$name-noopt" --no-pack --no-typescript "$ROOT" ${WEB_ARGS[@]+"${WEB_ARGS[@]}"} "$@"
}
post() { # src dst wasm-opt-level
  mkdir -p "$V/$2"; cp "$V/$1/sealpass.js" "$V/$2/"
  wasm-opt "$3" --strip-debug --strip-producers "${FEAT[@]}" "$V/$1/sealpass_bg.wasm" -o "$V/$2/sealpass_bg.wasm"
}
build o3 3 ''
post o3-noopt o3-Oz -Oz
post o3-noopt o3-O3 -O3
build o3-bits64 3 '--cfg curve25519_dalek_bits="64"'
post o3-bits64-noopt o3-bits64-Oz -Oz
build o3-fiat 3 '--cfg curve25519_dalek_backend="fiat"'
post o3-fiat-noopt o3-fiat-Oz -Oz
build os s ''
post os-noopt os-Oz -Oz
build oz z ''
post oz-noopt oz-Oz -Oz
# Per-package opt-level: size where speed does not matter, dalek stays at 3.
CARGO_PROFILE_RELEASE_PACKAGE_SHA2_OPT_LEVEL=z CARGO_PROFILE_RELEASE_PACKAGE_SEALPASS_OPT_LEVEL=s \
  build mixed 3 ''
post mixed-noopt mixed-Oz -Oz
# The crate's `wasm-min` feature (no_std, small allocator, trap on panic), when
# it exists and the shipped build does not use it yet.
EXTRA=()
if grep -q '^wasm-min *=' "$ROOT/Cargo.toml" && [[ " ${WEB_ARGS[*]:-} " != *wasm-min* ]]; then
  build min 3 '' --features wasm-min
  post min-noopt min-Oz -Oz
  EXTRA=(min-Oz)
fi
# Name-keeping copy of the shipped seal-only build, for twiggy.
CARGO_TARGET_DIR="$BENCH/.build/target-var-o3" CARGO_PROFILE_RELEASE_STRIP=false \
  wasm-pack --log-level warn build --release --no-opt --target web --out-dir "$V/o3-names" --no-pack --no-typescript "$ROOT" ${WEB_ARGS[@]+"${WEB_ARGS[@]}"}
wasm-opt -Oz --debuginfo "${FEAT[@]}" "$V/o3-names/sealpass_bg.wasm" -o "$V/o3-names/named.wasm"
if command -v twiggy >/dev/null; then
  twiggy top -n 25 "$V/o3-names/named.wasm" > "$BENCH/.build/results/twiggy.txt" || true
else
  echo "twiggy not installed (cargo install twiggy): no size profile table" >&2
  wasm-opt --func-metrics "${FEAT[@]}" "$V/o3-names/named.wasm" -o /dev/null > "$BENCH/.build/results/func-metrics.txt" 2>&1 || true
fi
cd "$BENCH" && node variants.mjs o3-noopt o3-Oz o3-O3 o3-bits64-Oz o3-fiat-Oz os-Oz oz-Oz mixed-Oz ${EXTRA[@]+"${EXTRA[@]}"}
