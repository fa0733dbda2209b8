//! crates/native signing: SignatureHeaders::from_pairs on arbitrary header
//! pairs never panics and only fails with 8701 SignatureMalformed; a
//! parsed set re-encodes (canonical decimal, B64U) to headers that parse to
//! the same value; canonical_string of valid fields splits back into exactly
//! those seven lines. Input layout: sealpass_fuzz::split_signing_input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpass::error::Code;
use sealpass_native::signing::{
    body_sha256_hex, canonical_string, is_valid_caller, SignatureHeaders, HEADER_CALLER,
    HEADER_KEY_VERSION, HEADER_SIGNATURE, HEADER_TIMESTAMP, SCHEME,
};

fn valid_method(s: &str) -> bool {
    (1..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn valid_path(s: &str) -> bool {
    s.starts_with('/') && s.len() <= 8192 && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let Some((method, path, pairs)) = sealpass_fuzz::split_signing_input(data) else {
        return;
    };
    let h = match SignatureHeaders::from_pairs(pairs.iter().copied()) {
        Ok(Some(h)) => h,
        Ok(None) => return,
        Err(e) => {
            assert_eq!(e.code(), Code::SignatureMalformed, "untyped header error");
            return;
        }
    };
    assert!(is_valid_caller(&h.caller));
    assert!(h.key_version >= 1 && h.timestamp >= 0);
    let ts = h.timestamp.to_string();
    let kv = h.key_version.to_string();
    let sig = sealpass::b64::encode(&h.signature);
    let again = SignatureHeaders::from_pairs([
        (HEADER_CALLER, h.caller.as_bytes()),
        (HEADER_TIMESTAMP, ts.as_bytes()),
        (HEADER_KEY_VERSION, kv.as_bytes()),
        (HEADER_SIGNATURE, sig.as_bytes()),
    ])
    .expect("re-encoded headers parse")
    .expect("re-encoded headers are signing headers");
    assert!(again == h, "re-encoding changed the headers");

    let body = body_sha256_hex(data);
    assert!(
        body.len() == 64
            && body
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let canon = canonical_string(method, path, &h.caller, h.key_version, &body, h.timestamp);
    if valid_method(method) && valid_path(path) {
        let lines: Vec<&str> = canon.split('\n').collect();
        assert_eq!(
            lines,
            [
                SCHEME,
                method,
                path,
                h.caller.as_str(),
                kv.as_str(),
                body.as_str(),
                ts.as_str()
            ],
            "canonical string is ambiguous"
        );
    }
});
