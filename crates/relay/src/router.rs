//! The routes table: every path, its handler, the audit label of the
//! authenticated ones, and the layers every request goes through.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;

use sealpass::error::Code;

use super::api_error::ApiError;
use super::routes::{admin, node, sealing};
use super::state::AppState;
use super::{auth, cors, head, static_files};

/// Path patterns (axum syntax), as [`axum::extract::MatchedPath`] reports them.
mod paths {
    pub const ADMIN_NODES: &str = "/api/v1/admin/nodes";
    pub const ADMIN_NODE: &str = "/api/v1/admin/nodes/:node_id";
    pub const ADMIN_ROTATE_SECRET: &str = "/api/v1/admin/nodes/:node_id/rotate-secret";
    pub const ADMIN_REVOKE_PREVIOUS: &str = "/api/v1/admin/nodes/:node_id/revoke-previous";
    pub const ADMIN_PENDING: &str = "/api/v1/admin/pending";
    pub const ADMIN_PENDING_GET: &str = "/api/v1/admin/pending/:pending_id";
    pub const ADMIN_CANCEL: &str = "/api/v1/admin/pendings/:pending_id/cancel";
    pub const ADMIN_AUDIT: &str = "/api/v1/admin/audit";
    pub const ADMIN_KEYSTORE: &str = "/api/v1/admin/keystore";
    pub const PENDING: &str = "/api/v1/pending/:pending_id";
    pub const PENDING_ENVELOPES: &str = "/api/v1/pending/:pending_id/envelopes";
    pub const PENDING_STATUS: &str = "/api/v1/pending/:pending_id/status";
    pub const NODE_HEARTBEAT: &str = "/api/v1/node/heartbeat";
    pub const NODE_PENDING: &str = "/api/v1/node/pending";
    pub const NODE_PUBKEY: &str = "/api/v1/node/pending/:pending_id/pubkey";
    pub const NODE_ENVELOPES: &str = "/api/v1/node/envelopes";
    pub const NODE_ACK: &str = "/api/v1/node/pending/:pending_id/ack";
}

/// The `route` column of failure counters for each authenticated route (admin
/// bearer or node signature), by path pattern. The extractors in `auth`
/// look their route up here.
const AUDIT_LABELS: [(&str, &str); 14] = [
    (paths::ADMIN_NODES, "admin/nodes"),
    (paths::ADMIN_NODE, "admin/delete-node"),
    (paths::ADMIN_ROTATE_SECRET, "admin/rotate-secret"),
    (paths::ADMIN_REVOKE_PREVIOUS, "admin/revoke-previous"),
    (paths::ADMIN_PENDING, "admin/pending"),
    (paths::ADMIN_PENDING_GET, "admin/pending/get"),
    (paths::ADMIN_CANCEL, "admin/cancel"),
    (paths::ADMIN_AUDIT, "admin/audit"),
    (paths::ADMIN_KEYSTORE, "admin/keystore"),
    (paths::NODE_HEARTBEAT, "node/heartbeat"),
    (paths::NODE_PENDING, "node/pending"),
    (paths::NODE_PUBKEY, "node/pubkey"),
    (paths::NODE_ENVELOPES, "node/envelopes"),
    (paths::NODE_ACK, "node/ack"),
];

