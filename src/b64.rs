//! Canonical base64url without padding (RFC 4648 §5).
//!
//! Strict on purpose: `=`, `+`, `/`, whitespace and non-zero trailing bits are
//! rejected, so every byte string has exactly one accepted encoding and two
//! implementations can never disagree about what a field means. Hand-written
//! (a few dozen lines) because it sits in the browser bundle, where every
//! kilobyte counts.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Code, Error, Result};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Encode bytes as canonical base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(bytes.len()));
    for chunk in bytes.chunks(3) {
        let mut b = [0u8; 3];
        b.iter_mut().zip(chunk).for_each(|(d, s)| *d = *s);
        let n = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        for i in 0..=chunk.len() {
            out.push(symbol(n >> (18 - 6 * i)));
        }
    }
    out
}

/// The base64url digit for the low 6 bits of `v` (the mask keeps the
/// lookup in bounds, so the compiler drops the fallback).
fn symbol(v: u32) -> char {
    char::from(ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'_'))
}

/// Value of one base64url digit, or `None` for any other byte.
fn digit(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decode canonical base64url without padding; anything else is 8107.
pub fn decode(text: &str) -> Result<Vec<u8>> {
    let bad = || {
        Error::new(
            Code::InvalidBase64,
            "not canonical base64url without padding",
        )
    };
    let s = text.as_bytes();
    if s.len() % 4 == 1 {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= digit(c).ok_or_else(bad)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = chunk.len() - 1; // 2 chars → 1 byte, 3 → 2, 4 → 3
                                    // Unused low bits of the last character must be zero (canonical form).
        let (kept, unused) = match (bytes.get(..keep), bytes.get(keep..)) {
            (Some(k), Some(u)) => (k, u),
            _ => return Err(bad()),
        };
        if unused.iter().any(|b| *b != 0) {
            return Err(bad());
        }
        out.extend_from_slice(kept);
    }
    Ok(out)
}

/// Decode into a fixed-size array; wrong length gives `len_err`. The
/// temporary buffer is wiped, since this is how secret keys are read.
pub fn decode_array<const N: usize>(text: &str, len_err: Error) -> Result<[u8; N]> {
    let v = zeroize::Zeroizing::new(decode(text)?);
    if v.len() != N {
        return Err(len_err);
    }
    let mut out = [0u8; N];
    out.copy_from_slice(&v);
    Ok(out)
}

/// Number of characters base64url-no-pad uses for `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    (n * 8).div_ceil(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_test_vectors() {
        // RFC 4648 §10, without padding.
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc).unwrap(), plain.as_bytes());
        }
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    #[test]
    fn round_trip_and_lengths() {
        for n in 0..70 {
            let data: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            let e = encode(&data);
            assert_eq!(e.len(), encoded_len(n));
            assert_eq!(decode(&e).unwrap(), data);
        }
    }

    #[test]
    fn rejects_non_canonical_forms() {
        // "AQ" is canonical for [0x01]; "AR" has non-zero trailing bits.
        assert_eq!(decode("AQ").unwrap(), vec![1]);
        assert_eq!(decode("AAE").unwrap(), vec![0, 1]);
        for bad in [
            "AR", "AAF", "AQ==", "AQ=", "A+", "A/", "A Q", "AQ\n", " AQ", "A", "AQ\t", "É", "AAAAA",
        ] {
            assert_eq!(
                decode(bad).unwrap_err().code(),
                Code::InvalidBase64,
                "{bad:?}"
            );
        }
        assert_eq!(decode("-_8").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn exhaustive_single_and_double_bytes_are_unique() {
        // Every 1- and 2-byte value has exactly one accepted encoding.
        let mut accepted = 0;
        for a in ALPHABET {
            for b in ALPHABET {
                let s = [*a, *b];
                if let Ok(v) = decode(core::str::from_utf8(&s).unwrap()) {
                    assert_eq!(encode(&v).as_bytes(), &s);
                    accepted += 1;
                }
            }
        }
        assert_eq!(accepted, 256);
    }
}
