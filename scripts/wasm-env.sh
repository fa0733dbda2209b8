# Shared settings for every shipped Wasm build; sourced by scripts/pack.sh,
# scripts/build-www.sh and bench/run.sh so the npm package, the accept page
# and the benchmarks measure the same bytes.
#
# - Feature `wasm-min`: no_std runtime with a small allocator and trap on
#   panic (no formatting machinery): 27.7 -> 24.0 KB gzip at opt-level z.
# - Browser builds use opt-level "s": the smallest measured (22.7 KB gzip,
#   smaller than "z"). Node builds use opt-level 3 (no size budget; seal is
#   ~35% faster). curve25519-dalek stays on its 32-bit backend: the 64-bit one
#   emulates u128 on wasm32 and halves seal speed.
# - Source paths are remapped so the output (and its SRI hash) does not
#   depend on where the checkout or the cargo home live.

SEALPASS_WASM_FEATURES=wasm-min

# sealpass_wasm_env ROOT size|speed — export the environment for one build.
sealpass_wasm_env() {
    local root=$1 kind=$2
    export RUSTFLAGS="--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src=/c --remap-path-prefix=$root=/s"
    case $kind in
    size) export CARGO_PROFILE_RELEASE_OPT_LEVEL=s ;;
    speed) export CARGO_PROFILE_RELEASE_OPT_LEVEL=3 ;;
    *)
        echo "sealpass_wasm_env: unknown kind $kind" >&2
        return 1
        ;;
    esac
}
