//! src/b64.rs on text that is valid UTF-8 but not ASCII: a multibyte
//! character (2, 3 or 4 bytes) put at each position of a valid encoding,
//! in place of a character or inserted, across the 8-character chunks the
//! decoder reads at once and the tail it pads, is InvalidBase64 (8107),
//! never a panic or a decoded value.

use sealpass::{b64, Code};

use sealpass_tests::vectors as common;

/// Common ones, and ones whose every byte with its high bit cleared is a
/// base64url digit (C3 B0 -> "C0", C2 AD -> "B-", E1 B0 B0 -> "a00",
/// F0 B0 B0 B0 -> "p000"): only the decoder's high-bit check refuses those.
const MULTIBYTE: [char; 9] = [
    '\u{80}',
    'é',
    '\u{7FF}',
    '€',
    '😀',
    'ð',
    '\u{AD}',
    '\u{1C30}',
    '\u{30C30}',
];

fn refused(text: &str) {
    match b64::decode(text) {
        Ok(v) => panic!("{text:?} decoded to {v:?}"),
        Err(e) => assert_eq!(e.code(), Code::InvalidBase64, "{text:?}"),
    }
}

#[test]
fn multibyte_utf8_at_every_position_is_invalid_base64() {
    let mut cases = 0;
    for n in 0..=24usize {
        let bytes: Vec<u8> = (0..n)
            .map(|i| (i as u8).wrapping_mul(151).wrapping_add(7))
            .collect();
        let good = b64::encode(&bytes);
        assert_eq!(b64::decode(&good).unwrap(), bytes);
        let chars: Vec<char> = good.chars().collect();
        for c in MULTIBYTE {
            for i in 0..=chars.len() {
                // Inserted before position i (or appended).
                let mut inserted = chars.clone();
                inserted.insert(i, c);
                refused(&inserted.iter().collect::<String>());
                // In place of the character at i.
                if i < chars.len() {
                    let mut replaced = chars.clone();
                    replaced[i] = c;
                    refused(&replaced.iter().collect::<String>());
                    cases += 1;
                }
                cases += 1;
            }
        }
    }
    // Whole strings of one multibyte character, of every byte length up to 24.
    for c in MULTIBYTE {
        for k in 1..=24 / c.len_utf8() {
            refused(&c.to_string().repeat(k));
            cases += 1;
        }
    }
    assert!(cases > 2500, "{cases}");
}

/// The decoder against a plain one written from PROTOCOL.md §7, on every
/// ASCII byte and some multibyte characters at each position
/// (tests/support/vectors/b64.rs; the Wasm tests run it too, through the
/// fast builds' SIMD groups).
#[test]
fn decode_matches_a_plain_decoder() {
    assert_eq!(common::b64::decode_matches_reference(), 62_081);
}
