//! Envelope v2 (docs/PROTOCOL.md §15) through the public API: only the
//! holder of the identity key opens, whatever one-time key the sender was
//! handed; relabelling between versions never opens; a v2 envelope is never
//! opened without the identity key.

use sealpass::{seal, seal_v2, Code, Context, Envelope, PublicKey, SecretKey, Version};
use sealpass_open::{open, open_json, open_json_with_identity, open_with_identity, Opener};

fn ctx() -> Context {
    Context::new(
        "node-1",
        "p-1",
        "api",
        "header",
        Some("Authorization"),
        None,
    )
    .unwrap()
}

fn keys(b: u8) -> (SecretKey, PublicKey) {
    let sk = SecretKey::from_bytes([b; 32]);
    let pk = sk.public_key();
    (sk, pk)
}

#[test]
fn v2_opens_only_with_the_identity_key() {
    let (nsk, npk) = keys(1);
    let (isk, nik) = keys(2);
    let env = seal_v2(&npk, &nik, b"s3cret", &ctx()).unwrap();
    assert_eq!(env.version, Version::V2);
    let json = env.to_json();
    assert!(json.starts_with(r#"{"v":2,"suite":"x25519-x25519-hkdf-sha256-xchacha20poly1305","#));
    assert_eq!(
        &open_with_identity(&nsk, &isk, &env, &ctx()).unwrap()[..],
        b"s3cret"
    );
    assert_eq!(
        &open_json_with_identity(&nsk, &isk, json.as_bytes(), &ctx()).unwrap()[..],
        b"s3cret"
    );
    assert_eq!(
        open(&nsk, &env, &ctx()).unwrap_err().code(),
        Code::IdentityKeyRequired
    );
    assert_eq!(
        open_json(&nsk, json.as_bytes(), &ctx()).unwrap_err().code(),
        Code::IdentityKeyRequired
    );
    let (wrong_isk, _) = keys(3);
    assert_eq!(
        open_with_identity(&nsk, &wrong_isk, &env, &ctx())
            .unwrap_err()
            .code(),
        Code::DecryptFailed
    );
    // Another context: 8006, as in v1.
    let other = Context::new(
        "node-2",
        "p-1",
        "api",
        "header",
        Some("Authorization"),
        None,
    )
    .unwrap();
    assert_eq!(
        open_with_identity(&nsk, &isk, &env, &other)
            .unwrap_err()
            .code(),
        Code::DecryptFailed
    );
}

/// The threat v2 exists for: a relay hands the sender its own one-time key.
/// The sender seals to (attacker's npk, pinned nik); the attacker holds the
/// one-time secret key and any identity key of its own, and opens nothing.
#[test]
fn a_swapped_one_time_key_does_not_let_the_swapper_open() {
    let (_isk, nik) = keys(2);
    let (attacker_nsk, attacker_npk) = keys(9);
    let (attacker_isk, _) = keys(10);
    let env = seal_v2(&attacker_npk, &nik, b"s3cret", &ctx()).unwrap();
    for isk in [&attacker_isk, &attacker_nsk] {
        assert_eq!(
            open_with_identity(&attacker_nsk, isk, &env, &ctx())
                .unwrap_err()
                .code(),
            Code::DecryptFailed
        );
    }
    assert_eq!(
        open(&attacker_nsk, &env, &ctx()).unwrap_err().code(),
        Code::IdentityKeyRequired
    );
    // Relabelled as v1, the attacker's one-time key alone does not open it either.
    let v1 = Envelope {
        version: Version::V1,
        ..env
    };
    assert_eq!(
        open(&attacker_nsk, &v1, &ctx()).unwrap_err().code(),
        Code::DecryptFailed
    );
}

#[test]
fn relabelling_between_versions_never_opens() {
    let (nsk, npk) = keys(1);
    let (isk, nik) = keys(2);
    let v2 = seal_v2(&npk, &nik, b"s3cret", &ctx()).unwrap();
    let as_v1 = Envelope {
        version: Version::V1,
        ..v2.clone()
    };
    assert_eq!(
        open_with_identity(&nsk, &isk, &as_v1, &ctx())
            .unwrap_err()
            .code(),
        Code::DecryptFailed
    );
    let v1 = seal(&npk, b"s3cret", &ctx()).unwrap();
    let as_v2 = Envelope {
        version: Version::V2,
        ..v1.clone()
    };
    assert_eq!(
        open_with_identity(&nsk, &isk, &as_v2, &ctx())
            .unwrap_err()
            .code(),
        Code::DecryptFailed
    );
    // A v1 envelope still opens with or without the identity key.
    assert_eq!(
        &open_with_identity(&nsk, &isk, &v1, &ctx()).unwrap()[..],
        b"s3cret"
    );
    assert_eq!(&open(&nsk, &v1, &ctx()).unwrap()[..], b"s3cret");
}

#[test]
fn opener_with_identity_opens_both_versions() {
    let (nsk, npk) = keys(1);
    let (isk, nik) = keys(2);
    let opener = Opener::with_identity(nsk.clone(), isk);
    assert_eq!(opener.public_key(), &npk);
    assert_eq!(opener.identity(), Some(&nik));
    let v2 = seal_v2(&npk, &nik, b"two", &ctx()).unwrap();
    let v1 = seal(&npk, b"one", &ctx()).unwrap();
    assert_eq!(&opener.open(&v2, &ctx()).unwrap()[..], b"two");
    assert_eq!(&opener.open(&v1, &ctx()).unwrap()[..], b"one");
    let plain = Opener::new(nsk);
    assert_eq!(plain.identity(), None);
    assert_eq!(
        plain.open(&v2, &ctx()).unwrap_err().code(),
        Code::IdentityKeyRequired
    );
    let dbg = format!("{opener:?}");
    for secret in [[1u8; 32], [2u8; 32]] {
        assert!(!dbg.contains(&sealpass::b64::encode(&secret)), "{dbg}");
        assert!(!dbg.contains(&hex::encode(secret)), "{dbg}");
        assert!(!dbg.contains(&format!("{secret:?}")), "{dbg}");
    }
    assert!(dbg.contains(&nik.identity_fingerprint()), "{dbg}");
}

#[test]
fn low_order_identity_is_refused_when_sealing() {
    let (_, npk) = keys(1);
    let zero = PublicKey::from_bytes([0; 32]);
    assert_eq!(
        seal_v2(&npk, &zero, b"x", &ctx()).unwrap_err().code(),
        Code::LowOrderPublicKey
    );
    assert_eq!(
        seal_v2(&zero, &npk, b"x", &ctx()).unwrap_err().code(),
        Code::LowOrderPublicKey
    );
}

#[test]
fn identity_fingerprint_differs_from_the_one_time_fingerprint() {
    let (_, pk) = keys(2);
    let (a, b) = (pk.identity_fingerprint(), pk.fingerprint());
    assert_ne!(a, b);
    assert_eq!(a.len(), 39);
    assert_eq!(a.matches('-').count(), 7);
}
