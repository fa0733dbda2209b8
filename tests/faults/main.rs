//! Crash and fault injection with the real binaries on 127.0.0.1 (issue
//! #14, item 10): SIGKILL of the relay and the node agent at random points
//! of the whole flow, SIGKILL of KEK/DEK rotations at random points, and a
//! keystore that runs out of space. After every run: no secret lost, none
//! delivered twice, no plaintext at rest, every record opens.
//!
//! `cargo test --test faults` (in `./build.sh test`) runs a short pass;
//! `./build.sh faults` the long one (iteration counts from the environment,
//! see [`Config`]), and writes the counts to bench/FAULTS.md.

mod config;
mod disk_full;
mod flow_kills;
mod rotation;
