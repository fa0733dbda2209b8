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

/// Eight characters at once (SWAR: one byte per character in a u64):
/// each byte becomes its digit's value; `bad` gets a bit for every byte that
/// is no base64url digit. No branch or table lookup depends on the text
/// (secret keys are decoded here too), and 8 characters cost about what one
/// took as a `match` (an open's `ct` is most of its input).
fn digits8(w: u64, bad: &mut u64) -> u64 {
    const L: u64 = 0x0101_0101_0101_0101;
    const H: u64 = 0x8080_8080_8080_8080;
    *bad |= w & H; // bytes >= 0x80
    let x = w & !H; // 7-bit lanes: nothing below borrows or carries across lanes
                    // 0xFF in the lanes where lo <= x <= hi: the high bit of 0x80 + x - lo
                    // and of 0x80 + hi - x.
    let within = |lo: u8, hi: u8| {
        let m = ((x | H) - u64::from(lo) * L) & ((u64::from(hi) | 0x80) * L - x) & H;
        (m >> 7) * 0xFF
    };
    let (mut out, mut seen) = (0u64, 0u64);
    for (lo, hi, base) in [
        (b'A', b'Z', 0u8),
        (b'a', b'z', 26),
        (b'0', b'9', 52),
        (b'-', b'-', 62),
        (b'_', b'_', 63),
    ] {
        let m = within(lo, hi);
        seen |= m;
        out |= ((x & m) - ((u64::from(lo) * L) & m)) + ((u64::from(base) * L) & m);
    }
    *bad |= !seen & H; // a lane no range claimed
    out
}

/// The 48 bits of eight 6-bit digits (one per byte, first in the low byte).
fn bits48(d: u64) -> [u8; 6] {
    let group = |g: u64| {
        let n =
            ((g & 63) << 18) | (((g >> 8) & 63) << 12) | (((g >> 16) & 63) << 6) | ((g >> 24) & 63);
        let [_, _, _, _, _, a, b, c] = n.to_be_bytes();
        [a, b, c]
    };
    let ([a, b, c], [e, f, g]) = (group(d), group(d >> 32));
    [a, b, c, e, f, g]
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
    // 8 characters -> 6 bytes; the last 2..=7 -> 1..=5 (none for 0 or 4 is
    // 3: a whole group), so both sides have as many whole chunks.
    let mut out = alloc::vec![0u8; s.len() / 4 * 3 + (s.len() % 4).saturating_sub(1)];
    let mut err = 0u64;
    // Whole 16-character groups in Wasm SIMD where the build has it; the
    // rest (all of it elsewhere) eight at a time. 16 characters are 12
    // bytes, so what is left keeps the relation between the two lengths.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (s, out_rest) = {
        let done = simd::decode16(s, &mut out, &mut err);
        (
            s.get(done..).unwrap_or_default(),
            out.get_mut(done / 16 * 12..).unwrap_or_default(),
        )
    };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let out_rest = &mut out[..];
    let mut chars = s.chunks_exact(8);
    let mut bytes = out_rest.chunks_exact_mut(6);
    for (c, o) in (&mut chars).zip(&mut bytes) {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        o.copy_from_slice(&bits48(digits8(u64::from_le_bytes(w), &mut err)));
    }
    // The rest padded with 'A' (0). The unused low bits of the last
    // character must be zero (the canonical form), and so the bytes past
    // the output.
    let mut w = [b'A'; 8];
    w.iter_mut()
        .zip(chars.remainder())
        .for_each(|(d, c)| *d = *c);
    let last = bits48(digits8(u64::from_le_bytes(w), &mut err));
    let tail = bytes.into_remainder();
    let (kept, unused) = last.split_at(tail.len());
    tail.copy_from_slice(kept);
    if err != 0 || unused.iter().any(|b| *b != 0) {
        zeroize::Zeroize::zeroize(&mut out);
        return Err(bad());
    }
    Ok(out)
}

