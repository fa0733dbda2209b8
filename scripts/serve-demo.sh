#!/usr/bin/env bash
# serve-demo.sh — the local demo behind `./build.sh serve` (which builds first).
#
# Starts the relay on 127.0.0.1:8080 with its SQLite store in a fresh temp
# directory, registers a demo node, starts its node agent, creates a demo
# pending credential and prints the accept URL plus the fingerprint to
# compare. Open the URL, type a secret: the node console reports the
# delivery (slug and where it is stored, never the secret). Ctrl-C stops
# everything and deletes the temp directory.
#
# DEVELOPMENT ONLY: both stores use --dev-insecure-kek, a fixed, publicly
# known key-encryption key.
#
# Env: SEALPASS_DEMO_PORT (default 8080), SEALPASS_DEMO_BIN_DIR (default
# target/release), SEALPASS_DEMO_KEEP=1 (keep the data directory on exit),
# SEALPASS_DEMO_PAGE_BUILT=1 (target/www-dist is current: `./build.sh serve`
# has just built or checked it; without it the page is built here).
#
# SIGINT (Ctrl-C) or SIGTERM stops it at any point: relay and agent are
# stopped, the data removed, "stopped" printed, exit 0. The URL is printed
# only once everything is up.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

PORT="${SEALPASS_DEMO_PORT:-8080}"
BIN_DIR="${SEALPASS_DEMO_BIN_DIR:-$ROOT/target/release}"
RELAY_BIN="$BIN_DIR/sealpass-relay"
SEALPASS="$BIN_DIR/sealpass"
NODE_ID=demo-node
SLUG=demo-token
BASE="http://127.0.0.1:$PORT"

die() {
    printf 'serve-demo: error: %s\n' "$*" >&2
    exit 1
}
[[ -x $RELAY_BIN && -x $SEALPASS ]] || die "build first: ./build.sh build (needs $RELAY_BIN and $SEALPASS)"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "something already listens on 127.0.0.1:$PORT (set SEALPASS_DEMO_PORT)"
fi

# The served page (bundle + seal-only Wasm + SRI + signed releases.json).
DIST="$ROOT/target/www-dist"
if [[ ${SEALPASS_DEMO_PAGE_BUILT:-} != 1 || ! -f $DIST/releases.json ]]; then
    WWW_SIGN=0 SEALPASS_BIN="$SEALPASS" bash scripts/build-www.sh
    # The admin console beside it (/admin); it signs the one releases.json.
    SEALPASS_BIN="$SEALPASS" bash scripts/build-admin.sh
fi

DATA=$(mktemp -d "${TMPDIR:-/tmp}/sealpass-demo.XXXXXX")
PIDS=()
UP=0        # 1 once the URL is printed
SIGNALLED=0 # 1 when stopped by SIGINT/SIGTERM (the normal way: exit 0)
stop() {
    local rc=$? p
    # A second Ctrl-C must not cut the clean-up short.
    trap '' INT TERM
    trap - EXIT
    ((SIGNALLED)) && rc=0
    echo
    echo "serve-demo: stopping relay and node agent..."
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ -n ${SEALPASS_DEMO_KEEP:-} ]]; then
        echo "serve-demo: data kept in $DATA"
    else
        rm -rf "$DATA"
        echo "serve-demo: removed $DATA (demo stores, dev KEK)"
    fi
    if ((SIGNALLED && !UP)); then
        echo "stopped (before the demo was up)"
    elif ((SIGNALLED)); then
        echo "stopped"
    fi
    exit "$rc"
}
trap stop EXIT
trap 'SIGNALLED=1; exit 0' INT TERM

cat <<'EOF'

  !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
  !!  DEMO MODE: relay and node keystores use --dev-insecure-kek, a FIXED,  !!
  !!  PUBLICLY KNOWN key-encryption key. Anything stored here is readable  !!
  !!  by anyone with the files. Never use this for real secrets.           !!
  !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

EOF

# Relay: register the demo node (prints its HMAC secret once, as JSON),
# then serve. Its output goes to the console with a [relay] prefix.
"$RELAY_BIN" --data-dir "$DATA/relay" --dev-insecure-kek node add "$NODE_ID" \
    >"$DATA/$NODE_ID.json" 2>/dev/null || die "could not register $NODE_ID"
"$RELAY_BIN" --data-dir "$DATA/relay" --dev-insecure-kek --listen "127.0.0.1:$PORT" --www "$DIST" \
    > >(tee -a "$DATA/relay.log" | sed -u 's/^/[relay] /') 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    grep -q '^listening on ' "$DATA/relay.log" 2>/dev/null && break
    kill -0 "${PIDS[0]}" 2>/dev/null || die "the relay exited (see above)"
    sleep 0.1
