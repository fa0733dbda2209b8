//! Admin endpoints (bearer token, checked by [`Admin`] before the body is read).

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

use sealpass::error::Code;
use sealpass_native::signing::{is_valid_caller, unix_now};
use sealpass_native::wire::{
    AddNode, CreatePending, NodeDeleted, PendingCreated, PendingView, PreviousRevoked,
    SecretIssued, StatusView,
};

use super::super::api_error::{ApiError, ApiResult};
use super::super::auth::Admin;
use super::super::body::{
    parse, parse_empty_object, read_json, read_optional_json, MAX_SMALL_BODY,
};
use super::super::state::AppState;
use super::super::store::{page_size, AuditRow, IssuedSecret, KeystoreView, NodeInfo};

/// The one time a node secret is shown.
fn secret_out(s: IssuedSecret) -> SecretIssued {
    SecretIssued {
        node_id: s.node_id,
        key_version: s.key_version,
        secret: sealpass::b64::encode(&s.secret),
    }
}

/// `POST /api/v1/admin/nodes`
pub async fn add_node(
    State(s): State<AppState>,
    _: Admin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<SecretIssued>)> {
    let bytes = read_json(&headers, body, MAX_SMALL_BODY, s.http.body_timeout).await?;
    let req: AddNode = parse(&bytes)?;
    let issued = s.store.add_node(req.node_id, unix_now()).await?;
    Ok((StatusCode::CREATED, Json(secret_out(issued))))
}

/// `POST /api/v1/admin/nodes/{node_id}/rotate-secret`
pub async fn rotate_secret(
    State(s): State<AppState>,
    Path(node_id): Path<String>,
    _: Admin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<SecretIssued>> {
    let bytes = read_optional_json(&headers, body, MAX_SMALL_BODY, s.http.body_timeout).await?;
    parse_empty_object(bytes).await?;
    let issued = s.store.rotate_secret(node_id, unix_now()).await?;
    Ok(Json(secret_out(issued)))
}

/// `POST /api/v1/admin/nodes/{node_id}/revoke-previous`
pub async fn revoke_previous(
    State(s): State<AppState>,
    Path(node_id): Path<String>,
    _: Admin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<PreviousRevoked>> {
    let bytes = read_optional_json(&headers, body, MAX_SMALL_BODY, s.http.body_timeout).await?;
    parse_empty_object(bytes).await?;
    let (key_version, revoked) = s.store.revoke_previous(node_id.clone(), unix_now()).await?;
    Ok(Json(PreviousRevoked {
        node_id,
        key_version,
        revoked,
    }))
}

/// `DELETE /api/v1/admin/nodes/{node_id}`
pub async fn delete_node(
    State(s): State<AppState>,
    Path(node_id): Path<String>,
    _: Admin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<NodeDeleted>> {
    let bytes = read_optional_json(&headers, body, MAX_SMALL_BODY, s.http.body_timeout).await?;
    parse_empty_object(bytes).await?;
    let pendings_ended = s.store.delete_node(node_id.clone(), unix_now()).await?;
    Ok(Json(NodeDeleted {
        node_id,
        pendings_ended,
    }))
}

/// `POST /api/v1/admin/pending`
pub async fn create_pending(
    State(s): State<AppState>,
    _: Admin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<PendingCreated>)> {
    let bytes = read_json(&headers, body, MAX_SMALL_BODY, s.http.body_timeout).await?;
    let req: CreatePending = parse(&bytes)?;
    let v = s.store.create_pending(req, unix_now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(PendingCreated {
            accept_path: format!("/accept#{}", v.pending_id),
            pending_id: v.pending_id,
            expires_at: v.expires_at,
            state: v.state,
            targets: v.targets,
        }),
    ))
}

/// `GET /api/v1/admin/pending/{pending_id}`: same as the public view.
pub async fn get_pending(
    State(s): State<AppState>,
    Path(pending_id): Path<String>,
    _: Admin,
) -> ApiResult<Json<PendingView>> {
    let v = s.store.pending_for_sealing(pending_id, unix_now()).await?;
    Ok(Json(v))
}

/// The query of a paged admin GET: only the named keys, each at most once,
/// in plain `[A-Za-z0-9._-]` (no percent-decoding needed, so none is done).
fn query_pairs<'a>(raw: Option<&'a str>, keys: &[&str]) -> ApiResult<Vec<(&'a str, &'a str)>> {
    let bad = |d: &'static str| ApiError::new(Code::BadRequest, d);
    let mut out: Vec<(&str, &str)> = Vec::new();
    let Some(raw) = raw.filter(|q| !q.is_empty()) else {
        return Ok(out);
    };
    if raw.len() > 256 {
        return Err(bad("query too long"));
    }
    for pair in raw.split('&') {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| bad("query must be key=value pairs"))?;
        if !keys.contains(&k) {
            return Err(bad("unknown query parameter"));
        }
        if out.iter().any(|(o, _)| *o == k) {
            return Err(bad("repeated query parameter"));
        }
        if v.is_empty()
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(bad("bad query parameter value"));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn get<'a>(pairs: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn limit_of(pairs: &[(&str, &str)]) -> ApiResult<usize> {
    let limit = get(pairs, "limit")
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| ApiError::new(Code::BadRequest, "limit must be 1..=200"))
        })
        .transpose()?;
    Ok(page_size(limit)?)
}

