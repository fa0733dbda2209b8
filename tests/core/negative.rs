//! Negative tests for the envelope: every tampering and every malformed form
//! must fail with its documented code, never panic.

use sealpass::{b64, seal, Code, Context, Envelope, PublicKey, SecretKey};
use sealpass_open::{open, open_json};

fn ctx() -> Context {
    Context::new(
        "node-1",
        "pend-1",
        "api-key",
        "header",
        Some("Authorization"),
        Some("https://api.example/v1"),
    )
    .unwrap()
}

fn fixture() -> (SecretKey, Envelope) {
    let sk = SecretKey::from_bytes([0x42; 32]);
    let env = seal(&sk.public_key(), b"correct horse battery staple", &ctx()).unwrap();
    (sk, env)
}

#[test]
fn flipping_any_byte_of_epk_nonce_or_ct_fails_with_8006() {
    let (sk, env) = fixture();
    assert_eq!(
        &open(&sk, &env, &ctx()).unwrap()[..],
        b"correct horse battery staple"
    );
    let mut count = 0;
    for bit in [0x01u8, 0x80] {
        for i in 0..32 {
            let mut e = env.clone();
            e.epk[i] ^= bit;
            assert_eq!(
                open(&sk, &e, &ctx()).unwrap_err().code(),
                Code::DecryptFailed,
                "epk[{i}]^{bit}"
            );
            count += 1;
        }
        for i in 0..24 {
            let mut e = env.clone();
            e.nonce[i] ^= bit;
            assert_eq!(
                open(&sk, &e, &ctx()).unwrap_err().code(),
                Code::DecryptFailed,
                "nonce[{i}]"
            );
            count += 1;
        }
        for i in 0..env.ct.len() {
            let mut e = env.clone();
            e.ct[i] ^= bit;
            assert_eq!(
                open(&sk, &e, &ctx()).unwrap_err().code(),
                Code::DecryptFailed,
                "ct[{i}]"
            );
            count += 1;
        }
    }
    // Also through the JSON path: re-encoded tampered envelopes.
    let mut e = env.clone();
    e.ct[0] ^= 1;
    assert_eq!(
        open_json(&sk, e.to_json().as_bytes(), &ctx())
            .unwrap_err()
            .code(),
        Code::DecryptFailed
    );
    assert_eq!(count, 2 * (32 + 24 + env.ct.len()));
}

#[test]
fn truncated_or_extended_ciphertext_fails() {
    let (sk, env) = fixture();
    let mut short = env.clone();
    short.ct.pop();
    assert_eq!(
        open(&sk, &short, &ctx()).unwrap_err().code(),
        Code::DecryptFailed
    );
    let mut long = env.clone();
    long.ct.push(0);
    assert_eq!(
        open(&sk, &long, &ctx()).unwrap_err().code(),
        Code::DecryptFailed
    );
}

#[test]
fn changing_any_context_field_fails_with_8006() {
    let (sk, env) = fixture();
    let variants = [
        Context::new(
            "node-2",
            "pend-1",
            "api-key",
            "header",
            Some("Authorization"),
            Some("https://api.example/v1"),
        ),
        Context::new(
            "node-1",
            "pend-2",
            "api-key",
            "header",
            Some("Authorization"),
            Some("https://api.example/v1"),
        ),
        Context::new(
            "node-1",
            "pend-1",
            "api-kez",
            "header",
            Some("Authorization"),
            Some("https://api.example/v1"),
        ),
        Context::new(
            "node-1",
            "pend-1",
            "api-key",
            "bearer",
            Some("Authorization"),
            Some("https://api.example/v1"),
        ),
        Context::new(
            "node-1",
            "pend-1",
            "api-key",
            "header",
            Some("authorization"),
            Some("https://api.example/v1"),
        ),
        Context::new(
            "node-1",
            "pend-1",
            "api-key",
            "header",
            None,
            Some("https://api.example/v1"),
        ),
        Context::new(
            "node-1",
            "pend-1",
            "api-key",
            "header",
            Some("Authorization"),
            Some("https://evil.example/v1"),
        ),
        Context::new(
            "node-1",
            "pend-1",
            "api-key",
            "header",
            Some("Authorization"),
            None,
        ),
        // Moving a byte between adjacent fields must not collide (length prefixes).
        Context::new(
            "node-1",
            "pend-1",
            "api-key",
            "header",
            Some("Authorizatio"),
            Some("nhttps://api.example/v1"),
        ),
    ];
    for (i, c) in variants.into_iter().enumerate() {
        assert_eq!(
            open(&sk, &env, &c.unwrap()).unwrap_err().code(),
            Code::DecryptFailed,
            "variant {i}"
        );
    }
}

