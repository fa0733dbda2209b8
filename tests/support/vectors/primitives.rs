//! Wycheproof and RFC known-answer vectors run through the crate's own
//! primitive wrappers (`sealpass::suite`), the code the envelope uses.

use super::{arr, flags, hexd, num, parse, s};
use sealpass::suite;

pub const X25519_WYCHEPROOF: &str = include_str!("../../vectors/primitives/x25519_test.json");
pub const XCHACHA_WYCHEPROOF: &str =
    include_str!("../../vectors/primitives/xchacha20_poly1305_test.json");
pub const HKDF_WYCHEPROOF: &str = include_str!("../../vectors/primitives/hkdf_sha256_test.json");
pub const HMAC_WYCHEPROOF: &str = include_str!("../../vectors/primitives/hmac_sha256_test.json");
pub const X25519_RFC7748: &str = include_str!("../../vectors/primitives/x25519_rfc7748.json");
pub const HKDF_RFC5869: &str = include_str!("../../vectors/primitives/hkdf_sha256_rfc5869.json");
pub const XCHACHA_DRAFT: &str =
    include_str!("../../vectors/primitives/xchacha20_poly1305_draft03.json");

/// X25519: every non-zero shared secret must match; every all-zero one
/// (low-order public key) must be refused. Returns (matched, refused).
pub fn x25519() -> (usize, usize) {
    let doc = parse(X25519_WYCHEPROOF);
    let (mut ok, mut refused) = (0, 0);
    for g in arr(&doc, "testGroups") {
        for t in arr(g, "tests") {
            let sk: [u8; 32] = hexd(t, "private").try_into().unwrap();
            let pk: [u8; 32] = hexd(t, "public").try_into().unwrap();
            let want = hexd(t, "shared");
            let id = num(t, "tcId");
            match suite::dh(&sk, &pk) {
                Some(ss) => {
                    assert!(
                        want.iter().any(|b| *b != 0),
                        "x25519 tcId {id}: all-zero result accepted"
                    );
                    assert_eq!(&ss[..], &want[..], "x25519 tcId {id}");
                    ok += 1;
                }
                None => {
                    assert!(
                        want.iter().all(|b| *b == 0),
                        "x25519 tcId {id} refused a non-zero result"
                    );
                    refused += 1;
                }
            }
        }
    }
    (ok, refused)
}

