//! Node endpoints: every request HMAC-signed over its exact bytes.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::signing::unix_now;

use super::super::api_error::ApiResult;
use super::super::auth;
use super::super::body::{
    parse, parse_empty_object, read_json, read_optional_json, MAX_SMALL_BODY,
};
use super::super::store::{Delivery, NodePending};
use super::super::{blocking, AppState};

/// `{"node_id","server_time"}`
#[derive(Serialize)]
pub struct Heartbeat {
    node_id: String,
    server_time: i64,
}

/// `POST /api/v1/node/heartbeat`
pub async fn heartbeat(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Heartbeat>> {
    let bytes = read_optional_json(&headers, body, MAX_SMALL_BODY).await?;
    let node_id = auth::node(&s, &method, &uri, &headers, &bytes, "node/heartbeat").await?;
    parse_empty_object(&bytes)?;
    Ok(Json(Heartbeat {
        node_id,
        server_time: unix_now(),
    }))
}

/// `{"pending":[…]}`
#[derive(Serialize)]
pub struct PendingList {
    pending: Vec<NodePending>,
}

/// `GET /api/v1/node/pending`
pub async fn pending(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<PendingList>> {
    let bytes = read_optional_json(&headers, body, MAX_SMALL_BODY).await?;
    let node_id = auth::node(&s, &method, &uri, &headers, &bytes, "node/pending").await?;
    let store = s.store.clone();
    let pending = blocking(move || store.node_pending(&node_id, unix_now())).await?;
    Ok(Json(PendingList { pending }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PubkeyIn {
    public_key: String,
}

/// `{"state"}`
#[derive(Serialize)]
pub struct StateOut {
    state: String,
}

/// `PUT /api/v1/node/pending/{pending_id}/pubkey`
pub async fn put_pubkey(
    State(s): State<AppState>,
    Path(pending_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<StateOut>> {
    let bytes = read_json(&headers, body, MAX_SMALL_BODY).await?;
    let node_id = auth::node(&s, &method, &uri, &headers, &bytes, "node/pubkey").await?;
    let req: PubkeyIn = parse(&bytes)?;
    let store = s.store.clone();
    let state =
        blocking(move || store.post_pubkey(&node_id, &pending_id, &req.public_key, unix_now()))
            .await?;
    Ok(Json(StateOut { state }))
}

/// `{"envelopes":[…]}`
#[derive(Serialize)]
pub struct EnvelopeList {
    envelopes: Vec<Delivery>,
}

/// `GET /api/v1/node/envelopes`
pub async fn envelopes(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<EnvelopeList>> {
    let bytes = read_optional_json(&headers, body, MAX_SMALL_BODY).await?;
    let node_id = auth::node(&s, &method, &uri, &headers, &bytes, "node/envelopes").await?;
    let store = s.store.clone();
    let envelopes = blocking(move || store.pull_envelopes(&node_id, unix_now())).await?;
    Ok(Json(EnvelopeList { envelopes }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckIn {
    result: AckResult,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AckResult {
    Consumed,
    DecryptFailed,
}

/// `POST /api/v1/node/pending/{pending_id}/ack`
pub async fn ack(
    State(s): State<AppState>,
    Path(pending_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<StateOut>> {
    let bytes = read_json(&headers, body, MAX_SMALL_BODY).await?;
    let node_id = auth::node(&s, &method, &uri, &headers, &bytes, "node/ack").await?;
    let req: AckIn = parse(&bytes)?;
    let consumed = matches!(req.result, AckResult::Consumed);
    let store = s.store.clone();
    let state = blocking(move || store.ack(&node_id, &pending_id, consumed, unix_now())).await?;
    Ok(Json(StateOut {
        state: state.to_owned(),
    }))
}
