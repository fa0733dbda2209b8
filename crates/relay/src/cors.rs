//! CORS for the accept page and the admin console hosted apart from the
//! relay (docs/PINNING.md §5, docs/API.md "Admin console").
//!
//! Only the sender and the admin endpoints ever answer CORS: the sender
//! endpoints to origins the operator named with `--allow-origin`, the admin
//! endpoints only to those named with `--allow-admin-origin` (an accept
//! page's origin gets no admin CORS unless named there too). On the sender
//! endpoints the pending id is the capability, so letting a named page read
//! them changes nothing an attacker could not already do from a server. On
//! the admin endpoints the capability is the bearer token in
//! `Authorization`, which a browser never attaches by itself (no cookies,
//! no credentials mode): a page on a named origin can call them only with
//! the token the admin typed into it, and a page on any other origin gets no
//! CORS answer at all. Node routes never get CORS headers.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use sealpass::error::{Code, Error, Result};

use super::api_error::ApiError;

/// How long a browser may cache a successful preflight (seconds).
pub const MAX_AGE_SECS: &str = "600";

/// Longest origin accepted on the command line.
const MAX_ORIGIN_LEN: usize = 256;

/// The origins allowed to read the sender endpoints, exactly as browsers
/// serialize them in `Origin` (lowercase scheme and host, no default port).
#[derive(Clone, Debug, Default)]
pub struct AllowedOrigins(Arc<Vec<String>>);

impl AllowedOrigins {
    /// Validate every `--allow-origin` value; the first bad one fails the
    /// start with a message naming it (escaped: it may be anything).
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<AllowedOrigins> {
        AllowedOrigins::parse_flag(values, "--allow-origin")
    }

    /// As [`AllowedOrigins::parse`], naming `flag` in the message.
    pub fn parse_flag<S: AsRef<str>>(values: &[S], flag: &str) -> Result<AllowedOrigins> {
        let mut out: Vec<String> = Vec::new();
        for v in values {
            let v = v.as_ref();
            check_origin(v).map_err(|why| {
                Error::with_detail(
                    Code::Usage,
                    format!(
                        "{flag} {:?}: {why} (give an exact origin scheme://host[:port], e.g. https://pages.example.com)",
                        v.chars().take(80).collect::<String>()
                    ),
                )
            })?;
            if !out.iter().any(|o| o == v) {
                out.push(v.to_owned());
            }
        }
        Ok(AllowedOrigins(Arc::new(out)))
    }

    /// The request's `Origin` if it is exactly one of the allowed ones.
    fn matching<'a>(&self, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
        let mut all = headers.get_all(header::ORIGIN).iter();
        let (Some(v), None) = (all.next(), all.next()) else {
            return None;
        };
        let s = v.to_str().ok()?;
        self.0.iter().any(|o| o == s).then_some(v)
    }
}

/// Why an origin given on the command line is unusable, or `Ok`.
fn check_origin(v: &str) -> std::result::Result<(), &'static str> {
    if v == "*" || v.contains('*') {
        return Err("wildcards are refused; name each origin");
    }
    if v.is_empty() || v.len() > MAX_ORIGIN_LEN {
        return Err("empty or too long");
    }
    if v.eq_ignore_ascii_case("null") {
        return Err("the opaque origin \"null\" is refused");
    }
    let (scheme, rest) = v.split_once("://").ok_or("not an origin (no scheme://)")?;
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return Err("scheme must be http or https, in lowercase"),
    };
    if rest.is_empty() {
        return Err("no host");
    }
    if rest.contains(['/', '?', '#', '@', '\\']) {
        return Err("an origin has no path, query, fragment or user info (no trailing slash)");
    }
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (h, after) = inner.split_once(']').ok_or("unclosed IPv6 bracket")?;
        if h.is_empty()
            || !h
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err("bad IPv6 host");
        }
        if h.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err("host must be lowercase, as browsers send it");
        }
        match after {
            "" => (h, None),
            p => (
                h,
                Some(p.strip_prefix(':').ok_or("junk after the IPv6 host")?),
            ),
        }
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if !rest.starts_with('[')
        && (host.is_empty()
            || host.starts_with(['.', '-'])
            || host.ends_with(['.', '-'])
            || host.contains("..")
            || !host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'))
    {
        return Err("host must be a lowercase DNS name or IP address");
    }
    if let Some(p) = port {
        if p.is_empty()
            || p.len() > 5
            || p.starts_with('0')
            || !p.bytes().all(|b| b.is_ascii_digit())
            || p.parse::<u32>().map_or(true, |n| n == 0 || n > 65535)
        {
            return Err("port must be 1..=65535 without leading zeros");
        }
        if p == default_port {
            return Err("leave out the scheme's default port: browsers never send it");
        }
    }
    Ok(())
}

