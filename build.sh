#!/usr/bin/env bash
# build.sh — install missing tools, build and test sealpass.
#
# Target machine: Debian 12, rustup stable, node/npm, python3, gcc. Only
# crates.io, the npm registry, PyPI and Debian apt are reachable, so every
# tool comes from one of those (never from rustup dist / GitHub / CDN
# downloads by wasm-pack, puppeteer or playwright).
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: ./build.sh <command> [args]

Commands:
  setup   Install what is missing (idempotent; present tools are skipped):
            rustup target wasm32-unknown-unknown; apt: chromium,
            chromium-driver, firefox-esr, postgresql (when no
            /usr/lib/postgresql/*/bin/initdb: the tests' private server,
            no system cluster made); cargo: wasm-pack, geckodriver,
            wasm-bindgen-cli (= version in Cargo.lock); npm: binaryen (wasm-opt).
  build   setup, then release builds of the binaries `sealpass` (crate
          sealpass-cli) and `sealpass-relay` (crate sealpass-relay, whose
          dependency graph has no decryption crate) and the accept page
          (seal-only Wasm) -> target/www-dist.
  test    setup, then the checks of build.sh's own toolchain handling
          (tests/build/run.sh), fmt, clippy (-D warnings) on the workspace with all
          features and on the Wasm crate for wasm32, cargo test (test targets
          core, relay, system + unit and doc tests), the relay suite again
          with its store on a private PostgreSQL server plus the
          multi-instance tests (tests/pg/run.sh), wasm tests (node, node with
          the accept page's trusted-input reads (its size-order test),
          headless chrome, headless firefox), then the interop / npm /
          matrix (tier "test" rows) / e2e / serve hooks when present, then
          fuzz-short (every fuzz target for FUZZ_SHORT_SECS, default 20 s;
          fails on any crash).
          Stops at the first failure; always ends with a summary table and
          a final line `N passed, N failed`.
  page    --relay-origin URL [--page-url URL] [--out DIR]
          the accept page for hosting apart from the relay (docs/PINNING.md
          §5): a static directory (default target/www-page) with relative
          references, a meta CSP whose connect-src is the relay origin and
          <page-url>sealpass_bg.wasm ('self' without --page-url), and its own
          signed releases.json. Serve DIR as is; run the relay with
          --allow-origin <the page's origin> (--allow-admin-origin for the
          console). The admin console is built
          beside it into DIR/admin/ (scripts/build-admin.sh; same CSP rules,
          listed in the same releases.json).
  serve   the local demo (scripts/serve-demo.sh [args]): installs the Wasm
          tools if missing, builds what changed (the page and the console
          only when one of their inputs did), starts a relay, a demo node
          and a pending on 127.0.0.1:8080 (SEALPASS_DEMO_PORT) and prints the
          accept and console URLs. Ctrl-C, or SIGINT/SIGTERM to its PID,
          stops it: exit 0, "stopped".
  pack    the Wasm tools of `serve` (browser-build toolchain probed), then
          scripts/pack.sh [args]                     (when present)
  test-matrix  every row of the npm package's consumer matrix
          (tests/matrix/rows: bundlers, frameworks, runtimes, workers, CSP;
          the packed tarball in fresh projects, browsers headless, each
          envelope opened by the native CLI), then rewrites the matrix table
          of pkg-template/README.md from the outcome. `test` runs the rows of
          tier "test" (today every row: ~4 min with npm's cache warm) and
          fails when the README's table disagrees with them. A row too slow
          for `test` goes to tier "matrix": then only this command runs it, so
          run it before every release. [--only id,id]
  test-pg the PostgreSQL part of `test` alone: installs postgresql if
          missing, builds the debug binaries, then tests/pg/run.sh [CMD...]
          (no CMD: the relay suite on PostgreSQL and the multi-instance
          tests; with CMD: CMD with a private server's SEALPASS_TEST_PG_*
          environment).
  bench   bench/run.sh [args]                        (when present)
  fuzz    [SECS] [--runs N]  coverage-guided fuzzing (cargo-fuzz, libFuzzer; fuzz/):
          installs what is missing (nightly toolchain via rustup, cargo-fuzz
          0.13.2), seeds fuzz/corpus/<target>/ from tests/vectors,
          runs every target in turn for SECS seconds (default 600,
          -jobs=1 -workers=1; with --runs N until N executions, SECS still
          the cap), prints executions and crashes per target and
          rewrites the results table of docs/FUZZING.md. Fails on any crash
          (reproducer in fuzz/artifacts/<target>/).
  faults  [FLOW]  crash and fault injection (tests/faults), long version:
          FLOW whole-flow iterations (default 240) each SIGKILLing the relay,
          the node agent or both at a random point, 200 SIGKILLed KEK/DEK
          rotations, 12 rounds of the node keystore out of space (file-size
          limit); checks no secret lost or delivered twice, no plaintext at
          rest, every record opens; rewrites the table of docs/FAULTS.md.
          `test` runs the same tests with short counts (12/12/2).
  mutants mutation testing (cargo-mutants 27.1.0, settings in
          .cargo/mutants.toml) of the core's canonicalization, parsing,
          sealing and opening code and the request-signing canonical string;
          hours on 2 cores, resumable (--iterate: caught mutants are not
          retried); MUTANTS_ONLY="src/canon.rs ..." limits it to some files.
          Writes the caught/missed table and the surviving mutants to
          docs/MUTANTS.md. Not part of `test` (it does not fit its budget).
  help    Show this text (also -h, --help).

Environment:
  CI=true                 no colour in cargo output, CARGO_INCREMENTAL=0.
  SEALPASS_SIZE_TOOLCHAIN=T  the browser Wasm's toolchain (default nightly;
                          stable: no -Zbuild-std; see scripts/wasm-env.sh).
  SEALPASS_PROFILE=debug  `build` and `serve` use debug binaries (default release).
  WASM_BINDGEN_VERSION=V  force the wasm-bindgen-cli version (default: from
                          Cargo.lock, then Cargo.toml).
  FUZZ_SHORT_SECS=N       seconds per fuzz target in `test` (default 20).
  SEALPASS_FAULT_ROTATIONS=N, SEALPASS_FAULT_DISK=N  counts of `faults`;
  SEALPASS_FAULT_SEED=N   repeat a fault run's random choices (printed).
  FUZZ_ONLY="open json"   `fuzz` runs only these targets (the other rows of
                          docs/FUZZING.md's table are kept).
EOF
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

# ---------------------------------------------------------------- versions
WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1
BINARYEN_NPM_VERSION=132.0.0   # npm `binaryen`; Debian's binaryen 108 breaks on externref
BINARYEN_MIN_MAJOR=132
WASM_TARGET=wasm32-unknown-unknown
APT_PACKAGES=(chromium chromium-driver firefox-esr)
PG_APT_PACKAGES=(postgresql)   # Debian's; the tests run a private server of it
CARGO_FUZZ_VERSION=0.13.2     # keep in step with the usage text
FUZZ_TOOLCHAIN=nightly        # cargo-fuzz needs -Z flags (sanitizer coverage)
FUZZ_ALL_TARGETS=(envelope context json b64 signing manifest keystore_blob open x25519x2)
FUZZ_TARGETS=("${FUZZ_ALL_TARGETS[@]}")

# ---------------------------------------------------------------- environment
# /usr/local/bin first (npm binaryen's wasm-opt must win over any Debian one),
# then ~/.cargo/bin (wasm-pack, wasm-bindgen, geckodriver).
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
path_prepend() {
    local dir=$1 rest=":$PATH:"
    rest=${rest//:$dir:/:}
    rest=${rest#:}
    PATH="$dir:${rest%:}"
}
path_prepend "$CARGO_BIN"
path_prepend /usr/local/bin
export PATH

if [[ "${CI:-}" == "true" ]]; then
    export CARGO_TERM_COLOR=never
    export CARGO_INCREMENTAL=0
fi
# Browsers come from apt; never let npm packages download their own.
export PUPPETEER_SKIP_DOWNLOAD=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
export FIREFOX_BIN="${FIREFOX_BIN:-/usr/bin/firefox-esr}"

if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=()
fi

# ---------------------------------------------------------------- helpers
now_ms() { date +%s%3N; }

fmt_ms() {
    local ms=$1
    if ((ms >= 60000)); then
        printf '%dm%02ds' $((ms / 60000)) $(((ms / 1000) % 60))
    else
        printf '%d.%ds' $((ms / 1000)) $(((ms % 1000) / 100))
    fi
}

note() { printf '     %s\n' "$*"; }
die() {
    printf 'build.sh: error: %s\n' "$*" >&2
    exit 1
}

# Step bookkeeping (used by every command; `test` prints it as a table).
STEP_NAMES=()
STEP_RESULTS=()
STEP_TIMES=()
LAST_RC=0

record_step() { STEP_NAMES+=("$1"); STEP_RESULTS+=("$2"); STEP_TIMES+=("$3"); }

# try_step NAME CMD [ARGS...]: banner, run CMD in a subshell with errexit
# active (so any failing command inside a step function fails the step),
# print elapsed time. Never exits; the status is left in LAST_RC.
try_step() {
    local name=$1 t0 rc dt
    shift
    printf '\n==== %s ====\n' "$name"
    t0=$(now_ms)
    set +e
    (
        set -e
        "$@"
    )
    rc=$?
    set -e
    dt=$(fmt_ms $(($(now_ms) - t0)))
    if ((rc == 0)); then
        printf -- '---- %s: ok (%s)\n' "$name" "$dt"
        record_step "$name" passed "$dt"
    else
        printf -- '---- %s: FAILED, exit %d (%s)\n' "$name" "$rc" "$dt"
        record_step "$name" FAILED "$dt"
    fi
    LAST_RC=$rc
}

# must_step NAME CMD [ARGS...]: like try_step but exits the script on failure.
must_step() {
    try_step "$@"
    if ((LAST_RC != 0)); then exit "$LAST_RC"; fi
}

skip_step() {
    printf '\n==== %s ====\n' "$1"
    note "skipped: $2"
    record_step "$1" skipped "-"
}

# `--locked` only when Cargo.lock is committed (a freshly generated,
# untracked lock file must be allowed to change).
LOCKED=()
compute_locked() {
    if git -C "$ROOT" ls-files --error-unmatch Cargo.lock >/dev/null 2>&1; then
        LOCKED=(--locked)
    else
        LOCKED=()
    fi
}

have() { command -v "$1" >/dev/null 2>&1; }

# First "X.Y.Z" (or "X.Y") found in a command's --version output; empty if none.
tool_version() {
    "$@" 2>/dev/null | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n1 || true
}

# Before an install: what is installed, from where, and roughly how long it
# takes (figures from a 2-core machine; a long step otherwise looks hung).
installing() { note "installing $1 (typically $2 on 2 cores)"; }

# One cargo install at a time (the machine is small and shared).
# cargo_install ESTIMATE ARGS...
cargo_install() {
    local estimate=$1
    shift
    installing "with cargo install $*" "$estimate: compiled from crates.io"
    cargo install "$@"
}

# ---------------------------------------------------------------- setup
ensure_rust_components() {
    local c
    for c in fmt clippy; do
        if ! cargo "$c" --version >/dev/null 2>&1; then
            local comp=rustfmt
            [[ $c == clippy ]] && comp=clippy
            installing "rustup component $comp" "10-30 s"
            rustup component add "$comp"
        fi
    done
    note "$(rustc --version); $(cargo fmt --version); $(cargo clippy --version)"
}

ensure_wasm_target() {
    if rustup target list --installed | grep -qx "$WASM_TARGET"; then
        note "present: rust target $WASM_TARGET"
    else
        installing "rustup target $WASM_TARGET" "20-60 s"
        rustup target add "$WASM_TARGET"
    fi
}

# The browser builds' toolchain (scripts/wasm-env.sh, kind "size", which
# holds its one definition and the reasons for it): nightly with rust-src
# (for -Zbuild-std) and the wasm32 target.
# shellcheck source=scripts/wasm-env.sh
. "$ROOT/scripts/wasm-env.sh"
SIZE_TOOLCHAIN=$(sealpass_size_toolchain)

# toolchain_installed NAME: NAME is in `rustup toolchain list` exactly (as
# "NAME", "NAME-<host triple>" or either followed by " (..."), not as the
# prefix of another (nightly vs nightly-2025-01-01-<host>).
toolchain_installed() {
    local name=$1 host line
    host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')
    while IFS= read -r line; do
        line=${line%% (*}
        [[ $line == "$name" || (-n $host && $line == "$name-$host") ]] && return 0
    done < <(rustup toolchain list 2>/dev/null)
    return 1
}

# The size build's flags on a throwaway no_std crate: the toolchain must take
# SEALPASS_SIZE_ZFLAGS (scripts/wasm-env.sh) for wasm32 and cargo -Zbuild-std.
size_toolchain_probe() {
    local tc=$1 tmp rc=0
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/sealpass-probe.XXXXXX")
    printf '#![no_std]\n' >"$tmp/probe.rs"
    # shellcheck disable=SC2086 # the flags are split into words on purpose
    rustup run "$tc" rustc --crate-type lib --crate-name probe --target "$WASM_TARGET" \
        $SEALPASS_SIZE_ZFLAGS --emit=metadata -o "$tmp/probe.rmeta" "$tmp/probe.rs" >"$tmp/log" 2>&1 &&
        rustup run "$tc" cargo -Zbuild-std=core,alloc version >>"$tmp/log" 2>&1 || rc=$?
    if ((rc != 0)); then
        sed 's/^/     /' "$tmp/log" >&2
        rm -rf "$tmp"
        die "toolchain $tc does not take -Zbuild-std=core,alloc with $SEALPASS_SIZE_ZFLAGS (above); use another nightly (SEALPASS_SIZE_TOOLCHAIN=nightly-YYYY-MM-DD) or build the browser Wasm the stable way: SEALPASS_SIZE_TOOLCHAIN=stable"
    fi
    rm -rf "$tmp"
}

ensure_size_toolchain() {
    [[ $SIZE_TOOLCHAIN == stable ]] && { note "SEALPASS_SIZE_TOOLCHAIN=stable: browser builds on stable"; return 0; }
    if toolchain_installed "$SIZE_TOOLCHAIN"; then
        note "present: rust toolchain $SIZE_TOOLCHAIN ($(rustup run "$SIZE_TOOLCHAIN" rustc --version))"
    else
        installing "rustup toolchain $SIZE_TOOLCHAIN --profile minimal" "1-2 min"
        rustup toolchain install "$SIZE_TOOLCHAIN" --profile minimal
    fi
    if rustup target list --toolchain "$SIZE_TOOLCHAIN" --installed | grep -qx "$WASM_TARGET"; then
        note "present: rust target $WASM_TARGET ($SIZE_TOOLCHAIN)"
    else
        installing "rustup target $WASM_TARGET ($SIZE_TOOLCHAIN)" "20-60 s"
        rustup target add "$WASM_TARGET" --toolchain "$SIZE_TOOLCHAIN"
    fi
    local rc=0
    sealpass_size_nightly "$SIZE_TOOLCHAIN" || rc=$?
    ((rc < 2)) || die "toolchain $SIZE_TOOLCHAIN does not run"
    if ((rc == 1)); then
        note "$SIZE_TOOLCHAIN is not a nightly: browser builds without -Zbuild-std (as SEALPASS_SIZE_TOOLCHAIN=stable)"
        return 0
    fi
    if rustup component list --toolchain "$SIZE_TOOLCHAIN" --installed | grep -q '^rust-src'; then
        note "present: rust-src ($SIZE_TOOLCHAIN)"
    else
        installing "rustup component rust-src ($SIZE_TOOLCHAIN)" "20-60 s"
        rustup component add rust-src --toolchain "$SIZE_TOOLCHAIN"
    fi
    size_toolchain_probe "$SIZE_TOOLCHAIN"
    note "probed: $SIZE_TOOLCHAIN takes -Zbuild-std=core,alloc $SEALPASS_SIZE_ZFLAGS"
}

ensure_apt_packages() {
    local pkg missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            note "present: apt $pkg"
        else
            missing+=("$pkg")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    have apt-get || die "apt-get not found; install ${missing[*]} by hand"
    installing "apt-get install ${missing[*]}" "1-3 min: ~300 MB of packages for the two browsers"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# PostgreSQL server binaries for tests/pg (a private server per run; the
# system cluster Debian's package would make and start is turned off first,
# as the postgres Docker image does).
have_pg_server() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
ensure_postgres() {
    if have_pg_server; then
        note "present: PostgreSQL server ($(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n1))"
        return 0
    fi
    have apt-get || die "apt-get not found; install ${PG_APT_PACKAGES[*]} by hand"
    installing "apt-get install ${PG_APT_PACKAGES[*]}" "30-90 s: ~60 MB of packages"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends postgresql-common
    local conf=/etc/postgresql-common/createcluster.conf
    if [[ -f $conf ]] && ! grep -qE '^[[:space:]]*create_main_cluster[[:space:]]*=[[:space:]]*false' "$conf"; then
        note "no system cluster: create_main_cluster = false in $conf"
        "${SUDO[@]}" sed -ri 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*$/create_main_cluster = false/' "$conf"
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${PG_APT_PACKAGES[@]}"
    have_pg_server || die "apt-get install ${PG_APT_PACKAGES[*]} left no /usr/lib/postgresql/*/bin/initdb"
}

