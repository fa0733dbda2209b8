//! Wycheproof Ed25519 vectors through the release manifest's signature check
//! (`sealpass_native::release::verify_signature`, i.e. `verify_strict`): every
//! "valid" case must verify and every "invalid" one must fail with 8801.

use sealpass::Code;
use sealpass_native::release::verify_signature;
use serde_json::Value;

const VECTORS: &str = include_str!("../vectors/primitives/ed25519_test.json");

#[test]
fn wycheproof_ed25519_through_release_verify() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for g in doc["testGroups"].as_array().unwrap() {
        let pk: [u8; 32] = hex::decode(g["publicKey"]["pk"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        for t in g["tests"].as_array().unwrap() {
            let id = t["tcId"].as_u64().unwrap();
            let msg = hex::decode(t["msg"].as_str().unwrap()).unwrap();
            let sig = hex::decode(t["sig"].as_str().unwrap()).unwrap();
            let r = verify_signature(&pk, &msg, &sig);
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert!(r.is_ok(), "tcId {id} should verify: {r:?}");
                    valid += 1;
                }
                "invalid" => {
                    assert_eq!(
                        r.unwrap_err().code(),
                        Code::ManifestSignatureInvalid,
                        "tcId {id}"
                    );
                    invalid += 1;
                }
                other => panic!("tcId {id}: unexpected result {other}"),
            }
        }
    }
    assert_eq!(
        valid + invalid,
        doc["numberOfTests"].as_u64().unwrap() as usize
    );
    assert!(
        valid >= 80 && invalid >= 60,
        "{valid} valid, {invalid} invalid"
    );
}
