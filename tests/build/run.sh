#!/usr/bin/env bash
# tests/build/run.sh — checks of build.sh's and scripts/wasm-env.sh's
# browser-build toolchain handling (hook of `./build.sh test`; seconds, no
# build). build.sh is sourced (its functions only) with a fake `rustup` first
# on PATH, so every toolchain answer is the test's. Ends with `N passed, N failed`.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export PATH="/usr/local/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sealpass-build-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# The fake rustup: `toolchain list` prints $FAKE_LIST; `run TC rustc
# --version` prints $FAKE_V_<TC> (non-word characters as _; unset: the
# toolchain does not run); `run TC rustc|cargo ...` (the probe) exits
# $FAKE_PROBE_RC; `target|component list` print what an installed nightly has.
mkdir "$TMP/bin"
cat >"$TMP/bin/rustup" <<'FAKE'
#!/usr/bin/env bash
case "$1 $2" in
"toolchain list") printf '%b\n' "$FAKE_LIST" ;;
"target list") echo wasm32-unknown-unknown ;;
"component list") echo rust-src ;;
run*)
    var="FAKE_V_${2//[^A-Za-z0-9]/_}"
    [[ -n ${!var:-} ]] || { echo "error: toolchain '$2' is not installed" >&2; exit 1; }
    if [[ $3 == rustc && $4 == --version ]]; then echo "${!var}"; exit 0; fi
    exit "${FAKE_PROBE_RC:-0}"
    ;;
*) echo "fake rustup: $*" >&2; exit 1 ;;
esac
FAKE
chmod +x "$TMP/bin/rustup"
HOST=$(rustc -vV | sed -n 's/^host: //p')

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
# check NAME CMD...: CMD (in a subshell that has sourced build.sh) succeeds.
check() {
    local name=$1
    shift
    if (
        # shellcheck source=build.sh
        . "$ROOT/build.sh"
        PATH="$TMP/bin:$PATH" # after: build.sh puts ~/.cargo/bin first
        set +e
        "$@"
    ) >"$TMP/out" 2>&1; then ok "$name"; else
        bad "$name"
        sed 's/^/     /' "$TMP/out"
    fi
}

# 1. the installed-toolchain test matches the name exactly, not a prefix.
export FAKE_LIST="nightly-2025-01-01-$HOST\nstable-$HOST (active, default)\n1.95.0-$HOST"
check "a dated nightly is not 'nightly'" eval '! toolchain_installed nightly'
check "'stable' found as stable-<host> (active, default)" toolchain_installed stable
check "'1.95.0' found as 1.95.0-<host>" toolchain_installed 1.95.0
check "'1.95' is no prefix match of 1.95.0" eval '! toolchain_installed 1.95'
FAKE_LIST="nightly-2025-01-01-$HOST\nnightly-$HOST" check "'nightly' found as nightly-<host>" toolchain_installed nightly

# 2. the page's inputs hash covers the size toolchain and the Wasm env vars.
export FAKE_V_nightly="rustc 1.97.0-nightly (e50aa6fba 2026-05-19)" FAKE_V_stable="rustc 1.95.0 (x 2026-04-01)"
hash_of() { (
    . "$ROOT/build.sh"
    PATH="$TMP/bin:$PATH"
    www_inputs_hash
); }
base=$(env -u SEALPASS_SIZE_TOOLCHAIN -u SEALPASS_WASM_BACKEND bash -c "$(declare -f hash_of); TMP='$TMP' ROOT='$ROOT'; hash_of")
differs() {
    local name=$1 h
    shift
    h=$(env -u SEALPASS_SIZE_TOOLCHAIN -u SEALPASS_WASM_BACKEND "$@" bash -c "$(declare -f hash_of); TMP='$TMP' ROOT='$ROOT'; hash_of")
    if [[ -n $base && -n $h && $h != "$base" ]]; then ok "$name"; else bad "$name ($base / $h)"; fi
}
same=$(env -u SEALPASS_SIZE_TOOLCHAIN -u SEALPASS_WASM_BACKEND bash -c "$(declare -f hash_of); TMP='$TMP' ROOT='$ROOT'; hash_of")
if [[ -n $base && $same == "$base" ]]; then ok "inputs hash: same inputs, same hash"; else bad "inputs hash not reproducible ($base / $same)"; fi
differs "inputs hash: another nightly under the same name" FAKE_V_nightly="rustc 1.97.0-nightly (0123456789 2026-06-01)"
differs "inputs hash: SEALPASS_SIZE_TOOLCHAIN" SEALPASS_SIZE_TOOLCHAIN=nightly
differs "inputs hash: SEALPASS_WASM_BACKEND" SEALPASS_WASM_BACKEND=serial

