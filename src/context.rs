//! The context a secret is sealed for, and its validation.
//!
//! Every field is bound into the AEAD associated data (see [`crate::canon`]),
//! so a relay that rewrites where a secret goes makes decryption fail. Fields
//! are opaque UTF-8: no trimming, case folding or Unicode normalization, ever.

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::error::{Code, Error, Result};
use crate::json::{self, JsonError, Value};

/// Byte limit for node_id, pending_id and slug.
pub const MAX_ID_LEN: usize = 256;
/// Byte limit for injection_method.
pub const MAX_METHOD_LEN: usize = 64;
/// Byte limit for field_name.
pub const MAX_FIELD_NAME_LEN: usize = 1024;
/// Byte limit for target_url.
pub const MAX_TARGET_URL_LEN: usize = 2048;
/// Largest context JSON document accepted (checked before parsing).
pub const MAX_CONTEXT_JSON: usize = 64 * 1024;

/// The JSON keys a context may carry, in canonical order.
pub const KEYS: [&str; 6] = [
    "node_id",
    "pending_id",
    "slug",
    "injection_method",
    "field_name",
    "target_url",
];

/// A validated context. Optional fields are stored as "" when absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    node_id: String,
    pending_id: String,
    slug: String,
    injection_method: String,
    field_name: String,
    target_url: String,
}

impl Context {
    /// Validate and build a context. `None` and `Some("")` are the same.
    pub fn new(
        node_id: &str,
        pending_id: &str,
        slug: &str,
        injection_method: &str,
        field_name: Option<&str>,
        target_url: Option<&str>,
    ) -> Result<Context> {
        required("node_id", node_id, MAX_ID_LEN)?;
        required("pending_id", pending_id, MAX_ID_LEN)?;
        required("slug", slug, MAX_ID_LEN)?;
        required("injection_method", injection_method, MAX_METHOD_LEN)?;
        if !is_kebab_token(injection_method) {
            return Err(Error::new(
                Code::InjectionMethodInvalid,
                "injection_method must match ^[a-z0-9]+(-[a-z0-9]+)*$",
            ));
        }
        let field_name = field_name.unwrap_or("");
        let target_url = target_url.unwrap_or("");
        limit("field_name", field_name, MAX_FIELD_NAME_LEN)?;
        limit("target_url", target_url, MAX_TARGET_URL_LEN)?;
        Ok(Context {
            node_id: node_id.to_owned(),
            pending_id: pending_id.to_owned(),
            slug: slug.to_owned(),
            injection_method: injection_method.to_owned(),
            field_name: field_name.to_owned(),
            target_url: target_url.to_owned(),
        })
    }

    /// Parse the context JSON object used by the CLI and the relay:
    /// `{"node_id","pending_id","slug","injection_method","field_name"?,"target_url"?}`.
    /// Unknown and duplicate keys are rejected; optional fields may be absent,
    /// `null` or `""`.
    pub fn from_json(input: &[u8]) -> Result<Context> {
        if input.len() > MAX_CONTEXT_JSON {
            return Err(Error::new(
                Code::ContextMalformed,
                "context JSON larger than 64 KiB",
            ));
        }
        let members = match json::parse(input) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(Error::new(
                    Code::ContextMalformed,
                    "context must be a JSON object",
                ))
            }
            Err(JsonError::Utf8) => {
                return Err(Error::new(Code::InvalidUtf8, "context is not valid UTF-8"))
            }
            Err(_) => {
                return Err(Error::new(
                    Code::ContextMalformed,
                    "context is not valid JSON",
                ))
            }
        };
        let mut slots: [Option<Value>; 6] = Default::default();
        for (k, v) in members {
            let slot = KEYS
                .iter()
                .position(|known| *known == k)
                .and_then(|idx| slots.get_mut(idx))
                .ok_or_else(|| Error::new(Code::ContextMalformed, "context has an unknown key"))?;
            if slot.replace(v).is_some() {
                return Err(Error::new(
                    Code::ContextMalformed,
                    "context has a duplicate key",
                ));
            }
        }
        // Types of every present key first (8201), then missing fields (8202).
        for (i, (v, key)) in slots.iter().zip(KEYS).enumerate() {
            let ok = match v {
                None | Some(Value::String(_)) => true,
                Some(Value::Null) => i >= 4,
                Some(_) => false,
            };
            if !ok {
                let what = if i < 4 {
                    " must be a string"
                } else {
                    " must be a string or null"
                };
                return Err(Error::with_detail(
                    Code::ContextMalformed,
                    [key, what].concat(),
                ));
            }
        }
        let [a, b, c, d, e, f] = slots;
        let req = |name: &'static str, v: Option<Value>| -> Result<String> {
            match v {
                Some(Value::String(s)) => Ok(s),
                None => Err(Error::with_detail(
                    Code::ContextMissingField,
                    [name, " is required"].concat(),
                )),
                Some(_) => Err(Error::with_detail(
                    Code::ContextMalformed,
                    [name, " must be a string"].concat(),
                )),
            }
        };
        let opt = |name: &'static str, v: Option<Value>| -> Result<Option<String>> {
            match v {
                Some(Value::String(s)) => Ok(Some(s)),
                None | Some(Value::Null) => Ok(None),
                Some(_) => Err(Error::with_detail(
                    Code::ContextMalformed,
                    [name, " must be a string or null"].concat(),
                )),
            }
        };
        let (node_id, pending_id, slug, method) = (
            req("node_id", a)?,
            req("pending_id", b)?,
            req("slug", c)?,
            req("injection_method", d)?,
        );
        let (field_name, target_url) = (opt("field_name", e)?, opt("target_url", f)?);
        Context::new(
            &node_id,
            &pending_id,
            &slug,
            &method,
            field_name.as_deref(),
            target_url.as_deref(),
        )
    }

    /// Canonical JSON form: keys in [`KEYS`] order, absent optionals omitted.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (k, v)) in self.fields().iter().enumerate() {
            if i >= 4 && v.is_empty() {
                continue;
            }
            if out.len() > 1 {
                out.push(',');
            }
            json::write_string(&mut out, k);
            out.push(':');
            json::write_string(&mut out, v);
        }
        out.push('}');
        out
    }

    fn fields(&self) -> [(&'static str, &str); 6] {
        [
            (KEYS[0], &self.node_id),
            (KEYS[1], &self.pending_id),
            (KEYS[2], &self.slug),
            (KEYS[3], &self.injection_method),
            (KEYS[4], &self.field_name),
            (KEYS[5], &self.target_url),
        ]
    }

    /// The node this secret is for.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }
    /// The pending credential id.
    pub fn pending_id(&self) -> &str {
        &self.pending_id
    }
    /// The credential slug (name of the secret on the node).
    pub fn slug(&self) -> &str {
        &self.slug
    }
    /// How the node will inject the secret (`header`, `env`, ...).
    pub fn injection_method(&self) -> &str {
        &self.injection_method
    }
    /// Field/header/variable name, or "" when absent.
    pub fn field_name(&self) -> &str {
        &self.field_name
    }
    /// Target URL, or "" when absent.
    pub fn target_url(&self) -> &str {
        &self.target_url
    }
}

