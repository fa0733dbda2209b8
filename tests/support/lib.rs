//! Support shared by every sealpass test target (tests/core, tests/relay,
//! tests/system): one binary lookup, one process wrapper, one relay harness,
//! the signed-node and agent harnesses, and the vector readers that the Wasm
//! tests include too (`vectors/`, no process or file access there).
//!
//! Every service a test starts is private and bounded: loopback on a port the
//! OS picks, a temp dir, and a process killed by PID when its handle drops.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod agent;
pub mod bins;
pub mod cli;
pub mod hostile;
pub mod pg;
pub mod proc;
pub mod relay;
pub mod signed;
pub mod vectors;

use std::path::PathBuf;

/// The workspace root (docs/, tests/vectors/, Cargo.toml).
pub fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
