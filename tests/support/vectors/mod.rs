//! Vector checks shared by the native tests (tests/core) and the Wasm tests
//! (crates/wasm/tests/wasm.rs includes this module by path): the same
//! functions run in both, so the pinned vectors are checked in every
//! runtime. Nothing here touches processes or files.
#![allow(dead_code)]

pub mod b64;
pub mod chacha20x4;
pub mod envelope;
pub mod envelope_v2;
pub mod primitives;

use rand_core::{CryptoRng, RngCore};

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

/// An RNG that hands out exactly the given bytes, then fails: pinned vectors
/// go through `seal_with_rng` with their recorded esk ‖ nonce. Never use
/// outside tests: its output is known.
pub struct FixedRng {
    bytes: Vec<u8>,
    used: usize,
}

impl FixedRng {
    pub fn new(parts: &[&[u8]]) -> FixedRng {
        FixedRng {
            bytes: parts.concat(),
            used: 0,
        }
    }

    /// Every byte was handed out.
    pub fn is_drained(&self) -> bool {
        self.used == self.bytes.len()
    }
}

impl RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.try_fill_bytes(dest)
            .expect("FixedRng ran out of bytes")
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        let end = self.used + dest.len();
        let src = self.bytes.get(self.used..end).ok_or_else(|| {
            rand_core::Error::from(
                core::num::NonZeroU32::new(rand_core::Error::CUSTOM_START).unwrap(),
            )
        })?;
        dest.copy_from_slice(src);
        self.used = end;
        Ok(())
    }
}

impl CryptoRng for FixedRng {}
