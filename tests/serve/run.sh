#!/usr/bin/env bash
# tests/serve/run.sh — `./build.sh serve` as a person uses it (called by
# ./build.sh test, step "hook serve").
#
# Runs the real command (SEALPASS_PROFILE=debug: the binaries `test` built)
# on a free loopback port, four times:
#   1. until the URL is printed, then GET /accept; SIGINT to build.sh's PID:
#      exit 0, last line "stopped", relay + agent gone, data removed;
#   2. again: nothing rebuilt (no "Compiling", the page "up to date", no
#      page build), the URL printed; SIGTERM to the PID: as above;
#   3. SIGINT during start-up (right after the demo-mode warning): no URL
#      printed, "stopped (before the demo was up)", everything gone;
#   4. SIGINT to the whole process group, as Ctrl-C in a terminal sends it.
# The time from start to URL of run 2 is printed (a figure, not asserted:
# speed goals live in ./build.sh bench).
# Ends with `N passed, N failed`; exit status non-zero on any failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
check() { # check NAME CMD...: pass when CMD succeeds
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

if [[ ! -x target/debug/sealpass || ! -x target/debug/sealpass-relay ]]; then
    [[ -n ${SEALPASS_REQUIRE_BIN:-} ]] && { fail "target/debug binaries missing (cargo build --workspace --bins)"; echo "$PASSED passed, $FAILED failed"; exit 1; }
    echo "serve: no target/debug binaries; skipped"
    echo "0 passed, 0 failed"
    exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sealpass-serve-test.XXXXXX")
PID=""
cleanup() {
    [[ -n $PID ]] && kill -KILL -- "-$PID" 2>/dev/null
    [[ -n ${SERVE_KEEP:-} ]] || rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start LOG: ./build.sh serve in its own session (so a group signal reaches
# only it); PID = its PID = its process group. A command started with `&`
# from a script has SIGINT ignored, and a shell cannot trap a signal ignored
# at entry: the launcher puts SIGINT back to default first, as a terminal has it.
start() {
    PORT=$(free_port)
    T0=$(date +%s%3N)
    SEALPASS_PROFILE=debug SEALPASS_DEMO_PORT=$PORT python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' ./build.sh serve >"$1" 2>&1 &
    PID=$!
}

# alive: PID runs (a zombie, exited but not yet reaped, does not count).
alive() { [[ -e /proc/$PID ]] && [[ $(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null) != Z ]]; }

# wait_for LOG REGEX SECS: until a line matches (0) or the process ended/timeout (1).
wait_for() {
    local log=$1 re=$2 end=$(($(date +%s) + $3))
    while (($(date +%s) < end)); do
        grep -qsE "$re" "$log" && return 0
        alive || { grep -qE "$re" "$log"; return; }
        sleep 0.2
    done
    return 1
}

# finish: wait (≤ 60 s) for PID to exit; sets RC (124 on timeout).
finish() {
    local end=$(($(date +%s) + 60))
    while alive && (($(date +%s) < end)); do sleep 0.2; done
    RC=""
    if alive; then
        RC=124
        kill -KILL -- "-$PID" 2>/dev/null
    fi
    wait "$PID" 2>/dev/null
    local w=$?
    [[ -n $RC ]] || RC=$w
    PID=""
}

# The demo's data dir, from its "removed DIR" line.
data_dir() { sed -nE 's/^serve-demo: removed (\S+) .*/\1/p' "$1" | tail -n1; }

http_status() {
    python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception as e:
    print("error", e)
EOF
}

port_closed() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
nothing_left() { # nothing_left DATA: no process names DATA, DATA is gone
    [[ -n $1 ]] && ! pgrep -f -- "$1" >/dev/null && [[ ! -e $1 ]]
}
last_line_is() { [[ $(grep -v '^[[:space:]]*$' "$1" | tail -n1) == "$2" ]]; }

stopped_cleanly() { # stopped_cleanly NAME LOG EXPECTED_LAST_LINE
    local name=$1 log=$2 want=$3 data
    data=$(data_dir "$log")
    check "$name: exit 0 (got $RC)" test "$RC" -eq 0
    check "$name: last line is '$want'" last_line_is "$log" "$want"
    check "$name: relay port $PORT closed" port_closed "$PORT"
    check "$name: no process left, data dir removed (${data:-none found})" nothing_left "$data"
    check "$name: no error printed" bash -c "! grep -qiE 'error|exited' '$log'"
}

URL_RE='^   Open: +http://127\.0\.0\.1:[0-9]+/accept#p='

# 1. First run (may build the page), SIGINT to the PID.
start "$TMP/run1.log"
if wait_for "$TMP/run1.log" "$URL_RE" 900; then
    pass "run 1: URL printed"
    st=$(http_status "http://127.0.0.1:$PORT/accept")
    check "run 1: GET /accept answers 200 (got $st)" test "$st" = 200
    kill -INT "$PID"
    finish
    stopped_cleanly "run 1 (SIGINT to PID)" "$TMP/run1.log" stopped
else
    fail "run 1: no URL (log below)"
    tail -n 40 "$TMP/run1.log"
    finish
fi

# 2. Second run: nothing to rebuild; SIGTERM to the PID.
start "$TMP/run2.log"
if wait_for "$TMP/run2.log" "$URL_RE" 300; then
    t_url=$(($(date +%s%3N) - T0))
    pass "run 2: URL printed"
    echo "     run 2: start to URL $(awk -v t="$t_url" 'BEGIN{printf "%.1f", t/1000}') s (not asserted; see ./build.sh bench)"
    check "run 2: cargo compiled nothing" bash -c "! grep -q 'Compiling' '$TMP/run2.log'"
    check "run 2: page reported up to date" grep -q 'page up to date' "$TMP/run2.log"
    check "run 2: page not built again" bash -c "! grep -q '^build-www: done' '$TMP/run2.log'"
    check "run 2: console not built again" bash -c "! grep -q '^build-admin: done' '$TMP/run2.log'"
    st=$(http_status "http://127.0.0.1:$PORT/admin")
    check "run 2: GET /admin (the console) answers 200 (got $st)" test "$st" = 200
    check "run 2: URL printed once" test "$(grep -cE "$URL_RE" "$TMP/run2.log")" -eq 1
    kill -TERM "$PID"
    finish
    stopped_cleanly "run 2 (SIGTERM to PID)" "$TMP/run2.log" stopped
else
    fail "run 2: no URL (log below)"
    tail -n 40 "$TMP/run2.log"
    finish
fi
check "run 1: page built at most once" test "$(grep -c '^build-www: done' "$TMP/run1.log")" -le 1
check "run 1: console built at most once" test "$(grep -c '^build-admin: done' "$TMP/run1.log")" -le 1

# 3. SIGINT during start-up: no URL afterwards.
start "$TMP/run3.log"
if wait_for "$TMP/run3.log" 'DEMO MODE' 300; then
    kill -INT "$PID"
    finish
    check "run 3: no URL after an interrupted start-up" bash -c "! grep -qE '$URL_RE' '$TMP/run3.log'"
    stopped_cleanly "run 3 (SIGINT during start-up)" "$TMP/run3.log" "stopped (before the demo was up)"
else
    fail "run 3: demo did not begin (log below)"
    tail -n 40 "$TMP/run3.log"
    finish
fi

# 4. Ctrl-C as a terminal sends it: SIGINT to every process of the group.
start "$TMP/run4.log"
if wait_for "$TMP/run4.log" "$URL_RE" 300; then
    kill -INT -- "-$PID"
    finish
    stopped_cleanly "run 4 (SIGINT to the process group)" "$TMP/run4.log" stopped
else
    fail "run 4: no URL (log below)"
    tail -n 40 "$TMP/run4.log"
    finish
fi

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
