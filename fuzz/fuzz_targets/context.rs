//! Context::from_json on arbitrary bytes: never panics; a parsed context
//! survives to_json → from_json unchanged and to_json is a fixed point.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpass::context::Context;

fuzz_target!(|data: &[u8]| {
    if let Ok(ctx) = Context::from_json(data) {
        let text = ctx.to_json();
        let again = Context::from_json(text.as_bytes()).expect("canonical context re-parses");
        assert_eq!(again, ctx, "round trip changed the context");
        assert_eq!(again.to_json(), text, "to_json is not a fixed point");
    }
});
