//! Who may call what: admin bearer (constant-time), node HMAC signatures,
//! and the rule that signing headers commit a request to HMAC checking.
//!
//! Handlers take [`Admin`] or [`NodeRequest`] as an argument instead of
//! checking themselves, so no route can forget the check, its failure
//! counter or (for nodes) the order: header checks, then a bounded body
//! read with a deadline, then the MAC over that body.

use std::marker::PhantomData;

use axum::body::{Bytes, HttpBody as _};
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Extensions, HeaderMap, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use sealpass::error::Code;
use sealpass_native::signing::{any_signing_header, compute_mac, unix_now, SignatureHeaders};

use super::api_error::{ApiError, ApiResult};
use super::body::{check_head, read_checked, MAX_SMALL_BODY};
use super::router::audit_label;
use super::state::AppState;

/// Routes under this prefix are node routes (HMAC only).
pub const NODE_PREFIX: &str = "/api/v1/node/";

/// Audit label of signing headers sent to a route that is not a node route.
const NON_NODE_LABEL: &str = "non-node";

fn has_signing_header(h: &HeaderMap) -> bool {
    any_signing_header(h.keys().map(|n| n.as_str()))
}

/// Middleware for every route: signing headers anywhere but on node routes
/// are refused (no fallback to another kind of authentication).
pub async fn guard_signing_headers(
    State(s): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if !req.uri().path().starts_with(NODE_PREFIX) && has_signing_header(req.headers()) {
        s.store
            .count_node_failure(NON_NODE_LABEL, Code::SignatureMalformed, unix_now())
            .await;
        return ApiError::new(
            Code::SignatureMalformed,
            "X-Sealpass- headers are only accepted on node routes",
        )
        .into_response();
    }
    next.run(req).await
}

/// The audit label of the route this request matched (router.rs). Every
/// route that takes an extractor below has one; a route without one is a
/// bug, answered 500 rather than served unaudited.
fn route_label(extensions: &Extensions) -> ApiResult<&'static str> {
    extensions
        .get::<MatchedPath>()
        .and_then(|m| audit_label(m.as_str()))
        .ok_or_else(|| ApiError::new(Code::Internal, "route has no audit label"))
}

/// Key of the digests [`token_matches`] compares (public: it only makes
/// both sides the same length, it hides nothing).
const TOKEN_DIGEST_KEY: &[u8] = b"sealpass-relay admin token comparison v1";

/// Is `presented` the admin token? Compares fixed-length digests of both in
/// constant time: comparing the raw bytes returned early on a length
/// mismatch, which told a caller the token's length.
pub(crate) fn token_matches(presented: &[u8], token: &[u8]) -> bool {
    let a = compute_mac(TOKEN_DIGEST_KEY, presented);
    let b = compute_mac(TOKEN_DIGEST_KEY, token);
    bool::from(a[..].ct_eq(&b[..]))
}

/// Proof that the request carried `Authorization: Bearer <admin token>`.
/// A failure is counted (`admin_auth_failed`, see [`Store::count_failure`])
/// and answered 401/8609.
///
/// [`Store::count_failure`]: super::store::Store::count_failure
pub struct Admin;

#[axum::async_trait]
impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> ApiResult<Admin> {
        let route = route_label(&parts.extensions)?;
        let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
        let ok = match (values.next(), values.next()) {
            (Some(v), None) => v
                .as_bytes()
                .strip_prefix(b"Bearer ")
                .is_some_and(|t| token_matches(t, s.admin_token.as_bytes())),
            _ => false,
        };
        if ok {
            return Ok(Admin);
        }
        s.store
            .count_failure(
                unix_now(),
                "admin_auth_failed",
                "unknown".into(),
                route,
                Code::Unauthorized,
            )
            .await;
        Err(ApiError::new(Code::Unauthorized, "admin token required"))
    }
}

/// How a node route's body must arrive (checked before the signature, so
/// a 415/413 costs no HMAC work and no audit row).
pub trait NodeBody: Send + Sync + 'static {
    /// An empty body without a Content-Type is allowed (GETs, heartbeat).
    const MAY_BE_EMPTY: bool;
}

/// `Content-Type: application/json` required.
pub struct JsonBody;

impl NodeBody for JsonBody {
    const MAY_BE_EMPTY: bool = false;
}

/// JSON, or nothing at all.
pub struct OptionalBody;

impl NodeBody for OptionalBody {
    const MAY_BE_EMPTY: bool = true;
}

