//! Reading the values a caller passed in: context and options objects,
//! Uint8Arrays and strings of keys and plaintexts.
//!
//! Caller code (getters, Proxy traps) runs only inside imports declared
//! `catch`. A JS exception thrown through a plain import unwinds past the
//! Rust frames without running a destructor — a key or plaintext copy stays
//! unzeroed in Wasm memory — and reaches the caller as a raw error. Here such
//! a throw, or a detached buffer, is InvalidArgument (8306).
//!
//! Feature `trusted-input` (the accept page's build only, scripts/build-www.sh)
//! reads directly instead: every value that page passes is JSON data or its
//! own TextEncoder bytes, so no getter, Proxy or detached buffer can reach
//! it, and the guards would cost ~0.65 KB gzip of its 30 KB budget.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, JsString, Object, Uint8Array};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};

#[cfg(not(feature = "trusted-input"))]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Object, js_name = entries)]
    fn object_entries(v: &JsValue) -> core::result::Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn object_keys(v: &JsValue) -> core::result::Result<Array, JsValue>;
    /// Throws for a revoked Proxy.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn array_is_array(v: &JsValue) -> core::result::Result<bool, JsValue>;
    /// A Uint8Array made here, so its `length` is the real one.
    #[wasm_bindgen(js_name = Uint8Array)]
    type Fresh;
    /// `new Uint8Array(v)`: a genuine array with its own copy of the bytes,
    /// read through internal slots (TypeError for a detached buffer).
    #[wasm_bindgen(catch, constructor, js_class = "Uint8Array")]
    fn new(v: &JsValue) -> core::result::Result<Fresh, JsValue>;
}

/// A JS value that threw, trapped or was detached while being read.
#[cfg(not(feature = "trusted-input"))]
fn unreadable<T>(_: T) -> Error {
    Error::new(
        Code::InvalidArgument,
        "an argument could not be read (it threw, or its buffer is detached)",
    )
}

/// Whether `s`, whose UTF-8 (lone surrogates replaced by U+FFFD) is `utf8`,
/// holds a lone surrogate. Only text holding 0xEF (the lead byte of U+FFFD)
/// is looked at unit by unit (a crossing per UTF-16 unit, which made a
/// 16 KiB envelope string cost more than its X25519), to tell a real U+FFFD
/// from a replaced lone surrogate. A plain loop: `contains` would link
/// core's memchr (~0.3 KB) into the browser build.
fn lone_surrogate(utf8: &[u8], s: &JsString) -> bool {
    // A fold, not `any`: without the early exit the loop is vectorized
    // (Wasm SIMD in the fast builds); `any` took 5% of a 16 KiB open.
    let has_ef = utf8.iter().fold(false, |seen, b| seen | (*b == 0xEF));
    has_ef && !s.is_valid_utf16()
}

/// Read a JS string, refusing lone surrogates (which `as_string` would
/// silently replace with U+FFFD, changing the bytes we bind). A refused
/// string's copy is wiped.
pub fn string(v: &JsValue) -> Option<Result<String>> {
    let s = v.dyn_ref::<JsString>()?;
    let mut text = Zeroizing::new(v.as_string()?);
    if lone_surrogate(text.as_bytes(), s) {
        return Some(Err(Error::new(
            Code::InvalidUtf8,
            "string holds a lone surrogate",
        )));
    }
    Some(Ok(core::mem::take(&mut *text)))
}

// A TextEncoder per call, not one kept: keeping one needs a static JsValue
// (not Sync: `unsafe` or std's thread_local!, neither in this no_std,
// unsafe-free crate) or an inline_js snippet (a snippets/ file in every
// shipped build); only Opener could hold one, for the node-open build, where
// `new TextEncoder()` is a fraction of a microsecond beside an open's X25519.
#[wasm_bindgen]
extern "C" {
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    /// Native UTF-8 encoding (lone surrogates become U+FFFD) straight into
    /// `dest`, a view of Wasm memory: as many whole characters as fit.
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &TextEncoder, s: &JsString, dest: &mut [u8]) -> EncodeIntoResult;
    /// `{read, written}` of `encodeInto`.
    type EncodeIntoResult;
    /// UTF-16 units of the string that were encoded.
    #[wasm_bindgen(method, getter)]
    fn read(this: &EncodeIntoResult) -> u32;
    /// Bytes written into `dest`.
    #[wasm_bindgen(method, getter)]
    fn written(this: &EncodeIntoResult) -> u32;
}

/// The UTF-8 of `s` into `buf` (sized by the caller: at most the limit),
/// cut to what was written; `false` when the whole string did not fit
/// (its UTF-8 is longer than `buf`).
///
/// `TextEncoder.encodeInto` writes into Wasm memory directly: no JS copy of
/// the bytes exists (none to wipe for a secret), and no second copy is made.
/// Measured against `encode` + copy for a 22 KB envelope string: 9 vs 23 µs
/// in Chromium, 3 vs 8 µs in Firefox. wasm-bindgen's own string passing
/// walks the string a UTF-16 unit at a time in JS, which for a 16 KiB
/// envelope cost more than its AEAD.
#[cfg(any(feature = "open", not(feature = "trusted-input")))]
fn encode_into(s: &JsString, buf: &mut Vec<u8>) -> bool {
    let r = TextEncoder::new().encode_into(s, buf);
    let (read, written) = (r.read(), r.written() as usize);
    // encodeInto never writes past the view; `min` keeps that an invariant
    // of this code, not of the engine.
    buf.truncate(written.min(buf.len()));
    read == s.length()
}

