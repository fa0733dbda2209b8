#!/usr/bin/env bash
# Profile evidence for RESULTS.md: the seal-only web build of sealpass under
# several build settings, each in its own target dir (flags never thrash a
# cache), then variants.mjs measures wasm size and seal 1 KiB speed (v1 and
# v2) in Node.
# Every variant starts from the shipped browser build (scripts/wasm-env.sh
# "size": opt-level "s", fiat field backend, feature `wasm-min`) and changes
# one or two things; wasm-opt is wasm-pack's, with the flags from crates/wasm/Cargo.toml,
# as in the shipped builds.
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
  sealpass_wasm_env() { export RUSTFLAGS="" CARGO_PROFILE_RELEASE_OPT_LEVEL=3; }
fi
# The browser builds' features, named here rather than read from
# SEALPASS_WASM_FEATURES (which sealpass_wasm_env sets per kind), so that every
# variant says exactly what it builds.
BASE_FEATURES=wasm-min
NAMES=()
: > "$RES/variants-builds.txt"
build() { # name opt-level backend(fiat|serial) extra-rustflags features [wasm-pack args...]
  local name=$1 opt=$2 backend=$3 flags=$4 feats=$5
  shift 5
  (
    export SEALPASS_WASM_BACKEND=$backend
    sealpass_wasm_env "$ROOT" size
    export CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt RUSTFLAGS="$RUSTFLAGS${flags:+ $flags}"
    echo "$name: opt-level $opt, backend $backend${flags:+, $flags}, features ${feats:-(none)}, toolchain ${RUSTUP_TOOLCHAIN:-stable}" >> "$RES/variants-builds.txt"
    CARGO_TARGET_DIR="$BENCH/.build/target-var-$name" \
      wasm-pack --log-level warn build --release --target web --out-dir "$V/$name" --no-pack --no-typescript --out-name sealpass "$@" "$ROOT/crates/wasm" ${feats:+--features "$feats"}
    # As shipped: short import names between wasm and glue.
    if [[ -f $ROOT/scripts/short-imports.mjs ]]; then node "$ROOT/scripts/short-imports.mjs" "$V/$name"; fi
  )
  NAMES+=("$name")
  echo "built $name"
}
build s s fiat '' "$BASE_FEATURES"
# The shipped size build minus the nightly core rebuild (scripts/wasm-env.sh).
SEALPASS_SIZE_TOOLCHAIN=stable build s-stable s fiat '' "$BASE_FEATURES"
build s-serial s serial '' "$BASE_FEATURES"
build o3 3 fiat '' "$BASE_FEATURES"
build o3-serial 3 serial '' "$BASE_FEATURES"
build o3-table 3 fiat '' "$BASE_FEATURES,wasm-base-table"
# o3-table plus the two-lane SIMD X25519; then the speed builds' settings,
# which add the four-block SIMD ChaCha20.
build o3-table-x2 3 fiat "$SEALPASS_WASM_SIMD" "$BASE_FEATURES,wasm-base-table,wasm-x25519x2"
build o3-fast 3 fiat "$SEALPASS_WASM_SIMD" "$BASE_FEATURES,wasm-base-table,wasm-x25519x2,wasm-chacha20x4"
# What the two-lane ladder would do for the size build: without SIMD (plain
# integer lanes) and with it.
build s-x2 s fiat '' "$BASE_FEATURES,wasm-x25519x2"
build s-x2-simd s fiat "$SEALPASS_WASM_SIMD" "$BASE_FEATURES,wasm-x25519x2"
build s-table s fiat '' "$BASE_FEATURES,wasm-base-table"
build z z fiat '' "$BASE_FEATURES"
build o3-bits64 3 serial '--cfg curve25519_dalek_bits="64"' "$BASE_FEATURES"
# Without wasm-min the crate needs std, which -Zbuild-std=core,alloc does not
# rebuild: built by stable, so compare it with s-stable.
SEALPASS_SIZE_TOOLCHAIN=stable build s-nofeat s fiat '' ''
# Name-keeping copy of the shipped browser build (variant s), for twiggy.
(
  export SEALPASS_WASM_BACKEND=fiat
  sealpass_wasm_env "$ROOT" size
  CARGO_TARGET_DIR="$BENCH/.build/target-var-s" CARGO_PROFILE_RELEASE_STRIP=false \
    wasm-pack --log-level warn build --release --no-opt --target web --out-dir "$V/names" --no-pack --no-typescript --out-name sealpass "$ROOT/crates/wasm" --features "${SEALPASS_WASM_FEATURES:-$BASE_FEATURES}"
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
