#!/usr/bin/env bash
# build-www.sh — build the served accept page into target/www-dist, or (with
# WWW_RELAY_ORIGIN, behind `./build.sh page`) a page hosted apart from the
# relay (docs/PINNING.md §5).
#
#   index.html        served at /accept (integrity= on the script and the CSS)
#   app.js            /static/app.js: www/app.js + the wasm-bindgen web glue,
#                     ONE minified ES module
#   app.css           /static/app.css
#   sealpass_bg.wasm  /static/sealpass_bg.wasm: the seal-only Wasm (no `open`)
#   favicon.svg       /static/favicon.svg (so no browser asks for a missing /favicon.ico)
#   releases.json     /releases.json: signed manifest, SHA-384 of every file above
#
# (The relay's --www DIR serves /accept -> DIR/index.html, /static/X -> DIR/X.)
#
# The Wasm's SRI hash is compiled into app.js and checked by
# fetch(url, {integrity}) before instantiation; app.js's and app.css's hashes
# go into index.html. The manifest is signed with $SEALPASS_RELEASE_KEY, or
# with a development key made on first use (target/www-release.key).
#
# A separately hosted page (WWW_RELAY_ORIGIN set) has the same files, but all
# references relative (app.css, app.js, sealpass_bg.wasm next to index.html),
# its CSP in a <meta http-equiv> tag with connect-src = the relay origin and
# the page's own Wasm (<WWW_PAGE_URL>sealpass_bg.wasm, or 'self' without a
# page URL), and the relay origin compiled into app.js: the page refuses a
# link whose `r` names another relay.
#
# Env: SEALPASS_BIN (sealpass CLI; default target/release then target/debug),
#      SEALPASS_RELEASE_KEY, SEALPASS_RELEASE_VERSION (default: Cargo.toml version),
#      WWW_DIST (output dir, default target/www-dist),
#      WWW_RELAY_ORIGIN (an origin: scheme://host[:port]), WWW_PAGE_URL (the
#      URL of the page's directory, ending in /; needs WWW_RELAY_ORIGIN).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

DIST="${WWW_DIST:-$ROOT/target/www-dist}"
WB="$ROOT/target/www-build"
PKG="$WB/pkg"
WASM_URL=/static/sealpass_bg.wasm
RELAY_ORIGIN="${WWW_RELAY_ORIGIN:-}"
PAGE_URL="${WWW_PAGE_URL:-}"

say() { printf 'build-www: %s\n' "$*"; }
die() {
    printf 'build-www: error: %s\n' "$*" >&2
    exit 1
}

# The meta CSP of a separately hosted page: the relay's header CSP without
# frame-ancestors (ignored in a meta tag) and connect-src as PINNING §5 says.
page_csp() {
    printf "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src %s %s; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; require-trusted-types-for 'script'; trusted-types 'none'" \
        "$RELAY_ORIGIN" "$1"
}

# Exact-form checks (node is needed for esbuild anyway): an origin must be
# its own URL's origin (lower case, no default port, no path, no slash);
# a page URL must be http(s), its own href, end in /, no query or fragment.
if [[ -n $RELAY_ORIGIN ]]; then
    RELAY_ORIGIN=${RELAY_ORIGIN%/}
    node -e 'const u = new URL(process.argv[1]); process.exit(/^https?:$/.test(u.protocol) && u.origin === process.argv[1] ? 0 : 1)' \
        "$RELAY_ORIGIN" 2>/dev/null || die "--relay-origin must be an origin like https://relay.example[:port] (got '$RELAY_ORIGIN')"
    if [[ -n $PAGE_URL ]]; then
        node -e 'const s = process.argv[1], u = new URL(s); process.exit(/^https?:$/.test(u.protocol) && u.href === s && s.endsWith("/") && !u.search && !u.hash && !u.username && !/[;,\s\x27"&|]/.test(s) ? 0 : 1)' \
            "$PAGE_URL" 2>/dev/null || die "--page-url must be the http(s) URL of the page's directory, ending in / (got '$PAGE_URL')"
    fi
    WASM_URL=sealpass_bg.wasm