/// `suite::public_key` (a fixed-base table natively and in Wasm speed builds,
/// the ladder in Wasm size builds) must equal the ladder `X25519(k, 9)` for
/// every scalar: edge patterns around clamping plus 500 pseudo-random ones.
/// Returns how many were compared.
pub fn public_key_matches_ladder() -> usize {
    let mut basepoint = [0u8; 32];
    basepoint[0] = 9;
    let mut keys: Vec<[u8; 32]> = vec![[0; 32], [0xff; 32], [0x80; 32], [0x7f; 32], [0x07; 32]];
    let mut one = [0u8; 32];
    one[0] = 1;
    keys.push(one);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..500 {
        let mut k = [0u8; 32];
        for b in k.iter_mut() {
            // xorshift64*: a fixed, reproducible sequence (not for keys).
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            *b = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
        keys.push(k);
    }
    for k in &keys {
        let ladder = suite::dh(k, &basepoint).expect("X25519(k, 9) is never zero");
        assert_eq!(suite::public_key(k), *ladder, "public_key({k:02x?})");
    }
    keys.len()
}

/// RFC 7748 §5.2 single-call vectors and §6.1 Alice/Bob.
pub fn x25519_rfc7748() -> usize {
    let doc = parse(X25519_RFC7748);
    let mut n = 0;
    for t in arr(&doc, "scalarmult") {
        let k: [u8; 32] = hexd(t, "scalar").try_into().unwrap();
        let u: [u8; 32] = hexd(t, "u").try_into().unwrap();
        let out = suite::dh(&k, &u).expect("non-zero");
        assert_eq!(&out[..], &hexd(t, "output")[..]);
        n += 1;
    }
    for t in arr(&doc, "diffie_hellman") {
        let a: [u8; 32] = hexd(t, "alice_private").try_into().unwrap();
        let b: [u8; 32] = hexd(t, "bob_private").try_into().unwrap();
        assert_eq!(&suite::public_key(&a)[..], &hexd(t, "alice_public")[..]);
        assert_eq!(&suite::public_key(&b)[..], &hexd(t, "bob_public")[..]);
        let ab = suite::dh(&a, &suite::public_key(&b)).unwrap();
        let ba = suite::dh(&b, &suite::public_key(&a)).unwrap();
        assert_eq!(&ab[..], &hexd(t, "shared")[..]);
        assert_eq!(ab, ba);
        n += 1;
    }
    n
}

/// XChaCha20-Poly1305: valid cases encrypt to exactly ct||tag and decrypt;
/// invalid ones are rejected (wrong nonce sizes cannot be expressed by the
/// fixed 24-byte nonce type, so they are rejected at parse time).
pub fn xchacha() -> (usize, usize) {
    let doc = parse(XCHACHA_WYCHEPROOF);
    let (mut valid, mut invalid) = (0, 0);
    for g in arr(&doc, "testGroups") {
        for t in arr(g, "tests") {
            let id = num(t, "tcId");
            let key: [u8; 32] = match hexd(t, "key").try_into() {
                Ok(k) => k,
                Err(_) => {
                    assert_eq!(s(t, "result"), "invalid", "tcId {id}");
                    invalid += 1;
                    continue;
                }
            };
            let nonce: [u8; 24] = match hexd(t, "iv").try_into() {
                Ok(n) => n,
                Err(_) => {
                    assert_eq!(s(t, "result"), "invalid", "tcId {id}");
                    invalid += 1;
                    continue;
                }
            };
            let (aad, msg) = (hexd(t, "aad"), hexd(t, "msg"));
            let mut sealed = hexd(t, "ct");
            sealed.extend(hexd(t, "tag"));
            let opened = suite::aead_open(&key, &nonce, &aad, &sealed);
            if s(t, "result") == "valid" {
                assert_eq!(
                    suite::aead_seal(&key, &nonce, &aad, &msg).unwrap(),
                    sealed,
                    "tcId {id}"
                );
                assert_eq!(
                    &opened.expect("valid case opens")[..],
                    &msg[..],
                    "tcId {id}"
                );
                valid += 1;
            } else {
                assert_eq!(
                    opened.unwrap_err().code(),
                    sealpass::Code::DecryptFailed,
                    "invalid tcId {id} {:?}",
                    flags(t)
                );
                invalid += 1;
            }
        }
    }
    (valid, invalid)
}

/// draft-irtf-cfrg-xchacha-03 §A.3.1.
pub fn xchacha_draft() -> usize {
    let doc = parse(XCHACHA_DRAFT);
    let mut n = 0;
    for t in arr(&doc, "tests") {
        let key: [u8; 32] = hexd(t, "key").try_into().unwrap();
        let nonce: [u8; 24] = hexd(t, "nonce").try_into().unwrap();
        let mut want = hexd(t, "ciphertext");
        want.extend(hexd(t, "tag"));
        let got = suite::aead_seal(&key, &nonce, &hexd(t, "aad"), &hexd(t, "plaintext")).unwrap();
        assert_eq!(got, want);
        let back = suite::aead_open(&key, &nonce, &hexd(t, "aad"), &want).unwrap();
        assert_eq!(&back[..], &hexd(t, "plaintext")[..]);
        n += 1;
    }
    n
}

/// HKDF-SHA256: valid outputs match; sizes over 8160 bytes are errors.
pub fn hkdf() -> (usize, usize) {
    let doc = parse(HKDF_WYCHEPROOF);
    let (mut valid, mut invalid) = (0, 0);
    for g in arr(&doc, "testGroups") {
        for t in arr(g, "tests") {
            let mut out = vec![0u8; num(t, "size")];
            let r = suite::hkdf_sha256(
                &hexd(t, "salt"),
                &hexd(t, "ikm"),
                &hexd(t, "info"),
                &mut out,
            );
            if s(t, "result") == "valid" {
                r.expect("valid HKDF");
                assert_eq!(out, hexd(t, "okm"), "hkdf tcId {}", num(t, "tcId"));
                valid += 1;
            } else {
                assert!(r.is_err(), "hkdf tcId {}", num(t, "tcId"));
                invalid += 1;
            }
        }
    }
    (valid, invalid)
}

/// RFC 5869 A.1–A.3.
pub fn hkdf_rfc5869() -> usize {
    let doc = parse(HKDF_RFC5869);
    let mut n = 0;
    for t in arr(&doc, "tests") {
        let okm = hexd(t, "okm");
        let mut out = vec![0u8; okm.len()];
        suite::hkdf_sha256(
            &hexd(t, "salt"),
            &hexd(t, "ikm"),
            &hexd(t, "info"),
            &mut out,
        )
        .unwrap();
        assert_eq!(out, okm);
        n += 1;
    }
    n
}
