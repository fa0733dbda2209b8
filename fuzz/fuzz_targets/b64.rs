//! sealpass::b64::decode on arbitrary text: never panics; strict canonical
//! (whatever decodes re-encodes to exactly the input, and encode → decode
//! is the identity on the decoded bytes).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpass::b64;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match b64::decode(text) {
        Ok(bytes) => {
            assert_eq!(
                b64::encode(&bytes),
                text,
                "accepted a non-canonical encoding"
            );
            assert_eq!(text.len(), b64::encoded_len(bytes.len()));
        }
        Err(e) => assert_eq!(e.code(), sealpass::error::Code::InvalidBase64),
    }
    // Any bytes: encode, then decode back.
    let enc = b64::encode(data);
    assert_eq!(b64::decode(&enc).expect("own encoding decodes"), data);
});