# 3. wasm-env.sh: -Z flags for a nightly only.
envcheck() { (
    PATH="$TMP/bin:$PATH"
    unset CARGO_UNSTABLE_BUILD_STD RUSTUP_TOOLCHAIN
    . "$ROOT/scripts/wasm-env.sh"
    sealpass_wasm_env "$ROOT" size || exit 3
    echo "tc=${RUSTUP_TOOLCHAIN:-} std=${CARGO_UNSTABLE_BUILD_STD:-} flags=$RUSTFLAGS"
); }
out=$(SEALPASS_SIZE_TOOLCHAIN= envcheck 2>/dev/null)
[[ $out == "tc=nightly std=core,alloc "*"-Cpanic=immediate-abort -Zlocation-detail=none"* ]] && ok "wasm-env: default nightly gets build-std" || bad "wasm-env default: $out"
out=$(SEALPASS_SIZE_TOOLCHAIN=stable envcheck 2>/dev/null)
[[ $out == "tc= std= "* && $out != *-Z* ]] && ok "wasm-env: stable, no -Z" || bad "wasm-env stable: $out"
out=$(FAKE_V_1_95_0="rustc 1.95.0 (x 2026-04-01)" SEALPASS_SIZE_TOOLCHAIN=1.95.0 envcheck 2>/dev/null)
[[ $out == "tc=1.95.0 std= "* && $out != *-Z* ]] && ok "wasm-env: a non-nightly other than 'stable', no -Z" || bad "wasm-env 1.95.0: $out"
out=$(FAKE_V_mydev="rustc 1.98.0-dev" SEALPASS_SIZE_TOOLCHAIN=mydev envcheck 2>/dev/null)
[[ $out == "tc=mydev std=core,alloc "* ]] && ok "wasm-env: a dev build gets build-std" || bad "wasm-env dev: $out"
rc=0
out=$(SEALPASS_SIZE_TOOLCHAIN=missing envcheck 2>&1) || rc=$?
[[ $rc == 3 && $out == *"SEALPASS_SIZE_TOOLCHAIN=stable"* ]] && ok "wasm-env: a toolchain that does not run fails, naming the fallback" || bad "wasm-env missing: rc=$rc $out"

# 4. setup probes the nightly; a refusal fails naming the fallback.
export FAKE_LIST="nightly-$HOST\nstable-$HOST"
check "setup: a nightly that takes the flags passes" ensure_size_toolchain
rc=0
out=$(FAKE_PROBE_RC=1 bash -c ". '$ROOT/build.sh'; PATH=\"$TMP/bin:\$PATH\"; ensure_size_toolchain" 2>&1) || rc=$?
[[ $rc != 0 && $out == *"SEALPASS_SIZE_TOOLCHAIN=stable"* ]] && ok "setup: a toolchain refusing the flags fails, naming SEALPASS_SIZE_TOOLCHAIN=stable" || bad "setup probe failure: rc=$rc $out"

# 5. `./build.sh pack` sets the browser-build toolchain up before packing.
check "pack runs the Wasm setup first" eval 'serve_setup() { echo setup >>"$TMP/order"; }; run_optional_script() { echo "pack $*" >>"$TMP/order"; }; cmd_pack --skip-wasm; [[ $(cat "$TMP/order") == $'"'"'setup\npack scripts/pack.sh --skip-wasm'"'"' ]]'

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