ensure_wasm_pack() {
    if [[ "$(tool_version wasm-pack --version)" == "$WASM_PACK_VERSION" ]]; then
        note "present: wasm-pack $WASM_PACK_VERSION"
    else
        cargo_install "3-5 min" --locked wasm-pack --version "$WASM_PACK_VERSION"
    fi
}

ensure_geckodriver() {
    if [[ "$(tool_version geckodriver --version)" == "$GECKODRIVER_VERSION" ]]; then
        note "present: geckodriver $GECKODRIVER_VERSION"
    else
        cargo_install "1-2 min" --locked geckodriver --version "$GECKODRIVER_VERSION"
    fi
}

# "wasm-opt version 132 (version_132)" -> 132
wasm_opt_major() {
    wasm-opt --version 2>/dev/null | grep -oE 'version [0-9]+' | head -n1 | grep -oE '[0-9]+' || true
}

ensure_binaryen() {
    local v
    v=$(wasm_opt_major)
    if [[ -n $v && ${v%%.*} -ge $BINARYEN_MIN_MAJOR ]]; then
        note "present: wasm-opt $v ($(command -v wasm-opt))"
        return 0
    fi
    [[ -n $v ]] && note "wasm-opt $v at $(command -v wasm-opt) is too old (need >= $BINARYEN_MIN_MAJOR)"
    installing "npm binaryen@$BINARYEN_NPM_VERSION (wasm-opt) into /usr/local" "10-40 s"
    "${SUDO[@]}" npm install -g --prefix /usr/local --no-audit --no-fund \
        "binaryen@$BINARYEN_NPM_VERSION"
    hash -r
    v=$(wasm_opt_major)
    [[ -n $v && ${v%%.*} -ge $BINARYEN_MIN_MAJOR ]] ||
        die "wasm-opt on PATH ($(command -v wasm-opt || echo none)) is '$v', expected >= $BINARYEN_MIN_MAJOR"
}

