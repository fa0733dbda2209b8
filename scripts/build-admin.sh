#!/usr/bin/env bash
# build-admin.sh — build the admin console (www-admin/) into DIST/admin/, next
# to the accept page scripts/build-www.sh wrote into DIST, and sign DIST's
# releases.json so the manifest lists the console too. Run it after
# build-www.sh (which replaces DIST whole); `./build.sh serve`, `./build.sh
# page` and tests/e2e/run.sh do (build.sh runs build-www.sh with WWW_SIGN=0,
# so this is the build's one signature).
#
#   admin/index.html  served by the relay at /admin (and /static/admin/index.html)
#   admin/admin.js    /static/admin/admin.js: www-admin/admin.js + the
#                     wasm-bindgen glue of the page's seal-only Wasm, one module
#   admin/admin.css   /static/admin/admin.css
#
# The console seals with the accept page's own Wasm (DIST/sealpass_bg.wasm,
# the seal-only build; it is not copied): its SHA-384 is compiled into
# admin.js and checked by fetch(url, {integrity}) before instantiation, and
# admin.js's and admin.css's hashes go into admin/index.html (SRI). The relay
# serves it with the accept page's CSP (no 'unsafe-inline').
#
# With WWW_RELAY_ORIGIN (behind `./build.sh page`): references relative, a
# <meta http-equiv> CSP whose connect-src is the relay origin and the Wasm
# (<WWW_PAGE_URL>sealpass_bg.wasm, or 'self'), the relay origin compiled in,
# and the manifest signed --layout static. Serve it with the relay started
# with --allow-admin-origin <the console's origin> (the admin routes answer
# CORS only for origins given so; --allow-origin is for the accept page).
#
# Env: as scripts/build-www.sh (WWW_DIST, WWW_RELAY_ORIGIN, WWW_PAGE_URL,
#      SEALPASS_BIN, SEALPASS_RELEASE_KEY, SEALPASS_RELEASE_VERSION).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

DIST="${WWW_DIST:-$ROOT/target/www-dist}"
PKG="$ROOT/target/www-build/pkg"
RELAY_ORIGIN="${WWW_RELAY_ORIGIN:-}"
RELAY_ORIGIN=${RELAY_ORIGIN%/}
PAGE_URL="${WWW_PAGE_URL:-}"
WASM_URL=/static/sealpass_bg.wasm

say() { printf 'build-admin: %s\n' "$*"; }
die() {
    printf 'build-admin: error: %s\n' "$*" >&2
    exit 1
}
sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"; }

[[ -f $DIST/index.html && -f $DIST/sealpass_bg.wasm ]] ||
    die "no built accept page in $DIST: run scripts/build-www.sh first (or ./build.sh serve)"
[[ -f $PKG/sealpass.js && -f $PKG/sealpass_bg.wasm ]] ||
    die "no Wasm package in $PKG: run scripts/build-www.sh first"
cmp -s "$PKG/sealpass_bg.wasm" "$DIST/sealpass_bg.wasm" ||
    die "$DIST/sealpass_bg.wasm is not the Wasm of $PKG: rebuild with scripts/build-www.sh"
if grep -q 'export function open' "$PKG/sealpass.js"; then
    die "the Wasm exports open(): the console must use the seal-only build"
fi
ESBUILD="$ROOT/www/node_modules/.bin/esbuild"
[[ -x $ESBUILD ]] || die "esbuild not installed (scripts/build-www.sh installs it in www/)"
[[ -n $RELAY_ORIGIN ]] && WASM_URL=../sealpass_bg.wasm

