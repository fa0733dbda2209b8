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

/// One Wycheproof X25519 case: (tcId, private, public, shared).
type X25519Case = (usize, [u8; 32], [u8; 32], Vec<u8>);

/// Every Wycheproof X25519 case, in file order.
fn x25519_wycheproof_cases() -> Vec<X25519Case> {
    let doc = parse(X25519_WYCHEPROOF);
    let mut cases = Vec::new();
    for g in arr(&doc, "testGroups") {
        for t in arr(g, "tests") {
            let sk: [u8; 32] = hexd(t, "private").try_into().unwrap();
            let pk: [u8; 32] = hexd(t, "public").try_into().unwrap();
            cases.push((num(t, "tcId"), sk, pk, hexd(t, "shared")));
        }
    }
    cases
}

/// X25519: every non-zero shared secret must match; every all-zero one
/// (low-order public key) must be refused. Returns (matched, refused).
pub fn x25519() -> (usize, usize) {
    let (mut ok, mut refused) = (0, 0);
    for (id, sk, pk, want) in x25519_wycheproof_cases() {
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
        keys.push(xorshift32(&mut x));
    }
    for k in &keys {
        let ladder = suite::dh(k, &basepoint).expect("X25519(k, 9) is never zero");
        assert_eq!(suite::public_key(k), *ladder, "public_key({k:02x?})");
    }
    keys.len()
}

/// 32 bytes of xorshift64* from state `x`: a fixed, reproducible sequence
/// for test inputs (not for keys).
fn xorshift32(x: &mut u64) -> [u8; 32] {
    let mut k = [0u8; 32];
    for b in k.iter_mut() {
        *x ^= *x >> 12;
        *x ^= *x << 25;
        *x ^= *x >> 27;
        *b = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
    }
    k
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

/// An XChaCha20-Poly1305 under test: seal (ciphertext ‖ tag) and open
/// (`None` when authentication fails).
pub struct Aead {
    pub seal: AeadSeal,
    pub open: AeadOpen,
}

/// (key, nonce, aad, plaintext) → ciphertext ‖ tag.
pub type AeadSeal = fn(&[u8; 32], &[u8; 24], &[u8], &[u8]) -> Vec<u8>;
/// (key, nonce, aad, ciphertext ‖ tag) → plaintext, or `None`.
pub type AeadOpen = fn(&[u8; 32], &[u8; 24], &[u8], &[u8]) -> Option<Vec<u8>>;

/// `sealpass::suite`'s `aead_seal` and `aead_open` (whichever XChaCha20 the
/// features select); a failed open must be `DecryptFailed`.
pub const SUITE_AEAD: Aead = Aead {
    seal: |k, n, aad, m| suite::aead_seal(k, n, aad, m).expect("seal"),
    open: |k, n, aad, c| match suite::aead_open(k, n, aad, c) {
        Ok(pt) => Some(pt.to_vec()),
        Err(e) => {
            assert_eq!(e.code(), sealpass::Code::DecryptFailed);
            None
        }
    },
};

/// XChaCha20-Poly1305 through `suite` (see [`xchacha_through`]).
pub fn xchacha() -> (usize, usize) {
    xchacha_through(&SUITE_AEAD)
}

/// XChaCha20-Poly1305: valid cases encrypt to exactly ct||tag and decrypt;
/// invalid ones are rejected (wrong nonce sizes cannot be expressed by the
/// fixed 24-byte nonce type, so they are rejected at parse time).
pub fn xchacha_through(aead: &Aead) -> (usize, usize) {
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
            let opened = (aead.open)(&key, &nonce, &aad, &sealed);
            if s(t, "result") == "valid" {
                assert_eq!((aead.seal)(&key, &nonce, &aad, &msg), sealed, "tcId {id}");
                assert_eq!(
                    &opened.expect("valid case opens")[..],
                    &msg[..],
                    "tcId {id}"
                );
                valid += 1;
            } else {
                assert_eq!(opened, None, "invalid tcId {id} {:?}", flags(t));
                invalid += 1;
            }
        }
    }
    (valid, invalid)
}

/// draft-irtf-cfrg-xchacha-03 §A.3.1 through `suite`.
pub fn xchacha_draft() -> usize {
    xchacha_draft_through(&SUITE_AEAD)
}