/// What one group of routes allows across origins.
struct Policy {
    /// `Access-Control-Allow-Methods`.
    methods: &'static str,
    /// `Access-Control-Allow-Headers`.
    headers: &'static str,
}

/// The sender endpoints: no credentials of any kind.
const SENDER: Policy = Policy {
    methods: "GET, POST",
    headers: "Content-Type",
};

/// The admin endpoints: the bearer token in `Authorization`. Only the
/// methods the console uses (no DELETE: deleting a node is the CLI's).
const ADMIN: Policy = Policy {
    methods: "GET, POST",
    headers: "Authorization, Content-Type",
};

fn add_cors_headers(h: &mut HeaderMap, origin: HeaderValue, p: &Policy) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(p.methods),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(p.headers),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE_SECS),
    );
}

/// Middleware of the sender routes only. A preflight (`OPTIONS`) is answered
/// here: 204 with the CORS headers for an allowed origin, 403 (JSON error,
/// no CORS headers) for any other or none. Other requests are served as
/// always; the CORS headers are added when the origin is allowed. The
/// answer depends on `Origin`, so every response says `Vary: Origin`.
pub async fn sender_cors(
    State(allowed): State<AllowedOrigins>,
    req: Request,
    next: Next,
) -> Response {
    with_cors(&allowed, &SENDER, req, next).await
}

/// Middleware of the admin routes only (origins of `--allow-admin-origin`):
/// as [`sender_cors`], with the methods `GET, POST` and the headers `Authorization,
/// Content-Type` allowed. A preflight never reaches the token check (it
/// carries no token); the request after it is checked as any other.
pub async fn admin_cors(
    State(allowed): State<AllowedOrigins>,
    req: Request,
    next: Next,
) -> Response {
    with_cors(&allowed, &ADMIN, req, next).await
}

async fn with_cors(allowed: &AllowedOrigins, p: &Policy, req: Request, next: Next) -> Response {
    let origin = allowed.matching(req.headers()).cloned();
    let mut resp = if req.method() == Method::OPTIONS {
        let method_ok = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| m.to_str().ok())
            .is_some_and(|m| p.methods.split(", ").any(|x| x == m));
        match origin {
            Some(o) if method_ok => {
                let mut r = StatusCode::NO_CONTENT.into_response();
                add_cors_headers(r.headers_mut(), o, p);
                r
            }
            _ => {
                let mut r = ApiError::new(Code::BadRequest, "cross-origin request not allowed")
                    .into_response();
                *r.status_mut() = StatusCode::FORBIDDEN;
                r
            }
        }
    } else {
        let mut r = next.run(req).await;
        if let Some(o) = origin {
            add_cors_headers(r.headers_mut(), o, p);
        }
        r
    };
    resp.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
    resp
}

#[cfg(test)]
mod tests {
    use super::check_origin;

    #[test]
    fn origins_are_exact_and_canonical() {
        for ok in [
            "https://pages.example.com",
            "http://127.0.0.1:8080",
            "https://a-b.example:8443",
            "http://[::1]:3000",
            "http://localhost",
        ] {
            assert_eq!(check_origin(ok), Ok(()), "{ok}");
        }
        for bad in [
            "*",
            "https://*.example.com",
            "null",
            "",
            "example.com",
            "ftp://example.com",
            "HTTPS://example.com",
            "https://Example.com",
            "https://example.com/",
            "https://example.com/accept",
            "https://user@example.com",
            "https://example.com:443",
            "http://example.com:80",
            "https://example.com:0",
            "https://example.com:65536",
            "https://example.com:08080",
            "https://example.com:",
            "https://",
            "https://exa mple.com",
            "https://[::1",
            "https://example..com",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }
}