/// The audit label of an authenticated route.
pub(crate) fn audit_label(matched_path: &str) -> Option<&'static str> {
    AUDIT_LABELS
        .iter()
        .find(|(path, _)| *path == matched_path)
        .map(|(_, label)| *label)
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    use paths::*;
    // The sender endpoints, the only ones a page on another origin may
    // call (docs/PINNING.md §5); the CORS layer sits on these alone.
    let sender = Router::new()
        .route(PENDING, get(sealing::get_pending))
        .route(PENDING_ENVELOPES, post(sealing::post_envelopes))
        .route(PENDING_STATUS, get(sealing::status))
        .route_layer(axum::middleware::from_fn_with_state(
            state.allowed_origins.clone(),
            cors::sender_cors,
        ));
    // The admin endpoints: bearer token only; the admin console on a page
    // origin named with --allow-admin-origin may call them (cors.rs).
    let admin = Router::new()
        .route(ADMIN_NODES, post(admin::add_node).get(admin::list_nodes))
        .route(ADMIN_NODE, delete(admin::delete_node))
        .route(ADMIN_ROTATE_SECRET, post(admin::rotate_secret))
        .route(ADMIN_REVOKE_PREVIOUS, post(admin::revoke_previous))
        .route(ADMIN_PENDING, post(admin::create_pending))
        .route(ADMIN_PENDING_GET, get(admin::get_pending))
        .route(ADMIN_CANCEL, post(admin::cancel_pending))
        .route(ADMIN_AUDIT, get(admin::audit))
        .route(ADMIN_KEYSTORE, get(admin::keystore))
        .route_layer(axum::middleware::from_fn_with_state(
            state.admin_origins.clone(),
            cors::admin_cors,
        ));
    Router::new()
        .merge(admin)
        .merge(sender)
        .route(NODE_HEARTBEAT, post(node::heartbeat))
        .route(NODE_PENDING, get(node::pending))
        .route(NODE_PUBKEY, put(node::put_pubkey))
        .route(NODE_ENVELOPES, get(node::envelopes))
        .route(NODE_ACK, post(node::ack))
        .route("/accept", get(static_files::accept_page))
        .route("/admin", get(static_files::admin_page))
        .route("/static/*path", get(static_files::static_file))
        .route("/releases.json", get(static_files::releases))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard_signing_headers,
        ))
        .layer(axum::middleware::from_fn(head::check_head_size))
        .layer(axum::middleware::map_response(finish_response))
        // Bound what a flood of clients can tie up: a whole request gets
        // 30 s (its body: `HttpLimits::body_timeout`, read only after the
        // checks that need none), and at most `max_requests` are served at
        // once over the whole relay: the layer below is added once per route
        // by `Router::layer`, but every copy shares one semaphore (the
        // per-route `ConcurrencyLimitLayer` gave each route its own). The
        // rest wait for a permit. Connections and request heads are bounded
        // in serve.rs.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            state.http.max_requests.max(1),
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such route")
}