#[test]
fn wrong_key_and_low_order_epk_fail_with_8006() {
    let (_, env) = fixture();
    let other = SecretKey::from_bytes([0x43; 32]);
    assert_eq!(
        open(&other, &env, &ctx()).unwrap_err().code(),
        Code::DecryptFailed
    );
    let sk = SecretKey::from_bytes([0x42; 32]);
    for low in [[0u8; 32], {
        let mut p = [0u8; 32];
        p[0] = 1;
        p
    }] {
        let mut e = env.clone();
        e.epk = low;
        assert_eq!(
            open(&sk, &e, &ctx()).unwrap_err().code(),
            Code::DecryptFailed
        );
    }
}

fn env_json(v: &str, suite: &str, epk: &str, nonce: &str, ct: &str) -> String {
    format!(r#"{{"v":{v},"suite":"{suite}","epk":"{epk}","nonce":"{nonce}","ct":"{ct}"}}"#)
}

#[test]
fn base64_variants_are_rejected() {
    let (sk, env) = fixture();
    let epk = b64::encode(&env.epk);
    let nonce = b64::encode(&env.nonce);
    let ct = b64::encode(&env.ct);
    let suite = sealpass::suite::SUITE;
    let good = env_json("1", suite, &epk, &nonce, &ct);
    assert!(open_json(&sk, good.as_bytes(), &ctx()).is_ok());
    // Standard alphabet, padding, whitespace, and non-zero trailing bits.
    let std_alpha = |s: &str| s.replace('-', "+").replace('_', "/");
    let mut cases = vec![
        env_json("1", suite, &format!("{epk}="), &nonce, &ct),
        env_json("1", suite, &epk, &format!("{nonce}=="), &ct),
        env_json("1", suite, &epk, &nonce, &format!("{ct}=")),
        env_json("1", suite, &format!(" {epk}"), &nonce, &ct),
        env_json(
            "1",
            suite,
            &epk,
            &nonce,
            &format!("{}\\n{}", &ct[..4], &ct[4..]),
        ),
        env_json(
            "1",
            suite,
            &epk,
            &nonce,
            &format!("{} {}", &ct[..4], &ct[4..]),
        ),
    ];
    if std_alpha(&epk) != epk {
        cases.push(env_json("1", suite, &std_alpha(&epk), &nonce, &ct));
    }
    cases.push(env_json("1", suite, "+".repeat(43).as_str(), &nonce, &ct));
    cases.push(env_json(
        "1",
        suite,
        &epk,
        &nonce,
        &format!("{}/", &ct[..ct.len() - 1]),
    ));
    // 32 bytes encode to 43 chars with 2 unused bits: set them.
    let last = epk.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let bumped = alphabet.chars().nth((idx & !3) | 1).unwrap();
    cases.push(env_json(
        "1",
        suite,
        &format!("{}{}", &epk[..42], bumped),
        &nonce,
        &ct,
    ));
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(
            open_json(&sk, c.as_bytes(), &ctx()).unwrap_err().code(),
            Code::InvalidBase64,
            "case {i}: {c}"
        );
    }
}

