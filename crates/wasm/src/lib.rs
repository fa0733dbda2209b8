//! The JavaScript API of sealpass (wasm-bindgen), built by wasm-pack for the
//! accept page and the npm package. Every function calls the same core code
//! the node runs natively; this crate only converts JS values, turns errors
//! into JS `Error`s with a stable `name` and numeric `code`, and supplies Web
//! Crypto's RNG. It is empty on other targets, so native workspace builds
//! (`--all-features` included) compile it as nothing.
//!
//! Features: `open` exports decryption (npm `sealpass/node-open` only; the
//! browser bundle cannot decrypt), `wasm-min` is the shipped no_std runtime,
//! `wasm-base-table` the Node builds' fixed-base X25519 table,
//! `trusted-input` the accept page's direct reading of JS values (see `read`).

// Shipped builds (`--features wasm-min`) are no_std: no formatting or
// unwinding machinery in the bundle.
#![cfg_attr(all(feature = "wasm-min", target_arch = "wasm32", not(test)), no_std)]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod bindings;
#[cfg(all(target_arch = "wasm32", feature = "open"))]
mod envelope_js;
#[cfg(target_arch = "wasm32")]
mod read;
#[cfg(target_arch = "wasm32")]
pub mod rng;
#[cfg(all(feature = "wasm-min", target_arch = "wasm32", not(test)))]
mod runtime;

#[cfg(target_arch = "wasm32")]
pub use bindings::*;
