//! Test logic shared by the native tests and the Wasm tests (the same
//! functions run in both, so the pinned vectors are checked in every runtime).
#![allow(dead_code)]

#[cfg(all(feature = "open", feature = "test-vectors"))]
pub mod envelope_vectors;
pub mod primitives;

use sealpass::json::{self, Value};

/// Parse a JSON document (our own strict parser, available in Wasm too).
pub fn parse(text: &str) -> Value {
    json::parse(text.as_bytes()).expect("vector file is valid JSON")
}

/// Object member lookup.
pub fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    match v {
        Value::Object(m) => m
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .unwrap_or(&Value::Null),
        _ => &Value::Null,
    }
}

pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    match get(v, key) {
        Value::String(s) => s,
        other => panic!("{key} is not a string: {other:?}"),
    }
}

pub fn num(v: &Value, key: &str) -> usize {
    match get(v, key) {
        Value::Number(n) => n.parse().expect("integer"),
        other => panic!("{key} is not a number: {other:?}"),
    }
}

pub fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    match get(v, key) {
        Value::Array(a) => a,
        _ => &[],
    }
}

pub fn hexd(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(s(v, key)).expect("hex")
}

pub fn flags(t: &Value) -> Vec<String> {
    arr(t, "flags")
        .iter()
        .filter_map(|f| {
            if let Value::String(s) = f {
                Some(s.clone())
            } else {
                None
            }
        })
        .collect()
}
