//! Randomness as a parameter (rust-hpke's `*_with_rng` pattern): the core
//! never reaches for a platform RNG itself. Natively [`OsRng`] (feature
//! `os-rng`) is the operating system's CSPRNG; the Wasm bindings pass Web
//! Crypto's `getRandomValues`; tests pass a fixed-output RNG to reproduce
//! pinned vectors.

pub use rand_core::{CryptoRng, CryptoRngCore, RngCore};

#[cfg(feature = "os-rng")]
pub use rand_core::OsRng;

use crate::error::{Code, Error, Result};

/// Fill `buf` from `rng`; an RNG failure is 8305 `RandomUnavailable`.
pub fn fill(rng: &mut impl CryptoRngCore, buf: &mut [u8]) -> Result<()> {
    rng.try_fill_bytes(buf)
        .map_err(|_| Error::new(Code::RandomUnavailable, "system RNG failed"))
}

/// Fill `buf` from the operating system's CSPRNG.
#[cfg(feature = "os-rng")]
pub fn os_fill(buf: &mut [u8]) -> Result<()> {
    fill(&mut OsRng, buf)
}
