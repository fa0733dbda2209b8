//! Who may call what: admin bearer (constant-time), node HMAC signatures,
//! and the rule that signing headers commit a request to HMAC checking.
//!
//! Handlers take [`Admin`] or [`NodeRequest`] as an argument instead of
//! checking themselves, so no route can forget the check, its failure
//! counter or (for nodes) the order: header checks, then a bounded body
//! read with a deadline, then the MAC over that body.

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Extensions, HeaderMap, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use sealpass::error::Code;
use sealpass_native::signing::{any_signing_header, unix_now, SignatureHeaders};

use super::api_error::{ApiError, ApiResult};
use super::body::{check_head, read_checked, MAX_SMALL_BODY};
use super::router::audit_label;
use super::state::{blocking, AppState};

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
        let store = s.store.clone();
        let _ = blocking(move || {
            store.count_node_failure(None, NON_NODE_LABEL, Code::SignatureMalformed, unix_now());
            Ok(())
        })
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
                .is_some_and(|t| bool::from(t.ct_eq(s.admin_token.as_bytes()))),
            _ => false,
        };
        if ok {
            return Ok(Admin);
        }
        let store = s.store.clone();
        let _ = blocking(move || {
            store.count_failure(
                unix_now(),
                "admin_auth_failed",
                "unknown",
                route,
                Code::Unauthorized,
            );
            Ok(())
        })
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
    /// everything the signing headers prove without the body (shape, the
    /// timestamp window, a known caller and key version), and only then a
    /// bounded, deadlined body read and the MAC over it. A client that is
    /// not a node cannot make the relay wait for a body.
    async fn from_request(req: Request, s: &AppState) -> ApiResult<Self> {
        let route = route_label(req.extensions())?;
        let (parts, body) = req.into_parts();
        check_head(&parts.headers, MAX_SMALL_BODY, B::MAY_BE_EMPTY)?;
        let sig = precheck_node(s, &parts.headers, route).await?;
        let body = read_checked(
            &parts.headers,
            body,
            MAX_SMALL_BODY,
            B::MAY_BE_EMPTY,
            s.http.body_timeout,
        )
        .await?;
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
    let counted = |code: Code| {
        let store = s.store.clone();
        async move {
            let _ = blocking(move || {
                store.count_node_failure(None, route, code, now);
                Ok(())
            })
            .await;
        }
    };
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
    let store = s.store.clone();
    blocking(move || {
        store.precheck_node_request(&sig, route, now)?;
        Ok(sig)
    })
    .await
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
    let body = body.clone();
    let store = s.store.clone();
    let v = blocking(move || store.verify_node_request(&sig, &method, &path, &body, route, now))
        .await?;
    Ok(v.caller)
}
