#!/usr/bin/env bash
# Load test: 1,000 pending credentials through the relay flow with
# concurrent clients on loopback (see README.md).
#   bench/load/run.sh            # release relay, debug test client
#   bench/load/run.sh --debug    # debug relay
# SEALPASS_LOAD_N / SEALPASS_LOAD_WORKERS change the size.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [[ ${1:-} == --debug ]]; then
    cargo build -p sealpass-relay --bin sealpass-relay
    unset SEALPASS_TEST_RELAY_BIN
else
    cargo build --release -p sealpass-relay --bin sealpass-relay
    export SEALPASS_TEST_RELAY_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/sealpass-relay"
fi
cargo test -p sealpass-tests --test relay \
    -- --ignored --nocapture --test-threads 1 load::thousand_pendings_through_the_flow
