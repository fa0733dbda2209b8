#!/usr/bin/env bash
# scripts/pack.sh — build the `sealpass` npm package (called by `./build.sh pack`).
#
#   1. wasm-pack (release) of crates/wasm three times into target/wasm/npm/:
#        web/        --target web     default features (seal-only, no `open`)
#        node/       --target nodejs  default features (seal-only)
#        node-open/  --target nodejs  --features open  (for `sealpass/node-open`)
#   2. assemble pkg/ from those outputs and pkg-template/
#      (pkg-template/build/assemble.mjs: version from Cargo.toml, types from
#      src/error.rs and the wasm-bindgen .d.ts, README error table)
#   3. npm pack -> pkg/sealpass-X.Y.Z.tgz; its path is the last line printed.
#
# Options: --skip-wasm  reuse the existing target/wasm/npm/ outputs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

SKIP_WASM=0
for arg in "$@"; do
    case $arg in
    --skip-wasm) SKIP_WASM=1 ;;
    *)
        echo "pack.sh: unknown argument '$arg'" >&2
        exit 2
        ;;
    esac
done

WASM_DIR="$ROOT/target/wasm/npm"
PKG_DIR="$ROOT/pkg"

# Version: `version = "..."` of Cargo.toml's [workspace.package] section
# (every crate inherits it).
VERSION=$(awk '
    /^\[/ { in_pkg = ($0 == "[workspace.package]") }
    in_pkg && /^version[[:space:]]*=/ { gsub(/.*=[[:space:]]*"|".*/, ""); print; exit }
' Cargo.toml)
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || {
    echo "pack.sh: cannot read the version from Cargo.toml" >&2
    exit 1
}

# --locked only when Cargo.lock is committed (same rule as build.sh).
LOCKED=()
if git -C "$ROOT" ls-files --error-unmatch Cargo.lock >/dev/null 2>&1; then
    LOCKED=(--locked)
fi

# shellcheck source=scripts/wasm-env.sh
. "$ROOT/scripts/wasm-env.sh"

# wasm_pack TARGET OUT [cargo args...]. Run from the Wasm crate's dir without
# a crate path (with a path argument wasm-pack forwards a literal `--` to
# cargo); --out-name keeps the file names sealpass.js / sealpass_bg.wasm.
wasm_pack() {
    local target=$1 out=$2
    shift 2
    echo "pack.sh: wasm-pack build --release --target $target -> target/wasm/npm/$out ${*:-}"
    (cd "$ROOT/crates/wasm" && wasm-pack --quiet build --mode no-install --release --no-pack --target "$target" \
        --out-name sealpass --out-dir "$WASM_DIR/$out" -- "${LOCKED[@]}" "$@")
}

if ((SKIP_WASM == 0)); then
    (sealpass_wasm_env "$ROOT" size && wasm_pack web web --features "$SEALPASS_WASM_FEATURES")
    # sealpass/fast: the browser API built like the Node builds (speed).
    (sealpass_wasm_env "$ROOT" speed && wasm_pack web web-fast --features "$SEALPASS_WASM_FEATURES")
    # Short import names between each web build's wasm and glue (~1 KB gzip).
    for d in web web-fast; do node "$ROOT/scripts/short-imports.mjs" "$WASM_DIR/$d"; done
    (sealpass_wasm_env "$ROOT" speed && wasm_pack nodejs node --features "$SEALPASS_WASM_FEATURES")
    (sealpass_wasm_env "$ROOT" speed && wasm_pack nodejs node-open --features "open,$SEALPASS_WASM_FEATURES")
fi

node "$ROOT/pkg-template/build/assemble.mjs" "$ROOT" "$WASM_DIR" "$PKG_DIR" "$VERSION"

TARBALL="sealpass-$VERSION.tgz"
(cd "$PKG_DIR" && npm pack --silent --loglevel=error >/dev/null)
[[ -f $PKG_DIR/$TARBALL ]] || {
    echo "pack.sh: npm pack did not produce $PKG_DIR/$TARBALL" >&2
    exit 1
}

# Sizes of what a browser downloads: wasm + wasm-bindgen glue + entry.
size_line() {
    local f=$1
    printf '  %-22s raw %7d  gzip-9 %6d\n' "${f#"$PKG_DIR"/}" "$(wc -c <"$f")" "$(gzip -9 -n -c "$f" | wc -c)"
}
echo "pack.sh: browser payload"
size_line "$PKG_DIR/web/sealpass_bg.wasm"
size_line "$PKG_DIR/web/sealpass.js"
size_line "$PKG_DIR/index.js"
echo "pack.sh: fast browser payload (sealpass/fast)"
size_line "$PKG_DIR/fast/sealpass_bg.wasm"
size_line "$PKG_DIR/fast/sealpass.js"
size_line "$PKG_DIR/fast/index.js"
echo "pack.sh: tarball $(wc -c <"$PKG_DIR/$TARBALL") bytes"
echo "$PKG_DIR/$TARBALL"
