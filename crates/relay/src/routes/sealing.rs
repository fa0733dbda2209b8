//! The sealing side (browser, `sealpass inject`): the pending id is the
//! capability.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

use sealpass::error::Code;
use sealpass_native::signing::unix_now;
use sealpass_native::wire::{PendingView, StatusView};

use super::super::api_error::{ApiError, ApiResult};
use super::super::body::{check_head, parse_envelopes, read_checked, MAX_ENVELOPES_BODY};
use super::super::state::{blocking, AppState};
use super::super::store::PostVerdict;

/// `GET /api/v1/pending/{pending_id}`
pub async fn get_pending(
    State(s): State<AppState>,
    Path(pending_id): Path<String>,
) -> ApiResult<Json<PendingView>> {
    let v = s.store.pending_for_sealing(pending_id, unix_now()).await?;
    Ok(Json(v))
}

/// `GET /api/v1/pending/{pending_id}/status`
pub async fn status(
    State(s): State<AppState>,
    Path(pending_id): Path<String>,
) -> ApiResult<Json<StatusView>> {
    let v = s.store.status(pending_id, unix_now()).await?;
    Ok(Json(v))
}

/// 429/8605 with the seconds the lockout still runs.
fn locked_out(left: i64) -> ApiError {
    ApiError::new(
        Code::RateLimited,
        "too many failed posts for this pending id; locked out",
    )
    .retry_after(u64::try_from(left).unwrap_or(1))
}

/// `POST /api/v1/pending/{pending_id}/envelopes`
pub async fn post_envelopes(
    State(s): State<AppState>,
    Path(pending_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<StatusView>)> {
    // The head, then the pending id (404/410/429), and only then the body:
    // a guessed or dead id never makes the relay wait for a body.
    check_head(&headers, MAX_ENVELOPES_BODY, false)?;
    let now = unix_now();
    if let Some(left) = s.store.check_post_allowed(pending_id.clone(), now).await? {
        return Err(locked_out(left));
    }
    let bytes = read_checked(
        &headers,
        body,
        MAX_ENVELOPES_BODY,
        false,
        s.http.body_timeout,
    )
    .await?;
    // Parsing and validating up to 512 KiB of JSON is CPU work: it runs on
    // the blocking pool (bounded by the relay's request cap), never on an
    // async worker; the store then settles the verdict.
    let parsed = blocking(move || Ok(parse_envelopes(&bytes))).await?;
    let verdict = s.store.settle_post(pending_id, parsed, now).await?;
    match verdict {
        PostVerdict::Accepted(v) => Ok((StatusCode::ACCEPTED, Json(v))),
        PostVerdict::Refused(e) => Err(e.into()),
        PostVerdict::LockedOut(left) => Err(locked_out(left)),
    }
}