# wasm-bindgen version the crate resolves to: Cargo.lock, else Cargo.toml.
wasm_bindgen_version() {
    if [[ -n "${WASM_BINDGEN_VERSION:-}" ]]; then
        echo "$WASM_BINDGEN_VERSION"
        return 0
    fi
    [[ -f Cargo.toml ]] || return 0
    if [[ ! -f Cargo.lock ]]; then
        note "no Cargo.lock: cargo generate-lockfile" >&2
        cargo generate-lockfile >&2 || note "cargo generate-lockfile failed (crate incomplete?)" >&2
    fi
    if [[ -f Cargo.lock ]]; then
        local v
        v=$(awk '
            /^\[\[package\]\]/ { inpkg = 0 }
            /^name = "wasm-bindgen"$/ { inpkg = 1; next }
            inpkg && /^version = / { gsub(/"/, "", $3); print $3; exit }
        ' Cargo.lock)
        if [[ -n $v ]]; then
            echo "$v"
            return 0
        fi
    fi
    # Fallback: an exact x.y.z requirement in Cargo.toml.
    sed -nE 's/^[[:space:]]*wasm-bindgen[[:space:]]*=[[:space:]]*(\{[^}]*version[[:space:]]*=[[:space:]]*)?"[=^~]?([0-9]+\.[0-9]+\.[0-9]+)".*/\2/p' \
        Cargo.toml | head -n1
}

ensure_wasm_bindgen_cli() {
    local want have_v
    want=$(wasm_bindgen_version)
    if [[ -z $want ]]; then
        note "SKIPPED wasm-bindgen-cli: no wasm-bindgen version in Cargo.lock/Cargo.toml yet;"
        note "run ./build.sh setup again once the crate depends on wasm-bindgen."
        return 0
    fi
    have_v=$(tool_version wasm-bindgen --version)
    if [[ "$have_v" == "$want" ]]; then
        note "present: wasm-bindgen-cli $want"
    else
        [[ -n $have_v ]] && note "wasm-bindgen-cli $have_v installed, crate needs $want"
        # No --locked: its lock file pins a crate version the registry lacks.
        cargo_install "3-5 min" --force wasm-bindgen-cli --version "$want"
    fi
}

verify_tools() {
    local ok=1 line
    check() {
        local name=$1
        shift
        # First line carrying a version (Debian's chromium wrapper may print
        # a harmless shell warning from /etc/chromium.d/dev-shm first).
        if line=$("$@" 2>&1) && line=$(grep -m1 -E '[0-9]+\.[0-9]+|version [0-9]+' <<<"$line"); then
            printf '     %-25s %s\n' "$name" "$line"
        else
            printf '     %-25s MISSING/BROKEN (%s)\n' "$name" "$*"
            ok=0
        fi
    }
    check wasm-pack wasm-pack --version
    check geckodriver geckodriver --version
    check chromium chromium --version
    check chromedriver chromedriver --version
    check firefox-esr firefox-esr --version
    check wasm-opt wasm-opt --version
    check postgresql "$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n1)" --version
    if [[ -n $(wasm_bindgen_version) ]]; then
        check wasm-bindgen wasm-bindgen --version
        check wasm-bindgen-test-runner wasm-bindgen-test-runner --version
    else
        printf '     %-25s %s\n' wasm-bindgen "skipped (no wasm-bindgen version known yet)"
    fi
    ((ok)) || die "some tools are missing or broken"
}

cmd_setup() {
    must_step "setup: rustfmt/clippy" ensure_rust_components
    must_step "setup: rust target $WASM_TARGET" ensure_wasm_target
    must_step "setup: browser-build toolchain ($SIZE_TOOLCHAIN + rust-src)" ensure_size_toolchain
    must_step "setup: apt ${APT_PACKAGES[*]}" ensure_apt_packages
    must_step "setup: apt ${PG_APT_PACKAGES[*]}" ensure_postgres
    must_step "setup: wasm-pack $WASM_PACK_VERSION" ensure_wasm_pack
    must_step "setup: geckodriver $GECKODRIVER_VERSION" ensure_geckodriver
    must_step "setup: binaryen (wasm-opt)" ensure_binaryen
    must_step "setup: wasm-bindgen-cli" ensure_wasm_bindgen_cli
    must_step "setup: verify tools" verify_tools
    note "PATH used: /usr/local/bin and $CARGO_BIN first. In your shell:"
    note "  export PATH=\"/usr/local/bin:$CARGO_BIN:\$PATH\""
}

# ---------------------------------------------------------------- build
cargo_build_release() {
    compute_locked
    cargo build "${LOCKED[@]}" --release "$@"
}

# The relay cannot link decryption whatever features are unified: its crate
# graph has no sealpass-open (tests/relay/no_decrypt.rs checks it).
# SEALPASS_PROFILE=debug: `build`/`serve` use debug binaries (quicker to
# compile; what `test` already built).
BIN_PROFILE=${SEALPASS_PROFILE:-release}
[[ $BIN_PROFILE == release || $BIN_PROFILE == debug ]] ||
    die "SEALPASS_PROFILE must be release or debug, not '$BIN_PROFILE'"
build_bins() {
    if [[ $BIN_PROFILE == debug ]]; then
        cargo_build -p sealpass-cli -p sealpass-relay --bins
    else
        cargo_build_release -p sealpass-cli -p sealpass-relay --bins
    fi
}

# Everything the served page is made from: the sources and scripts, the
# tool versions, the build's environment and the release key. One hash; a
# second `build`/`serve` with none of it changed skips the page build.
www_inputs_hash() {
    local -a dirs=()
    local d
    for d in src crates www* scripts pkg-template .cargo Cargo.toml Cargo.lock; do
        [[ -e $ROOT/$d ]] && dirs+=("$d")
    done
    {
        (cd "$ROOT" && find "${dirs[@]}" -type f -not -path 'www*/node_modules/*' -print0 |
            LC_ALL=C sort -z | xargs -0 sha256sum)
        rustc --version
        # The browser Wasm's compiler: a name such as "nightly" pins no
        # version, so the version itself (scripts/wasm-env.sh).
        echo "size toolchain $SIZE_TOOLCHAIN: $(rustup run "$SIZE_TOOLCHAIN" rustc --version 2>&1)"
        wasm-pack --version
        wasm-opt --version
        wasm-bindgen --version
        env | grep -E '^(WWW_|SEALPASS_RELEASE_|SEALPASS_SIZE_TOOLCHAIN=|SEALPASS_WASM_BACKEND=)' | LC_ALL=C sort || true
        sha256sum "${SEALPASS_RELEASE_KEY:-$ROOT/target/www-release.key}" 2>/dev/null || true
    } | sha256sum | cut -d' ' -f1
}

# The accept page: seal-only Wasm (no `open`) with the shared browser
# settings, bundled, SRI-pinned and signed into target/www-dist. Skipped when
# its inputs and its output are those of the last build (stamp next to DIR).
build_www() {
    local dist=${WWW_DIST:-$ROOT/target/www-dist} want have=""
    local stamp="$dist.inputs"
    local out=none
    [[ -f $dist/releases.json ]] && out=$(sha256sum <"$dist/releases.json" | cut -d' ' -f1)
    want="$(www_inputs_hash) $out"
    [[ -f $stamp ]] && have=$(<"$stamp")
    if [[ -f $dist/releases.json && $have == "$want" ]]; then
        note "page up to date: $dist (no input changed since its build)"
        return 0
    fi
    rm -f "$stamp"
    # Unsigned (WWW_SIGN=0): build-admin.sh signs the one manifest over both.
    WWW_SIGN=0 SEALPASS_BIN="$ROOT/target/$BIN_PROFILE/sealpass" bash "$ROOT/scripts/build-www.sh"
    # The admin console beside it (/admin; signs releases.json).
    SEALPASS_BIN="$ROOT/target/$BIN_PROFILE/sealpass" bash "$ROOT/scripts/build-admin.sh"
    printf '%s %s\n' "$(www_inputs_hash)" "$(sha256sum <"$dist/releases.json" | cut -d' ' -f1)" >"$stamp"
}

cmd_build() {
    cmd_setup
    must_step "build: sealpass + sealpass-relay" build_bins
    must_step "build: accept page + admin console -> target/www-dist" build_www
}

# ---------------------------------------------------------------- test
cargo_fmt_check() { cargo fmt --all -- --check; }

cargo_clippy() {
    compute_locked
    cargo clippy "${LOCKED[@]}" "$@" -- -D warnings
}

# The SIMD lanes of the two-lane X25519 and of the four-block ChaCha20, and
# the core's 16-character base64url decoder, exist only with simd128 (the
# speed builds' RUSTFLAGS): lint those crates alone with them (their own
# target dir, so the other wasm32 lint and test builds keep their
# fingerprints).
clippy_simd() {
    compute_locked
    (. "$ROOT/scripts/wasm-env.sh" &&
        RUSTFLAGS="$SEALPASS_WASM_SIMD" CARGO_TARGET_DIR="$ROOT/target/clippy-simd" \
            cargo clippy "${LOCKED[@]}" -p sealpass -p sealpass-x25519x2 -p sealpass-chacha20x4 --target "$WASM_TARGET" -- -D warnings)
}

cargo_build() {
    compute_locked
    cargo build "${LOCKED[@]}" "$@"
}

cargo_test() {
    compute_locked
    cargo test "${LOCKED[@]}" "$@"
}

# Sum the `test result:` lines of one runtime's log and fail when nothing
# ran or something failed. (Without WASM_BINDGEN_USE_BROWSER the browser
# tests are silently skipped and still exit 0.)
check_wasm_counts() {
    local runtime=$1 log=$2 counts n p f
    counts=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
        /test result:/ {
            n++
            for (i = 2; i <= NF; i++) {
                if ($i ~ /^passed;?$/) p += $(i - 1)
                if ($i ~ /^failed;?$/) f += $(i - 1)
            }
        }
        END { printf "%d %d %d\n", n, p, f }')
    read -r n p f <<<"$counts"
    note "$runtime: $n test binaries, $p passed, $f failed"
    if ((n == 0)); then
        echo "$runtime: no 'test result:' line in the output" >&2
        return 1
    fi
    if ((f > 0)); then
        echo "$runtime: $f test(s) failed" >&2
        return 1
    fi
    if ((p == 0)); then
        echo "$runtime: 0 tests passed (were the tests skipped?)" >&2
        return 1
    fi
}

# wasm_test RUNTIME: node | node-page | chrome | firefox (one runtime per
# wasm-pack run so the pass counts can be attributed to it). Node and Firefox
# run the speed builds' settings — X25519(k, 9) by the fixed-base table
# (wasm-base-table) and the two X25519s of a v2 envelope by the two-lane SIMD
# ladder (wasm-x25519x2 with -Ctarget-feature=+simd128; every other
# variable-base X25519 by one ladder over both SIMD lanes), XChaCha20 by the
# four-block SIMD keystream (wasm-chacha20x4) — and Chromium the
# size builds' (ladders of curve25519-dalek, no SIMD), so the vectors cover
# both in V8 and SpiderMonkey; node-page runs the accept page's direct reads
# (trusted-input, no SIMD). All use the shipped field backend
# (SEALPASS_WASM_CFG from scripts/wasm-env.sh) and the compact SHA-256 that
# feature wasm-min selects (wasm-min itself is no_std and cannot host tests).
WASM_TEST_FEATURES=open,sealpass/compact-sha256
wasm_test() {
    local runtime=$1 log features=$WASM_TEST_FEATURES rustflags
    local -a flags envs filter=()
    # shellcheck source=scripts/wasm-env.sh
    . "$ROOT/scripts/wasm-env.sh"
    rustflags=$SEALPASS_WASM_CFG
    case $runtime in
    node) flags=(--node) envs=(-u WASM_BINDGEN_USE_BROWSER) ;;
    # The accept page's direct reads (feature trusted-input): the tests that
    # hold for them too (the hostile-getter ones do not, by design).
    node-page) flags=(--node) envs=(-u WASM_BINDGEN_USE_BROWSER) features+=,wasm-base-table,trusted-input filter=(-- oversized_input) ;;
    chrome | firefox) flags=(--headless "--$runtime") envs=(WASM_BINDGEN_USE_BROWSER=1) ;;
    *) die "unknown wasm runtime $runtime" ;;
    esac
    if [[ $runtime == node || $runtime == firefox ]]; then
        features+=,wasm-base-table,wasm-x25519x2,wasm-chacha20x4
        rustflags+=" $SEALPASS_WASM_SIMD"
    fi
    compute_locked
    log=$(mktemp "${TMPDIR:-/tmp}/sealpass-wasm-$runtime.XXXXXX")
    # Run from the crate's dir with no crate path argument: with one,
    # wasm-pack forwards a literal `--` to cargo.
    (cd "$ROOT/crates/wasm" && env "${envs[@]}" WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}" RUSTFLAGS="$rustflags" wasm-pack test --mode no-install "${flags[@]}" \
        -- "${LOCKED[@]}" --features "$features" "${filter[@]}") 2>&1 | tee "$log"
    check_wasm_counts "$runtime" "$log"
    rm -f "$log"
}

