#!/usr/bin/env bash
# tests/pg/run.sh [CMD...] — run CMD against a private PostgreSQL server
# (called by ./build.sh test, step "hook relay-pg", and ./build.sh test-pg).
#
# Starts a server (tests/pg/server.sh) in a fresh temp dir, exports its
# SEALPASS_TEST_PG_* environment, runs CMD in its own process group, and
# always stops the server and removes the dir (EXIT, INT, TERM: on a signal
# CMD's group gets SIGTERM, then SIGKILL). Exits with CMD's status (130/143
# on INT/TERM).
#
# Without CMD: the relay suite with the relay's store on PostgreSQL
# (SEALPASS_TEST_STORE=postgres cargo test -p sealpass-tests --test relay),
# then the multi-instance tests (#[ignore]d, they need the server):
# cargo test ... -- --ignored multi_instance --test-threads 2, which must
# run and pass every test tests/relay/multi_instance.rs has. Ends with
# `N passed, N failed`. `run.sh --multi`: the multi-instance part alone.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

SERVER="$ROOT/tests/pg/server.sh"
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/sealpass-pg.XXXXXX") || exit 1
CHILD=""

stop_child() {
    [[ -n $CHILD ]] || return 0
    local i
    kill -TERM -- "-$CHILD" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 -- "-$CHILD" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$CHILD" 2>/dev/null
    CHILD=""
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_child
    bash "$SERVER" stop "$PGDIR" || echo "pg/run.sh: stopping the server in $PGDIR failed" >&2
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$SERVER" start "$PGDIR" || exit 1
eval "$(bash "$SERVER" env "$PGDIR")" || exit 1

# run CMD...: in its own process group (set -m), waited for with `wait` so
# a signal to this script is handled at once (a foreground child would
# delay the trap until it ended).
run() {
    set -m
    "$@" &
    CHILD=$!
    set +m
    wait "$CHILD"
    local rc=$?
    CHILD=""
    return "$rc"
}

# run_logged LOG CMD...: run CMD (output also to LOG); its exit status.
# The pipe lives inside the child's group: a pipeline here would run in
# the foreground and delay the signal traps.
run_logged() {
    run bash -c '"${@:2}" 2>&1 | tee "$1"; exit "${PIPESTATUS[0]}"' run_logged "$@"
}

# Sum passed/failed over the `test result:` lines of a cargo test log.
counts() {
    sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
        /test result:/ {
            n++
            for (i = 2; i <= NF; i++) {
                if ($i ~ /^passed;?$/) p += $(i - 1)
                if ($i ~ /^failed;?$/) f += $(i - 1)
            }
        }
        END { printf "%d %d %d\n", n, p, f }'
}

default_suite() {
    local log rc1 rc2 n p1=0 f1=0 p2 f2 want ok=1
    log=$PGDIR.log
    export SEALPASS_TEST_STORE=postgres

    if [[ ${1:-} != --multi ]]; then
        echo "== relay suite, store on PostgreSQL"
        run_logged "$log.1" cargo test -p sealpass-tests --test relay
        rc1=$?
        read -r n p1 f1 <<<"$(counts "$log.1")"
        echo "relay suite on PostgreSQL: $p1 passed, $f1 failed (exit $rc1)"
        ((rc1 == 0 && n > 0 && f1 == 0 && p1 > 0)) || { ok=0; ((f1 > 0)) || f1=1; }
    fi

    echo "== multi-instance tests (one database, several relays)"
    run_logged "$log.2" cargo test -p sealpass-tests --test relay -- --ignored multi_instance --test-threads 2
    rc2=$?
    read -r n p2 f2 <<<"$(counts "$log.2")"
    want=$(cat tests/relay/multi_instance*.rs | grep -c '^[[:space:]]*#\[ignore = "needs PostgreSQL')
    echo "multi-instance: $p2 passed, $f2 failed of $want in tests/relay/multi_instance*.rs (exit $rc2)"
    if ((rc2 != 0 || f2 > 0)); then
        ok=0
    elif ((p2 == 0 || p2 != want)); then
        echo "multi-instance: $p2 passed but the source has $want: were some not run?" >&2
        ok=0
        f2=$((f2 + want - p2))
    fi
    rm -f "$log.1" "$log.2"
    echo "$((p1 + p2)) passed, $((f1 + f2)) failed"
    ((ok))
}

if (($# == 0)) || [[ $* == --multi ]]; then
    default_suite "$@"
else
    run "$@"
fi
