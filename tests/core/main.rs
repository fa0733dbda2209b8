//! Library-level tests, no processes: the pinned envelope vectors, negative
//! envelopes and contexts, primitive vectors (Wycheproof, RFC KATs, RFC 9180)
//! through the crates' own code, the protocol document's worked example and
//! error table, parser fuzzing, and the keystore and release-manifest APIs.

// A panic is how a test fails; clippy.toml allows these inside #[test]
// functions only, and the helpers of a test crate are test code too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod architecture_doc;
mod b64_multibyte;
mod envelope_vectors;
mod fuzz_parse;
mod hmac_vectors;
mod hpke_dhkem;
mod identity;
mod keystore_api;
mod keystore_context;
mod keystore_identity;
mod keystore_rotation;
mod keystore_tamper;
mod negative;
mod primitives;
mod protocol_doc;
mod protocol_example;
mod release_wycheproof;
