//! The whole system as operators run it: the `sealpass` CLI contract, node
//! and keystore commands, real node agents and inject runs against a real
//! relay (single, fan-out, restarts and crashes), `sealpass relay`, signing
//! and release-manifest commands.

// A panic is how a test fails; clippy.toml allows these inside #[test]
// functions only, and the helpers of a test crate are test code too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cli_abort;
mod cli_core;
mod cli_dead_ends;
mod flow_fanout;
mod flow_restart;
mod flow_single;
mod flow_v2_to_agent;
mod hostile_node_relay;
mod hostile_relay;
mod hostile_text;
mod node_cli_concurrency;
mod node_cli_context_binding;
mod node_cli_e2e;
mod node_cli_empty_store;
mod node_cli_kek;
mod node_identity_rotation;
mod pinning;
mod relay_via_cli;
mod release_manifest;
mod signing_cli;
