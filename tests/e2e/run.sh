#!/usr/bin/env bash
# tests/e2e/run.sh — the accept page end to end (called by ./build.sh test).
#
# Builds the served page (scripts/build-www.sh), checks the 27.5 KB gzip
# budget and the signed release manifest over HTTP, then starts a real relay
# (+ a second relay serving a tampered copy of the page) and a real node
# agent, and drives system Chromium and Firefox through tests/e2e/e2e.mjs.
# Then tests/e2e/layout.mjs: every state at 320/390/1280 px in light and dark
# mode, screenshots, fingerprint-not-clipped and contrast checks.
# Then the page hosted apart from the relay (docs/PINNING.md §4, §5): built
# with `./build.sh page` for the relay's origin, served by a plain static
# server (tests/e2e/static-server.mjs) on another loopback origin that the
# relay allows (--allow-origin), driven through tests/e2e/pinned.mjs; when
# sealpass-tests' hostile-relay and `inject --browser --page-url` exist, also
# through hostile proxies and with a link printed by inject.
# Then the admin console (scripts/build-admin.sh, tests/e2e/admin.mjs), served
# by the relay and as hosted apart.
# Finally searches the relay's database files and every log for the secrets.
# Ends with `N passed, N failed`; exit status non-zero on any failure.
#
# Env: E2E_BROWSERS="chrome firefox", E2E_BIN_DIR (default target/debug if
# both binaries are there, else target/release), E2E_KEEP=1 keeps the temp dir.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export PUPPETEER_SKIP_DOWNLOAD=1

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
finish() {
    echo "$PASSED passed, $FAILED failed"
    ((FAILED == 0)) || exit 1
    exit 0
}

BIN_DIR="${E2E_BIN_DIR:-}"
if [[ -z $BIN_DIR ]]; then
    for d in target/debug target/release; do
        if [[ -x $d/sealpass && -x $d/sealpass-relay ]]; then
            BIN_DIR=$d
            break
        fi
    done
fi
if [[ -z $BIN_DIR || ! -x $BIN_DIR/sealpass || ! -x $BIN_DIR/sealpass-relay ]]; then
    fail "binaries: sealpass and sealpass-relay not built (cargo build --workspace --bins)"
    finish
