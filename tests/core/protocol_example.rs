//! docs/PROTOCOL.md carries a worked example in hex. This test recomputes
//! every value with the crate and checks the document, so the spec and the
//! code cannot drift apart.

use sealpass::{canon, seal_with_rng, suite, Context, PublicKey, SecretKey};
use sealpass_tests::vectors::FixedRng;

fn doc_values() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(sealpass_tests::root().join("docs/PROTOCOL.md")).unwrap();
    let start = doc
        .find("<!-- worked-example:begin -->")
        .expect("example start marker");
    let end = doc
        .find("<!-- worked-example:end -->")
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
