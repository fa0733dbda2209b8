//! Property tests: random bytes and random JSON into the envelope parser,
//! the context parser and open — errors are fine, panics are not.

use proptest::prelude::*;
use sealpass::{b64, Context, Envelope, SecretKey};
use sealpass_open::{open_json, open_json_with_identity};

fn ctx() -> Context {
    Context::new("n", "p", "s", "env", None, None).unwrap()
}

fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
        "[a-zA-Z0-9_\\-+/=\\\\\" ]{0,60}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| format!("\"{}\"", b64::encode(&b))),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("v"),
                        Just("suite"),
                        Just("epk"),
                        Just("nonce"),
                        Just("ct"),
                        Just("x")
                    ],
                    inner
                ),
                0..7
            )
            .prop_map(|m| {
                let members: Vec<String> =
                    m.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let sk = SecretKey::from_bytes([3; 32]);
        let _ = Envelope::from_json(&data);
        let _ = Context::from_json(&data);
        let _ = open_json(&sk, &data, &ctx());
        let _ = SecretKey::from_key_file(&data);
    }

    #[test]
    fn random_json_never_panics(doc in json_value()) {
        let sk = SecretKey::from_bytes([3; 32]);
        let _ = Envelope::from_json(doc.as_bytes());
        let _ = Context::from_json(doc.as_bytes());
        let r = open_json(&sk, doc.as_bytes(), &ctx());
        prop_assert!(r.is_err());
    }

    #[test]
    fn well_formed_random_envelopes_fail_authentication(
        epk in prop::array::uniform32(any::<u8>()),
        nonce in prop::collection::vec(any::<u8>(), 24),
        ct in prop::collection::vec(any::<u8>(), 17..300),
        v2 in any::<bool>(),
    ) {
        let sk = SecretKey::from_bytes([3; 32]);
        let isk = SecretKey::from_bytes([4; 32]);
        let version = if v2 { sealpass::Version::V2 } else { sealpass::Version::V1 };
        let env = Envelope { version, epk, nonce: nonce.try_into().unwrap(), ct };
        let json = env.to_json();
        let code = open_json_with_identity(&sk, &isk, json.as_bytes(), &ctx()).unwrap_err().code();
        prop_assert_eq!(code, sealpass::Code::DecryptFailed);
        let code = open_json(&sk, json.as_bytes(), &ctx()).unwrap_err().code();
        let want = if v2 { sealpass::Code::IdentityKeyRequired } else { sealpass::Code::DecryptFailed };
        prop_assert_eq!(code, want);
    }
}
