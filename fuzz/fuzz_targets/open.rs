//! sealpass_open::open_json (v1 key) and open_json_with_identity (v2 keys)
//! with the fixed keys and context of the a-minimal-ascii vectors: never
//! panic; every failure is one of the documented envelope/open codes; a
//! success yields a non-empty plaintext within the size cap.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpass::error::{Code, Error};
use sealpass::suite::MAX_PLAINTEXT_SIZE;
use sealpass_fuzz::OpenFixture;
use std::sync::OnceLock;

fn fixture() -> &'static OpenFixture {
    static F: OnceLock<OpenFixture> = OnceLock::new();
    F.get_or_init(OpenFixture::new)
}

fn typed(e: &Error) {
    let n = e.code().number();
    assert!(
        matches!(n, 8006..=8008 | 8101..=8108 | 8307),
        "untyped open error {}",
        e.message()
    );
    assert_eq!(Code::from_number(n), Some(e.code()));
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    for r in [
        sealpass_open::open_json(&f.v1_nsk, data, &f.ctx),
        sealpass_open::open_json_with_identity(&f.v2_nsk, &f.v2_isk, data, &f.ctx),
    ] {
        match r {
            Ok(pt) => assert!(!pt.is_empty() && pt.len() <= MAX_PLAINTEXT_SIZE),
            Err(e) => typed(&e),
        }
    }
});
