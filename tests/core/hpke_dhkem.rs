//! RFC 9180 DHKEM(X25519, HKDF-SHA256) known answers (Appendix A) through the
//! crate's X25519 and HKDF-SHA256 primitives: an independent check of both
//! that sealpass's own vectors cannot give (different labels, encodings and
//! key pairs, including the auth modes' two Diffie-Hellman results).

use sealpass_tests::vectors as common;

use common::{arr, get, hexd, num};
use sealpass::json::Value;
use sealpass::suite;

const HPKE: &str = include_str!("../vectors/primitives/rfc9180-x25519-sha256.json");

fn key(v: &Value, k: &str) -> [u8; 32] {
    hexd(v, k).try_into().expect("32 bytes")
}

#[test]
fn rfc9180_dhkem_x25519_shared_secrets() {
    let doc = common::parse(HPKE);
    let suite_id = [b"KEM".as_slice(), &[0x00, 0x20]].concat();
    let mut n = 0;
    for v in arr(&doc, "vectors") {
        let mode = num(v, "mode");
        let (sk_e, sk_r) = (key(v, "skEm"), key(v, "skRm"));
        let (pk_e, pk_r) = (suite::public_key(&sk_e), suite::public_key(&sk_r));
        assert_eq!(pk_e, key(v, "pkEm"));
        assert_eq!(pk_r, key(v, "pkRm"));
        // Encap side and decap side agree.
        let mut dh = suite::dh(&sk_e, &pk_r).unwrap().to_vec();
        assert_eq!(dh, suite::dh(&sk_r, &pk_e).unwrap().to_vec());
        let mut kem_context = [pk_e, pk_r].concat();
        if mode == 2 || mode == 3 {
            // Auth modes: dh = DH(skE, pkR) || DH(skS, pkR), context adds pkS.
            let sk_s = key(v, "skSm");
            let pk_s = suite::public_key(&sk_s);
            assert_eq!(pk_s, key(v, "pkSm"));
            dh.extend_from_slice(&suite::dh(&sk_s, &pk_r).unwrap()[..]);
            kem_context.extend_from_slice(&pk_s);
        }
        // ExtractAndExpand (RFC 9180 §4.1) with labeled IKM and info.
        let ikm = [b"HPKE-v1".as_slice(), &suite_id, b"eae_prk", &dh].concat();
        let info = [
            &[0u8, 32][..],
            b"HPKE-v1",
            &suite_id,
            b"shared_secret",
            &kem_context,
        ]
        .concat();
        let mut ss = [0u8; 32];
        suite::hkdf_sha256(&[], &ikm, &info, &mut ss).unwrap();
        assert_eq!(ss.to_vec(), hexd(v, "shared_secret"), "mode {mode}");
        assert!(matches!(get(v, "enc"), Value::String(_)));
        n += 1;
    }
    assert_eq!(n, 12);
}
