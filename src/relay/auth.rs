//! Who may call what: admin bearer (constant-time), node HMAC signatures,
//! and the rule that signing headers commit a request to HMAC checking.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::Code;
use crate::signing::{any_signing_header, unix_now, SignatureHeaders};

use super::api_error::{ApiError, ApiResult};
use super::{blocking, AppState};

/// Routes under this prefix are node routes (HMAC only).
pub const NODE_PREFIX: &str = "/api/v1/node/";

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
            store.audit_node_failure(None, "non-node", Code::SignatureMalformed, unix_now());
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

/// Check `Authorization: Bearer <admin token>` in constant time.
pub async fn admin(s: &AppState, headers: &HeaderMap, route: &'static str) -> ApiResult<()> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let ok = match (values.next(), values.next()) {
        (Some(v), None) => v
            .as_bytes()
            .strip_prefix(b"Bearer ")
            .map(|t| bool::from(t.ct_eq(s.admin_token.as_bytes())))
            .unwrap_or(false),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let store = s.store.clone();
    let _ = blocking(move || {
        store.audit(
            unix_now(),
            "admin_auth_failed",
            "unknown",
            route,
            Some(Code::Unauthorized),
        );
        Ok(())
    })
    .await;
    Err(ApiError::new(Code::Unauthorized, "admin token required"))
}

/// Verify a node request over the exact method, request target and body
/// bytes; returns the authenticated node id.
pub async fn node(
    s: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    route: &'static str,
) -> ApiResult<String> {
    let now = unix_now();
    let fail = |code: Code, detail: &'static str| {
        let store = s.store.clone();
        async move {
            let _ = blocking(move || {
                store.audit_node_failure(None, route, code, now);
                Ok(())
            })
            .await;
            ApiError::new(code, detail)
        }
    };
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(fail(
            Code::SignatureMalformed,
            "node routes take a request signature only, not Authorization",
        )
        .await);
    }
    let parsed =
        SignatureHeaders::from_pairs(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
    let sig = match parsed {
        Ok(Some(sig)) => sig,
        Ok(None) => return Err(fail(Code::SignatureMalformed, "request signature required").await),
        Err(e) => {
            let store = s.store.clone();
            let code = e.code();
            let _ = blocking(move || {
                store.audit_node_failure(None, route, code, now);
                Ok(())
            })
            .await;
            return Err(e.into());
        }
    };
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| uri.path().to_owned());
    let method = method.as_str().to_owned();
    let body = body.to_vec();
    let store = s.store.clone();
    let v = blocking(move || store.verify_node_request(&sig, &method, &path, &body, route, now))
        .await?;
    Ok(v.caller)
}
