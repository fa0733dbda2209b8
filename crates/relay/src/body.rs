//! Request bodies: Content-Type and Content-Length first (before anything
//! else is checked), then a bounded read with a deadline (after the checks
//! that need no body: signature headers, the pending id), then a strict
//! parse. Nothing is stored before all of them pass.

use axum::body::{to_bytes, Body, Bytes};
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
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

fn declared_length(headers: &HeaderMap) -> ApiResult<Option<usize>> {
    match headers.get(header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(len) => len
            .to_str()
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Some)
            .ok_or_else(|| ApiError::new(Code::BadRequest, "invalid Content-Length")),
    }
}

fn too_large() -> ApiError {
    ApiError::new(Code::PayloadTooLarge, "request body too large")
}

fn not_json() -> ApiError {
    ApiError::new(
        Code::UnsupportedMediaType,
        "Content-Type must be application/json",
    )
}

/// What can be judged from the headers alone, before anything else looks
/// at the request: 415/8606 unless `Content-Type: application/json` (with
/// `may_be_empty`, no Content-Type and no declared body is fine too),
/// 400/8601 for a bad Content-Length, 413/8607 when it is over `limit`.
pub fn check_head(headers: &HeaderMap, limit: usize, may_be_empty: bool) -> ApiResult<()> {
    let declared = if may_be_empty && headers.get(header::CONTENT_TYPE).is_none() {
        let declared = declared_length(headers)?;
        if declared.is_some_and(|n| n > 0) {
            return Err(not_json());
        }
        declared
    } else {
        if !is_json_content_type(headers) {
            return Err(not_json());
        }
        declared_length(headers)?
    };
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    Ok(())
}

/// Read a body whose head passed [`check_head`]: at most `limit` bytes
/// (413/8607), all of them within `deadline` (408/8601: there is no code
/// of its own for a slow client, and the request was malformed in time).
pub async fn read_checked(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    may_be_empty: bool,
    deadline: Duration,
) -> ApiResult<Bytes> {
    let bytes = match tokio::time::timeout(deadline, to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return Err(too_large()),
        Err(_) => {
            return Err(
                ApiError::new(Code::BadRequest, "request body not received in time")
                    .with_status(StatusCode::REQUEST_TIMEOUT),
            )
        }
    };
    // A chunked body without Content-Type is only known once read.
    if may_be_empty && headers.get(header::CONTENT_TYPE).is_none() && !bytes.is_empty() {
        return Err(not_json());
    }
    Ok(bytes)
}

/// [`check_head`] then [`read_checked`] for a JSON body.
pub async fn read_json(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    deadline: Duration,
) -> ApiResult<Bytes> {
    check_head(headers, limit, false)?;
    read_checked(headers, body, limit, false, deadline).await
}

/// Like [`read_json`], but an empty body without Content-Type is allowed.
pub async fn read_optional_json(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    deadline: Duration,
) -> ApiResult<Bytes> {
    check_head(headers, limit, true)?;
    read_checked(headers, body, limit, true, deadline).await
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

/// An empty body means `{}`. Anything but the two usual forms goes
/// through the core JSON parser over up to 64 KiB: CPU work, so it runs on
/// the blocking pool, never on an async worker.
pub async fn parse_empty_object(bytes: Bytes) -> ApiResult<()> {
    if bytes.is_empty() || &bytes[..] == b"{}" {
        return Ok(());
    }
    let is_empty_object = tokio::task::spawn_blocking(
        move || matches!(json::parse(&bytes), Ok(Value::Object(m)) if m.is_empty()),
    )
    .await
    .map_err(|_| ApiError::new(Code::Internal, "worker task failed"))?;
    if is_empty_object {
        Ok(())
    } else {
        Err(ApiError::new(Code::BadRequest, "body must be {}"))
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
