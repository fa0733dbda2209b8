//! Envelope::from_json on arbitrary bytes: never panics; whatever parses
//! has one canonical form (to_json → from_json gives the same envelope, and
//! to_json of that is the same text).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpass::envelope::Envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::from_json(data) {
        let text = env.to_json();
        let again = Envelope::from_json(text.as_bytes()).expect("canonical envelope re-parses");
        assert!(again == env, "round trip changed the envelope");
        assert_eq!(again.to_json(), text, "to_json is not a fixed point");
    }
});