done
grep -q '^listening on ' "$DATA/relay.log" || die "the relay did not start"
TOKEN=$(cat "$DATA/relay/admin.token")

# Node agent: seals its HMAC secret into its own keystore, then polls.
"$SEALPASS" node run --relay "$BASE" --node-id "$NODE_ID" --data-dir "$DATA/node" \
    --dev-insecure-kek --register-secret-file "$DATA/$NODE_ID.json" --poll-interval 1 \
    > >(tee -a "$DATA/node.log" | sed -u 's/^/[node]  /') 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    grep -q 'agent started' "$DATA/node.log" 2>/dev/null && break
    kill -0 "${PIDS[1]}" 2>/dev/null || die "the node agent exited (see above)"
    sleep 0.1
done
grep -q 'agent started' "$DATA/node.log" || die "the node agent did not start within 10 s"
rm -f "$DATA/$NODE_ID.json"

# Demo pending credential via the admin API.
BODY="{\"node_ids\":[\"$NODE_ID\"],\"slug\":\"$SLUG\",\"injection_method\":\"env\",\"field_name\":\"DEMO_TOKEN\"}"
if command -v curl >/dev/null 2>&1; then
    RESP=$(curl -fsS -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data "$BODY" "$BASE/api/v1/admin/pending") || die "could not create the pending credential"
else
    RESP=$(TOKEN="$TOKEN" BODY="$BODY" BASE="$BASE" node -e '
        fetch(process.env.BASE + "/api/v1/admin/pending", {method: "POST",
          headers: {Authorization: "Bearer " + process.env.TOKEN, "Content-Type": "application/json"},
          body: process.env.BODY}).then(async r => { const t = await r.text();
          if (r.status !== 201) { console.error(t); process.exit(1); } console.log(t); })') ||
        die "could not create the pending credential"
fi
PENDING=$(sed -nE 's/.*"pending_id":"([A-Za-z0-9_-]{22})".*/\1/p' <<<"$RESP")
[[ -n $PENDING ]] || die "unexpected answer: $RESP"

FP=""
for _ in $(seq 150); do
    FP=$(sed -nE "s/^pending $PENDING: one-time key fingerprint ([0-9a-f-]+).*/\1/p" "$DATA/node.log" | head -n1)
    [[ -n $FP ]] && break
    sleep 0.2
done

# The node's identity (printed by the agent at start) pins the link
# (docs/PINNING.md §4): the page then checks it and asks no question.
NIK=$(sed -nE "s/^node $NODE_ID: identity fingerprint ([0-9a-f-]+) \(public key ([A-Za-z0-9_-]{43})\).*/\2/p" "$DATA/node.log" | head -n1)
IFP=$(sed -nE "s/^node $NODE_ID: identity fingerprint ([0-9a-f-]+) .*/\1/p" "$DATA/node.log" | head -n1)

cat <<EOF

  ==========================================================================
   Open:        $BASE/accept#p=$PENDING${NIK:+&n=$NODE_ID:$NIK}
                (pinned to node $NODE_ID's identity: nothing to compare)
   Unpinned:    $BASE/accept#$PENDING
   Fingerprint: ${IFP:-${FP:-"(node has not posted its key yet; watch the [node] lines)"}}
                For the unpinned link the page must show exactly this
                fingerprint for node $NODE_ID. If it differs, do not send.
   Then type any test secret and press "Seal and send". The [node] line
   "delivered slug=$SLUG ..." confirms it; read it back with:
     $SEALPASS node secret get --data-dir $DATA/node --dev-insecure-kek $SLUG
   Check the served page against its signed manifest:
     $SEALPASS release verify --manifest $DIST/releases.json \\
       --pubkey $(cat "$ROOT/target/www-release.pub") --base-url $BASE
   Admin console: $BASE/admin
                admin token of this demo relay: $TOKEN
                (sign in with it, pin $NODE_ID after comparing its identity
                fingerprint above, create a pending, enter a secret right
                there; the token is printed only because this relay is a
                throw-away demo)
   Data: $DATA (deleted on exit).   Ctrl-C stops everything.
  ==========================================================================

EOF

UP=1
# Run until Ctrl-C, or until the relay or the agent dies. (`wait` on a
# background sleep: a signal is handled at once, not after the sleep.)
while kill -0 "${PIDS[0]}" 2>/dev/null && kill -0 "${PIDS[1]}" 2>/dev/null; do
    sleep 1 &
    wait $! || true
done
# Ctrl-C reaches the relay and the agent too, and they stop at once; the
# signal for this script may be a moment behind (via ./build.sh serve).
sleep 0.5 &
wait $! || true
echo "serve-demo: the relay or the node agent exited" >&2
exit 1
