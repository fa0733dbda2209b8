//! Native building blocks shared by the relay and the CLI: the sealed
//! keystore (KEK → DEKs), HMAC request signing, signed release manifests,
//! bounded I/O, and the wire types of the relay's HTTP API (one set, used by
//! the relay and by every client of it).
//!
//! This crate cannot open an envelope: it does not depend on `sealpass-open`.
//! The keystore's accept step takes the opening function as an argument, so
//! the CLI (which links decryption) supplies it and the relay never can.

mod hex;
pub mod io;
pub mod keystore;
pub mod known_nodes;
pub mod release;
pub mod signing;
pub mod wire;
