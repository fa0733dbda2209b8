#!/usr/bin/env bash
# tests/matrix/run.sh — the consumer matrix of the packed npm package: the
# tarball installed into fresh projects for each bundler, framework and
# runtime people build with (tests/matrix/rows/*.mjs), each row run for real
# (browsers headless, envelopes opened by the native CLI).
#
#   hook of `./build.sh test`:        the rows of tier "test"
#   `./build.sh test-matrix`:         every row, then rewrites the matrix
#                                     table of pkg-template/README.md
#   tests/matrix/run.sh [--tier test|all] [--only id,id] [--write-readme] [--reuse-pack]
#
# Tools come from the npm registry at exact versions (npm's cache makes
# later runs fast); browsers are the system's, never downloaded.
# Env: SEALPASS_NPM_SKIP_PACK=1  reuse pkg/sealpass-X.Y.Z.tgz (no wasm-pack)
#      SEALPASS_MATRIX_KEEP=1    keep the consumer projects for inspection
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 NEXT_TELEMETRY_DISABLED=1
export ASTRO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 WRANGLER_SEND_METRICS=false

# --reuse-pack (./build.sh test, right after the npm hook packed it): no repack.
ARGS=()
for a in "$@"; do
    if [[ $a == --reuse-pack ]]; then export SEALPASS_NPM_SKIP_PACK=1; else ARGS+=("$a"); fi
done

# Test tools (puppeteer-core), the tarball and the CLI: tests/npm/run.sh makes them ready.
TARBALL=$(bash "$ROOT/tests/npm/run.sh" --prepare | tail -n 1)
[[ -f $TARBALL ]] || {
    echo "matrix: no tarball ($TARBALL)" >&2
    exit 1
}
exec node "$HERE/run.mjs" --root "$ROOT" --tarball "$TARBALL" --cli "$ROOT/target/debug/sealpass" \
    --deps "$ROOT/tests/npm/.deps" "${ARGS[@]}"
