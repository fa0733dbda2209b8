#!/usr/bin/env bash
# tests/npm/run.sh — consumer tests of the packed `sealpass` npm package
# (hook of `./build.sh test`; also runnable alone, idempotent).
#
# Builds the tarball with scripts/pack.sh, makes sure the native CLI exists,
# installs the pinned test tools (typescript, esbuild, puppeteer-core; from
# the npm registry, cached in tests/npm/.deps, browsers never downloaded),
# then runs tests/npm/run.mjs, which installs the tarball into fresh temp
# projects and ends with `N passed, N failed`.
#
# Env: SEALPASS_NPM_SKIP_PACK=1  reuse pkg/sealpass-X.Y.Z.tgz (no wasm-pack)
#      SEALPASS_NPM_KEEP=1       keep the temp projects for inspection
# --prepare: only make the tools, the tarball and the CLI ready, then print
# the tarball's path (tests/matrix/run.sh uses it).
set -euo pipefail
PREPARE=0
if [[ ${1:-} == --prepare ]]; then
    PREPARE=1
    exec 3>&1 1>&2 # progress to stderr, only the tarball's path to stdout
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export PUPPETEER_SKIP_DOWNLOAD=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# ---- test tools, pinned (puppeteer-core 24.x: 25+ needs Node 22)
DEPS="$HERE/.deps"
DEP_SPECS=(typescript@5.9.3 esbuild@0.28.2 puppeteer-core@24.43.1)
deps_ok() {
    local spec name want
    for spec in "${DEP_SPECS[@]}"; do
        name=${spec%@*}
        want=${spec##*@}
        [[ $(node -p "try{require('$DEPS/node_modules/$name/package.json').version}catch{''}" 2>/dev/null) == "$want" ]] || return 1
    done
    # esbuild's native binary comes from an optional dependency
    "$DEPS/node_modules/.bin/esbuild" --version >/dev/null 2>&1 || return 1
}
if ! deps_ok; then
    echo "npm tests: installing ${DEP_SPECS[*]} into tests/npm/.deps"
    mkdir -p "$DEPS"
    [[ -f $DEPS/package.json ]] || printf '{"name":"sealpass-npm-test-deps","private":true}\n' >"$DEPS/package.json"
    (cd "$DEPS" && npm install --no-audit --no-fund --save-exact --loglevel=error "${DEP_SPECS[@]}")
    deps_ok || {
        echo "npm tests: test tools still missing after npm install" >&2
        exit 1
    }
fi

# ---- the package (version: [workspace.package], which every crate inherits)
VERSION=$(awk '
    /^\[/ { in_pkg = ($0 == "[workspace.package]") }
    in_pkg && /^version[[:space:]]*=/ { gsub(/.*=[[:space:]]*"|".*/, ""); print; exit }
' Cargo.toml)
TARBALL="$ROOT/pkg/sealpass-$VERSION.tgz"
if [[ ${SEALPASS_NPM_SKIP_PACK:-} == 1 && -f $TARBALL ]]; then
    echo "npm tests: reusing $TARBALL (SEALPASS_NPM_SKIP_PACK=1)"
else
    bash "$ROOT/scripts/pack.sh"
fi
[[ -f $TARBALL ]] || {
    echo "npm tests: $TARBALL missing" >&2
    exit 1
}

# ---- the native CLI (interop partner)
CLI="$ROOT/target/debug/sealpass"
if [[ ! -x $CLI ]]; then
    echo "npm tests: building the native CLI (cargo build -p sealpass-cli --bin sealpass)"
    cargo build -p sealpass-cli --bin sealpass
fi

if ((PREPARE)); then
    echo "$TARBALL" >&3
    exit 0
fi
exec node "$HERE/run.mjs" --root "$ROOT" --tarball "$TARBALL" --cli "$CLI" --deps "$DEPS"
