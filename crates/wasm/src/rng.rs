//! Web Crypto's CSPRNG as the RNG the core's `*_with_rng` functions take.
//! Bound directly (rather than through `getrandom`) to keep the bundle small.

use core::num::NonZeroU32;

use rand_core::{CryptoRng, Error, RngCore};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `crypto.getRandomValues`, present in every browser and in Node >= 19.
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(buf: &mut [u8]) -> core::result::Result<JsValue, JsValue>;
}

/// `crypto.getRandomValues`, in chunks of at most 65536 bytes (the Web
/// Crypto limit per call; sealpass asks for 32 or 56).
pub struct WebCrypto;

/// rand_core's first custom error code; the core maps any RNG error to
/// 8305 RandomUnavailable.
const UNAVAILABLE: u32 = Error::CUSTOM_START;

impl RngCore for WebCrypto {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    /// `RngCore` gives this no way to report failure. sealpass calls only
    /// `try_fill_bytes`; should anything else call this while Web Crypto is
    /// unusable, it must stop rather than hand out predictable bytes.
    // Deliberate fail-stop: no error channel here, and unfilled bytes would be predictable.
    #[allow(clippy::panic)]
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if self.try_fill_bytes(dest).is_err() {
            panic!("crypto.getRandomValues failed");
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        if dest.chunks_mut(65536).all(|c| get_random_values(c).is_ok()) {
            Ok(())
        } else {
            Err(NonZeroU32::new(UNAVAILABLE)
                .map_or_else(|| Error::from(NonZeroU32::MIN), Error::from))
        }
    }
}

impl CryptoRng for WebCrypto {}