#[test]
fn shape_and_version_faults() {
    let (sk, env) = fixture();
    let (epk, nonce, ct) = (
        b64::encode(&env.epk),
        b64::encode(&env.nonce),
        b64::encode(&env.ct),
    );
    let suite = sealpass::suite::SUITE;
    let good = env_json("1", suite, &epk, &nonce, &ct);
    let code = |s: &str| open_json(&sk, s.as_bytes(), &ctx()).unwrap_err().code();
    assert_eq!(
        code(&env_json("3", suite, &epk, &nonce, &ct)),
        Code::VersionUnsupported
    );
    // v2 exists (protocol §15): each version requires its own suite.
    assert_eq!(
        code(&env_json("2", suite, &epk, &nonce, &ct)),
        Code::SuiteUnsupported
    );
    assert_eq!(
        code(&env_json("1", sealpass::suite::SUITE_V2, &epk, &nonce, &ct)),
        Code::SuiteUnsupported
    );
    assert_eq!(
        code(&env_json("2", sealpass::suite::SUITE_V2, &epk, &nonce, &ct)),
        Code::IdentityKeyRequired
    );
    assert_eq!(
        code(&env_json("0", suite, &epk, &nonce, &ct)),
        Code::VersionUnsupported
    );
    assert_eq!(
        code(&env_json("1.0", suite, &epk, &nonce, &ct)),
        Code::VersionUnsupported
    );
    assert_eq!(
        code(r#"{"v":3,"nothing":"else"}"#),
        Code::VersionUnsupported
    );
    assert_eq!(
        code(&env_json("\"1\"", suite, &epk, &nonce, &ct)),
        Code::EnvelopeWrongType
    );
    assert_eq!(
        code(&env_json("true", suite, &epk, &nonce, &ct)),
        Code::EnvelopeWrongType
    );
    assert_eq!(
        code(&good.replacen('{', r#"{"extra":1,"#, 1)),
        Code::EnvelopeUnknownKey
    );
    assert_eq!(
        code(&good.replacen('{', r#"{"ct":"x","#, 1)),
        Code::EnvelopeDuplicateKey
    );
    assert_eq!(
        code(&good.replace(&format!(r#","nonce":"{nonce}""#), "")),
        Code::EnvelopeMissingKey
    );
    assert_eq!(
        code(&good.replace(r#""v":1,"#, "")),
        Code::EnvelopeMissingKey
    );
    assert_eq!(
        code(&env_json(
            "1",
            "x25519-hkdf-sha256-aes256gcm",
            &epk,
            &nonce,
            &ct
        )),
        Code::SuiteUnsupported
    );
    assert_eq!(
        code(&env_json("1", suite, &b64::encode(&[1u8; 31]), &nonce, &ct)),
        Code::InvalidLength
    );
    assert_eq!(
        code(&env_json("1", suite, &b64::encode(&[1u8; 33]), &nonce, &ct)),
        Code::InvalidLength
    );
    assert_eq!(
        code(&env_json("1", suite, &epk, &b64::encode(&[1u8; 12]), &ct)),
        Code::InvalidLength
    );
    assert_eq!(
        code(&env_json(
            "1",
            suite,
            &epk,
            &nonce,
            &b64::encode(&[1u8; 16])
        )),
        Code::InvalidLength
    );
    assert_eq!(
        code(&env_json("1", suite, &epk, &nonce, "")),
        Code::InvalidLength
    );
    // 16385-byte ciphertext: over the cap, judged before decoding.
    assert_eq!(
        code(&env_json(
            "1",
            suite,
            &epk,
            &nonce,
            &b64::encode(&vec![7u8; 16385])
        )),
        Code::CiphertextTooLarge
    );
    // Exactly at the cap parses (and then fails authentication).
    assert_eq!(
        code(&env_json(
            "1",
            suite,
            &epk,
            &nonce,
            &b64::encode(&vec![7u8; 16384])
        )),
        Code::DecryptFailed
    );
    for bad in [
        "",
        " ",
        "null",
        "[]",
        "\"str\"",
        "{",
        "{\"v\":1",
        "nope",
        "\u{feff}{}",
        "{}",
    ] {
        let want = if bad == "{}" {
            Code::EnvelopeMissingKey
        } else {
            Code::EnvelopeNotJson
        };
        assert_eq!(code(bad), want, "{bad:?}");
    }
    assert_eq!(
        open_json(&sk, &[0xff, 0xfe], &ctx()).unwrap_err().code(),
        Code::EnvelopeNotJson
    );
}

#[test]
fn ten_megabyte_input_is_refused_by_size() {
    let (sk, _) = fixture();
    let big = vec![b'{'; 10 * 1024 * 1024];
    assert_eq!(
        open_json(&sk, &big, &ctx()).unwrap_err().code(),
        Code::CiphertextTooLarge
    );
}

#[test]
fn seal_refuses_bad_keys_and_sizes() {
    let c = ctx();
    assert_eq!(
        seal(&PublicKey::from_bytes([0u8; 32]), b"x", &c)
            .unwrap_err()
            .code(),
        Code::LowOrderPublicKey
    );
    let mut one = [0u8; 32];
    one[0] = 1;
    assert_eq!(
        seal(&PublicKey::from_bytes(one), b"x", &c)
            .unwrap_err()
            .code(),
        Code::LowOrderPublicKey
    );
    assert_eq!(
        PublicKey::from_slice(&[9u8; 31]).unwrap_err().code(),
        Code::InvalidPublicKey
    );
    assert_eq!(
        PublicKey::from_b64u(&b64::encode(&[9u8; 31]))
            .unwrap_err()
            .code(),
        Code::InvalidPublicKey
    );
    let pk = SecretKey::from_bytes([1; 32]).public_key();
    assert_eq!(seal(&pk, b"", &c).unwrap_err().code(), Code::PlaintextEmpty);
    assert_eq!(
        seal(&pk, &vec![0u8; 16369], &c).unwrap_err().code(),
        Code::CiphertextTooLarge
    );
    let max = seal(&pk, &vec![0u8; 16368], &c).unwrap();
    assert_eq!(max.ct.len(), 16384);
}

#[test]
fn two_seals_of_the_same_input_differ() {
    let pk = SecretKey::from_bytes([1; 32]).public_key();
    let a = seal(&pk, b"same", &ctx()).unwrap();
    let b = seal(&pk, b"same", &ctx()).unwrap();
    assert_ne!(a.epk, b.epk);
    assert_ne!(a.nonce, b.nonce);
    assert_ne!(a.ct, b.ct);
}

#[test]
fn debug_output_never_shows_secrets() {
    let (sk, env) = fixture();
    let d = format!("{sk:?} {env:?}");
    assert!(!d.contains(&b64::encode(sk.as_bytes())));
    assert!(!d.contains(&b64::encode(&env.ct)));
    let pt = open(&sk, &env, &ctx()).unwrap();
    let e = open(
        &sk,
        &Envelope {
            ct: vec![0; 17],
            ..env
        },
        &ctx(),
    )
    .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("correct horse"));
    drop(pt);
}
