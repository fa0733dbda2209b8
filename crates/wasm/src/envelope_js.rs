//! The envelope handed to `open`: an object, its JSON string or its UTF-8
//! JSON bytes, checked by the one set of envelope rules
//! (`Envelope::from_json`, docs/PROTOCOL.md §8), whatever form it came in.
//!
//! An object is what `JSON.stringify` makes of it: that JSON is what gets
//! checked. An object that is plainly JSON data — what `JSON.parse` and
//! `seal` return: no array, boxed primitive, raw JSON or `toJSON`, own
//! enumerable properties whose names and string values are printable ASCII
//! without `"` or `\`, numbers 1 or 2, its JSON within 64 KiB — serializes to
//! exactly its members, so those are checked directly
//! (`Envelope::from_members`), read in `JSON.stringify`'s order (`toJSON`,
//! the keys, then each value). Anything else goes through `JSON.stringify`
//! as before, which then decides (a getter or trap may so run twice). Why:
//! serializing and encoding a 16 KiB envelope object cost 20–25 µs in Node
//! and Firefox, 12% of its open.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, JsString, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use sealpass::envelope::{Envelope, MAX_ENVELOPE_JSON};
use sealpass::error::{Code, Error, Result};
use sealpass::json::Value;

use crate::read;

fn too_large() -> Error {
    Error::new(Code::CiphertextTooLarge, "envelope larger than 64 KiB")
}

/// Parse the `open` argument, size-checked before anything is copied into
/// Wasm memory.
pub fn envelope_from_js(envelope: &JsValue) -> Result<Envelope> {
    if let Some(s) = envelope.dyn_ref::<JsString>() {
        return json_text(s);
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
        if let Some(members) = plain_members(envelope) {
            return Envelope::from_members(&members);
        }
        let s = js_sys::JSON::stringify(envelope)
            .map_err(|_| Error::new(Code::EnvelopeNotJson, "envelope is not a JSON object"))?;
        return json_text(&s);
    }
    Err(Error::new(
        Code::EnvelopeNotJson,
        "envelope must be an object, a JSON string or its UTF-8 bytes",
    ))
}

/// Envelope JSON text: over 64 KiB (of UTF-8; more UTF-16 units than that
/// is refused before encoding, by `read::string_bytes`) is 8008, a lone
/// surrogate 8205, before it is parsed.
fn json_text(s: &JsString) -> Result<Envelope> {
    Envelope::from_json(&read::string_bytes(s, MAX_ENVELOPE_JSON, too_large())?)
}

/// The members of `v` when it is plainly JSON data (module doc), in the
/// order `JSON.stringify` would write them; `None` for anything else,
/// before more than the JSON's limit of it is copied into Wasm memory.
fn plain_members(v: &JsValue) -> Option<Vec<(String, Value)>> {
    // JSON.stringify's first read is `toJSON`. Then an array, a boxed
    // primitive (told by its internal slot, whatever its prototype), raw
    // JSON each serialize as something else: with an empty property list it
    // writes exactly `{}` for an object written as one, reading none of its
    // members. (No throw on this path: a caught JS exception cost ~5 µs.)
    if !matches!(Reflect::get(v, &JsValue::from_str("toJSON")), Ok(t) if t.is_undefined())
        || !matches!(read::is_array(v), Ok(false))
        || !matches!(js_sys::JSON::stringify_with_replacer(v, &Array::new()), Ok(s) if s == "{}")
    {
        return None;
    }
    // Then the own enumerable string keys (ownKeys, then each one's
    // descriptor), then each value.
    let keys = read::keys(v.unchecked_ref()).ok()?;
    let mut members = Vec::new();
    // `{` and `}`; each member adds `"key":`, its value and, after the
    // first, a comma: the length of the JSON so far, exactly.
    let mut json_len = 2usize;
    for key in keys.iter() {
        let key = key.dyn_into::<JsString>().ok()?;
        // Each UTF-16 unit is at least a byte of JSON: nothing longer than
        // what is left is copied (JSON.stringify decides about it).
        let room = MAX_ENVELOPE_JSON.checked_sub(json_len)?;
        if key.length() as usize > room {
            return None;
        }
        let name = key.as_string().filter(|k| plain(k.as_bytes()))?;
        let value = Reflect::get(v, &key).ok()?;
        let (value, value_len) = if let Some(s) = value.dyn_ref::<JsString>() {
            // Plain text is ASCII (a replaced lone surrogate is not), and its
            // UTF-8 is its JSON between quotes byte for byte.
            let bytes = read::utf8_replacing(s, room.checked_sub(name.len() + 5)?)?;
            let text = String::from_utf8(bytes)
                .ok()
                .filter(|t| plain(t.as_bytes()))?;
            let n = text.len() + 2;
            (Value::String(text), n)
        } else {
            let n = value.as_f64().filter(|n| *n == 1.0 || *n == 2.0)?;
            (
                Value::Number(String::from(if n == 1.0 { "1" } else { "2" })),
                1,
            )
        };
        json_len += name.len() + 3 + value_len + usize::from(!members.is_empty());
        if json_len > MAX_ENVELOPE_JSON {
            return None;
        }
        members.push((name, value));
    }
    Some(members)
}

/// Printable ASCII that JSON.stringify writes as itself between quotes.
/// A fold, not `all`: without the early exit the loop is vectorized (Wasm
/// SIMD in the fast builds); `all` took 8% of a 16 KiB open.
fn plain(text: &[u8]) -> bool {
    !text.iter().fold(false, |bad, b| {
        bad | !(0x20..0x7F).contains(b) | (*b == b'"') | (*b == b'\\')
    })
}
