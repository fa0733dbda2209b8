//! sealpass core: hand a secret to one machine through a relay that cannot read it.
//!
//! A browser or CLI seals a secret to a node's one-time X25519 public key
//! (X25519 + HKDF-SHA256 + XChaCha20-Poly1305, every context field bound in a
//! canonical, length-prefixed AAD); the relay stores and forwards the
//! envelope; the node opens it. This crate is what both ends share — context,
//! canonical encoding, envelope, seal, keys, fingerprints and every error
//! code — `no_std` + `alloc` with no target-specific code, so the same source
//! runs natively and as WebAssembly. It cannot decrypt: opening lives in the
//! `sealpass-open` crate, which the relay and the browser bundle never link.
//! The wire format is specified in docs/PROTOCOL.md.
//!
//! ```
//! use sealpass::{seal_with_rng, Context, SecretKey};
//! # fn main() -> sealpass::Result<()> {
//! // Any CSPRNG; with feature `os-rng`, `seal()` uses the operating system's.
//! let mut rng = rand_core::OsRng;
//! // The node makes a one-time key pair and publishes the public half.
//! let node_sk = SecretKey::generate_with_rng(&mut rng)?;
//! let node_pk = node_sk.public_key();
//! println!("compare out of band: {}", node_pk.fingerprint());
//!
//! // The sender binds where the secret goes, then seals to the node's key.
//! let ctx = Context::new("web-1", "p-1", "github-token", "env", Some("GH_TOKEN"), None)?;
//! let envelope = seal_with_rng(&mut rng, &node_pk, b"ghp_example", &ctx)?;
//! let json = envelope.to_json(); // what the relay stores and forwards
//! assert!(json.starts_with("{\"v\":1,"));
//!
//! // Only the node can open it, with its own copy of the context
//! // (sealpass-open; see that crate's example).
//! # Ok(())
//! # }
//! ```

#![cfg_attr(not(test), no_std)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

extern crate alloc;

pub mod b64;
pub mod canon;
pub mod context;
pub mod envelope;
pub mod error;
pub mod fingerprint;
pub mod json;
pub mod keys;
pub mod rng;
pub mod seal;
pub mod suite;

pub use context::Context;
pub use envelope::Envelope;
pub use envelope::Version;
pub use error::{Code, Error, Result};
pub use fingerprint::fingerprint;
pub use fingerprint::identity_fingerprint;
pub use keys::{PublicKey, SecretKey};
#[cfg(feature = "os-rng")]
pub use seal::{seal, seal_v2};
pub use seal::{seal_to, seal_v2_with_rng, seal_with_rng};
