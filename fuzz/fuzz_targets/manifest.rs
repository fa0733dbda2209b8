//! crates/native release: SignedManifest::parse on arbitrary bytes never
//! panics and fails only with 8803 ManifestMalformed; a
//! parsed manifest's to_json parses back to the same value and is a fixed
//! point; verify with a fixed key never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpass::error::Code;
use sealpass_native::release::{ReleaseKey, SignedManifest};
use std::sync::OnceLock;

fn key() -> &'static ReleaseKey {
    static KEY: OnceLock<ReleaseKey> = OnceLock::new();
    KEY.get_or_init(|| sealpass_fuzz::release_key())
}

fuzz_target!(|data: &[u8]| {
    let m = match SignedManifest::parse(data) {
        Ok(m) => m,
        Err(e) => {
            assert_eq!(
                e.code(),
                Code::ManifestMalformed,
                "unexpected error {}",
                e.message()
            );
            return;
        }
    };
    let text = m.to_json();
    let again = SignedManifest::parse(text.as_bytes()).expect("to_json re-parses");
    assert_eq!(again, m, "round trip changed the manifest");
    assert_eq!(again.to_json(), text, "to_json is not a fixed point");
    let _ = m.verify(&key().public_key());
});
