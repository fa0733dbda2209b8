//! Admin endpoints (bearer token, checked by [`Admin`] before the body is read).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

use sealpass_native::signing::unix_now;
use sealpass_native::wire::{
    AddNode, CreatePending, NodeDeleted, PendingCreated, PendingView, PreviousRevoked, SecretIssued,
};

use super::super::api_error::ApiResult;
use super::super::auth::Admin;
use super::super::body::{
    parse, parse_empty_object, read_json, read_optional_json, MAX_SMALL_BODY,
};
use super::super::state::{blocking, AppState};
use super::super::store::IssuedSecret;

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
    let store = s.store.clone();
    let issued = blocking(move || store.add_node(&req.node_id, unix_now())).await?;
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
    let store = s.store.clone();
    let issued = blocking(move || store.rotate_secret(&node_id, unix_now())).await?;
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
    let (store, id) = (s.store.clone(), node_id.clone());
    let (key_version, revoked) = blocking(move || store.revoke_previous(&id, unix_now())).await?;
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
    let (store, id) = (s.store.clone(), node_id.clone());
    let pendings_ended = blocking(move || store.delete_node(&id, unix_now())).await?;
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
    let store = s.store.clone();
    let v = blocking(move || store.create_pending(&req, unix_now())).await?;
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
    let store = s.store.clone();
    let v = blocking(move || store.pending_for_sealing(&pending_id, unix_now())).await?;
    Ok(Json(v))
}
