//! Wycheproof and RFC vectors through the crate's primitives (natively; the
//! same functions run in Wasm from tests/wasm.rs).

use sealpass_tests::vectors as common;

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
fn wycheproof_xchacha20_poly1305() {
    assert_eq!(p::xchacha(), (246, 69));
}

#[test]
fn draft_xchacha20_poly1305() {
    assert_eq!(p::xchacha_draft(), 1);
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
