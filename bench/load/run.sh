#!/usr/bin/env bash
# Load test: 1,000 pending credentials through the relay flow with
# concurrent clients on loopback, against each store and instance count
# (see README.md). One `load:` line per configuration.
#   bench/load/run.sh                     # release relay: sqlite:1 (sqlite:3) postgres:1 postgres:3
#   bench/load/run.sh --debug             # debug relay
#   bench/load/run.sh sqlite:1 postgres:3 # some configurations only
# SEALPASS_LOAD_N / SEALPASS_LOAD_WORKERS change the size. The PostgreSQL
# configurations run inside one tests/pg/run.sh (a private server, stopped
# at the end). sqlite:3 is not run: SQLite is single-instance by design;
# its `load:` line says so. Exits non-zero if any configuration failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export PATH=/usr/local/bin:$HOME/.cargo/bin:$PATH

SQLITE_MULTI="not run: SQLite is single-instance by design (one relay process owns its relay.db; several instances need PostgreSQL)"

# --configs CONFIG...: run these (already built; inside tests/pg/run.sh
# for postgres ones). Internal, used below.
run_configs() {
    local c store inst rc=0
    for c in "$@"; do
        store=${c%%:*} inst=${c##*:}
        echo "== relay load test: store $store, $inst instance(s)"
        if env -u SEALPASS_TEST_STORE SEALPASS_LOAD_STORE="$store" SEALPASS_LOAD_INSTANCES="$inst" \
            cargo test -p sealpass-tests --test relay \
            -- --ignored --nocapture --exact --test-threads 1 load::thousand_pendings_through_the_flow; then
            :
        else
            echo "load: store $store, $inst instance(s): FAILED (exit $?)"
            rc=1
        fi
    done
    return "$rc"
}
if [[ ${1:-} == --configs ]]; then
    shift
    run_configs "$@"
    exit
fi

debug=0
if [[ ${1:-} == --debug ]]; then
    debug=1
    shift
fi
# The four configurations; sqlite:3 only prints why it is not run.
(($# > 0)) || set -- sqlite:1 sqlite:3 postgres:1 postgres:3

lite=() pgc=()
for c in "$@"; do
    case $c in
    sqlite:1) lite+=("$c") ;;
    sqlite:*) echo "load: store sqlite, ${c#sqlite:} instances: $SQLITE_MULTI" ;;
    postgres:[1-9] | postgres:1[0-6]) pgc+=("$c") ;;
    *) echo "bench/load/run.sh: unknown configuration $c (sqlite:1, postgres:N)" >&2; exit 2 ;;
    esac
done

if ((debug)); then
    cargo build -p sealpass-relay --bin sealpass-relay
    unset SEALPASS_TEST_RELAY_BIN
else
    cargo build --release -p sealpass-relay --bin sealpass-relay
    export SEALPASS_TEST_RELAY_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/sealpass-relay"
fi

# Build the test client once (a debug test binary) so the timed runs do
# not include it.
cargo test -p sealpass-tests --test relay --no-run

rc=0
if ((${#lite[@]})); then
    run_configs "${lite[@]}" || rc=1
fi
if ((${#pgc[@]})); then
    bash tests/pg/run.sh bash bench/load/run.sh --configs "${pgc[@]}" || {
        echo "load: PostgreSQL configurations failed (tests/pg/run.sh exit $?)"
        rc=1
    }
fi
exit "$rc"
