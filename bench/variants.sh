#!/usr/bin/env bash
# Profile evidence for RESULTS.md: the seal-only web build of sealpass under
# several build settings, each in its own target dir (flags never thrash a
# cache), then variants.mjs measures wasm size and seal 1 KiB speed in Node.
# Every variant starts from the shipped settings (scripts/wasm-env.sh: features,
# RUSTFLAGS) and changes one thing; wasm-opt is wasm-pack's, with the flags
# from Cargo.toml, as in the shipped build.
set -euo pipefail
export PATH=/usr/local/bin:$HOME/.cargo/bin:$PATH
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
V="$BENCH/.build/variants"
RES="$BENCH/.build/results"
mkdir -p "$V" "$RES"
if [[ -f $ROOT/scripts/wasm-env.sh ]]; then
  # shellcheck source=/dev/null
  source "$ROOT/scripts/wasm-env.sh"
else
  SEALPASS_WASM_FEATURES=""
  sealpass_wasm_env() { export RUSTFLAGS="" CARGO_PROFILE_RELEASE_OPT_LEVEL=3; }
fi
BASE_FEATURES=${SEALPASS_WASM_FEATURES:-}
build() { # name opt-level extra-rustflags features [wasm-pack args...]
  local name=$1 opt=$2 flags=$3 feats=$4
  shift 4
  (
    sealpass_wasm_env "$ROOT" size
    export CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt RUSTFLAGS="$RUSTFLAGS $flags"
    CARGO_TARGET_DIR="$BENCH/.build/target-var-$name" \
      wasm-pack --log-level warn build --release --target web --out-dir "$V/$name" --no-pack --no-typescript "$@" "$ROOT" ${feats:+--features "$feats"}
  )
  echo "built $name"
}
build s s '' "$BASE_FEATURES"
build o3 3 '' "$BASE_FEATURES"
build z z '' "$BASE_FEATURES"
build o3-bits64 3 '--cfg curve25519_dalek_bits="64"' "$BASE_FEATURES"
build s-fiat s '--cfg curve25519_dalek_backend="fiat"' "$BASE_FEATURES"
build o3-fiat 3 '--cfg curve25519_dalek_backend="fiat"' "$BASE_FEATURES"
NAMES=(s o3 z o3-bits64 s-fiat o3-fiat)
if [[ -n $BASE_FEATURES ]]; then
  build s-nofeat s '' ''
  NAMES+=(s-nofeat)
fi
# Name-keeping copy of the shipped seal-only build, for twiggy.
(
  sealpass_wasm_env "$ROOT" size
  CARGO_TARGET_DIR="$BENCH/.build/target-var-s" CARGO_PROFILE_RELEASE_STRIP=false \
    wasm-pack --log-level warn build --release --no-opt --target web --out-dir "$V/names" --no-pack --no-typescript "$ROOT" ${BASE_FEATURES:+--features "$BASE_FEATURES"}
)
wasm-opt -Oz --debuginfo --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$V/names/sealpass_bg.wasm" -o "$V/names/named.wasm"
if command -v twiggy >/dev/null; then
  twiggy top -n 25 "$V/names/named.wasm" > "$RES/twiggy.txt" || true
  twiggy top -n 1000 "$V/names/named.wasm" > "$RES/twiggy-all.txt" || true
else
  echo "twiggy not installed (cargo install twiggy): no size profile table" >&2
fi
cd "$BENCH" && node variants.mjs "${NAMES[@]}"
