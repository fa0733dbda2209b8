# Shared settings for every shipped Wasm build; sourced by scripts/pack.sh,
# scripts/build-www.sh and bench/run.sh so the npm package, the accept page
# and the benchmarks measure the same bytes.
#
# - Feature `wasm-min`: no_std runtime with a small allocator, trap on panic
#   (no formatting machinery) and sha2's compact SHA-256.
# - Browser builds use opt-level "s": the smallest measured (smaller than
#   "z"). Node builds use opt-level 3 (no size budget; seal is ~35% faster).
# - curve25519-dalek uses its fiat-crypto field backend (formally verified
#   field arithmetic, 32-bit limbs on wasm32): ~1.2x seal at opt-level s for
#   ~0.4 KB gzip, about even at 3. The 64-bit backends emulate u128 on wasm32
#   and halve seal speed. build.sh runs the Wasm tests with the same cfg, so
#   the vectors cover the shipped arithmetic. SEALPASS_WASM_BACKEND=serial
#   (bench/variants.sh) builds the portable 32-bit backend instead.
# - Node builds add feature `wasm-base-table` (X25519(k, 9) by curve25519-
#   dalek's 30 KB precomputed table, as natively: seal ~1.4x); browser builds
#   leave it out (the accept page seals once and has a 27.5 KB budget).
#   sealpass_wasm_env sets SEALPASS_WASM_FEATURES for the kind; callers pass
#   it to --features.
# - Speed builds also add feature `wasm-x25519x2` and Wasm SIMD
#   (-Ctarget-feature=+simd128): the two X25519s of a v2 seal or open run as
#   one two-lane ladder (crates/x25519x2), ~0.7x the time of two
#   curve25519-dalek ladders, and the single variable-base X25519 of a v1
#   seal or open as one ladder over both lanes (bench/RESULTS.md); and
#   feature `wasm-chacha20x4`: XChaCha20-Poly1305's ChaCha20 keystream four
#   blocks at a time in the SIMD lanes (crates/chacha20x4): a 16 KiB open
#   ~6% faster in Node. A Wasm engine without SIMD (Safari
#   before 16.4) cannot load these builds; the size builds have no SIMD.
# - Browser ("size") builds are compiled by the nightly toolchain
#   (SEALPASS_SIZE_TOOLCHAIN, default "nightly"; build.sh installs it with
#   rust-src and the wasm32 target) with core and alloc rebuilt
#   (-Zbuild-std) under -Cpanic=immediate-abort: a panic is then the trap it
#   already was (crates/wasm/src/runtime.rs), and the formatting machinery,
#   panic messages and source paths that stable's precompiled core keeps
#   alive through every bounds check (~2.2 KB gzip, bench/RESULTS.md size
#   profile) are gone. -Zlocation-detail=none drops the file names, lines
#   and columns that `#[track_caller]` call sites (bounds checks, unwraps)
#   still embed for a panic that now only traps (~570 B gzip). Same
#   source, same Cargo.lock; the node, the CLI and
#   the Node builds stay on stable. SEALPASS_SIZE_TOOLCHAIN=stable builds
#   the old way (no build-std), for comparison.
# - Toolchain pinning (one definition: SEALPASS_SIZE_TOOLCHAIN_DEFAULT here,
#   read by build.sh through sealpass_size_toolchain). The default stays the
#   name "nightly", not a dated nightly: the machines and CI have it
#   preinstalled (rustc 1.97.0-nightly e50aa6fba 2026-05-19) and a dated one
#   would be a rustup download on every CI run. What a name does not pin is
#   recorded instead: build.sh puts the size toolchain's `rustc --version`
#   (and SEALPASS_SIZE_TOOLCHAIN, SEALPASS_WASM_BACKEND) into the accept
#   page's inputs hash, so a different nightly rebuilds the page, and its
#   setup step probes that the toolchain takes -Zbuild-std with
#   -Zunstable-options -Cpanic=immediate-abort (else it fails, naming
#   SEALPASS_SIZE_TOOLCHAIN=stable as the fallback). Pin a date by setting
#   SEALPASS_SIZE_TOOLCHAIN=nightly-YYYY-MM-DD.
# - Any toolchain whose `rustc --version` says neither "nightly" nor "dev"
#   (stable, beta, 1.95.0, ...) builds the stable way: no -Z flags (they
#   would not be accepted), with a note on stderr when it is not "stable".
# - Source paths are remapped so the output (and its SRI hash) does not
#   depend on where the checkout or the cargo home live.