/// Sixteen characters at once in Wasm SIMD, for the fast builds (compiled
/// with `-Ctarget-feature=+simd128`): an open's `ct` is most of its input,
/// and the eight-at-a-time SWAR above was 14% of a 16 KiB open in Node.
/// Range compares and masks only: as above, nothing depends on the text
/// but the values computed (secret keys are decoded here too).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// Decode the whole 16-character groups of `s` into 12-byte groups of
    /// `out` (which holds at least as many), setting `bad` for any byte that
    /// is no base64url digit; returns the number of characters decoded.
    pub(super) fn decode16(s: &[u8], out: &mut [u8], bad: &mut u64) -> usize {
        let mut invalid = u8x16_splat(0);
        let mut done = 0;
        for (c, o) in s.chunks_exact(16).zip(out.chunks_exact_mut(12)) {
            let (lo, hi) = c.split_at(8);
            let v = u64x2(le64(lo), le64(hi));
            let in_range =
                |a: u8, b: u8| v128_and(u8x16_ge(v, u8x16_splat(a)), u8x16_le(v, u8x16_splat(b)));
            let (upper, lower, digit) = (
                in_range(b'A', b'Z'),
                in_range(b'a', b'z'),
                in_range(b'0', b'9'),
            );
            let (dash, under) = (
                u8x16_eq(v, u8x16_splat(b'-')),
                u8x16_eq(v, u8x16_splat(b'_')),
            );
            let valid = v128_or(v128_or(v128_or(upper, lower), v128_or(digit, dash)), under);
            invalid = v128_or(invalid, v128_not(valid));
            // Each digit's value is the character plus its range's offset
            // (wrapping): 'A' -> 0, 'a' -> 26, '0' -> 52, '-' -> 62, '_' -> 63.
            let off = |m: v128, k: i8| v128_and(m, i8x16_splat(k));
            let offset = v128_or(
                v128_or(off(upper, -65), off(lower, -71)),
                v128_or(v128_or(off(digit, 4), off(dash, 17)), off(under, -32)),
            );
            let d = i8x16_add(v, offset);
            // Bytes d0 d1 d2 d3 of each 32-bit lane (first character in the
            // low byte): two 12-bit halves d0 d1 and d2 d3, then the 24 bits
            // d0 d1 d2 d3, big-endian in the lane's low three bytes.
            let pairs = v128_or(
                u16x8_shl(v128_and(d, u16x8_splat(0x00FF)), 6),
                u16x8_shr(d, 8),
            );
            let n = v128_or(
                u32x4_shl(v128_and(pairs, u32x4_splat(0xFFFF)), 12),
                u32x4_shr(pairs, 16),
            );
            let b = i8x16_shuffle::<2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 0, 0, 0, 0>(n, n);
            let (o8, o4) = o.split_at_mut(8);
            o8.copy_from_slice(&u64x2_extract_lane::<0>(b).to_le_bytes());
            o4.copy_from_slice(&(u64x2_extract_lane::<1>(b) as u32).to_le_bytes());
            done += 16;
        }
        if v128_any_true(invalid) {
            *bad |= 1;
        }
        done
    }

    /// Eight bytes, little-endian (the chunk is always eight long).
    fn le64(b: &[u8]) -> u64 {
        let mut w = [0u8; 8];
        w.iter_mut().zip(b).for_each(|(d, s)| *d = *s);
        u64::from_le_bytes(w)
    }
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

    #[test]
    fn every_byte_is_a_digit_exactly_when_the_alphabet_says() {
        // The SWAR digits8() against the alphabet, for all 256 bytes in
        // each of the 8 lanes (the other lanes 'A').
        for c in 0..=255u8 {
            let want = ALPHABET.iter().position(|a| *a == c);
            for lane in 0..8 {
                let mut w = [b'A'; 8];
                w[lane] = c;
                let mut err = 0;
                let d = digits8(u64::from_le_bytes(w), &mut err);
                match want {
                    Some(v) => {
                        assert_eq!(err, 0, "byte {c:#x} lane {lane}");
                        assert_eq!(d, (v as u64) << (8 * lane), "byte {c:#x} lane {lane}");
                    }
                    None => assert_ne!(err, 0, "byte {c:#x} lane {lane}"),
                }
            }
        }
    }

    #[test]
    fn decodes_like_a_plain_decoder_at_every_length() {
        // Against a straightforward reference, across the 8-character chunk
        // boundaries, with one character changed at each position.
        fn reference(s: &[u8]) -> Option<Vec<u8>> {
            let mut bits = 0u32;
            let (mut n, mut out) = (0, Vec::new());
            for c in s {
                bits = bits << 6 | ALPHABET.iter().position(|a| a == c)? as u32;
                n += 6;
                if n >= 8 {
                    n -= 8;
                    out.push((bits >> n) as u8);
                }
            }
            (s.len() % 4 != 1 && bits & ((1 << n) - 1) == 0).then_some(out)
        }
        for len in 0..40usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 89 + 13) as u8).collect();
            let text = encode(&data);
            assert_eq!(decode(&text).unwrap(), data);
            for pos in 0..text.len() {
                for c in [b'A', b'_', b'=', b'+', 0x80, b'z'] {
                    let mut t = text.clone().into_bytes();
                    t[pos] = c;
                    let got = core::str::from_utf8(&t).ok().map(|t| decode(t).ok());
                    if let Some(got) = got {
                        assert_eq!(got, reference(&t), "{t:?}");
                    }
                }
            }
        }
    }
}