# run_hook SCRIPT [ARGS...]
run_hook() { bash "$ROOT/$1" "${@:2}"; }

# The relay and system tests spawn the real binaries; cargo builds a
# binary for tests of its own package only, so build them first.
build_debug_bins() {
    compute_locked
    cargo build "${LOCKED[@]}" --workspace --bins
}

# Ordered test plan: "name|function args..."
TEST_PLAN=(
    "setup|cmd_setup"
    "hook build-sh|hook tests/build/run.sh"
    "fmt|cargo_fmt_check"
    "clippy workspace|cargo_clippy --workspace --all-targets --all-features"
    "clippy wasm32|cargo_clippy -p sealpass-wasm --all-targets --target $WASM_TARGET --features open,panic-hook"
    "clippy wasm32 web|cargo_clippy -p sealpass-wasm --lib --target $WASM_TARGET --features wasm-min"
    "clippy wasm32 page|cargo_clippy -p sealpass-wasm --lib --target $WASM_TARGET --features wasm-min,trusted-input"
    "clippy wasm32 node|cargo_clippy -p sealpass-wasm --lib --target $WASM_TARGET --features open,wasm-min,wasm-base-table,wasm-x25519x2,wasm-chacha20x4"
    "clippy wasm32 simd|clippy_simd"
    "build all features|cargo_build --workspace --all-features"
    "build debug bins|build_debug_bins"
    "test workspace|cargo_test --workspace --exclude sealpass-wasm"
    "hook relay-pg|hook tests/pg/run.sh"
    "wasm node|wasm_test node"
    "wasm node page|wasm_test node-page"
    "wasm chrome|wasm_test chrome"
    "wasm firefox|wasm_test firefox"
    "hook interop|hook tests/interop/run.sh"
    "hook npm|hook tests/npm/run.sh"
    "hook matrix|hook tests/matrix/run.sh --reuse-pack --tier test"
    "hook e2e|hook tests/e2e/run.sh"
    "hook serve|hook tests/serve/run.sh"
    "fuzz-short|fuzz_short"
)

