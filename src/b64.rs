//! Canonical base64url without padding (RFC 4648 §5).
//!
//! Strict on purpose: `=`, `+`, `/`, whitespace and non-zero trailing bits are
//! rejected, so every byte string has exactly one accepted encoding and two
//! implementations can never disagree about what a field means.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::error::{Code, Error, Result};

/// Encode bytes as canonical base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decode canonical base64url without padding; anything else is 8107.
pub fn decode(text: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.as_bytes()).map_err(|_| {
        Error::new(
            Code::InvalidBase64,
            "not canonical base64url without padding",
        )
    })
}

/// Decode into a fixed-size array; wrong length gives `len_err`.
pub fn decode_array<const N: usize>(text: &str, len_err: Error) -> Result<[u8; N]> {
    // Reject by length before decoding: N bytes encode to exactly this many chars.
    if text.len() != encoded_len(N) {
        // Still report bad base64 first when the text is not base64 at all.
        decode(text)?;
        return Err(len_err);
    }
    let v = decode(text)?;
    v.try_into().map_err(|_| len_err)
}

/// Number of characters base64url-no-pad uses for `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    (n * 8).div_ceil(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_lengths() {
        for n in 0..70 {
            let data: Vec<u8> = (0..n as u8).collect();
            let e = encode(&data);
            assert_eq!(e.len(), encoded_len(n));
            assert_eq!(decode(&e).unwrap(), data);
        }
    }

    #[test]
    fn rejects_non_canonical_forms() {
        // "AQ" is canonical for [0x01]; "AR" has non-zero trailing bits.
        assert_eq!(decode("AQ").unwrap(), vec![1]);
        for bad in [
            "AR", "AQ==", "AQ=", "A+", "A/", "A Q", "AQ\n", " AQ", "A", "AQ\t", "É",
        ] {
            assert_eq!(
                decode(bad).unwrap_err().code(),
                Code::InvalidBase64,
                "{bad:?}"
            );
        }
        // '-' and '_' are the url-safe digits and are accepted.
        assert_eq!(decode("-_8").unwrap(), vec![0xfb, 0xff]);
    }
}
