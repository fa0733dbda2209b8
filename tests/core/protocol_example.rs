//! docs/PROTOCOL.md carries a worked example in hex. This test recomputes
//! every value with the crate and checks the document, so the spec and the
//! code cannot drift apart.

use sealpass::{
    canon, seal_v2_with_rng, seal_with_rng, suite, Context, PublicKey, SecretKey, Version,
};
use sealpass_tests::vectors::FixedRng;

fn doc_values() -> Vec<(String, String)> {
    block("worked-example")
}

/// `name = value` pairs between `<!-- MARKER:begin -->` and `<!-- MARKER:end -->`.
fn block(marker: &str) -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(sealpass_tests::root().join("docs/PROTOCOL.md")).unwrap();
    let start = doc
        .find(&format!("<!-- {marker}:begin -->"))
        .expect("example start marker");
    let end = doc
        .find(&format!("<!-- {marker}:end -->"))
        .expect("example end marker");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in doc[start..end].lines() {
        let line = line.trim();
        if let Some((k, v)) = line.split_once(" = ") {
            out.push((k.trim().to_string(), v.trim().to_string()));
        } else if let Some(last) = out.last_mut() {
            // Continuation lines of long hex values.
            if !line.is_empty()
                && !line.starts_with("```")
                && line.chars().all(|c| c.is_ascii_hexdigit())
            {
                last.1.push_str(line);
            }
        }
    }
    out
}

pub fn example() -> Vec<(&'static str, String)> {
    let esk: [u8; 32] = core::array::from_fn(|i| i as u8 + 1);
    let nsk: [u8; 32] = core::array::from_fn(|i| 0xa0 + i as u8);
    let nonce: [u8; 24] = core::array::from_fn(|i| 0x50 + i as u8);
    let ctx = Context::new(
        "node-7",
        "pend-42",
        "stripe-key",
        "header",
        Some("Authorization"),
        None,
    )
    .unwrap();
    let sk = SecretKey::from_bytes(nsk);
    let npk: PublicKey = sk.public_key();
    let epk = suite::public_key(&esk);
    let ss = suite::dh(&esk, npk.as_bytes()).unwrap();
    let info = canon::kdf_info(&ctx);
    let aad = canon::aad(&ctx);
    let key = suite::derive_key(&ss, &epk, npk.as_bytes(), &info);
    let pt = b"sk_live_51H8example";
    let mut rng = FixedRng::new(&[&esk, &nonce]);
    let env = seal_with_rng(&mut rng, &npk, pt, &ctx).unwrap();
    assert!(rng.is_drained());
    assert_eq!(&sealpass_open::open(&sk, &env, &ctx).unwrap()[..], pt);
    let mut salt = epk.to_vec();
    salt.extend_from_slice(npk.as_bytes());
    vec![
        ("esk", hex::encode(esk)),
        ("nsk", hex::encode(nsk)),
        ("nonce", hex::encode(nonce)),
        ("plaintext", hex::encode(pt)),
        ("npk", hex::encode(npk.as_bytes())),
        ("npk_b64u", npk.to_b64u()),
        ("fingerprint", npk.fingerprint()),
        ("epk", hex::encode(epk)),
        ("ss", hex::encode(&ss[..])),
        ("info", hex::encode(&info)),
        ("aad", hex::encode(&aad)),
        ("salt", hex::encode(&salt)),
        ("key", hex::encode(&key[..])),
        ("ct", hex::encode(&env.ct)),
        ("envelope", env.to_json()),
    ]
}

#[test]
fn protocol_md_worked_example_matches_the_code() {
    let want = example();
    if std::env::var_os("SEALPASS_PRINT_EXAMPLE").is_some() {
        for (k, v) in &want {
            println!("{k} = {v}");
        }
    }
    let got = doc_values();
    for (k, v) in &want {
        let found = got
            .iter()
            .find(|(gk, _)| gk == k)
            .unwrap_or_else(|| panic!("PROTOCOL.md example lacks {k}"));
        assert_eq!(&found.1, v, "PROTOCOL.md example value {k}");
    }
}

/// The v2 example (§15.8): the v1 inputs plus isk = c0 c1 … df.
fn example_v2() -> Vec<(&'static str, String)> {
    let esk: [u8; 32] = core::array::from_fn(|i| i as u8 + 1);
    let nsk: [u8; 32] = core::array::from_fn(|i| 0xa0 + i as u8);
    let isk: [u8; 32] = core::array::from_fn(|i| 0xc0 + i as u8);
    let nonce: [u8; 24] = core::array::from_fn(|i| 0x50 + i as u8);
    let ctx = Context::new(
        "node-7",
        "pend-42",
        "stripe-key",
        "header",
        Some("Authorization"),
        None,
    )
    .unwrap();
    let (sk, ik) = (SecretKey::from_bytes(nsk), SecretKey::from_bytes(isk));
    let (npk, nik) = (sk.public_key(), ik.public_key());
    let epk = suite::public_key(&esk);
    let ss1 = suite::dh(&esk, npk.as_bytes()).unwrap();
    let ss2 = suite::dh(&esk, nik.as_bytes()).unwrap();
    let info = canon::kdf_info_for(Version::V2, &ctx);
    let aad = canon::aad_for(Version::V2, &ctx);
    let key = suite::derive_key_v2(&ss1, &ss2, &epk, npk.as_bytes(), nik.as_bytes(), &info);
    let pt = b"sk_live_51H8example";
    let mut rng = FixedRng::new(&[&esk, &nonce]);
    let env = seal_v2_with_rng(&mut rng, &npk, &nik, pt, &ctx).unwrap();
    assert!(rng.is_drained());
    assert_eq!(
        &sealpass_open::open_with_identity(&sk, &ik, &env, &ctx).unwrap()[..],
        pt
    );
    let salt = [&epk[..], npk.as_bytes(), nik.as_bytes()].concat();
    vec![
        ("esk", hex::encode(esk)),
        ("nsk", hex::encode(nsk)),
        ("isk", hex::encode(isk)),
        ("nonce", hex::encode(nonce)),
        ("plaintext", hex::encode(pt)),
        ("npk", hex::encode(npk.as_bytes())),
        ("npk_b64u", npk.to_b64u()),
        ("fingerprint", npk.fingerprint()),
        ("nik", hex::encode(nik.as_bytes())),
        ("nik_b64u", nik.to_b64u()),
        ("identity_fingerprint", nik.identity_fingerprint()),
        ("epk", hex::encode(epk)),
        ("ss1", hex::encode(&ss1[..])),
        ("ss2", hex::encode(&ss2[..])),
        ("info", hex::encode(&info)),
        ("aad", hex::encode(&aad)),
        ("salt", hex::encode(&salt)),
        ("key", hex::encode(&key[..])),
        ("ct", hex::encode(&env.ct)),
        ("envelope", env.to_json()),
    ]
}

#[test]
fn protocol_md_v2_worked_example_matches_the_code() {
    let got = block("worked-example-v2");
    let want = example_v2();
    assert!(got.len() >= want.len(), "v2 example block: {got:?}");
    for (k, v) in &want {
        let found = got
            .iter()
            .find(|(gk, _)| gk == k)
            .unwrap_or_else(|| panic!("PROTOCOL.md v2 example lacks {k}"));
        assert_eq!(&found.1, v, "PROTOCOL.md v2 example value {k}");
    }
}