/// A buffer for the UTF-8 of a string of `units` UTF-16 units, at most
/// `max` bytes: each unit is at most 3 bytes (a surrogate pair, 2 units,
/// is 4).
#[cfg(any(feature = "open", not(feature = "trusted-input")))]
fn utf8_buffer(units: usize, max: usize) -> usize {
    units.saturating_mul(3).min(max)
}

/// The UTF-8 of a (large) string with lone surrogates replaced by U+FFFD,
/// encoded natively straight into Wasm memory ([`encode_into`]); `None`
/// when it is longer than `max` bytes. Each UTF-16 unit is at least one
/// UTF-8 byte: a string of more units is refused before anything is
/// allocated or encoded.
#[cfg(feature = "open")]
pub fn utf8_replacing(s: &JsString, max: usize) -> Option<Vec<u8>> {
    if s.length() as usize > max {
        return None;
    }
    let mut bytes = alloc::vec![0u8; utf8_buffer(s.length() as usize, max)];
    encode_into(s, &mut bytes).then_some(bytes)
}

/// The UTF-8 bytes of a (large) string, at most `max` (else `too_large`).
/// The size is checked first, then lone surrogates are refused as in
/// [`string`] (docs/PROTOCOL.md §11).
#[cfg(feature = "open")]
pub fn string_bytes(s: &JsString, max: usize, too_large: Error) -> Result<Vec<u8>> {
    let bytes = utf8_replacing(s, max).ok_or(too_large)?;
    if lone_surrogate(&bytes, s) {
        return Err(Error::new(
            Code::InvalidUtf8,
            "string holds a lone surrogate",
        ));
    }
    Ok(bytes)
}

/// `Object.entries(v)`: own enumerable string-keyed `[key, value]` pairs,
/// every getter and trap run in this one call.
pub fn entries(v: &JsValue) -> Result<Array> {
    #[cfg(not(feature = "trusted-input"))]
    return object_entries(v).map_err(unreadable);
    #[cfg(feature = "trusted-input")]
    Ok(Object::entries(v.unchecked_ref()))
}

/// `Object.keys(v)`.
pub fn keys(v: &Object) -> Result<Array> {
    #[cfg(not(feature = "trusted-input"))]
    return object_keys(v).map_err(unreadable);
    #[cfg(feature = "trusted-input")]
    Ok(Object::keys(v))
}

/// `Array.isArray(v)`.
pub fn is_array(v: &JsValue) -> Result<bool> {
    #[cfg(not(feature = "trusted-input"))]
    return array_is_array(v).map_err(unreadable);
    #[cfg(feature = "trusted-input")]
    Ok(Array::is_array(v))
}

/// `v` (which passed `instanceof Uint8Array`) as an array whose `length`
/// and bytes can be read without running caller code: a fresh copy.
///
/// Why a copy: js-sys reads `length` (a getter a subclass, an own property
/// or a Proxy can define) once to size its buffer and again to copy, and a
/// larger second answer would write past that buffer. `new Uint8Array(v)`
/// reads the bytes through internal slots (TypeError for a detached buffer)
/// and its `length` is the real one. Give it to [`done`] after use. With
/// `trusted-input`, `v` itself.
pub fn array(v: &JsValue) -> Result<impl AsRef<Uint8Array> + '_> {
    #[cfg(not(feature = "trusted-input"))]
    return Fresh::new(v)
        .map(JsCast::unchecked_into::<Uint8Array>)
        .map_err(unreadable);
    #[cfg(feature = "trusted-input")]
    Ok(v.unchecked_ref::<Uint8Array>())
}

/// Wipe what [`array`] copied (the caller's own array is theirs to wipe).
pub fn done(a: &Uint8Array) {
    #[cfg(not(feature = "trusted-input"))]
    a.fill(0, 0, a.length());
    #[cfg(feature = "trusted-input")]
    let _ = a;
}

/// The UTF-8 of `s`, at most `max` bytes (else `too_large`); `None` when it
/// holds a lone surrogate (which the encoder silently replaces with U+FFFD,
/// changing the bytes). The size is checked first: a string over `max` is
/// `too_large` whether or not it also holds a lone surrogate
/// (docs/PROTOCOL.md §11), in both builds.
///
/// Encoded natively ([`encode_into`]) straight into one Zeroizing buffer:
/// wasm-bindgen's string passing reallocates for non-ASCII text and would
/// leave unzeroed partial copies in freed Wasm memory; this leaves none, no
/// JS copy of the secret either, and costs one crossing instead of one per
/// UTF-16 unit.
pub fn utf8(s: &JsString, max: usize, too_large: Error) -> Result<Option<Zeroizing<Vec<u8>>>> {
    // Each UTF-16 unit is at least one UTF-8 byte.
    if s.length() as usize > max {
        return Err(too_large);
    }
    #[cfg(not(feature = "trusted-input"))]
    let out = {
        // Zeroizing wipes the whole allocation, the unwritten tail included.
        let mut buf = Zeroizing::new(alloc::vec![0u8; utf8_buffer(s.length() as usize, max)]);
        encode_into(s, &mut buf).then_some(buf)
    };
    #[cfg(feature = "trusted-input")]
    let out = {
        // Always Some for a JsString.
        let mut text = Zeroizing::new(s.as_string().unwrap_or_default());
        (text.len() <= max).then(|| Zeroizing::new(core::mem::take(&mut *text).into_bytes()))
    };
    let Some(out) = out else {
        return Err(too_large);
    };
    if lone_surrogate(&out, s) {
        return Ok(None);
    }
    Ok(Some(out))
}
