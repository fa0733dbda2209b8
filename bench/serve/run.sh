#!/usr/bin/env bash
# bench/serve/run.sh [RUNS] — how long a second `./build.sh serve` takes to
# print its accept URL (issue #15's goal: <= 20 s on a 2-core machine), as a
# person would run it (release binaries, everything already built once).
# One warm-up run (builds what is missing), then RUNS timed runs (default
# 5), each stopped with SIGTERM as soon as the URL is printed. Prints
# "serve: ..." lines for bench/report.mjs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
RUNS=${1:-5}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sealpass-serve-bench.XXXXXX")
PID=""
trap '[[ -n $PID ]] && kill -KILL -- "-$PID" 2>/dev/null; rm -rf "$TMP"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
alive() { [[ -e /proc/$PID ]] && [[ $(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null) != Z ]]; }

# one LOG TIMEOUT_S: ms from start to the URL line, or fails.
one() {
    local log=$1 t0 end
    t0=$(date +%s%3N)
    SEALPASS_DEMO_PORT=$(free_port) python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' ./build.sh serve >"$log" 2>&1 &
    PID=$!
    end=$(($(date +%s) + $2))
    until grep -qsE '^   Open: ' "$log"; do
        alive && (($(date +%s) < end)) || { echo "serve: no URL (see below)" >&2; tail -n 20 "$log" >&2; return 1; }
        sleep 0.05
    done
    echo $(($(date +%s%3N) - t0))
    kill -TERM "$PID"
    wait "$PID" || true
    PID=""
}

one "$TMP/warmup.log" 3600 >/dev/null
times=()
for ((i = 1; i <= RUNS; i++)); do
    times+=("$(one "$TMP/run$i.log" 600)")
done
grep -q 'Compiling' "$TMP"/run*.log && echo "serve: warning: a timed run compiled something" >&2
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
min=$(head -n1 <<<"$sorted")
max=$(tail -n1 <<<"$sorted")
med=$(sed -n "$(((RUNS + 1) / 2))p" <<<"$sorted")
awk -v a="$min" -v m="$med" -v b="$max" -v n="$RUNS" -v c="$(nproc)" 'BEGIN {
    printf "serve: second run, start to URL: min %.1f s, median %.1f s, max %.1f s (%d runs, release binaries, %d cores)\n", a / 1000, m / 1000, b / 1000, n, c
}'
