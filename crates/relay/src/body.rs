//! Request bodies: Content-Type first, then a bounded read, then a strict
//! parse. Nothing is stored before all three pass.

use axum::body::{to_bytes, Body, Bytes};
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

use sealpass::envelope::Envelope;
use sealpass::error::{Code, Error};
use sealpass::json::{self, Value};

use super::api_error::{ApiError, ApiResult};
use super::store::Posted;

/// Bodies of every endpoint but the envelope post.
pub const MAX_SMALL_BODY: usize = 64 * 1024;
/// The envelope post: up to 16 envelopes of at most ~22 KiB each.
pub const MAX_ENVELOPES_BODY: usize = 512 * 1024;

fn is_json_content_type(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::CONTENT_TYPE).iter();
    let (Some(v), None) = (values.next(), values.next()) else {
        return false;
    };
    let Ok(v) = v.to_str() else { return false };
    let mut parts = v.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return false;
    }
    parts.all(|p| {
        let p = p.trim().to_ascii_lowercase();
        p == "charset=utf-8" || p == "charset=\"utf-8\""
    })
}

/// Read a JSON body: 415/8606 unless `Content-Type: application/json`,
/// 413/8607 when over `limit` (from Content-Length or while reading).
pub async fn read_json(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    if !is_json_content_type(headers) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "Content-Type must be application/json",
        ));
    }
    read_bounded(headers, body, limit).await
}

/// Like [`read_json`], but an empty body without Content-Type is allowed.
pub async fn read_optional_json(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    if headers.get(header::CONTENT_TYPE).is_none() {
        let bytes = read_bounded(headers, body, limit).await?;
        if bytes.is_empty() {
            return Ok(bytes);
        }
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "Content-Type must be application/json",
        ));
    }
    read_json(headers, body, limit).await
}

async fn read_bounded(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    let too_large = || ApiError::new(Code::PayloadTooLarge, "request body too large");
    if let Some(len) = headers.get(header::CONTENT_LENGTH) {
        let len: usize = len
            .to_str()
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ApiError::new(Code::BadRequest, "invalid Content-Length"))?;
        if len > limit {
            return Err(too_large());
        }
    }
    to_bytes(body, limit).await.map_err(|_| too_large())
}

/// Parse a small JSON body into `T` (unknown and duplicate fields rejected
/// by the types). The message never echoes the input.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|_| {
        ApiError::new(
            Code::BadRequest,
            "request body is not valid JSON for this endpoint",
        )
    })
}

/// An empty body means `{}`.
pub fn parse_empty_object(bytes: &[u8]) -> ApiResult<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    match json::parse(bytes) {
        Ok(Value::Object(m)) if m.is_empty() => Ok(()),
        _ => Err(ApiError::new(Code::BadRequest, "body must be {}")),
    }
}

fn bad(detail: &'static str) -> Error {
    Error::new(Code::BadRequest, detail)
}

/// Parse `{"envelopes":[{"node_id","envelope":{…}}, …]}` strictly: each
/// envelope goes through the core parser (shape only, 16 KiB cap per
/// element) and is kept in its canonical form.
pub fn parse_envelopes(bytes: &[u8]) -> sealpass::Result<Vec<Posted>> {
    let Ok(Value::Object(top)) = json::parse(bytes) else {
        return Err(bad("request body is not a JSON object"));
    };
    let [(key, Value::Array(list))] = top.as_slice() else {
        return Err(bad("body must be {\"envelopes\":[...]}"));
    };
    if key != "envelopes" {
        return Err(bad("body must be {\"envelopes\":[...]}"));
    }
    if list.is_empty() || list.len() > super::store::MAX_TARGETS {
        return Err(bad("envelopes must hold 1..=16 items"));
    }
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(members) = item else {
            return Err(bad("each item must be {\"node_id\",\"envelope\"}"));
        };
        let (mut node_id, mut envelope) = (None, None);
        for (k, v) in members {
            let slot = match k.as_str() {
                "node_id" => &mut node_id,
                "envelope" => &mut envelope,
                _ => return Err(bad("each item must be {\"node_id\",\"envelope\"}")),
            };
            if slot.replace(v).is_some() {
                return Err(bad("duplicate key in an item"));
            }
        }
        let (Some(Value::String(node_id)), Some(env)) = (node_id, envelope) else {
            return Err(bad("each item must be {\"node_id\",\"envelope\"}"));
        };
        let mut text = String::new();
        write_value(&mut text, env);
        let parsed = Envelope::from_json(text.as_bytes())?;
        out.push(Posted {
            node_id: node_id.clone(),
            envelope_json: parsed.to_json(),
        });
    }
    Ok(out)
}

/// Re-serialize a parsed value exactly (numbers keep their source text,
/// member order and duplicates are kept) so the envelope parser sees what
/// the client sent.
fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => json::write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, x);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, x)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::write_string(out, k);
                out.push(':');
                write_value(out, x);
            }
            out.push('}');
        }
    }
}
