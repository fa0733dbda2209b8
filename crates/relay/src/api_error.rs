//! Relay errors as HTTP responses: `{"code","name","message"}` with a status
//! that fits the code. Messages are our own static details, never input.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use sealpass::error::{Code, Error};
use sealpass_native::wire::ErrorBody;

/// An error on its way to the client, optionally with `Retry-After`.
#[derive(Debug)]
pub struct ApiError {
    /// The typed error.
    pub error: Error,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
    /// A status other than the code's own (408 for a body that did not
    /// arrive in time: no code of its own, it is 8601 BadRequest).
    pub status: Option<StatusCode>,
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let retry_after = match error.code() {
            Code::PubkeyAwaiting => Some(1),
            _ => None,
        };
        ApiError {
            error,
            retry_after,
            status: None,
        }
    }
}

impl ApiError {
    /// Shorthand for `Error::new(code, detail).into()`.
    pub fn new(code: Code, detail: &'static str) -> Self {
        Error::new(code, detail).into()
    }

    /// Answer with this status instead of the code's own.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// Attach a `Retry-After` value.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

/// The HTTP status for a code.
pub fn status_for(code: Code) -> StatusCode {
    match code {
        Code::NotFound | Code::RecordNotFound => StatusCode::NOT_FOUND,
        Code::Expired | Code::Cancelled => StatusCode::GONE,
        Code::AlreadyUsed | Code::InvalidState | Code::PubkeyAwaiting => StatusCode::CONFLICT,
        Code::RateLimited | Code::QueueFull => StatusCode::TOO_MANY_REQUESTS,
        Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Code::PayloadTooLarge | Code::CiphertextTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Code::Unauthorized
        | Code::SignatureMalformed
        | Code::SignatureInvalid
        | Code::SignatureExpired
        | Code::SignatureReplayed
        | Code::SignatureUnknownKey => StatusCode::UNAUTHORIZED,
        // A database that is away (the PostgreSQL store while the server
        // restarts): temporary, retry; the relay recovers by itself.
        Code::NodeOffline | Code::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Internal
        | Code::Io
        | Code::KekMissing
        | Code::KekMismatch
        | Code::KekInvalid
        | Code::RecordTampered
        | Code::FormatUnsupported
        | Code::RandomUnavailable => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.error.code();
        let status = status_for(code);
        let message = if status.is_server_error() {
            // Details of server faults stay in the server log.
            eprintln!("relay: {}", self.error);
            "internal error".to_owned()
        } else if self.error.detail().is_empty() {
            code.name().to_owned()
        } else {
            self.error.detail().to_owned()
        };
        let body = ErrorBody {
            code: code.number(),
            name: code.name().to_owned(),
            message,
        };
        let status = self.status.unwrap_or(status);
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// Result type of handlers.
pub type ApiResult<T> = std::result::Result<T, ApiError>;