print_summary() {
    local i name passed=0 failed=0 skipped=0 notrun=0 done_n=${#STEP_NAMES[@]}
    printf '\n==== summary ====\n'
    printf '  %-20s %-8s %s\n' STEP RESULT TIME
    for ((i = 0; i < done_n; i++)); do
        printf '  %-20s %-8s %s\n' "${STEP_NAMES[i]}" "${STEP_RESULTS[i]}" "${STEP_TIMES[i]}"
        case ${STEP_RESULTS[i]} in
        passed) passed=$((passed + 1)) ;;
        FAILED) failed=$((failed + 1)) ;;
        skipped) skipped=$((skipped + 1)) ;;
        esac
    done
    for ((i = done_n; i < ${#TEST_PLAN[@]}; i++)); do
        name=${TEST_PLAN[i]%%|*}
        printf '  %-20s %-8s %s\n' "$name" "not run" "-"
        notrun=$((notrun + 1))
    done
    ((skipped + notrun > 0)) && printf '  (%d skipped, %d not run)\n' "$skipped" "$notrun"
    printf '%d passed, %d failed\n' "$passed" "$failed"
}

cmd_test() {
    # Hooks must fail, not skip, when the binaries they test are missing.
    export SEALPASS_REQUIRE_BIN=1
    trap print_summary EXIT
    trap 'exit 130' INT TERM
    local entry name cmd
    local -a argv
    for entry in "${TEST_PLAN[@]}"; do
        name=${entry%%|*}
        cmd=${entry#*|}
        read -r -a argv <<<"$cmd"
        if [[ ${argv[0]} == hook ]]; then
            if [[ -f ${argv[1]} ]]; then
                try_step "$name" run_hook "${argv[@]:1}"
            else
                skip_step "$name" "${argv[1]} does not exist yet"
                continue
            fi
        else
            try_step "$name" "${argv[@]}"
        fi
        ((LAST_RC == 0)) || exit 1
    done
}

# ---------------------------------------------------------------- fuzz
# fuzz/ is its own cargo workspace (excluded from the root one), built with
# nightly by cargo-fuzz. Corpora, logs and artifacts are generated under
# fuzz/ at run time and ignored by git.
FUZZ_DIR="$ROOT/fuzz"

ensure_nightly() {
    if toolchain_installed "$FUZZ_TOOLCHAIN"; then
        note "present: rust toolchain $FUZZ_TOOLCHAIN ($(rustup run "$FUZZ_TOOLCHAIN" rustc --version))"
    else
        installing "rustup toolchain $FUZZ_TOOLCHAIN --profile minimal" "1-2 min"
        rustup toolchain install "$FUZZ_TOOLCHAIN" --profile minimal
    fi
}

ensure_cargo_fuzz() {
    if [[ "$(tool_version cargo fuzz --version)" == "$CARGO_FUZZ_VERSION" ]]; then
        note "present: cargo-fuzz $CARGO_FUZZ_VERSION"
    else
        cargo_install "1-3 min" --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
    fi
}

fuzz_setup() {
    ensure_nightly
    ensure_cargo_fuzz
}

# Seed corpora (fuzz/src/bin/seed.rs): envelopes and contexts from
# tests/vectors, the other inputs built with the crates' own APIs.
fuzz_seed() {
    (cd "$FUZZ_DIR" && cargo "+$FUZZ_TOOLCHAIN" run --locked -q --features seed --bin seed -- "$FUZZ_DIR/corpus")
}

fuzz_build() {
    cargo "+$FUZZ_TOOLCHAIN" fuzz build --fuzz-dir "$FUZZ_DIR"
}

# Results of the last fuzz_run_all: "target execs crashes" lines.
FUZZ_RESULTS=()

# fuzz_run TARGET SECS: one target, one process (-jobs=1 -workers=1; the
# job's output goes to fuzz/logs/TARGET/fuzz-0.log). Appends to FUZZ_RESULTS;
# returns non-zero on a crash or a failed run.
fuzz_run() {
    local t=$1 secs=$2 logdir="$FUZZ_DIR/logs/$1" art="$FUZZ_DIR/artifacts/$1" rc=0 execs crashes
    mkdir -p "$logdir" "$art"
    rm -f "$logdir"/fuzz-*.log
    local before
    before=$(find "$art" -type f | wc -l)
    # Bounded twice: libFuzzer's own -max_total_time, and timeout(1) for a hang.
    local -a runs=()
    [[ -n ${FUZZ_RUNS:-} ]] && runs=(-runs="$FUZZ_RUNS")
    local t0=$SECONDS
    (cd "$logdir" && timeout --signal=KILL $((secs + 120)) \
        cargo "+$FUZZ_TOOLCHAIN" fuzz run --fuzz-dir "$FUZZ_DIR" "$t" "$FUZZ_DIR/corpus/$t" -- \
        -max_total_time="$secs" "${runs[@]}" -jobs=1 -workers=1 -print_final_stats=1 \
        >"$logdir/run.log" 2>&1) || rc=$?
    local took=$((SECONDS - t0))
    cat "$logdir"/fuzz-*.log >>"$logdir/run.log" 2>/dev/null || true
    execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$logdir/run.log" | tail -n1 | grep -oE '[0-9]+$' || true)
    [[ -n $execs ]] || execs=$(grep -oE '^#[0-9]+[[:space:]]+DONE' "$logdir/run.log" | tail -n1 | grep -oE '[0-9]+' || true)
    crashes=$(($(find "$art" -type f | wc -l) - before))
    ((rc == 0 || crashes > 0)) || crashes="?"
    printf '     %-14s %12s execs  %s crashes  (%ss, exit %d, log fuzz/logs/%s/run.log)\n' \
        "$t" "${execs:-?}" "$crashes" "$took" "$rc" "$t"
    FUZZ_RESULTS+=("$t ${execs:-?} $crashes $took")
    if ((rc != 0)); then
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$logdir/run.log" | head -n 20 >&2 || true
        return 1
    fi
    [[ -n $execs ]] || { echo "fuzz $t: no execution count in the log" >&2; return 1; }
}

# fuzz_run_all SECS: every target in turn; fails after all ran if any failed.
fuzz_run_all() {
    local secs=$1 t failed=()
    FUZZ_RESULTS=()
    for t in "${FUZZ_TARGETS[@]}"; do
        fuzz_run "$t" "$secs" || failed+=("$t")
    done
    if ((${#failed[@]})); then
        echo "fuzz: crash or failed run in: ${failed[*]}" >&2
        return 1
    fi
}

# Rewrite the generated block of docs/FUZZING.md: one row per target, this
# run's figures for the targets it ran, the doc's earlier row for the others
# (FUZZ_ONLY runs a subset).
fuzz_write_doc() {
    local secs=$1 doc="$ROOT/docs/FUZZING.md" table commit date line t e_t e c took old row oldbudget
    commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$ROOT" diff --quiet HEAD -- src crates fuzz 2>/dev/null || commit+=" (+ uncommitted changes)"
    date=$(date -u +%Y-%m-%d)
    local budget="${secs} s"
    [[ -n ${FUZZ_RUNS:-} ]] && budget="$FUZZ_RUNS runs or ${secs} s"
    [[ -f $doc ]] || printf '# Fuzzing\n\n<!-- fuzz-results:begin -->\n<!-- fuzz-results:end -->\n' >"$doc"
    old=$(sed -n '/<!-- fuzz-results:begin/,/<!-- fuzz-results:end/p' "$doc")
    # Rows of the older format (no budget column) get the budget its header named.
    oldbudget=$(sed -nE 's/^Last run: [^,]*, commit [^,]*, (.*) per target.*/\1/p' <<<"$old" | head -n1)
    table="<!-- fuzz-results:begin (generated by ./build.sh fuzz; do not edit) -->"$'\n'
    table+="Each row is one target's latest run: one process (\`-jobs=1 -workers=1\`), bounded by the budget (executions or seconds, whichever came first); last written $date on $(nproc) cores, $(cargo "+$FUZZ_TOOLCHAIN" fuzz --version 2>/dev/null), $(rustup run "$FUZZ_TOOLCHAIN" rustc --version 2>/dev/null)."$'\n\n'
    table+="| target | budget | seconds | executions | crashes | date | commit |"$'\n'
    table+="| --- | --- | ---: | ---: | ---: | --- | --- |"$'\n'
    for t in "${FUZZ_ALL_TARGETS[@]}"; do
        row=""
        for line in "${FUZZ_RESULTS[@]}"; do
            read -r e_t e c took <<<"$line"
            [[ $e_t == "$t" ]] && row="| \`$t\` | $budget | $took | $e | $c | $date | $commit |"
        done
        if [[ -z $row ]]; then
            row=$(grep -F "| \`$t\` |" <<<"$old" | head -n1 || true)
            [[ -n $row && $(tr -cd '|' <<<"$row" | wc -c) -eq 7 ]] && row="| \`$t\` | ${oldbudget:-?} |${row#"| \`$t\` |"}"
        fi
        [[ -n $row ]] && table+="$row"$'\n'
    done
    table+="<!-- fuzz-results:end -->"
    TABLE="$table" awk '
        /<!-- fuzz-results:begin/ { print ENVIRON["TABLE"]; skip = 1; next }
        /<!-- fuzz-results:end/ { skip = 0; next }
        !skip { print }
    ' "$doc" >"$doc.tmp"
    mv "$doc.tmp" "$doc"
    note "wrote the results table of docs/FUZZING.md"
}

cmd_fuzz() {
    local secs=600
    while (($#)); do
        case $1 in
        --runs)
            [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "fuzz: --runs needs a positive integer"
            export FUZZ_RUNS=$2
            shift 2
            ;;
        *)
            [[ $1 =~ ^[1-9][0-9]*$ ]] || die "fuzz: SECS must be a positive integer, not '$1'"
            secs=$1
            shift
            ;;
        esac
    done
    if [[ -n ${FUZZ_ONLY:-} ]]; then
        local want
        FUZZ_TARGETS=()
        for want in $FUZZ_ONLY; do
            [[ " ${FUZZ_ALL_TARGETS[*]} " == *" $want "* ]] || die "fuzz: FUZZ_ONLY names '$want', not one of: ${FUZZ_ALL_TARGETS[*]}"
            FUZZ_TARGETS+=("$want")
        done
    fi
    must_step "fuzz: setup (nightly, cargo-fuzz $CARGO_FUZZ_VERSION)" fuzz_setup
    must_step "fuzz: seed corpora" fuzz_seed
    must_step "fuzz: build targets" fuzz_build
    try_step "fuzz: run ${#FUZZ_TARGETS[@]} targets x ${secs}s" fuzz_run_all_and_doc "$secs"
    exit "$LAST_RC"
}

# The table is written whatever the outcome (a crash shows in it).
fuzz_run_all_and_doc() {
    local rc=0
    fuzz_run_all "$1" || rc=$?
    fuzz_write_doc "$1"
    return "$rc"
}

# `test` step: every target briefly; fails on any crash.
fuzz_short() {
    fuzz_setup
    fuzz_seed
    fuzz_build
    fuzz_run_all "${FUZZ_SHORT_SECS:-20}"
}

# ---------------------------------------------------------------- faults
# Crash and fault injection (tests/faults): the `test workspace` step runs a
# short pass with the test's default counts; this runs the long one and
# rewrites the generated block of docs/FAULTS.md from the run's report.
faults_run() {
    local report=$1
    compute_locked
    cargo build "${LOCKED[@]}" --workspace --bins
    SEALPASS_FAULT_REPORT=$report cargo test "${LOCKED[@]}" -p sealpass-tests --test faults \
        -- --nocapture --test-threads=1
}

faults_write_doc() {
    local report=$1 doc="$ROOT/docs/FAULTS.md" commit
    commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$ROOT" diff --quiet HEAD -- src crates tests 2>/dev/null || commit+=" (+ uncommitted changes)"
    python3 - "$report" "$doc" "$commit" "$(nproc)" <<'PY'
import json, sys, datetime
report, doc, commit, cores = sys.argv[1:]
rows = [json.loads(l) for l in open(report) if l.strip()]
date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
out = ["<!-- fault-results:begin (generated by ./build.sh faults; do not edit) -->",
       f"Last run: {date}, commit {commit}, {cores} cores, debug binaries. Every run passed its checks"
       " (a failed check fails the command and writes no table).", "",
       "| run | seed | counts |", "| --- | --- | --- |"]
for r in rows:
    counts = "; ".join(f"{k}: {json.dumps(v) if not isinstance(v, str) else v}" for k, v in sorted(r["counts"].items()))
    out.append(f"| `{r['test']}` | {r['seed']} | {counts} |")
out.append("<!-- fault-results:end -->")
text = open(doc).read()
start, end = text.index("<!-- fault-results:begin"), text.index("<!-- fault-results:end -->") + len("<!-- fault-results:end -->")
open(doc, "w").write(text[:start] + "\n".join(out) + text[end:])
PY
    note "wrote the results table of docs/FAULTS.md"
}

cmd_faults() {
    local flow=${1:-240}
    [[ $flow =~ ^[1-9][0-9]*$ ]] || die "faults: FLOW_ITERATIONS must be a positive integer, not '$flow'"
    export SEALPASS_FAULT_FLOW=$flow
    export SEALPASS_FAULT_ROTATIONS=${SEALPASS_FAULT_ROTATIONS:-200}
    export SEALPASS_FAULT_DISK=${SEALPASS_FAULT_DISK:-12}
    local report
    report=$(mktemp "${TMPDIR:-/tmp}/sealpass-faults.XXXXXX")
    must_step "faults: $flow flow kills, $SEALPASS_FAULT_ROTATIONS rotation kills, $SEALPASS_FAULT_DISK disk-full rounds" faults_run "$report"
    faults_write_doc "$report"
    rm -f "$report"
}

# ---------------------------------------------------------------- mutants
# Mutation testing of the core's canonicalization, parsing and sealing code
# (cargo-mutants; settings in .cargo/mutants.toml, results in
# docs/MUTANTS.md). cargo-mutants' own baseline runs only the mutated
# package's tests, which lack the cross-package `core` target, so the
# baseline is run here and skipped there.
CARGO_MUTANTS_VERSION=27.1.0
MUTANTS_FILES=(src/canon.rs src/context.rs src/envelope.rs src/seal.rs src/b64.rs src/json.rs
    crates/open/src/lib.rs crates/native/src/signing/canonical.rs crates/native/src/signing/headers.rs
    crates/native/src/signing/verify.rs)

ensure_cargo_mutants() {
    if [[ "$(tool_version cargo mutants --version)" == "$CARGO_MUTANTS_VERSION" ]]; then
        note "present: cargo-mutants $CARGO_MUTANTS_VERSION"
    else
        cargo_install "3-5 min" --locked cargo-mutants --version "$CARGO_MUTANTS_VERSION"
    fi
}

# The test command each mutant gets, on the unmutated tree.
mutants_baseline() {
    compute_locked
    local -a args
    mapfile -t args < <(python3 -c 'import tomllib,sys; print("\n".join(tomllib.load(open(sys.argv[1],"rb"))["additional_cargo_test_args"]))' "$ROOT/.cargo/mutants.toml")
    cargo test "${LOCKED[@]}" --profile mutants -p sealpass -p sealpass-native -p sealpass-tests "${args[@]}"
}

mutants_run() {
    local out="$ROOT/target/mutants" f
    local -a files=()
    for f in "${MUTANTS_FILES[@]}"; do
        [[ -z ${MUTANTS_ONLY:-} || " $MUTANTS_ONLY " == *" $f "* ]] && files+=(-f "$f")
    done
    ((${#files[@]})) || die "mutants: MUTANTS_ONLY names none of: ${MUTANTS_FILES[*]}"
    mkdir -p "$out"
    # --iterate: mutants caught by an earlier run in $out are not tried again.
    cargo mutants --workspace "${files[@]}" --baseline=skip --timeout 90 --build-timeout 900 \
        --copy-target=true --iterate --no-shuffle -o "$out" || return $?
}

mutants_write_doc() {
    local commit
    commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$ROOT" diff --quiet HEAD -- src crates tests 2>/dev/null || commit+=" (+ uncommitted changes)"
    python3 "$ROOT/scripts/mutants-report.py" "$ROOT/target/mutants/mutants.out" "$ROOT/docs/MUTANTS.md" \
        "$commit" "$CARGO_MUTANTS_VERSION"
    note "wrote the results of docs/MUTANTS.md"
}

cmd_mutants() {
    must_step "mutants: cargo-mutants $CARGO_MUTANTS_VERSION" ensure_cargo_mutants
    must_step "mutants: baseline (the tests every mutant gets, unmutated)" mutants_baseline
    local rc=0
    try_step "mutants: ${MUTANTS_ONLY:-${MUTANTS_FILES[*]}}" mutants_run
    rc=$LAST_RC
    mutants_write_doc
    exit "$rc"
}

# ---------------------------------------------------------------- placeholders
run_optional_script() {
    local script=$1
    shift
    if [[ -f $ROOT/$script ]]; then
        must_step "$script" bash "$ROOT/$script" "$@"
    else
        echo "build.sh: $script does not exist yet; nothing to run." >&2
        return 1
    fi
}

# What `serve` needs of `setup`: the Wasm toolchain, not the browsers.
serve_setup() {
    must_step "setup: rust target $WASM_TARGET" ensure_wasm_target
    must_step "setup: browser-build toolchain ($SIZE_TOOLCHAIN + rust-src)" ensure_size_toolchain
    must_step "setup: wasm-pack $WASM_PACK_VERSION" ensure_wasm_pack
    must_step "setup: binaryen (wasm-opt)" ensure_binaryen
    must_step "setup: wasm-bindgen-cli" ensure_wasm_bindgen_cli
}

# build (skipping what is up to date), then the demo in the background of
# this shell: SIGINT or SIGTERM to this PID, or Ctrl-C, stops it (the demo
# stops its relay and agent and removes its data) and exits 0 with
# "stopped". A stop before the demo printed its URL prints no URL.
cmd_serve() {
    if [[ ! -f $ROOT/scripts/serve-demo.sh ]]; then
        echo "build.sh: scripts/serve-demo.sh does not exist yet; nothing to serve." >&2
        exit 1
    fi
    trap 'printf "\nstopped (during the build)\n"; exit 0' INT TERM
    serve_setup
    must_step "build: sealpass + sealpass-relay ($BIN_PROFILE)" build_bins
    must_step "build: accept page + admin console -> target/www-dist" build_www
    printf '\n==== serve: scripts/serve-demo.sh ====\n'
    local child rc=0
    trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM
    SEALPASS_DEMO_BIN_DIR="$ROOT/target/$BIN_PROFILE" SEALPASS_DEMO_PAGE_BUILT=1 \
        bash "$ROOT/scripts/serve-demo.sh" "$@" &
    child=$!
    # `wait` returns early when a trapped signal arrives: wait again until
    # the demo has finished stopping.
    while :; do
        rc=0
        wait "$child" || rc=$?
        kill -0 "$child" 2>/dev/null || break
    done
    trap - INT TERM
    exit "$rc"
}

cmd_page() {
    local origin="" url="" out="$ROOT/target/www-page"
    while (($#)); do
        case $1 in
        --relay-origin | --page-url | --out)
            (($# >= 2)) || die "page: $1 needs a value"
            case $1 in
            --relay-origin) origin=$2 ;;
            --page-url) url=$2 ;;
            --out) out=$2 ;;
            esac
            shift 2
            ;;
        *) die "page: unknown argument '$1' (--relay-origin URL [--page-url URL] [--out DIR])" ;;
        esac
    done
    [[ -n $origin ]] || die "page: --relay-origin URL is required"
    [[ $out == /* ]] || out="$PWD/$out"
    cmd_setup
    # The manifest is signed with the sealpass CLI: release, else debug, else build it.
    local bin=""
    for bin in "$ROOT/target/release/sealpass" "$ROOT/target/debug/sealpass" ""; do
        [[ -x $bin ]] && break
    done
    if [[ -z $bin ]]; then
        must_step "build: sealpass (signs releases.json)" cargo_build_release -p sealpass-cli --bin sealpass
        bin="$ROOT/target/release/sealpass"
    fi
    must_step "page: accept page for $origin -> $out" env WWW_SIGN=0 SEALPASS_BIN="$bin" WWW_DIST="$out" \
        WWW_RELAY_ORIGIN="$origin" WWW_PAGE_URL="$url" bash "$ROOT/scripts/build-www.sh"
    # The admin console beside it (<out>/admin/; signs the one releases.json).
    must_step "page: admin console for $origin -> $out/admin" env SEALPASS_BIN="$bin" WWW_DIST="$out" \
        WWW_RELAY_ORIGIN="$origin" WWW_PAGE_URL="$url" bash "$ROOT/scripts/build-admin.sh"
}

# The Wasm tools pack.sh builds with, the browser-build toolchain first.
cmd_pack() {
    serve_setup
    run_optional_script scripts/pack.sh "$@"
}
# Every row of the consumer matrix (also the slow ones `test` leaves out),
# then the README's matrix table is rewritten from this run.
cmd_test_matrix() {
    export SEALPASS_REQUIRE_BIN=1
    cmd_setup
    must_step "build debug bins" build_debug_bins
    must_step "consumer matrix (every row)" bash "$ROOT/tests/matrix/run.sh" --tier all --write-readme "$@"
}
# The PostgreSQL part of `test` alone (tests/pg/run.sh [CMD...]).
cmd_test_pg() {
    export SEALPASS_REQUIRE_BIN=1
    must_step "setup: apt ${PG_APT_PACKAGES[*]}" ensure_postgres
    must_step "build debug bins" build_debug_bins
    must_step "relay on PostgreSQL" bash "$ROOT/tests/pg/run.sh" "$@"
}
cmd_bench() { run_optional_script bench/run.sh "$@"; }

# ---------------------------------------------------------------- main
main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case $cmd in
    setup) cmd_setup ;;
    build) cmd_build ;;
    test) cmd_test ;;
    serve) cmd_serve "$@" ;;
    page) cmd_page "$@" ;;
    pack) cmd_pack "$@" ;;
    test-matrix) cmd_test_matrix "$@" ;;
    test-pg) cmd_test_pg "$@" ;;
    bench) cmd_bench "$@" ;;
    fuzz) cmd_fuzz "$@" ;;
    faults) cmd_faults "$@" ;;
    mutants) cmd_mutants ;;
    help | -h | --help) usage ;;
    "")
        usage >&2
        exit 2
        ;;
    *)
        echo "build.sh: unknown command '$cmd'" >&2
        usage >&2
        exit 2
        ;;
    esac
}

# Sourced (tests/build/run.sh): the functions only.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
