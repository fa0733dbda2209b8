//! sealpass::json::parse on arbitrary bytes: never panics; a parsed value
//! written back as compact JSON (numbers as source text, strings through
//! json::write_string) parses to the same value, and writing is a fixed point.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpass::json;
use sealpass_fuzz::to_json;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = json::parse(data) {
        let text = to_json(&v);
        let again = json::parse(text.as_bytes()).expect("written JSON re-parses");
        assert_eq!(again, v, "round trip changed the value");
        assert_eq!(to_json(&again), text, "writing is not a fixed point");
    }
});