STAGE="$ROOT/target/www-build/admin-src"
NEW="$DIST/admin.new"
rm -rf "$STAGE" "$NEW"
mkdir -p "$STAGE" "$NEW"
cp www-admin/admin.js "$STAGE/admin.js"
cp "$PKG/sealpass.js" "$STAGE/sealpass.js"
WASM_SRI=$(sri "$DIST/sealpass_bg.wasm")
"$ESBUILD" "$STAGE/admin.js" --bundle --format=esm --minify --target=es2020 \
    --legal-comments=none --log-level=warning \
    "--define:WASM_SRI=\"$WASM_SRI\"" "--define:WASM_URL=\"$WASM_URL\"" \
    "--define:RELAY=\"$RELAY_ORIGIN\"" --outfile="$NEW/admin.js"
"$ESBUILD" www-admin/admin.css --minify --log-level=warning --outfile="$NEW/admin.css"
grep -q 'innerHTML\|outerHTML\|insertAdjacentHTML\|document.write' "$NEW/admin.js" &&
    die "bundle uses an HTML sink (Trusted Types would block it; text goes through textContent)"

JS_SRI=$(sri "$NEW/admin.js")
CSS_SRI=$(sri "$NEW/admin.css")
sed -e "s|%JS_SRI%|$JS_SRI|" -e "s|%CSS_SRI%|$CSS_SRI|" www-admin/index.html >"$NEW/index.html"
if [[ -n $RELAY_ORIGIN ]]; then
    WASM_SRC="'self'"
    [[ -n $PAGE_URL ]] && WASM_SRC="${PAGE_URL}sealpass_bg.wasm"
    CSP="default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src $RELAY_ORIGIN $WASM_SRC; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; require-trusted-types-for 'script'; trusted-types 'none'"
    sed -i -e 's|"/static/admin/|"|g' \
        -e "s|^<meta charset=\"utf-8\">\$|&\n<meta http-equiv=\"Content-Security-Policy\" content=\"$CSP\">|" "$NEW/index.html"
    grep -q '/static/' "$NEW/index.html" && die "absolute /static/ reference left in admin/index.html"
    grep -qF "content=\"$CSP\"" "$NEW/index.html" || die "CSP meta tag not written"
    say "console for relay $RELAY_ORIGIN; CSP: $CSP"
fi
grep -q '%[A-Z_]*SRI%' "$NEW/index.html" && die "unreplaced SRI placeholder in admin/index.html"
grep -qiE '<script>|<script [^>]*>[^<]|<style|style=|\son[a-z]+=' "$NEW/index.html" &&
    die "admin/index.html has inline script, style or event handlers"

rm -rf "$DIST/admin"
mv "$NEW" "$DIST/admin"

# The manifest now lists the console's files too (same key and layout as
# build-www.sh used).
BIN="${SEALPASS_BIN:-}"
if [[ -z $BIN ]]; then
    for b in target/release/sealpass target/debug/sealpass; do
        [[ -x $b ]] && BIN=$b && break
    done
fi
[[ -n $BIN ]] || die "no sealpass binary (build it: cargo build --release -p sealpass-cli)"
KEY="${SEALPASS_RELEASE_KEY:-$ROOT/target/www-release.key}"
[[ -f $KEY ]] || die "release key $KEY not found (scripts/build-www.sh makes a development one)"
VERSION="${SEALPASS_RELEASE_VERSION:-$(sed -nE 's/^version = "([^"]+)"/\1/p' Cargo.toml | head -n1)}"
LAYOUT=relay
[[ -n $RELAY_ORIGIN ]] && LAYOUT=static
"$BIN" release sign --key "$KEY" --dir "$DIST" --version "$VERSION" --layout "$LAYOUT" --out "$STAGE/releases.json"
mv "$STAGE/releases.json" "$DIST/releases.json"

for f in index.html admin.js admin.css; do
    printf 'build-admin:   %-24s %7d B  %6d B gzip\n' "admin/$f" "$(stat -c %s "$DIST/admin/$f")" "$(gzip -9c "$DIST/admin/$f" | wc -c)"
done
if [[ -n $RELAY_ORIGIN ]]; then
    say "done: $DIST/admin (open <page-url>admin/; releases.json re-signed, layout static)"
else
    say "done: $DIST/admin (served at /admin; releases.json re-signed)"
fi
