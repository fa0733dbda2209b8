//! Node endpoints: every request HMAC-signed over its exact bytes
//! ([`NodeRequest`] checks it before the handler runs).

use axum::extract::{Path, State};
use axum::Json;

use sealpass_native::signing::unix_now;
use sealpass_native::wire::{
    EnvelopeList, Heartbeat, PendingList, PostAck, PostPubkey, StateReply,
};

use super::super::api_error::ApiResult;
use super::super::auth::{JsonBody, NodeRequest, OptionalBody};
use super::super::body::{parse, parse_empty_object};
use super::super::state::AppState;

/// `POST /api/v1/node/heartbeat`
pub async fn heartbeat(req: NodeRequest<OptionalBody>) -> ApiResult<Json<Heartbeat>> {
    parse_empty_object(req.body).await?;
    Ok(Json(Heartbeat {
        node_id: req.node_id,
        server_time: unix_now(),
    }))
}

/// `GET /api/v1/node/pending`
pub async fn pending(
    State(s): State<AppState>,
    req: NodeRequest<OptionalBody>,
) -> ApiResult<Json<PendingList>> {
    let pending = s.store.node_pending(req.node_id, unix_now()).await?;
    Ok(Json(PendingList { pending }))
}

/// `PUT /api/v1/node/pending/{pending_id}/pubkey`
pub async fn put_pubkey(
    State(s): State<AppState>,
    Path(pending_id): Path<String>,
    req: NodeRequest<JsonBody>,
) -> ApiResult<Json<StateReply>> {
    let body: PostPubkey = parse(&req.body)?;
    let state = s
        .store
        .post_pubkey(
            req.node_id,
            pending_id,
            body.public_key,
            body.identity_key,
            unix_now(),
        )
        .await?;
    Ok(Json(StateReply { state }))
}

/// `GET /api/v1/node/envelopes`
pub async fn envelopes(
    State(s): State<AppState>,
    req: NodeRequest<OptionalBody>,
) -> ApiResult<Json<EnvelopeList>> {
    let envelopes = s.store.pull_envelopes(req.node_id, unix_now()).await?;
    Ok(Json(EnvelopeList { envelopes }))
}

/// `POST /api/v1/node/pending/{pending_id}/ack`
pub async fn ack(
    State(s): State<AppState>,
    Path(pending_id): Path<String>,
    req: NodeRequest<JsonBody>,
) -> ApiResult<Json<StateReply>> {
    let body: PostAck = parse(&req.body)?;
    let state = s
        .store
        .ack(req.node_id, pending_id, body.result, unix_now())
        .await?;
    Ok(Json(StateReply { state }))
}