/// draft-irtf-cfrg-xchacha-03 §A.3.1.
pub fn xchacha_draft_through(aead: &Aead) -> usize {
    let doc = parse(XCHACHA_DRAFT);
    let mut n = 0;
    for t in arr(&doc, "tests") {
        let key: [u8; 32] = hexd(t, "key").try_into().unwrap();
        let nonce: [u8; 24] = hexd(t, "nonce").try_into().unwrap();
        let mut want = hexd(t, "ciphertext");
        want.extend(hexd(t, "tag"));
        let got = (aead.seal)(&key, &nonce, &hexd(t, "aad"), &hexd(t, "plaintext"));
        assert_eq!(got, want);
        let back = (aead.open)(&key, &nonce, &hexd(t, "aad"), &want).unwrap();
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

/// Wycheproof X25519 through `suite::dh2`, the two X25519s of a v2 envelope
/// (the two-lane ladder of crates/x25519x2 with feature `x25519x2`, two
/// `suite::dh` calls without): see [`wycheproof_in_pairs`]. Returns the lane
/// results checked.
pub fn x25519_pairs() -> usize {
    wycheproof_in_pairs(|k, u| suite::dh2(k, u).map(|r| r.map(|s| s.to_vec())))
}

/// Wycheproof X25519 through the two-lane ladder itself
/// (`sealpass_x25519x2::x25519x2` and `is_zero`, whatever the features: in
/// the native tests, the plain lanes with debug checks), as
/// [`wycheproof_in_pairs`].
pub fn x25519x2_wycheproof() -> usize {
    wycheproof_in_pairs(|k, u| {
        sealpass_x25519x2::x25519x2(k, u)
            .map(|s| (!sealpass_x25519x2::is_zero(&s)).then(|| s.to_vec()))
    })
}

/// Wycheproof X25519 through the one-ladder-over-both-lanes
/// `sealpass_x25519x2::x25519` itself, whatever the features (in the Wasm
/// speed builds `suite::dh` is this function; `x25519` above checks that
/// way too). Every result must match, every all-zero one must be flagged by
/// `is_zero`. Returns the vectors checked.
pub fn x25519_one_wycheproof() -> usize {
    let mut checked = 0;
    for (id, sk, pk, want) in x25519_wycheproof_cases() {
        let got = sealpass_x25519x2::x25519(&sk, &pk);
        assert_eq!(
            &got[..],
            &want[..],
            "x25519 (one ladder, two lanes): tcId {id}"
        );
        assert_eq!(
            sealpass_x25519x2::is_zero(&got),
            want.iter().all(|b| *b == 0)
        );
        checked += 1;
    }
    checked
}

/// Every Wycheproof X25519 vector through a two-lane `dh2`: vector i in lane
/// 0 beside vector i+1 in lane 1, then the same two swapped, so every vector
/// runs in both lanes next to two different ones; each lane must give its
/// own vector's result (`None` for an all-zero one).
fn wycheproof_in_pairs(
    dh2: impl Fn([&[u8; 32]; 2], [&[u8; 32]; 2]) -> [Option<Vec<u8>>; 2],
) -> usize {
    let cases: Vec<_> = x25519_wycheproof_cases()
        .into_iter()
        .map(|(id, sk, pk, want)| {
            let want = want.iter().any(|b| *b != 0).then_some(want);
            (id, sk, pk, want)
        })
        .collect();
    let mut checked = 0;
    for (i, a) in cases.iter().enumerate() {
        let b = &cases[(i + 1) % cases.len()];
        for (x, y) in [(a, b), (b, a)] {
            let got = dh2([&x.1, &y.1], [&x.2, &y.2]);
            for ((id, _, _, want), got) in [x, y].into_iter().zip(got) {
                assert_eq!(got, *want, "x25519 pair: tcId {id}");
                checked += 1;
            }
        }
    }
    checked
}

/// 32 little-endian bytes of p - k (p = 2^255 - 19), k <= 255.
fn p_minus(k: u8) -> [u8; 32] {
    let mut z = [0xffu8; 32];
    z[31] = 0x7f;
    // 0xed - k, borrowing once from byte 1 for k > 0xed.
    let (b0, borrow) = 0xedu8.overflowing_sub(k);
    z[0] = b0;
    if borrow {
        z[1] = 0xfe;
    }
    z
}

/// 32 little-endian bytes of a small value.
fn small(v: u64) -> [u8; 32] {
    let mut z = [0u8; 32];
    z[..8].copy_from_slice(&v.to_le_bytes());
    z
}

/// The two-lane ladder itself (crates/x25519x2, whatever the features)
/// against curve25519-dalek's X25519: `n` pseudo-random pairs of (scalar,
/// u) with a different input in each lane, plus edge inputs — u = 0, 1, 9,
/// p - 1, p, p + 1 and 2^255 - 1 (non-canonical), the top bit set, scalars
/// all 0x00 and all 0xff, and the same input in both lanes. Each input also
/// goes through `sealpass_x25519x2::x25519` (one ladder over both lanes).
/// Returns how many results were compared.
pub fn x25519x2_matches_dalek(n: usize) -> usize {
    let mut p_plus_1 = p_minus(0);
    p_plus_1[0] = 0xee;
    let edges_u = [
        small(0),
        small(1),
        small(9),
        p_minus(1),
        p_minus(0),
        p_plus_1,
        [0xff; 32],
        {
            let mut u = small(9);
            u[31] = 0x80;
            u
        },
    ];
    let edges_k = [[0u8; 32], [0xff; 32], small(1), p_minus(0)];
    let mut x: u64 = 0x0123_4567_89ab_cdef;
    let mut rnd = || xorshift32(&mut x);
    let mut inputs: Vec<([u8; 32], [u8; 32])> = Vec::new();
    for k in &edges_k {
        for u in &edges_u {
            inputs.push((*k, *u));
        }
    }
    for u in &edges_u {
        inputs.push((rnd(), *u));
    }
    for _ in 0..n {
        inputs.push((rnd(), rnd()));
    }
    let mut compared = 0;
    for (i, a) in inputs.iter().enumerate() {
        let b = if i % 5 == 0 {
            a
        } else {
            &inputs[(i * 7 + 3) % inputs.len()]
        };
        let got = sealpass_x25519x2::x25519x2([&a.0, &b.0], [&a.1, &b.1]);
        for ((k, u), got) in [a, b].into_iter().zip(got) {
            let want = x25519_dalek::x25519(*k, *u);
            assert_eq!(*got, want, "x25519x2 lane: k {k:02x?} u {u:02x?}");
            assert_eq!(sealpass_x25519x2::is_zero(&got), want == [0; 32]);
            compared += 1;
        }
        let (k, u) = a;
        assert_eq!(
            *sealpass_x25519x2::x25519(k, u),
            x25519_dalek::x25519(*k, *u),
            "x25519 (one ladder, two lanes): k {k:02x?} u {u:02x?}"
        );
        compared += 1;
    }
    compared
}

/// `a * b mod p` (p = 2^255 - 19) on four 64-bit words: schoolbook, then
/// 2^256 = 38 mod p, then at most two subtractions of p. Written for this
/// test, independently of the crates' field arithmetic.
fn mul_mod_p(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let words = |x: &[u8; 32]| -> [u64; 4] {
        core::array::from_fn(|i| u64::from_le_bytes(x[8 * i..8 * i + 8].try_into().unwrap()))
    };
    let (a, b) = (words(a), words(b));
    let mut r = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u128;
        for j in 0..4 {
            let t = u128::from(a[i]) * u128::from(b[j]) + u128::from(r[i + j]) + carry;
            r[i + j] = t as u64;
            carry = t >> 64;
        }
        r[i + 4] = carry as u64;
    }
    // Fold the high half twice: r = lo + 38 * hi.
    let mut v = [0u64; 4];
    let mut carry = 0u128;
    for i in 0..4 {
        let t = u128::from(r[i]) + 38 * u128::from(r[i + 4]) + carry;
        v[i] = t as u64;
        carry = t >> 64;
    }
    let mut top = carry;
    while top != 0 {
        let mut c = 38 * top;
        for w in v.iter_mut() {
            let t = u128::from(*w) + c;
            *w = t as u64;
            c = t >> 64;
        }
        top = c;
    }
    let p: [u64; 4] = [
        0xffff_ffff_ffff_ffed,
        u64::MAX,
        u64::MAX,
        0x7fff_ffff_ffff_ffff,
    ];
    let ge_p = |v: &[u64; 4]| {
        (0..4)
            .rev()
            .find(|&i| v[i] != p[i])
            .map_or(true, |i| v[i] > p[i])
    };
    while ge_p(&v) {
        let mut borrow = 0u128;
        for i in 0..4 {
            let t = (u128::from(v[i]) + (1u128 << 64)) - u128::from(p[i]) - borrow;
            v[i] = t as u64;
            borrow = 1 - (t >> 64);
        }
    }
    let mut out = [0u8; 32];
    for (i, w) in v.iter().enumerate() {
        out[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// Inputs for which the divsteps need the most steps found (by a search of
/// helper-53's review, big-endian hex): 556, 555, 554 and 553 divsteps, where
/// random inputs need ~515 and at most ~532. 18 rounds (540) get them wrong.
const HARD_INVERT: [&str; 4] = [
    "477a26ad4009678abe667cba35cec207ee06d8709eff29c5053fd40778dfeed4",
    "76e44953086e23d78d73c439f507cc8b01800e384e8b09cce28c030171f5a7ca",
    "7dea5733680e9a095559a8addbe622b958e43b71007ccbc5e25bd11e5f129b74",
    "4cfd158999e0c19477ff0fb65ea0f093a7ea6b8f7eb24d8be7eb36765059a09a",
];

/// `sealpass_x25519x2::invert` (divsteps) against the definition: for z
/// != 0 mod p, z * invert(z) = 1 mod p and the result is canonical (below p;
/// `mul_mod_p` of it by 1 gives it back), invert(invert(z)) = z mod p; for
/// z = 0 mod p (0, p), 0. Inputs: the 4 hardest found, 0..=300, 2^k and
/// 2^k - 1 for k < 255, p - k for k = 1..=255, 7 byte patterns, p..=p+2 and
/// 2^256 - 1 (not below p: reduced first), and `n` random values below
/// 2^255. Returns how many were checked.
pub fn x25519x2_invert(n: usize) -> usize {
    let pow2 = |k: usize| {
        let mut z = [0u8; 32];
        z[k / 8] = 1 << (k % 8);
        z
    };
    let one = small(1);
    let mut inputs: Vec<[u8; 32]> = HARD_INVERT
        .iter()
        .map(|h| {
            let mut z: [u8; 32] = hex::decode(h).unwrap().try_into().unwrap();
            z.reverse();
            z
        })
        .collect();
    inputs.extend((0..=300).map(small));
    for k in 0..255 {
        inputs.push(pow2(k));
        let mut m = [0xffu8; 32];
        // 2^k - 1: the low k bits set.
        for (i, b) in m.iter_mut().enumerate() {
            let bits = k.saturating_sub(8 * i).min(8);
            *b = if bits == 8 {
                0xff
            } else {
                (1u16 << bits) as u8 - 1
            };
        }
        inputs.push(m);
    }
    for k in 1..=255u8 {
        inputs.push(p_minus(k));
    }
    // 30-bit limb patterns (the divsteps' word size): every limb 2^30 - 1,
    // every other limb, the top limb alone.
    for pat in [0xffu8, 0xaa, 0x55, 0x0f, 0xf0, 0x80, 0x01] {
        let mut z = [pat; 32];
        z[31] &= 0x7f;
        inputs.push(z);
    }
    // p, p + 1, p + 2 and 2^256 - 1: above p, reduced by `invert` first.
    for k in 0..3u8 {
        let mut z = p_minus(0);
        z[0] += k;
        inputs.push(z);
    }
    inputs.push([0xff; 32]);
    let mut x: u64 = 0x5eed_0f1e_1d00_0019;
    for _ in 0..n {
        let mut z = xorshift32(&mut x);
        z[31] &= 0x7f;
        inputs.push(z);
    }
    let mut checked = 0;
    for z in inputs {
        let i = sealpass_x25519x2::invert(&z);
        let reduced = mul_mod_p(&z, &one);
        if reduced == [0; 32] {
            assert_eq!(i, [0; 32], "invert of 0 mod p: z {z:02x?}");
        } else {
            assert_eq!(mul_mod_p(&z, &i), one, "z * invert(z) for z {z:02x?}");
            assert_eq!(
                mul_mod_p(&i, &one),
                i,
                "invert(z) not canonical for z {z:02x?}"
            );
            assert_eq!(
                sealpass_x25519x2::invert(&i),
                reduced,
                "invert(invert(z)) for z {z:02x?}"
            );
        }
        checked += 1;
    }
    checked
}

/// RFC 7748 §5.2's iterated test through the two-lane ladder: k = u = 9,
/// then (k, u) = (X25519(k, u), k). Lane 0 iterates; lane 1 iterates from
/// the 1-iteration result, so it is always one step ahead and the two lanes
/// never hold the same input. After 1 and 1,000 iterations lane 0 must give
/// the RFC's values, and lane 1 after 999 the 1,000 one. A third chain
/// iterates through `sealpass_x25519x2::x25519` (one ladder over both
/// lanes) and must give the same values after 1 and 1,000.
pub fn x25519x2_rfc7748_iterated() -> usize {
    let hex32 = |s: &str| -> [u8; 32] { hex::decode(s).unwrap().try_into().unwrap() };
    let one = hex32("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    let thousand = hex32("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
    let mut nine = [0u8; 32];
    nine[0] = 9;
    let (mut k0, mut u0) = (nine, nine);
    let (mut k1, mut u1) = (one, nine);
    let (mut k2, mut u2) = (nine, nine);
    let mut checked = 0;
    for i in 1..=1000 {
        let [r0, r1] = sealpass_x25519x2::x25519x2([&k0, &k1], [&u0, &u1]);
        (u0, k0) = (k0, *r0);
        (u1, k1) = (k1, *r1);
        let r2 = sealpass_x25519x2::x25519(&k2, &u2);
        (u2, k2) = (k2, *r2);
        if i == 1 {
            assert_eq!(k0, one, "iteration 1");
            assert_eq!(k2, one, "one ladder, iteration 1");
            checked += 2;
        }
        if i == 999 {
            assert_eq!(k1, thousand, "lane 1, iteration 1,000");
            checked += 1;
        }
    }
    assert_eq!(k0, thousand, "iteration 1,000");
    assert_eq!(k2, thousand, "one ladder, iteration 1,000");
    checked + 2
}
