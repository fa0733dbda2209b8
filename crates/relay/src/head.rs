//! Bounds on request heads, answered in the JSON error shape. hyper answers
//! a head over its own limits with a bare 431 (no body, and no hook to give
//! it one), so the relay checks smaller limits itself, here, and sets
//! hyper's well above them (serve.rs): only a head beyond hyper's backstop
//! still gets the bare 431.

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use sealpass::error::Code;

use super::api_error::ApiError;

/// Most header fields a request may carry (hyper's default count limit).
pub const MAX_HEADERS: usize = 100;
/// Most bytes all header fields may take, counted as on the wire
/// (`name: value\r\n`).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// hyper's own limits, the backstop: heads over these never reach the
/// router and get hyper's bare 431.
pub const HYPER_MAX_HEADERS: usize = 4 * MAX_HEADERS;
/// hyper's limit on a whole request head, request line and final blank
/// line included (`max_header_size`): a head of more bytes gets hyper's
/// bare 431, one of at most this many reaches the router. Set explicitly:
/// hyper's read buffer alone ([`HYPER_MAX_BUF`]) is no exact bound, as a
/// read may fill the buffer past it (heads of up to ~112 KiB got through).
pub const HYPER_MAX_HEAD: usize = 64 * 1024;
/// hyper's read buffer (also bounds what it buffers of a body).
pub const HYPER_MAX_BUF: usize = 64 * 1024;

// The backstop must stay above our limits, or hyper answers first.
const _: () = assert!(
    HYPER_MAX_HEADERS > MAX_HEADERS
        && HYPER_MAX_HEAD > MAX_HEADER_BYTES
        && HYPER_MAX_BUF >= HYPER_MAX_HEAD
);

/// Are these headers within [`MAX_HEADERS`] and [`MAX_HEADER_BYTES`]?
fn within_limits(h: &HeaderMap) -> bool {
    if h.len() > MAX_HEADERS {
        return false;
    }
    let bytes = h
        .iter()
        .map(|(n, v)| n.as_str().len() + v.as_bytes().len() + 4)
        .fold(0usize, usize::saturating_add);
    bytes <= MAX_HEADER_BYTES
}

/// Middleware for every route, before anything looks at the headers:
/// 431 with code 8607 PayloadTooLarge for a head over the limits.
pub async fn check_head_size(req: Request, next: Next) -> Response {
    if !within_limits(req.headers()) {
        return ApiError::new(Code::PayloadTooLarge, "request headers too large")
            .with_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn limits() {
        let mut h = HeaderMap::new();
        h.insert("x-a", HeaderValue::from_static("1"));
        assert!(within_limits(&h));
        let big = "v".repeat(MAX_HEADER_BYTES);
        h.insert("x-big", HeaderValue::from_str(&big).unwrap());
        assert!(!within_limits(&h));
        let mut h = HeaderMap::new();
        for i in 0..=MAX_HEADERS {
            h.append("x-n", HeaderValue::from_str(&i.to_string()).unwrap());
        }
        assert!(!within_limits(&h));
    }
}
