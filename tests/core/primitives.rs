//! Wycheproof and RFC vectors through the crate's primitives (natively; the
//! same functions run in Wasm from tests/wasm.rs).

use sealpass_tests::vectors as common;

use common::chacha20x4 as x4;
use common::primitives as p;

#[test]
fn wycheproof_x25519() {
    let (ok, refused) = p::x25519();
    // 518 cases: every all-zero shared secret refused, everything else matched.
    assert_eq!((ok, refused), (518 - 31, 31));
}

#[test]
fn rfc7748_x25519() {
    assert_eq!(p::x25519_rfc7748(), 3);
}

#[test]
fn wycheproof_x25519_in_pairs() {
    // 518 vectors, each twice in each lane. Natively suite::dh2 is two
    // curve25519-dalek calls (the feature is for the Wasm speed builds)...
    assert_eq!(p::x25519_pairs(), 4 * 518);
    // ...so the two-lane ladder gets the vectors directly: plain lanes,
    // with this debug build's overflow and bound checks.
    assert_eq!(p::x25519x2_wycheproof(), 4 * 518);
    // And the one ladder over both lanes (suite::dh in the Wasm speed builds).
    assert_eq!(p::x25519_one_wycheproof(), 518);
}

#[test]
fn x25519x2_matches_curve25519_dalek() {
    // 32 + 8 edge inputs and 10,000 random ones, each with a partner lane,
    // and each through the one-ladder `x25519`.
    // In this debug build the plain lanes also panic on an integer overflow,
    // on a carried limb outside i32 and on a mul/sq input outside ref10's
    // bounds (crates/x25519x2/src/lanes.rs, fe.rs).
    assert_eq!(p::x25519x2_matches_dalek(10_000), 3 * (40 + 10_000));
}

#[test]
fn x25519x2_invert_is_the_inverse_mod_p() {
    // The 4 hardest inputs found, 301 small values, 255 powers of two, 255
    // runs of low bits, 255 values p - k, 7 byte patterns, 4 values not
    // below p, 10,000 random values.
    // This debug build also checks libsecp256k1's divstep and update bounds
    // (zeta, the zero low bits, the ranges of d, e, f, g) as debug assertions.
    assert_eq!(
        p::x25519x2_invert(10_000),
        4 + 301 + 255 + 255 + 255 + 7 + 4 + 10_000
    );
}

#[test]
fn x25519x2_rfc7748_iterated() {
    assert_eq!(p::x25519x2_rfc7748_iterated(), 5);
}

#[test]
fn wycheproof_xchacha20_poly1305() {
    assert_eq!(p::xchacha(), (246, 69));
}

#[test]
fn draft_xchacha20_poly1305() {
    assert_eq!(p::xchacha_draft(), 1);
}

#[test]
fn chacha20x4_keystream_matches_chacha20() {
    // Natively suite uses chacha20poly1305's XChaCha20 (feature chacha20x4
    // is for the Wasm speed builds), so crates/chacha20x4 (plain lanes here)
    // gets the comparisons directly: 601 lengths from 0, 6 long ones,
    // 200 random lengths up to 20,000 and 2,000 seeks, each whole and in
    // random chunks.
    assert_eq!(
        x4::keystream_matches_chacha20(200, 2_000),
        601 + 6 + 200 + 2_000
    );
    // The end of the 32-bit block counter: 11 positions x 9 lengths, 3 seeks
    // past it.
    assert_eq!(x4::keystream_counter_end(), 11 * 9 + 3);
    // And the cores across the wrap: 14 counters x 14 run lengths x 2.
    assert_eq!(x4::core_counter_wrap(), 14 * 14 * 2);
    assert_eq!(x4::zeroize_and_debug(), "XChaCha20Core { .. }");
}

#[test]
fn chacha20x4_aead_matches_chacha20poly1305() {
    assert_eq!(x4::aead_matches_chacha20poly1305(1_000), 1_000);
    assert_eq!(x4::wycheproof(), (246, 69));
    assert_eq!(x4::draft(), 1);
}

#[test]
fn wycheproof_hkdf_sha256() {
    assert_eq!(p::hkdf(), (83, 3));
}

#[test]
fn rfc5869_hkdf_sha256() {
    assert_eq!(p::hkdf_rfc5869(), 3);
}

#[test]
fn public_key_matches_the_ladder() {
    assert_eq!(p::public_key_matches_ladder(), 506);
}
