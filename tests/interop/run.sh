#!/usr/bin/env bash
# tests/interop/run.sh — sealpass envelope v1 + v2 interop test (called by build.sh).
#
# 1. checks tests/vectors/envelope_v1.json and envelope_v2.json (and the
#    PROTOCOL.md §15.8 worked example) against the independent Python
#    reference (tests/interop/sealpass_ref.py: pyca cryptography + PyNaCl);
# 2. if a Rust CLI binary is available, runs both directions (Python seals ->
#    Rust opens, Rust seals -> Python opens), the vector files and the negative
#    envelopes against it, fingerprints and cross-generated keys -- in two
#    groups, v1 (§3-§12) and v2 (§15: --identity / --identity-key /
#    fingerprint --identity), whose counts are reported separately.
#
# Environment:
#   SEALPASS_BIN=PATH          Rust CLI to test (default: the newer of
#                              target/release/sealpass and target/debug/sealpass)
#   SEALPASS_REQUIRE_BIN=1     fail (exit 1) when no binary is found instead of
#                              skipping the Rust part
#   SEALPASS_INTEROP_STRICT=1  count differences in unspecified behaviour
#                              (DIFF lines) as failures
#   SEALPASS_INTEROP_GROUPS=v1,v2  Rust<->Python groups to run (default both)
#   PYTHON=python3             interpreter to use
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-python3}

if ! "$PY" -c 'import cryptography.hazmat.primitives.asymmetric.x25519, nacl.bindings' 2>/dev/null; then
    echo "interop: installing cryptography + pynacl (pip)" >&2
    "$PY" -m pip install --quiet cryptography pynacl || {
        echo "interop: pip install cryptography pynacl failed" >&2
        echo "0 passed, 1 failed"
        exit 1
    }
fi

total_pass=0
total_fail=0
declare -A group_pass=() group_fail=()
tally() { # tally LOGFILE RC
    local line p f g
    while IFS= read -r line; do
        g=${line%%:*}
        line=${line#*: }
        p=${line%% passed*}
        f=${line#*, }
        f=${f%% failed}
        group_pass[$g]=$(( ${group_pass[$g]:-0} + p ))
        group_fail[$g]=$(( ${group_fail[$g]:-0} + f ))
    done < <(grep -E '^v[12]: [0-9]+ passed, [0-9]+ failed$' "$1")
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
    if [[ -z $line ]]; then
        total_fail=$((total_fail + 1))
        echo "interop: no 'N passed, N failed' line (rc=$2)" >&2
        return
    fi
    p=${line%% passed*}
    f=${line#*, }
    f=${f%% failed}
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    if [[ $2 -ne 0 && $f -eq 0 ]]; then total_fail=$((total_fail + 1)); fi
}
groups() {
    local g
    for g in v1 v2; do
        [[ -n ${group_pass[$g]:-} ]] && echo "interop $g: ${group_pass[$g]} passed, ${group_fail[$g]} failed"
    done
}

log=$(mktemp "${TMPDIR:-/tmp}/sealpass-interop.XXXXXX")
trap 'rm -f "$log"' EXIT

echo "== interop: vectors vs Python reference"
"$PY" "$HERE/check_vectors.py" 2>&1 | tee "$log"
tally "$log" "${PIPESTATUS[0]}"

BIN=${SEALPASS_BIN:-}
if [[ -z $BIN ]]; then
    rel=$ROOT/target/release/sealpass
    dbg=$ROOT/target/debug/sealpass
    if [[ -x $rel && -x $dbg ]]; then
        if [[ $dbg -nt $rel ]]; then BIN=$dbg; else BIN=$rel; fi
    elif [[ -x $rel ]]; then
        BIN=$rel
    elif [[ -x $dbg ]]; then
        BIN=$dbg
    fi
fi

if [[ -z $BIN || ! -x $BIN ]]; then
    msg="interop: no Rust sealpass binary (${SEALPASS_BIN:-target/release/sealpass, target/debug/sealpass}); Rust<->Python interop SKIPPED"
    echo "$msg" >&2
    groups
    echo "$total_pass passed, $total_fail failed"
    if [[ ${SEALPASS_REQUIRE_BIN:-0} == 1 ]]; then
        echo "interop: SEALPASS_REQUIRE_BIN=1, failing" >&2
        exit 1
    fi
    [[ $total_fail -eq 0 ]]
    exit
fi

echo "== interop: Rust CLI $BIN <-> Python reference"
"$PY" "$HERE/interop.py" "$BIN" 2>&1 | tee "$log"
tally "$log" "${PIPESTATUS[0]}"

echo "== interop total (vectors + Rust<->Python, per group)"
groups
echo "$total_pass passed, $total_fail failed"
[[ $total_fail -eq 0 ]]