elif [[ -n $PAGE_URL ]]; then
    die "--page-url needs --relay-origin"
fi

sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"; }

LOCKED=()
git ls-files --error-unmatch Cargo.lock >/dev/null 2>&1 && LOCKED=(--locked)

# 1. Seal-only Wasm with the shared browser settings (scripts/wasm-env.sh:
#    no_std runtime, opt-level s, remapped paths) in its own target dir so the
#    regular release build is untouched. Feature trusted-input: app.js passes
#    only JSON data and its own bytes, so the hostile-value guards the npm
#    package needs are left out (crates/wasm/src/read.rs).
# shellcheck source=scripts/wasm-env.sh
. "$ROOT/scripts/wasm-env.sh"
say "wasm (seal-only, browser settings) -> $PKG"
(
    sealpass_wasm_env "$ROOT" size
    cd "$ROOT/crates/wasm"
    CARGO_TARGET_DIR="$WB" wasm-pack --log-level warn build --mode no-install --release --target web \
        --out-name sealpass --out-dir "$PKG" -- "${LOCKED[@]}" --features "$SEALPASS_WASM_FEATURES,trusted-input" >&2
)
[[ -f $PKG/sealpass.js && -f $PKG/sealpass_bg.wasm ]] || die "wasm-pack produced no package"
# Short import names between the wasm and its glue (~1 KB gzip; see the script).
node "$ROOT/scripts/short-imports.mjs" "$PKG" >&2 || die "short-imports failed"
if grep -q 'export function open' "$PKG/sealpass.js"; then
    die "the page's Wasm exports open(): it must be built without the open feature"
fi

# 2. esbuild (pinned in www/package.json).
ESBUILD="$ROOT/www/node_modules/.bin/esbuild"
if [[ ! -x $ESBUILD ]]; then
    say "npm ci (esbuild) in www/"
    (cd www && npm ci --no-audit --no-fund >&2)
fi

# 3. Stage and bundle into a fresh directory, then swap it in whole, so a
#    running relay never serves a half-written page.
STAGE="$WB/src"
NEW="$DIST.new"
rm -rf "$STAGE" "$NEW"
mkdir -p "$STAGE" "$NEW"
cp www/app.js "$STAGE/app.js"
cp "$PKG/sealpass.js" "$STAGE/sealpass.js"
cp "$PKG/sealpass_bg.wasm" "$NEW/sealpass_bg.wasm"
cp www/favicon.svg "$NEW/favicon.svg"
WASM_SRI=$(sri "$NEW/sealpass_bg.wasm")

# --pure:console.warn drops the glue's warnings about deprecated init
# arguments (app.js passes the current form): bytes under the page budget.
"$ESBUILD" "$STAGE/app.js" --bundle --format=esm --minify --target=es2020 \
    --legal-comments=none --log-level=warning --pure:console.warn \
    "--define:WASM_SRI=\"$WASM_SRI\"" "--define:WASM_URL=\"$WASM_URL\"" \
    "--define:RELAY=\"$RELAY_ORIGIN\"" --outfile="$NEW/app.js"
"$ESBUILD" www/app.css --minify --log-level=warning --outfile="$NEW/app.css"

# No inner script may ever appear in the bundle's HTML-facing parts.
grep -q 'innerHTML\|outerHTML\|insertAdjacentHTML\|document.write' "$NEW/app.js" &&
    die "bundle uses an HTML sink (Trusted Types would block it)"

