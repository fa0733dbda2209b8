//! Wycheproof HMAC-SHA256 and RFC 4231 through the signing module's MAC (the
//! one the relay and the node use for request signatures).

use sealpass_tests::vectors as common;

use common::{arr, hexd, num, parse, s};
use sealpass_native::signing::compute_mac;
use subtle::ConstantTimeEq;

const RFC4231: &str = include_str!("../vectors/primitives/hmac_sha256_rfc4231.json");

#[test]
fn wycheproof_hmac_sha256() {
    let doc = parse(common::primitives::HMAC_WYCHEPROOF);
    let (mut valid, mut invalid) = (0, 0);
    for g in arr(&doc, "testGroups") {
        let tag_len = num(g, "tagSize") / 8;
        for t in arr(g, "tests") {
            let mac = compute_mac(&hexd(t, "key"), &hexd(t, "msg"));
            let want = hexd(t, "tag");
            // Truncated tags compare the leftmost bytes, in constant time.
            let ok = want.len() == tag_len && bool::from(mac[..tag_len].ct_eq(&want[..]));
            match s(t, "result") {
                "valid" => {
                    assert!(ok, "tcId {}", num(t, "tcId"));
                    valid += 1;
                }
                _ => {
                    assert!(!ok, "tcId {} accepted", num(t, "tcId"));
                    invalid += 1;
                }
            }
        }
    }
    assert_eq!((valid, invalid), (66, 108));
}

#[test]
fn rfc4231_hmac_sha256() {
    let doc = parse(RFC4231);
    let mut n = 0;
    for t in arr(&doc, "tests") {
        let mac = compute_mac(&hexd(t, "key"), &hexd(t, "data"));
        let want = hexd(t, "mac");
        assert_eq!(&mac[..want.len()], &want[..], "{}", s(t, "id"));
        n += 1;
    }
    assert_eq!(n, 7);
}
