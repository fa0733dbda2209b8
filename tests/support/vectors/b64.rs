//! `sealpass::b64::decode` against a plain decoder written from
//! docs/PROTOCOL.md §7 (a character at a time: base64url digits only, no
//! padding, a length of 1 mod 4 refused, unused trailing bits zero). Natively
//! this checks the eight-at-a-time SWAR decoder; in the Wasm fast builds
//! (simd128) the 16-character SIMD groups in front of it too, so every case
//! puts the change at each position, across group and chunk boundaries.

use sealpass::{b64, Code};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The reference: `None` where the text is not canonical base64url.
fn reference(text: &str) -> Option<Vec<u8>> {
    let s = text.as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s {
        let v = ALPHABET.iter().position(|a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (acc == 0).then_some(out)
}

/// Decode `text` both ways and require the same answer; 1 (one case).
fn same(text: &str) -> usize {
    match (b64::decode(text), reference(text)) {
        (Ok(got), Some(want)) => assert_eq!(got, want, "{text:?}"),
        (Err(e), None) => assert_eq!(e.code(), Code::InvalidBase64, "{text:?}"),
        (got, want) => panic!("{text:?}: decode {got:?}, reference {want:?}"),
    }
    1
}

/// splitmix64: deterministic, so the case count is exact.
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(ALPHABET[(self.next() % 64) as usize]))
            .collect()
    }
}

/// Every case compared; returns their number.
pub fn decode_matches_reference() -> usize {
    let mut rng = Mix(0x5EA1_9A55);
    let mut cases = 0;
    // Encodings of random bytes, every length to 200: decoded exactly.
    for n in 0..=200 {
        let data: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        let text = b64::encode(&data);
        assert_eq!(b64::decode(&text).unwrap(), data);
        cases += same(&text);
    }
    // Random digits (trailing bits often non-zero), every length to 300.
    for n in 0..=300 {
        cases += same(&rng.digits(n));
    }
    // Each ASCII byte, and characters of 2, 3 and 4 bytes, at each position
    // of strings around the 8- and 16-character boundaries.
    for n in [7, 8, 15, 16, 17, 24, 31, 32, 33, 43, 48, 63, 64, 65] {
        let base = b64::encode(&(0..n * 3 / 4).map(|_| rng.next() as u8).collect::<Vec<_>>());
        for i in 0..base.len() {
            for b in 0u8..0x80 {
                let mut t = base.clone().into_bytes();
                t[i] = b;
                cases += same(core::str::from_utf8(&t).unwrap());
            }
            for c in ['é', '€', '😀', 'ð', '\u{1C30}'] {
                let (head, tail) = base.split_at(i);
                cases += same(&format!("{head}{c}{}", &tail[1..]));
            }
        }
    }
    cases
}
