//! Admin endpoints (bearer token).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::signing::unix_now;

use super::super::api_error::ApiResult;
use super::super::auth;
use super::super::body::{
    parse, parse_empty_object, read_json, read_optional_json, MAX_SMALL_BODY,
};
use super::super::store::{IssuedSecret, NewPending, PendingView, StatusView};
use super::super::{blocking, AppState};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddNode {
    node_id: String,
}

/// The one time a node secret is shown.
#[derive(Serialize)]
pub struct SecretOut {
    node_id: String,
    key_version: u32,
    secret: String,
}

impl From<IssuedSecret> for SecretOut {
    fn from(s: IssuedSecret) -> Self {
        SecretOut {
            node_id: s.node_id,
            key_version: s.key_version,
            secret: crate::b64::encode(&s.secret),
        }
    }
}

/// `POST /api/v1/admin/nodes`
pub async fn add_node(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<SecretOut>)> {
    auth::admin(&s, &headers, "admin/nodes").await?;
    let bytes = read_json(&headers, body, MAX_SMALL_BODY).await?;
    let req: AddNode = parse(&bytes)?;
    let store = s.store.clone();
    let issued = blocking(move || store.add_node(&req.node_id, unix_now())).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// `POST /api/v1/admin/nodes/{node_id}/rotate-secret`
pub async fn rotate_secret(
    State(s): State<AppState>,
    Path(node_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<SecretOut>> {
    auth::admin(&s, &headers, "admin/rotate-secret").await?;
    let bytes = read_optional_json(&headers, body, MAX_SMALL_BODY).await?;
    parse_empty_object(&bytes)?;
    let store = s.store.clone();
    let issued = blocking(move || store.rotate_secret(&node_id, unix_now())).await?;
    Ok(Json(issued.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreatePending {
    node_ids: Vec<String>,
    slug: String,
    injection_method: String,
    #[serde(default)]
    field_name: Option<String>,
    #[serde(default)]
    target_url: Option<String>,
    #[serde(default)]
    expires_in_secs: Option<i64>,
}

/// Response of `POST /api/v1/admin/pending`.
#[derive(Serialize)]
pub struct Created {
    pending_id: String,
    accept_path: String,
    expires_at: i64,
    state: &'static str,
    targets: serde_json::Value,
}

/// `POST /api/v1/admin/pending`
pub async fn create_pending(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Created>)> {
    auth::admin(&s, &headers, "admin/pending").await?;
    let bytes = read_json(&headers, body, MAX_SMALL_BODY).await?;
    let req: CreatePending = parse(&bytes)?;
    let p = NewPending {
        node_ids: req.node_ids,
        slug: req.slug,
        injection_method: req.injection_method,
        field_name: req.field_name,
        target_url: req.target_url,
        expires_in_secs: req.expires_in_secs,
    };
    let store = s.store.clone();
    let v: StatusView = blocking(move || store.create_pending(&p, unix_now())).await?;
    let targets = serde_json::to_value(&v.targets).unwrap_or(serde_json::Value::Null);
    Ok((
        StatusCode::CREATED,
        Json(Created {
            accept_path: format!("/accept#{}", v.pending_id),
            pending_id: v.pending_id,
            expires_at: v.expires_at,
            state: v.state,
            targets,
        }),
    ))
}

/// `GET /api/v1/admin/pending/{pending_id}`: same as the public view.
pub async fn get_pending(
    State(s): State<AppState>,
    Path(pending_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<PendingView>> {
    auth::admin(&s, &headers, "admin/pending/get").await?;
    let store = s.store.clone();
    let v = blocking(move || store.pending_for_sealing(&pending_id, unix_now())).await?;
    Ok(Json(v))
}