JS_SRI=$(sri "$NEW/app.js")
CSS_SRI=$(sri "$NEW/app.css")
sed -e "s|%JS_SRI%|$JS_SRI|" -e "s|%CSS_SRI%|$CSS_SRI|" www/index.html >"$NEW/index.html"
if [[ -n $RELAY_ORIGIN ]]; then
    CSP=$(page_csp "${PAGE_URL:+${PAGE_URL}sealpass_bg.wasm}")
    [[ -n $PAGE_URL ]] || CSP=$(page_csp "'self'")
    # Relative references, and the CSP before anything it governs.
    sed -i -e 's|"/static/|"|g' \
        -e "s|^<meta charset=\"utf-8\">\$|&\n<meta http-equiv=\"Content-Security-Policy\" content=\"$CSP\">|" "$NEW/index.html"
    grep -q '/static/' "$NEW/index.html" && die "absolute /static/ reference left in index.html"
    grep -qF "content=\"$CSP\"" "$NEW/index.html" || die "CSP meta tag not written"
    say "separate page for relay $RELAY_ORIGIN; CSP: $CSP"
fi
grep -q '%[A-Z_]*SRI%' "$NEW/index.html" && die "unreplaced SRI placeholder in index.html"

# 4. Signed release manifest.
BIN="${SEALPASS_BIN:-}"
if [[ -z $BIN ]]; then
    for b in target/release/sealpass target/debug/sealpass; do
        [[ -x $b ]] && BIN=$b && break
    done
fi
[[ -n $BIN ]] || die "no sealpass binary (build it: cargo build --release -p sealpass-cli)"
KEY="${SEALPASS_RELEASE_KEY:-$ROOT/target/www-release.key}"
if [[ ! -f $KEY ]]; then
    [[ -n ${SEALPASS_RELEASE_KEY:-} ]] && die "release key $KEY not found"
    say "no release key: making a DEVELOPMENT release key $KEY"
    "$BIN" release keygen --out "$KEY" >/dev/null
fi
PUB=$("$BIN" release pubkey --key "$KEY")
VERSION="${SEALPASS_RELEASE_VERSION:-$(sed -nE 's/^version = "([^"]+)"/\1/p' Cargo.toml | head -n1)}"
# The relay serves /accept and /static/FILE; a static host the directory as is.
LAYOUT=relay
[[ -n $RELAY_ORIGIN ]] && LAYOUT=static
# WWW_SIGN=0: scripts/build-admin.sh runs next and signs the one manifest
# over page and console (one signed manifest per build and version).
if [[ ${WWW_SIGN:-1} != 0 ]]; then
    "$BIN" release sign --key "$KEY" --dir "$NEW" --version "$VERSION" --layout "$LAYOUT" --out "$NEW/releases.json"
fi
printf '%s\n' "$PUB" >"$ROOT/target/www-release.pub"

rm -rf "$DIST.old"
[[ -d $DIST ]] && mv "$DIST" "$DIST.old"
mv "$NEW" "$DIST"
rm -rf "$DIST.old"

# 5. Sizes (the budget is asserted by tests/e2e/budget.sh).
total=0
for f in index.html app.js app.css sealpass_bg.wasm favicon.svg; do
    raw=$(stat -c %s "$DIST/$f")
    gz=$(gzip -9c "$DIST/$f" | wc -c)
    total=$((total + gz))
    printf 'build-www:   %-24s %7d B  %6d B gzip\n' "$f" "$raw" "$gz"
done
say "page total: $total B gzip ($(awk -v t="$total" 'BEGIN{printf "%.1f", t/1024}') KiB)"
if [[ ${WWW_SIGN:-1} != 0 ]]; then say "release $VERSION signed; release public key: $PUB"; else
    say "release $VERSION NOT signed (WWW_SIGN=0): scripts/build-admin.sh signs it with the console"; fi
if [[ -n $RELAY_ORIGIN ]]; then
    # The manifest's url fields are the directory's own (--layout static).
    say "check the hosted page: sealpass release verify --manifest $DIST/releases.json --pubkey $PUB --base-url PAGE_URL (or --dir DIR for a copy)"
else
    say "check a served page: sealpass release verify --manifest $DIST/releases.json --pubkey $PUB --base-url http://127.0.0.1:8080"
fi
say "done: $DIST"