/// `GET /api/v1/admin/nodes?limit=&after=` answer.
#[derive(serde::Serialize)]
pub struct NodeList {
    /// Nodes in id order.
    pub nodes: Vec<NodeInfo>,
    /// `after` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// `GET /api/v1/admin/nodes?limit=&after=`
pub async fn list_nodes(
    State(s): State<AppState>,
    _: Admin,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<NodeList>> {
    let pairs = query_pairs(q.as_deref(), &["limit", "after"])?;
    let limit = limit_of(&pairs)?;
    let after = get(&pairs, "after").map(str::to_owned);
    if after.as_deref().is_some_and(|a| !is_valid_caller(a)) {
        return Err(ApiError::new(
            Code::BadRequest,
            "after must be a node id (1..=64 chars of [A-Za-z0-9._-])",
        ));
    }
    let (nodes, next_after) = s.store.list_nodes(after, limit, unix_now()).await?;
    Ok(Json(NodeList { nodes, next_after }))
}

/// `POST /api/v1/admin/pendings/{pending_id}/cancel`
pub async fn cancel_pending(
    State(s): State<AppState>,
    Path(pending_id): Path<String>,
    _: Admin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<CancelView>> {
    let bytes = read_optional_json(&headers, body, MAX_SMALL_BODY, s.http.body_timeout).await?;
    parse_empty_object(bytes).await?;
    let (status, may_be_delivered) = s.store.cancel_pending(pending_id, unix_now()).await?;
    Ok(Json(CancelView {
        status,
        may_be_delivered,
    }))
}

/// The cancel's answer: the status, and the targets whose envelope was
/// already sent (`ciphertext_received`/`ciphertext_queued`) when this call
/// cancelled: a node may have pulled it, and a cancel recalls nothing a
/// node holds (empty when the pending was already cancelled).
#[derive(serde::Serialize)]
pub struct CancelView {
    #[serde(flatten)]
    status: StatusView,
    may_be_delivered: Vec<String>,
}

/// `GET /api/v1/admin/audit?limit=&before=` answer.
#[derive(serde::Serialize)]
pub struct AuditPage {
    /// Events, newest first.
    pub events: Vec<AuditRow>,
    /// `before` for the next (older) page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// `GET /api/v1/admin/audit?limit=&before=`
pub async fn audit(
    State(s): State<AppState>,
    _: Admin,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<AuditPage>> {
    let pairs = query_pairs(q.as_deref(), &["limit", "before"])?;
    let limit = limit_of(&pairs)?;
    let before = get(&pairs, "before")
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ApiError::new(Code::BadRequest, "before must be an event id"))
        })
        .transpose()?;
    let (events, next_before) = s.store.audit_page(before, limit).await?;
    Ok(Json(AuditPage {
        events,
        next_before,
    }))
}

/// `GET /api/v1/admin/keystore`
pub async fn keystore(State(s): State<AppState>, _: Admin) -> ApiResult<Json<KeystoreView>> {
    Ok(Json(s.store.keystore_status().await?))
}
