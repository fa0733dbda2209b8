//! crates/native keystore blob decoding (keystore::fuzz_decode, feature
//! `fuzzing`): a wrapped DEK and a record blob from arbitrary bytes never
//! panic; failures carry keystore codes; anything that opens was sealed
//! under the fixture's keys (only the seeds can). Input layout:
//! sealpass_fuzz::split_keystore_input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpass::error::Code;
use sealpass_fuzz::{kek, split_keystore_input, DEK_ID, RECORD_ID};
use sealpass_native::keystore::{fuzz_decode, KekConfig};
use std::sync::OnceLock;

fn fixture() -> &'static KekConfig {
    static KEK: OnceLock<KekConfig> = OnceLock::new();
    KEK.get_or_init(kek)
}

fuzz_target!(|data: &[u8]| {
    let Some((wrapped, purpose, record)) = split_keystore_input(data) else {
        return;
    };
    match fuzz_decode(fixture(), DEK_ID, wrapped, purpose, RECORD_ID, record) {
        Ok(pt) => assert_eq!(&pt[..], sealpass_fuzz::RECORD_PLAINTEXT),
        Err(e) => assert!(
            matches!(
                e.code(),
                Code::RecordTampered | Code::FormatUnsupported | Code::KekMismatch
            ),
            "unexpected error {}",
            e.message()
        ),
    }
});