SEALPASS_WASM_FEATURES=wasm-min
# Speed builds use Wasm SIMD (the x25519x2 ladder's i64x2 lanes, the
# chacha20x4 keystream's u32x4 lanes).
SEALPASS_WASM_SIMD='-Ctarget-feature=+simd128'
SEALPASS_SIZE_TOOLCHAIN_DEFAULT=nightly
# The size builds' nightly flags (with CARGO_UNSTABLE_BUILD_STD=core,alloc);
# build.sh's setup probes that the toolchain takes them.
SEALPASS_SIZE_ZFLAGS='-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none'
SEALPASS_WASM_CFG='--cfg curve25519_dalek_backend="fiat"'

# The browser builds' toolchain: SEALPASS_SIZE_TOOLCHAIN, else the default.
sealpass_size_toolchain() { printf '%s\n' "${SEALPASS_SIZE_TOOLCHAIN:-$SEALPASS_SIZE_TOOLCHAIN_DEFAULT}"; }

# sealpass_size_nightly TOOLCHAIN — 0 if its rustc is a nightly (or dev)
# build, which takes the -Z flags; 1 if not; 2 (with a message) if it does
# not run. "stable" is 1 without asking rustup.
sealpass_size_nightly() {
    local tc=$1 v
    [[ $tc == stable ]] && return 1
    if ! v=$(rustup run "$tc" rustc --version 2>/dev/null); then
        echo "wasm-env: toolchain '$tc' (SEALPASS_SIZE_TOOLCHAIN) does not run; ./build.sh setup installs it, or set SEALPASS_SIZE_TOOLCHAIN=stable" >&2
        return 2
    fi
    [[ $v == *-nightly* || $v == *-dev* ]]
}

# sealpass_wasm_env ROOT size|speed — export the environment for one build
# and set SEALPASS_WASM_FEATURES for it (run it in the build's subshell).
sealpass_wasm_env() {
    local root=$1 kind=$2
    export RUSTFLAGS="--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src=/c --remap-path-prefix=$root=/s"
    if [[ ${SEALPASS_WASM_BACKEND:-fiat} == fiat ]]; then RUSTFLAGS+=" $SEALPASS_WASM_CFG"; fi
    case $kind in
    size)
        export CARGO_PROFILE_RELEASE_OPT_LEVEL=s
        SEALPASS_WASM_FEATURES=wasm-min
        local tc rc=0
        tc=$(sealpass_size_toolchain)
        sealpass_size_nightly "$tc" || rc=$?
        case $rc in
        0)
            export RUSTUP_TOOLCHAIN=$tc
            export CARGO_UNSTABLE_BUILD_STD=core,alloc
            RUSTFLAGS+=" $SEALPASS_SIZE_ZFLAGS"
            ;;
        1)
            [[ $tc == stable ]] || {
                export RUSTUP_TOOLCHAIN=$tc
                echo "wasm-env: $tc is not a nightly: browser build without -Zbuild-std (as SEALPASS_SIZE_TOOLCHAIN=stable)" >&2
            }
            ;;
        *) return 1 ;;
        esac
        ;;
    speed)
        export CARGO_PROFILE_RELEASE_OPT_LEVEL=3
        SEALPASS_WASM_FEATURES=wasm-min,wasm-base-table,wasm-x25519x2,wasm-chacha20x4
        RUSTFLAGS+=" $SEALPASS_WASM_SIMD"
        ;;
    *)
        echo "sealpass_wasm_env: unknown kind $kind" >&2
        return 1
        ;;
    esac
}