/// A node request whose signature verified over its exact method, request
/// target and body bytes (at most 64 KiB). Failures are counted
/// (`node_auth_failed`, with a registered node id or "unknown") and
/// answered 401/87xx.
pub struct NodeRequest<B> {
    /// The authenticated node.
    pub node_id: String,
    /// The body bytes the signature covers.
    pub body: Bytes,
    kind: PhantomData<B>,
}

#[axum::async_trait]
impl<B: NodeBody> FromRequest<AppState> for NodeRequest<B> {
    type Rejection = ApiError;

    /// Headers first, body last: Content-Type and Content-Length, then
    /// what the signing headers prove without the body and without telling
    /// who is registered (shape, the timestamp window), and only then a
    /// bounded, deadlined body read and the MAC over it. An unknown caller
    /// or key version is found out only there and answered as a wrong MAC:
    /// refusing it before the body told registered ids apart.
    async fn from_request(req: Request, s: &AppState) -> ApiResult<Self> {
        let route = route_label(req.extensions())?;
        let (parts, body) = req.into_parts();
        check_head(&parts.headers, MAX_SMALL_BODY, B::MAY_BE_EMPTY)?;
        let sig = precheck_node(s, &parts.headers, route).await?;
        // Anyone can get this far (the caller is not known yet), so a body
        // still to come takes one of the few node-body slots, or is refused
        // now: slow anonymous bodies must not hold the relay's request
        // permits. The slot is held for the read alone.
        let slot = if body.is_end_stream() {
            None
        } else {
            match s.node_body_slots.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => {
                    return Err(ApiError::new(
                        Code::RateLimited,
                        "too many node requests in flight; retry",
                    )
                    .retry_after(1))
                }
            }
        };
        let body = read_checked(
            &parts.headers,
            body,
            MAX_SMALL_BODY,
            B::MAY_BE_EMPTY,
            s.http.node_body_timeout,
        )
        .await?;
        drop(slot);
        let node_id = verify_node(s, sig, &parts.method, &parts.uri, &body, route).await?;
        Ok(NodeRequest {
            node_id,
            body,
            kind: PhantomData,
        })
    }
}

/// The checks of a node request that need no body; returns its parsed
/// signing headers. Failures are counted (`node_auth_failed`).
async fn precheck_node(
    s: &AppState,
    headers: &HeaderMap,
    route: &'static str,
) -> ApiResult<SignatureHeaders> {
    let now = unix_now();
    let counted = |code: Code| s.store.count_node_failure(route, code, now);
    if headers.contains_key(header::AUTHORIZATION) {
        counted(Code::SignatureMalformed).await;
        return Err(ApiError::new(
            Code::SignatureMalformed,
            "node routes take a request signature only, not Authorization",
        ));
    }
    let parsed =
        SignatureHeaders::from_pairs(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
    let sig = match parsed {
        Ok(Some(sig)) => sig,
        Ok(None) => {
            counted(Code::SignatureMalformed).await;
            return Err(ApiError::new(
                Code::SignatureMalformed,
                "request signature required",
            ));
        }
        Err(e) => {
            counted(e.code()).await;
            return Err(e.into());
        }
    };
    Ok(s.store.precheck_node_request(sig, route, now).await?)
}

/// Verify a node request whose headers passed [`precheck_node`] over its
/// body; returns the authenticated node id.
async fn verify_node(
    s: &AppState,
    sig: SignatureHeaders,
    method: &Method,
    uri: &Uri,
    body: &Bytes,
    route: &'static str,
) -> ApiResult<String> {
    let now = unix_now();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| uri.path().to_owned());
    let method = method.as_str().to_owned();
    let v = s
        .store
        .verify_node_request(sig, method, path, body.clone(), route, now)
        .await?;
    Ok(v.caller)
}

#[cfg(test)]
mod tests {
    use super::token_matches;

    /// Every length reaches the same fixed-length comparison; only the
    /// exact token matches.
    #[test]
    fn token_comparison_is_over_fixed_length_digests() {
        let token = b"0123456789abcdef0123456789abcdef";
        assert!(token_matches(token, token));
        for wrong in [
            &b""[..],
            &token[..1],
            &token[..31],
            b"0123456789abcdef0123456789abcdeF",
            b"0123456789abcdef0123456789abcdef0",
            &[b'x'; 4096][..],
        ] {
            assert!(!token_matches(wrong, token), "{}", wrong.len());
        }
    }
}