/// Every response leaves here: API responses are never cached or sniffed
/// (static files set their own headers), and any 4xx produced by the
/// framework itself (405, undecodable path, ...) is turned into our JSON
/// error shape so clients only ever parse one kind of error.
async fn finish_response(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let mut resp = if status.is_client_error() && !is_json {
        let (code, detail) = match status {
            StatusCode::NOT_FOUND => (Code::NotFound, "no such route"),
            StatusCode::PAYLOAD_TOO_LARGE => (Code::PayloadTooLarge, "request body too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                (Code::UnsupportedMediaType, "unsupported Content-Type")
            }
            StatusCode::METHOD_NOT_ALLOWED => (Code::BadRequest, "method not allowed"),
            _ => (Code::BadRequest, "malformed request"),
        };
        let mut r = ApiError::new(code, detail).into_response();
        *r.status_mut() = status;
        r
    } else {
        resp
    };
    let h = resp.headers_mut();
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    resp
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    use zeroize::Zeroizing;

    use sealpass_native::keystore::KekConfig;
    use sealpass_native::wire::ErrorBody;

    use super::*;
    use crate::store::{Limits, Store};

    type AuditRow = (String, String, String, Option<i64>);

    /// The most recently counted failure bucket.
    fn last_audit(dir: &std::path::Path) -> Option<AuditRow> {
        let c = rusqlite::Connection::open(dir.join(crate::store::DB_FILE)).unwrap();
        c.query_row(
            "SELECT event, actor, route, code FROM auth_failures ORDER BY last_at DESC, rowid DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .ok()
    }

    /// Every authenticated route rejects an unauthenticated request with its
    /// code and counts it under its own label; a bad body on a node route is
    /// refused before the signature check and not counted.
    #[tokio::test]
    async fn authenticated_routes_audit_under_their_labels() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::store::StoreUrl::default_sqlite(dir.path());
        let kek = KekConfig::new([7; 32], None);
        let store = Store::open(&url, dir.path(), &kek, Limits::default())
            .await
            .unwrap();
        let token = Zeroizing::new("t".repeat(32));
        let app = router(AppState::new(store, token, dir.path().join("www")));
        let send = |method: &str, uri: &str, json: bool, sig: bool| {
            let mut b = Request::builder().method(method).uri(uri);
            if json {
                b = b.header("content-type", "application/json");
            }
            if sig {
                b = b.header("x-sealpass-caller", "n1");
            }
            let req = b.body(Body::from(if json { "{}" } else { "" })).unwrap();
            let app = app.clone();
            async move {
                let resp = app.oneshot(req).await.unwrap();
                let status = resp.status().as_u16();
                let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
                let e: ErrorBody = serde_json::from_slice(&body).unwrap();
                (status, e.code)
            }
        };
        let id = "AAAAAAAAAAAAAAAAAAAAAA";
        let cases = [
            (
                "POST",
                "/api/v1/admin/nodes".to_owned(),
                true,
                "admin/nodes",
            ),
            (
                "POST",
                "/api/v1/admin/nodes/n1/rotate-secret".to_owned(),
                false,
                "admin/rotate-secret",
            ),
            (
                "DELETE",
                "/api/v1/admin/nodes/n1".to_owned(),
                false,
                "admin/delete-node",
            ),
            (
                "POST",
                "/api/v1/admin/nodes/n1/revoke-previous".to_owned(),
                false,
                "admin/revoke-previous",
            ),
            (
                "POST",
                "/api/v1/admin/pending".to_owned(),
                true,
                "admin/pending",
            ),
            (
                "GET",
                format!("/api/v1/admin/pending/{id}"),
                false,
                "admin/pending/get",
            ),
            (
                "POST",
                format!("/api/v1/admin/pendings/{id}/cancel"),
                false,
                "admin/cancel",
            ),
            (
                "GET",
                "/api/v1/admin/audit".to_owned(),
                false,
                "admin/audit",
            ),
            (
                "GET",
                "/api/v1/admin/keystore".to_owned(),
                false,
                "admin/keystore",
            ),
            (
                "POST",
                "/api/v1/node/heartbeat".to_owned(),
                false,
                "node/heartbeat",
            ),
            (
                "GET",
                "/api/v1/node/pending?n=1".to_owned(),
                false,
                "node/pending",
            ),
            (
                "PUT",
                format!("/api/v1/node/pending/{id}/pubkey"),
                true,
                "node/pubkey",
            ),
            (
                "GET",
                "/api/v1/node/envelopes".to_owned(),
                false,
                "node/envelopes",
            ),
            (
                "POST",
                format!("/api/v1/node/pending/{id}/ack"),
                true,
                "node/ack",
            ),
        ];
        assert_eq!(cases.len(), AUDIT_LABELS.len());
        for (method, uri, json, label) in &cases {
            let (status, code) = send(method, uri, *json, false).await;
            let (event, want) = if label.starts_with("admin/") {
                ("admin_auth_failed", Code::Unauthorized)
            } else {
                ("node_auth_failed", Code::SignatureMalformed)
            };
            assert_eq!((status, code), (401, want.number()), "{method} {uri}");
            let row = (
                event.to_owned(),
                "unknown".to_owned(),
                (*label).to_owned(),
                Some(i64::from(want.number())),
            );
            assert_eq!(last_audit(dir.path()), Some(row), "{method} {uri}");
        }
        let before = last_audit(dir.path());
        let (status, code) = send(
            "PUT",
            &format!("/api/v1/node/pending/{id}/pubkey"),
            false,
            true,
        )
        .await;
        assert_eq!((status, code), (415, Code::UnsupportedMediaType.number()));
        assert_eq!(last_audit(dir.path()), before, "415 comes before auth");
        let (status, code) = send("GET", &format!("/api/v1/pending/{id}"), false, true).await;
        assert_eq!((status, code), (401, Code::SignatureMalformed.number()));
        assert_eq!(
            last_audit(dir.path()).map(|r| r.2),
            Some("non-node".to_owned())
        );
    }
}