fn required(name: &'static str, v: &str, max: usize) -> Result<()> {
    if v.is_empty() {
        return Err(Error::with_detail(
            Code::ContextMissingField,
            [name, " must not be empty"].concat(),
        ));
    }
    limit(name, v, max)
}

fn limit(name: &'static str, v: &str, max: usize) -> Result<()> {
    if v.len() > max {
        return Err(Error::with_detail(
            Code::ContextFieldTooLong,
            [name, " is longer than ", limit_text(max), " bytes"].concat(),
        ));
    }
    Ok(())
}

/// The limits as text, without pulling `core::fmt` into the Wasm build.
fn limit_text(max: usize) -> &'static str {
    match max {
        MAX_ID_LEN => "256",
        MAX_METHOD_LEN => "64",
        MAX_FIELD_NAME_LEN => "1024",
        MAX_TARGET_URL_LEN => "2048",
        _ => "its limit of",
    }
}

/// `^[a-z0-9]+(-[a-z0-9]+)*$`
fn is_kebab_token(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_json(extra: &str) -> String {
        format!(
            r#"{{"node_id":"n","pending_id":"p","slug":"s","injection_method":"header"{extra}}}"#
        )
    }

    #[test]
    fn kebab_tokens() {
        for ok in ["header", "query-param", "a1-b2-c3", "0"] {
            assert!(is_kebab_token(ok), "{ok}");
        }
        for bad in [
            "",
            "Header",
            "query_param",
            "-a",
            "a-",
            "a--b",
            "a b",
            "é",
            "a.b",
        ] {
            assert!(!is_kebab_token(bad), "{bad}");
        }
    }

    #[test]
    fn optional_fields_absent_null_empty_are_equal() {
        let a = Context::from_json(ctx_json("").as_bytes()).unwrap();
        let b = Context::from_json(ctx_json(r#","field_name":null,"target_url":null"#).as_bytes())
            .unwrap();
        let c =
            Context::from_json(ctx_json(r#","field_name":"","target_url":"""#).as_bytes()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.to_json(), ctx_json(""));
    }

    #[test]
    fn rejects_bad_contexts() {
        let cases: &[(&str, Code)] = &[
            (r#","version":"1""#, Code::ContextMalformed),
            (r#","extra":1"#, Code::ContextMalformed),
            (r#","slug":"t""#, Code::ContextMalformed),
            (r#","field_name":5"#, Code::ContextMalformed),
        ];
        for (extra, code) in cases {
            assert_eq!(
                Context::from_json(ctx_json(extra).as_bytes())
                    .unwrap_err()
                    .code(),
                *code,
                "{extra}"
            );
        }
        // Wrong types are reported before missing fields (§3.1 order).
        assert_eq!(
            Context::from_json(br#"{"pending_id":1}"#)
                .unwrap_err()
                .code(),
            Code::ContextMalformed
        );
        assert_eq!(
            Context::from_json(br#"{"field_name":5}"#)
                .unwrap_err()
                .code(),
            Code::ContextMalformed
        );
        assert_eq!(
            Context::from_json(br#"{"node_id":null}"#)
                .unwrap_err()
                .code(),
            Code::ContextMalformed
        );
        let missing = r#"{"node_id":"n","pending_id":"p","injection_method":"header"}"#;
        assert_eq!(
            Context::from_json(missing.as_bytes()).unwrap_err().code(),
            Code::ContextMissingField
        );
        let empty = r#"{"node_id":"","pending_id":"p","slug":"s","injection_method":"header"}"#;
        assert_eq!(
            Context::from_json(empty.as_bytes()).unwrap_err().code(),
            Code::ContextMissingField
        );
        let method = r#"{"node_id":"n","pending_id":"p","slug":"s","injection_method":"Header"}"#;
        assert_eq!(
            Context::from_json(method.as_bytes()).unwrap_err().code(),
            Code::InjectionMethodInvalid
        );
        assert_eq!(
            Context::from_json(b"[1]").unwrap_err().code(),
            Code::ContextMalformed
        );
        assert_eq!(
            Context::from_json(b"\xff").unwrap_err().code(),
            Code::InvalidUtf8
        );
        let lone = r#"{"node_id":"\ud800","pending_id":"p","slug":"s","injection_method":"h"}"#;
        assert_eq!(
            Context::from_json(lone.as_bytes()).unwrap_err().code(),
            Code::InvalidUtf8
        );
    }

    #[test]
    fn limits_are_in_bytes() {
        let ok = "é".repeat(128); // 256 bytes
        assert!(Context::new(&ok, "p", "s", "env", None, None).is_ok());
        let long = "é".repeat(129);
        assert_eq!(
            Context::new(&long, "p", "s", "env", None, None)
                .unwrap_err()
                .code(),
            Code::ContextFieldTooLong
        );
        let m = "a".repeat(65);
        assert_eq!(
            Context::new("n", "p", "s", &m, None, None)
                .unwrap_err()
                .code(),
            Code::ContextFieldTooLong
        );
        assert!(Context::new(
            "n",
            "p",
            "s",
            "e",
            Some(&"x".repeat(1024)),
            Some(&"u".repeat(2048))
        )
        .is_ok());
        assert!(Context::new("n", "p", "s", "e", Some(&"x".repeat(1025)), None).is_err());
        assert!(Context::new("n", "p", "s", "e", None, Some(&"u".repeat(2049))).is_err());
    }

    /// A too-long field's detail names its limit in bytes, for every limit.
    #[test]
    fn too_long_details_name_the_limit() {
        let over = |n: usize| "a".repeat(n + 1);
        let cases = [
            (
                "node_id",
                MAX_ID_LEN,
                Context::new(&over(MAX_ID_LEN), "p", "s", "env", None, None),
            ),
            (
                "injection_method",
                MAX_METHOD_LEN,
                Context::new("n", "p", "s", &over(MAX_METHOD_LEN), None, None),
            ),
            (
                "field_name",
                MAX_FIELD_NAME_LEN,
                Context::new("n", "p", "s", "env", Some(&over(MAX_FIELD_NAME_LEN)), None),
            ),
            (
                "target_url",
                MAX_TARGET_URL_LEN,
                Context::new("n", "p", "s", "env", None, Some(&over(MAX_TARGET_URL_LEN))),
            ),
        ];
        for (name, max, r) in cases {
            let e = r.unwrap_err();
            assert_eq!(e.code(), Code::ContextFieldTooLong);
            assert_eq!(e.detail(), format!("{name} is longer than {max} bytes"));
        }
    }

    /// The 64 KiB limit is on the whole input, inclusive: padding whitespace
    /// counts, and exactly the limit is still parsed.
    #[test]
    fn json_size_limit_is_inclusive() {
        let body = ctx_json("");
        let pad = |total: usize| format!("{body}{}", " ".repeat(total - body.len()));
        assert!(Context::from_json(pad(MAX_CONTEXT_JSON).as_bytes()).is_ok());
        let e = Context::from_json(pad(MAX_CONTEXT_JSON + 1).as_bytes()).unwrap_err();
        assert_eq!(e.code(), Code::ContextMalformed);
        assert!(e.detail().contains("64 KiB"), "{}", e.detail());
    }

    /// The detail names what a field may be: required fields only strings,
    /// optional ones strings or null.
    #[test]
    fn wrong_type_details_name_what_is_allowed() {
        let detail = |j: &str| {
            Context::from_json(j.as_bytes())
                .unwrap_err()
                .detail()
                .to_owned()
        };
        for (i, key) in KEYS.iter().enumerate() {
            let d = detail(&format!(r#"{{"{key}":5}}"#));
            let want = if i < 4 {
                format!("{key} must be a string")
            } else {
                format!("{key} must be a string or null")
            };
            assert_eq!(d, want, "{key}");
        }
    }

    #[test]
    fn control_characters_are_kept_verbatim() {
        let c = Context::new("n\u{1}", "p\n", "s\"", "env", Some("f\u{0}"), None).unwrap();
        assert_eq!(Context::from_json(c.to_json().as_bytes()).unwrap(), c);
    }
}
