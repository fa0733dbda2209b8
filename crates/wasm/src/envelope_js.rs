//! The envelope handed to `open`: an object, its JSON string or its UTF-8
//! JSON bytes, checked by the one set of envelope rules
//! (`Envelope::from_json`, docs/PROTOCOL.md §8), whatever form it came in.
//!
//! An object is what `JSON.stringify` makes of it: that JSON is what gets
//! checked. An object that is plainly JSON data — what `JSON.parse` and
//! `seal` return: own properties whose names and string values are printable
//! ASCII without `"` or `\`, and whose numbers are 1 or 2 — serializes to
//! exactly its members, so those members are checked directly
//! (`Envelope::from_members`) and the JSON's length is computed, not built.
//! Anything else (other values, escapes, `toJSON`, arrays, boxed primitives,
//! a read that throws) goes through `JSON.stringify` as before. Why:
//! serializing and encoding a 16 KiB envelope object cost 20–25 µs in Node
//! and Firefox, 12% of its open.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, JsString, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use sealpass::envelope::{Envelope, MAX_ENVELOPE_JSON};
use sealpass::error::{Code, Error, Result};
use sealpass::json::Value;

use crate::read;

#[wasm_bindgen]
extern "C" {
    /// Throws for a revoked Proxy or a throwing trap.
    #[wasm_bindgen(catch, js_namespace = Object, js_name = getPrototypeOf)]
    fn get_prototype_of(v: &JsValue) -> core::result::Result<JsValue, JsValue>;
}

fn too_large() -> Error {
    Error::new(Code::CiphertextTooLarge, "envelope larger than 64 KiB")
}

fn not_json() -> Error {
    Error::new(Code::EnvelopeNotJson, "envelope is not a JSON object")
}

/// Parse the `open` argument, size-checked before anything is copied into
/// Wasm memory.
pub fn envelope_from_js(envelope: &JsValue) -> Result<Envelope> {
    // Each UTF-16 unit is at least one UTF-8 byte: a longer string is too
    // large before it is encoded; string_bytes checks the encoded length
    // before the bytes are used.
    if let Some(s) = envelope.dyn_ref::<JsString>() {
        if s.length() as usize > MAX_ENVELOPE_JSON {
            return Err(too_large());
        }
        return Envelope::from_json(&read::string_bytes(s, MAX_ENVELOPE_JSON, too_large())?);
    }
    if envelope.dyn_ref::<Uint8Array>().is_some() {
        // Ciphertext, not a secret: the guard copy need not be wiped.
        let a = read::array(envelope)?;
        let a = a.as_ref();
        if a.length() as usize > MAX_ENVELOPE_JSON {
            return Err(too_large());
        }
        return Envelope::from_json(&a.to_vec());
    }
    if envelope.is_object() {
        if let Some(members) = plain_members(envelope)? {
            return Envelope::from_members(&members);
        }
        let s = js_sys::JSON::stringify(envelope).map_err(|_| not_json())?;
        if s.length() as usize > MAX_ENVELOPE_JSON {
            return Err(too_large());
        }
        return Envelope::from_json(&read::string_bytes(&s, MAX_ENVELOPE_JSON, too_large())?);
    }
    Err(Error::new(
        Code::EnvelopeNotJson,
        "envelope must be an object, a JSON string or its UTF-8 bytes",
    ))
}

/// The members of `v` when it is plainly JSON data (module doc), in the
/// order `JSON.stringify` would write them; `None` for anything else.
/// Too large (8008) when the JSON it serializes to would be.
fn plain_members(v: &JsValue) -> Result<Option<Vec<(String, Value)>>> {
    // JSON.stringify writes arrays as arrays, boxed strings, numbers and
    // booleans as those values, and calls a `toJSON` it finds.
    if !matches!(read::is_array(v), Ok(false)) {
        return Ok(None);
    }
    let Ok(proto) = get_prototype_of(v) else {
        return Ok(None);
    };
    if !(proto.is_null() || proto == JsValue::from(Object::get_prototype_of(&Object::new().into())))
    {
        return Ok(None);
    }
    if !matches!(Reflect::get(v, &JsValue::from_str("toJSON")), Ok(t) if t.is_undefined()) {
        return Ok(None);
    }
    // Own enumerable string-keyed properties, in property order: what
    // JSON.stringify serializes (every getter and trap run in this call).
    let Ok(entries) = read::entries(v) else {
        return Ok(None);
    };
    let mut members = Vec::new();
    // `{` and `}`; each member adds `"key":`, its value and, after the
    // first, a comma: the length of the JSON written so far, exactly.
    let mut json_len = 2usize;
    for entry in entries.iter() {
        let pair: Array = entry.unchecked_into();
        let Some(key) = pair.get(0).as_string().filter(|k| plain(k.as_bytes())) else {
            return Ok(None);
        };
        let value = pair.get(1);
        let value = if let Some(s) = value.dyn_ref::<JsString>() {
            if s.length() as usize > MAX_ENVELOPE_JSON {
                return Err(too_large());
            }
            // Longer than 64 KiB, whatever it holds, its JSON is too. Plain
            // text is ASCII (a replaced lone surrogate is not), and its
            // UTF-8 is its JSON between quotes byte for byte.
            match read::utf8_replacing(s, MAX_ENVELOPE_JSON) {
                None => return Err(too_large()),
                Some(b) if plain(&b) => match String::from_utf8(b) {
                    Ok(text) => {
                        json_len = json_len.saturating_add(text.len() + 2);
                        Value::String(text)
                    }
                    Err(_) => return Ok(None),
                },
                // Text JSON.stringify would escape, or not ASCII.
                Some(_) => return Ok(None),
            }
        } else {
            match value.as_f64() {
                Some(n) if n == 1.0 || n == 2.0 => {
                    json_len += 1;
                    Value::Number(String::from(if n == 1.0 { "1" } else { "2" }))
                }
                _ => return Ok(None),
            }
        };
        json_len = json_len.saturating_add(key.len() + 3 + usize::from(!members.is_empty()));
        if json_len > MAX_ENVELOPE_JSON {
            return Err(too_large());
        }
        members.push((key, value));
    }
    Ok(Some(members))
}

/// Printable ASCII that JSON.stringify writes as itself between quotes.
/// A fold, not `all`: without the early exit the loop is vectorized (Wasm
/// SIMD in the fast builds); `all` took 8% of a 16 KiB open.
fn plain(text: &[u8]) -> bool {
    !text.iter().fold(false, |bad, b| {
        bad | !(0x20..0x7F).contains(b) | (*b == b'"') | (*b == b'\\')
    })
}
