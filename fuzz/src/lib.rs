//! Shared pieces of the fuzz targets and the seed writer: fixed keys, the
//! input layouts of the multi-part targets, and a JSON writer for
//! `sealpass::json::Value` (the core only writes strings).

use sealpass::context::Context;
use sealpass::json::{self, Value};
use sealpass::keys::SecretKey;
use sealpass_native::keystore::{KekConfig, Purpose};
use sealpass_native::release::ReleaseKey;

/// Lowercase hex to bytes (fixtures only; panics on bad text).
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn key32(s: &str) -> [u8; 32] {
    unhex(s).try_into().expect("32 bytes")
}

/// nsk of tests/vectors/envelope_v1.json vector `a-minimal-ascii`.
pub const V1_NSK: &str = "f96c580f2eb8a3cd6a1d9fbf0d560d02718af192a4187a25e3f603ecd45ea78d";
/// nsk of tests/vectors/envelope_v2.json vector `a-minimal-ascii`.
pub const V2_NSK: &str = "da924f1df871141ec32aec6557485685abb2d5f6d6591117a5b2575c718bd6ed";
/// isk (identity key) of the same v2 vector.
pub const V2_ISK: &str = "c3b060544acc992ad75a2213634c106e602c726fa031a5990135004a71eedb6f";
/// The context both `a-minimal-ascii` vectors seal to.
pub const CONTEXT_JSON: &str =
    r#"{"node_id":"n","pending_id":"p","slug":"s","injection_method":"env"}"#;

/// The fixed keys and context of the `open` target.
pub struct OpenFixture {
    /// v1 one-time key.
    pub v1_nsk: SecretKey,
    /// v2 one-time key.
    pub v2_nsk: SecretKey,
    /// v2 identity key.
    pub v2_isk: SecretKey,
    /// The vectors' context.
    pub ctx: Context,
}

impl OpenFixture {
    /// Build it (once per process in the target).
    pub fn new() -> Self {
        OpenFixture {
            v1_nsk: SecretKey::from_bytes(key32(V1_NSK)),
            v2_nsk: SecretKey::from_bytes(key32(V2_NSK)),
            v2_isk: SecretKey::from_bytes(key32(V2_ISK)),
            ctx: Context::from_json(CONTEXT_JSON.as_bytes()).expect("fixture context"),
        }
    }
}

impl Default for OpenFixture {
    fn default() -> Self {
        Self::new()
    }
}

// ------------------------------------------------------------ keystore_blob

/// KEK of the keystore fixture.
pub const KEK: [u8; 32] = [7u8; 32];
/// DEK id the wrapped blob is unwrapped as.
pub const DEK_ID: &str = "0123456789abcdef";
/// The DEK the seed wraps.
pub const DEK: [u8; 32] = [5u8; 32];
/// Record id the record blob is opened as.
pub const RECORD_ID: &str = "fuzz-record";

/// What the seed's record blob holds.
pub const RECORD_PLAINTEXT: &[u8] = b"fuzz record plaintext";

/// The fixture's KEK configuration.
pub fn kek() -> KekConfig {
    KekConfig::new(KEK, None)
}

/// Purpose from one input byte (all four reachable).
pub fn purpose(b: u8) -> Purpose {
    match b % 4 {
        0 => Purpose::PendingKey,
        1 => Purpose::DeliveredSecret,
        2 => Purpose::RelayHmacSecret,
        _ => Purpose::NodeHmacSecret,
    }
}

/// `keystore_blob` input: `u16_be(len(wrapped)) || wrapped || purpose || record`.
pub fn split_keystore_input(data: &[u8]) -> Option<(&[u8], Purpose, &[u8])> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    if rest.len() < len + 1 {
        return None;
    }
    let (wrapped, rest) = rest.split_at(len);
    let (&p, record) = rest.split_first()?;
    Some((wrapped, purpose(p), record))
}

/// Inverse of [`split_keystore_input`] (seeds).
pub fn keystore_input(wrapped: &[u8], purpose_byte: u8, record: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(wrapped.len())
        .expect("short blob")
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(wrapped);
    out.push(purpose_byte);
    out.extend_from_slice(record);
    out
}

// ------------------------------------------------------------ manifest

/// The release key of the `manifest` fixture (seed 9, 9, ...).
pub fn release_key() -> ReleaseKey {
    let file = sealpass::b64::encode(&[9u8; 32]);
    ReleaseKey::from_key_file(file.as_bytes()).expect("fixture release key")
}

// ------------------------------------------------------------ signing

/// `signing` input: line 1 the method, line 2 the path and query, then one
/// header per line as `name:value` (lines whose name is not UTF-8 or that
/// have no `:` are skipped). Returns (method, path, pairs).
pub fn split_signing_input(data: &[u8]) -> Option<(&str, &str, Vec<(&str, &[u8])>)> {
    let mut lines = data.split(|b| *b == b'\n');
    let method = std::str::from_utf8(lines.next()?).ok()?;
    let path = std::str::from_utf8(lines.next()?).ok()?;
    let pairs = lines
        .filter_map(|l| {
            let colon = l.iter().position(|b| *b == b':')?;
            let (name, value) = l.split_at(colon);
            Some((std::str::from_utf8(name).ok()?, value.get(1..)?))
        })
        .collect();
    Some((method, path, pairs))
}

/// Inverse of [`split_signing_input`] (seeds).
pub fn signing_input(method: &str, path: &str, headers: &[(&str, String)]) -> Vec<u8> {
    let mut s = format!("{method}\n{path}");
    for (n, v) in headers {
        s.push('\n');
        s.push_str(n);
        s.push(':');
        s.push_str(v);
    }
    s.into_bytes()
}

// ------------------------------------------------------------ json

/// Compact JSON text of a parsed value: numbers as their source text,
/// strings through the core's own writer, members in order (duplicates kept).
pub fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => json::write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::write_string(out, k);
                out.push(':');
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

/// [`write_json`] into a new string.
pub fn to_json(v: &Value) -> String {
    let mut s = String::new();
    write_json(&mut s, v);
    s
}
