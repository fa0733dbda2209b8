//! sealpass: hand a secret to one machine through a relay that cannot read it.
//!
//! A browser or CLI seals a secret to a node's one-time X25519 public key
//! (X25519 + HKDF-SHA256 + XChaCha20-Poly1305, every context field bound in a
//! canonical, length-prefixed AAD); the relay stores and forwards the
//! envelope; the node opens it. The same code runs natively and as
//! WebAssembly. Decryption exists only with the `open` feature. The wire
//! format is specified in docs/PROTOCOL.md.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Shipped browser builds (`--features wasm-min`) are no_std: no formatting
// or unwinding machinery in the bundle. Everything below uses `alloc` paths.
#![cfg_attr(all(feature = "wasm-min", target_arch = "wasm32", not(test)), no_std)]

extern crate alloc;

pub mod b64;
pub mod canon;
pub mod context;
pub mod envelope;
pub mod error;
pub mod fingerprint;
pub mod json;
pub mod keys;
#[cfg(feature = "open")]
pub mod open;
pub mod seal;
pub mod suite;

#[cfg(feature = "cli")]
pub mod agent;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "native")]
pub mod keystore;
#[cfg(feature = "relay")]
pub mod relay;
#[cfg(feature = "native")]
pub mod release;
#[cfg(feature = "native")]
pub mod signing;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
#[cfg(all(feature = "wasm-min", target_arch = "wasm32", not(test)))]
mod wasm_min;

#[cfg(all(feature = "relay", feature = "open"))]
compile_error!(
    "the relay must never be linked with the `open` feature: build it in its own cargo invocation"
);

pub use context::Context;
pub use envelope::Envelope;
pub use error::{Code, Error, Result};
pub use fingerprint::fingerprint;
pub use keys::{PublicKey, SecretKey};
#[cfg(feature = "open")]
pub use open::{open, open_json, Opener};
pub use seal::seal;