fi
SEALPASS="$ROOT/$BIN_DIR/sealpass"
RELAY_BIN="$ROOT/$BIN_DIR/sealpass-relay"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sealpass-e2e.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    if [[ -n ${E2E_KEEP:-} ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- page build
DIST="$ROOT/target/www-dist"
if SEALPASS_BIN="$SEALPASS" bash scripts/build-www.sh >"$TMP/build-www.log" 2>&1; then
    pass "build: scripts/build-www.sh -> target/www-dist"
else
    cat "$TMP/build-www.log"
    fail "build: scripts/build-www.sh"
    finish
fi
grep -E '^build-www:   ' "$TMP/build-www.log"

# ---------------------------------------------------------------- budget
budget() { # DIR: each of tests/e2e/budget.sh's verdicts (size, no SIMD, no source paths) as a check
    local line out
    out=$(bash tests/e2e/budget.sh "$1")
    [[ -n $out ]] || { fail "budget: no verdict from tests/e2e/budget.sh"; return; }
    while IFS= read -r line; do
        if [[ $line == ok* ]]; then pass "${line#ok   }"; else fail "${line#FAIL }"; fi
    done <<<"$out"
}
budget "$DIST"

# No inline script or style in the page source.
if grep -qiE '<script>|<script [^>]*>[^<]|<style|style=|\son[a-z]+=' "$DIST/index.html"; then
    fail "page: index.html has inline script/style/handlers"
else
    pass "page: no inline script, style or event handlers in index.html"
fi
if grep -q 'integrity="sha384-' "$DIST/index.html" && [[ $(grep -c 'integrity="sha384-' "$DIST/index.html") -eq 2 ]]; then
    pass "page: script and stylesheet carry sha384 integrity"
else
    fail "page: missing integrity attributes"
fi

# ---------------------------------------------------------------- relays + node
start_relay() { # NAME WWW_DIR [RELAY ARGS...] -> sets URL_<NAME>
    local name=$1 www=$2 url
    shift 2
    "$RELAY_BIN" --data-dir "$TMP/$name" --dev-insecure-kek --listen 127.0.0.1:0 --www "$www" \
        --test-min-expiry-secs 1 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PIDS+=($!)
    for _ in $(seq 100); do
        url=$(sed -nE '1s/^listening on (http:[^ ]+).*/\1/p' "$TMP/$name.out")
        [[ -n $url ]] && break
        sleep 0.1
    done
    [[ -n $url ]] || { cat "$TMP/$name.err"; return 1; }
    printf -v "URL_$name" '%s' "$url"
}

# The static host of the separately built pages (started first: the relay
# must name its origin in --allow-origin, the pages the relay's origin).
PAGES="$TMP/pages"
mkdir -p "$PAGES"
node tests/e2e/static-server.mjs "$PAGES" >"$TMP/static.out" 2>"$TMP/static.err" &
PIDS+=($!)
PAGE_ORIGIN=""
for _ in $(seq 100); do
    PAGE_ORIGIN=$(sed -nE '1s/^listening on (http:[^ ]+).*/\1/p' "$TMP/static.out")
    [[ -n $PAGE_ORIGIN ]] && break
    sleep 0.1
done
ALLOW=()
if [[ -z $PAGE_ORIGIN ]]; then
    fail "static server: did not start ($(cat "$TMP/static.err"))"
elif "$RELAY_BIN" --help 2>&1 | grep -q -- '--allow-origin'; then
    ALLOW=(--allow-origin "$PAGE_ORIGIN")
    # The console hosted apart (PAGE_ORIGIN/direct/admin/): admin CORS too.
    ALLOW+=(--allow-admin-origin "$PAGE_ORIGIN")
else
    fail "relay: no --allow-origin (PINNING §5): the page hosted apart cannot be tested"
fi

mkdir -p "$TMP/relay" "$TMP/tamper-www"
cp "$DIST"/* "$TMP/tamper-www/"
if "$RELAY_BIN" --data-dir "$TMP/relay" --dev-insecure-kek node add web-1 >"$TMP/web-1.json" 2>>"$TMP/relay.err" &&
    "$RELAY_BIN" --data-dir "$TMP/relay" --dev-insecure-kek node add idle-1 >/dev/null 2>>"$TMP/relay.err" &&
    start_relay relay "$DIST" "${ALLOW[@]}" && start_relay tamper "$TMP/tamper-www"; then
    pass "relay: started ($URL_relay; tampered copy at $URL_tamper)"
else
    fail "relay: could not start"
    finish
fi

# Release manifest, checked over HTTP against the served page.
PUB=$(cat target/www-release.pub)
if "$SEALPASS" release verify --manifest "$DIST/releases.json" --pubkey "$PUB" --base-url "$URL_relay" >"$TMP/verify.out" 2>&1; then
    pass "release verify: served page matches the signed manifest ($(head -n1 "$TMP/verify.out"))"
else
    fail "release verify: $(cat "$TMP/verify.out")"
fi
if "$SEALPASS" release verify --manifest "$URL_relay/releases.json" --pubkey "$PUB" --base-url "$URL_relay" >/dev/null 2>&1; then
    pass "release verify: manifest fetched by URL verifies"
else
    fail "release verify: manifest by URL"
fi
printf ' ' >>"$TMP/tamper-www/app.css"
out=$("$SEALPASS" release verify --manifest "$DIST/releases.json" --pubkey "$PUB" --base-url "$URL_tamper" 2>&1)
if [[ $out == "error 8802 "* ]]; then pass "release verify: one changed byte on the server -> 8802"; else fail "release verify tampered: $out"; fi
cp "$DIST/app.css" "$TMP/tamper-www/app.css"

NODE_DIR="$TMP/node"
"$SEALPASS" node run --relay "$URL_relay" --node-id web-1 --data-dir "$NODE_DIR" --dev-insecure-kek \
    --register-secret-file "$TMP/web-1.json" --poll-interval 0.3 >"$TMP/node.out" 2>"$TMP/node.err" &
PIDS+=($!)
for _ in $(seq 100); do
    grep -q 'agent started' "$TMP/node.out" && break
    sleep 0.1
done
if grep -q 'agent started' "$TMP/node.out"; then pass "node agent: started"; else
    cat "$TMP/node.err"
    fail "node agent: did not start"
    finish
fi

# ---------------------------------------------------------------- browsers
if [[ ! -d tests/e2e/node_modules/puppeteer-core ]]; then
    (cd tests/e2e && npm ci --no-audit --no-fund >"$TMP/npm.log" 2>&1) || {
        cat "$TMP/npm.log"
        fail "npm ci (puppeteer-core)"
        finish
    }
fi
SECRETS="$TMP/secrets.txt"
: >"$SECRETS"
for b in ${E2E_BROWSERS:-chrome firefox}; do
    # Screenshots of every state go to a temp dir (a test must not edit the
    # checkout); SEALPASS_UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/.
    shots="$TMP/screenshots-$b"
    [[ $b == chrome && ${SEALPASS_UPDATE_SCREENSHOTS:-0} == 1 ]] && shots="$ROOT/docs/screenshots"
    E2E_RELAY=$URL_relay E2E_TAMPER_RELAY=$URL_tamper E2E_TAMPER_WWW="$TMP/tamper-www" E2E_DIST="$DIST" \
        E2E_ADMIN_TOKEN_FILE="$TMP/relay/admin.token" E2E_SEALPASS="$SEALPASS" E2E_NODE_DIR="$NODE_DIR" \
        E2E_NODE_LOG="$TMP/node.out" E2E_SCREENSHOTS="$shots" E2E_SECRETS_FILE="$SECRETS" E2E_MIN_EXPIRY=2 \
        timeout 300 node tests/e2e/e2e.mjs "$b" 2>&1 | tee "$TMP/e2e-$b.log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$TMP/e2e-$b.log" | tail -n1)
    if [[ -n $line ]]; then
        PASSED=$((PASSED + ${line%% *}))
        f=${line#*, }
        FAILED=$((FAILED + ${f%% *}))
    else
        fail "$b: e2e.mjs did not finish"
    fi
done

# ---------------------------------------------------------------- layout and contrast (issue 15)
# tests/e2e/layout.mjs: each state of the page at 320, 390 and 1280 px, light
# and dark, screenshotted into target/e2e-layout/<browser>/ (build output, not
# the checkout), with the fingerprint-not-clipped and WCAG AA contrast checks.
# SEALPASS_UPDATE_SCREENSHOTS=1 also copies a few (Chromium) to docs/screenshots/.
for b in ${E2E_BROWSERS:-chrome firefox}; do
    lshots="$ROOT/target/e2e-layout/$b"
    rm -rf "$lshots"
    E2E_RELAY=$URL_relay E2E_ADMIN_TOKEN_FILE="$TMP/relay/admin.token" E2E_NODE_LOG="$TMP/node.out" \
        E2E_SCREENSHOTS="$lshots" E2E_SECRETS_FILE="$SECRETS" \
        timeout 400 node tests/e2e/layout.mjs "$b" 2>&1 | tee "$TMP/layout-$b.log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$TMP/layout-$b.log" | tail -n1)
    if [[ -n $line ]]; then
        PASSED=$((PASSED + ${line%% *}))
        f=${line#*, }
        FAILED=$((FAILED + ${f%% *}))
        echo "     (screenshots: $lshots)"
    else
        fail "$b: layout.mjs did not finish"
    fi
    if [[ $b == chrome && ${SEALPASS_UPDATE_SCREENSHOTS:-0} == 1 ]]; then
        for n in unpinned-ready-320-light unpinned-ready-390-dark compare-first-390-light pinned-ready-1280-dark already-delivered-390-dark; do
            cp "$lshots/$n.png" "$ROOT/docs/screenshots/layout-$n.png"
        done
    fi
done

# ---------------------------------------------------------------- page hosted apart
# page_build NAME RELAY_ORIGIN [PAGE_URL]: ./build.sh page into $PAGES/NAME.
page_build() {
    local name=$1 origin=$2 url=${3:-}
    ./build.sh page --relay-origin "$origin" ${url:+--page-url "$url"} --out "$PAGES/$name" >"$TMP/page-$name.log" 2>&1 ||
        { tail -n 20 "$TMP/page-$name.log"; return 1; }
}
csp_of() { sed -nE 's/.*<meta http-equiv="Content-Security-Policy" content="([^"]*)">.*/\1/p' "$1/index.html"; }
connect_of() { csp_of "$1" | tr ';' '\n' | sed -nE 's/^ *connect-src (.*)$/\1/p'; }

if [[ -n $PAGE_ORIGIN ]] && page_build direct "$URL_relay" "$PAGE_ORIGIN/direct/" &&
    page_build noself "$URL_relay/"; then
    pass "./build.sh page: built for relay $URL_relay (page $PAGE_ORIGIN/direct/, and one without --page-url)"
    budget "$PAGES/direct"
    got=$(connect_of "$PAGES/direct")
    want="$URL_relay $PAGE_ORIGIN/direct/sealpass_bg.wasm"
    if [[ $got == "$want" ]]; then pass "page CSP: connect-src is exactly the relay and <page-url>sealpass_bg.wasm"; else
        fail "page CSP: connect-src '$got', want '$want'"
    fi
    got=$(connect_of "$PAGES/noself")
    if [[ $got == "$URL_relay 'self'" ]]; then pass "page CSP without --page-url: connect-src is exactly the relay and 'self'"; else
        fail "page CSP without --page-url: connect-src '$got'"
    fi
    csp=$(csp_of "$PAGES/direct")
    miss=""
    for d in "default-src 'none'" "script-src 'self' 'wasm-unsafe-eval'" "style-src 'self'" "base-uri 'none'" \
        "form-action 'none'" "require-trusted-types-for 'script'" "trusted-types 'none'"; do
        [[ $csp == *"$d"* ]] || miss+=" [$d]"
    done
    if [[ -z $miss && $csp != *frame-ancestors* ]]; then pass "page CSP: strict meta policy (no frame-ancestors in a meta tag)"; else
        fail "page CSP: missing$miss or has frame-ancestors: $csp"
    fi
    if ! grep -qE '(src|href)="/' "$PAGES/direct/index.html" && grep -q 'src="app.js"' "$PAGES/direct/index.html" &&
        grep -q 'href="app.css"' "$PAGES/direct/index.html" && [[ $(grep -c 'integrity="sha384-' "$PAGES/direct/index.html") -eq 2 ]] &&
        grep -q '"sealpass_bg.wasm"' "$PAGES/direct/app.js" && ! grep -q '/static/' "$PAGES/direct/app.js"; then
        pass "page: all references relative, SRI on script and stylesheet"
    else
        fail "page: absolute references or missing SRI"
    fi
    if "$SEALPASS" release verify --manifest "$PAGES/direct/releases.json" --pubkey "$PUB" --dir "$PAGES/direct" >"$TMP/verify-page.out" 2>&1; then
        pass "page: its releases.json is signed and matches its files"
    else
        fail "page release verify: $(cat "$TMP/verify-page.out")"
    fi
    # As served by the static host: the manifest's URLs are the directory's.
    if "$SEALPASS" release verify --manifest "$PAGES/direct/releases.json" --pubkey "$PUB" --base-url "$PAGE_ORIGIN/direct" >"$TMP/verify-page-url.out" 2>&1; then
        pass "page: release verify --base-url <page URL> checks what the static host serves"
    else
        fail "page release verify --base-url: $(cat "$TMP/verify-page-url.out")"
    fi
    out=$(./build.sh page --relay-origin "$URL_relay/path" --out "$TMP/never" 2>&1)
    if [[ ! -e $TMP/never && $out == *"must be an origin"* ]]; then pass "./build.sh page refuses a relay URL with a path"; else
        fail "./build.sh page accepted '$URL_relay/path'"
    fi
    out=$(./build.sh page --relay-origin "$URL_relay" --page-url "$PAGE_ORIGIN/direct" --out "$TMP/never" 2>&1)
    if [[ ! -e $TMP/never && $out == *"ending in /"* ]]; then pass "./build.sh page refuses a page URL not ending in /"; else
        fail "./build.sh page accepted a page URL without a trailing /"
    fi
    out=$(./build.sh page --relay-origin "$URL_relay" --page-url "$PAGE_ORIGIN/direct/?x=1/" --out "$TMP/never" 2>&1)
    if [[ ! -e $TMP/never && $out == *"ending in /"* ]]; then pass "./build.sh page refuses a page URL with a query"; else
        fail "./build.sh page accepted a page URL with a query"
    fi

    # Hostile proxies in front of the relay (sealpass-tests), one per mode.
    HOSTILE="$ROOT/$BIN_DIR/hostile-relay"
    PROXY_ENV=()
    if [[ -x $HOSTILE ]]; then
        for mode in swap-identity swap-both swap-view add-target swap-pubkey fake-retry; do
            sd="$TMP/proxy-$mode"
            mkdir -p "$sd"
            "$HOSTILE" --upstream "$URL_relay" --mode "$mode" --state-dir "$sd" >"$sd.out" 2>"$sd.err" &
            PIDS+=($!)
            purl=""
            for _ in $(seq 100); do
                purl=$(sed -nE 's/^listening on (http:[^ ]+).*/\1/p' "$sd.out" | head -n1)
                [[ -n $purl ]] && break
                sleep 0.1
            done
            if [[ -n $purl ]] && page_build "proxy-$mode" "$purl" "$PAGE_ORIGIN/proxy-$mode/"; then
                v=E2E_PROXY_${mode^^}
                PROXY_ENV+=("${v//-/_}=$purl|$sd|$PAGE_ORIGIN/proxy-$mode/")
            else
                fail "hostile-relay --mode $mode: did not start or its page did not build ($(cat "$sd.err"))"
            fi
        done
    else
        fail "hostile-relay not built ($HOSTILE): hostile-relay page tests not run"
    fi
    INJECT_ENV=()
    if "$SEALPASS" inject --help 2>&1 | grep -q -- '--page-url'; then
        INJECT_ENV=(E2E_INJECT=1)
    else
        fail "sealpass inject has no --page-url: the inject --browser link test not run"
    fi

    for b in ${E2E_BROWSERS:-chrome firefox}; do
        shots="$TMP/screenshots-$b"
        [[ $b == chrome && ${SEALPASS_UPDATE_SCREENSHOTS:-0} == 1 ]] && shots="$ROOT/docs/screenshots"
        mkdir -p "$shots"
        env E2E_RELAY="$URL_relay" E2E_PAGE_URL="$PAGE_ORIGIN/direct/" E2E_OTHER_ORIGIN="$URL_tamper" \
            E2E_ADMIN_TOKEN_FILE="$TMP/relay/admin.token" E2E_SEALPASS="$SEALPASS" E2E_NODE_DIR="$NODE_DIR" \
            E2E_NODE_LOG="$TMP/node.out" E2E_SCREENSHOTS="$shots" E2E_SECRETS_FILE="$SECRETS" \
            "${PROXY_ENV[@]}" "${INJECT_ENV[@]}" \
            timeout 400 node tests/e2e/pinned.mjs "$b" 2>&1 | tee "$TMP/pinned-$b.log"
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$TMP/pinned-$b.log" | tail -n1)
        if [[ -n $line ]]; then
            PASSED=$((PASSED + ${line%% *}))
            f=${line#*, }
            FAILED=$((FAILED + ${f%% *}))
        else
            fail "$b: pinned.mjs did not finish"
        fi
    done
else
    fail "./build.sh page: could not build the separately hosted page"
fi

# ---------------------------------------------------------------- admin console
# The console (www-admin/, scripts/build-admin.sh) beside the served page,
# driven through tests/e2e/admin.mjs against the same relay and node agent;
# also as hosted apart when `./build.sh page` built it into $PAGES/direct.
if SEALPASS_BIN="$SEALPASS" bash scripts/build-admin.sh >"$TMP/build-admin.log" 2>&1; then
    pass "build: scripts/build-admin.sh -> target/www-dist/admin"
    if grep -qiE '<script>|<script [^>]*>[^<]|<style|style=|\son[a-z]+=' "$DIST/admin/index.html"; then
        fail "console: admin/index.html has inline script/style/handlers"
    elif [[ $(grep -c 'integrity="sha384-' "$DIST/admin/index.html") -eq 2 ]]; then
        pass "console: no inline script or style; script and stylesheet carry sha384 integrity"
    else
        fail "console: missing integrity attributes"
    fi
    csp=$(node -e 'fetch(process.argv[1]).then((r) => console.log(r.status === 200 ? r.headers.get("content-security-policy") : ""))' "$URL_relay/admin" 2>/dev/null)
    if [[ $csp == *"default-src 'none'"* && $csp != *unsafe-inline* ]]; then pass "console: /admin served with the strict CSP"; else
        fail "console: /admin CSP '$csp'"
    fi
    if grep -q '"admin/admin.js"' "$DIST/releases.json" &&
        "$SEALPASS" release verify --manifest "$DIST/releases.json" --pubkey "$PUB" --base-url "$URL_relay" >"$TMP/verify-admin.out" 2>&1; then
        pass "console: listed in the signed releases.json, which the served files match"
    else
        fail "console release verify: $(cat "$TMP/verify-admin.out" 2>/dev/null)"
    fi
    ADMIN_ENV=()
    if [[ -f $PAGES/direct/admin/index.html ]]; then
        ADMIN_ENV=(E2E_ADMIN_PAGE_URL="$PAGE_ORIGIN/direct/")
    else
        fail "console: ./build.sh page did not build the console into $PAGES/direct/admin"
    fi
    # Hostile proxies for the console (one per mode and browser: each
    # test reads its proxy's envelopes.jsonl).
    for b in ${E2E_BROWSERS:-chrome firefox}; do
        for mode in admin-identity add-other-target change-context; do
            sd="$TMP/proxy-admin-$b-$mode"
            mkdir -p "$sd"
            "$ROOT/$BIN_DIR/hostile-relay" --upstream "$URL_relay" --mode "$mode" --state-dir "$sd" >"$sd.out" 2>"$sd.err" &
            PIDS+=($!)
            purl=""
            for _ in $(seq 100); do
                purl=$(sed -nE 's/^listening on (http:[^ ]+).*/\1/p' "$sd.out" | head -n1)
                [[ -n $purl ]] && break
                sleep 0.1
            done
            v=E2E_ADMIN_PROXY_${mode^^}
            [[ -n $purl ]] && printf -v "PX_${b}_${v//-/_}" '%s' "${v//-/_}=$purl|$sd"
        done
    done
    for b in ${E2E_BROWSERS:-chrome firefox}; do
        APX=()
        for v in ADMIN_IDENTITY ADD_OTHER_TARGET CHANGE_CONTEXT; do
            n="PX_${b}_E2E_ADMIN_PROXY_$v"
            [[ -n ${!n:-} ]] && APX+=("${!n}")
        done
        env E2E_RELAY="$URL_relay" E2E_ADMIN_TOKEN_FILE="$TMP/relay/admin.token" E2E_SEALPASS="$SEALPASS" \
            E2E_NODE_DIR="$NODE_DIR" E2E_NODE_LOG="$TMP/node.out" E2E_SECRETS_FILE="$SECRETS" \
            E2E_SCREENSHOTS="$TMP/screenshots-$b" "${ADMIN_ENV[@]}" "${APX[@]}" \
            timeout 400 node tests/e2e/admin.mjs "$b" 2>&1 | tee "$TMP/admin-$b.log"
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$TMP/admin-$b.log" | tail -n1)
        if [[ -n $line ]]; then
            PASSED=$((PASSED + ${line%% *}))
            f=${line#*, }
            FAILED=$((FAILED + ${f%% *}))
        else
            fail "$b: admin.mjs did not finish"
        fi
    done
else
    tail -n 20 "$TMP/build-admin.log"
    fail "build: scripts/build-admin.sh"
fi

# ---------------------------------------------------------------- leak search
# The relay's database (and WAL), every log and the node's console must not
# contain any secret typed in the browsers.
leaks=0
n=0
while IFS= read -r s; do
    [[ -z $s ]] && continue
    n=$((n + 1))
    if grep -rlaF -- "$s" "$TMP/relay" "$TMP/tamper" "$TMP"/proxy-* "$TMP"/*.out "$TMP"/*.err 2>/dev/null; then
        leaks=$((leaks + 1))
    fi
done <"$SECRETS"
if ((n > 0 && leaks == 0)); then
    pass "leak search: $n secret(s) absent from relay DB files ($(find "$TMP/relay" -type f | wc -l) files), all relay/node/static-server logs and every hostile proxy's files ($(find "$TMP" -path "$TMP/proxy-*" -type f 2>/dev/null | wc -l))"
else
    fail "leak search: $leaks of $n secrets found (or none recorded)"
fi
finish
