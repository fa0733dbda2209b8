//! What every handler shares, and the bridge to the blocking pool for CPU
//! work (parsing large bodies).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use sealpass::error::{Code, Result};

use super::api_error::{ApiError, ApiResult};
use super::cors::AllowedOrigins;
use super::store::Store;

/// Bounds on what clients can tie up (the hidden `--test-*` flags of
/// `sealpass-relay` shorten them; docs/OPERATIONS.md lists them).
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// Requests served at once over the whole relay; the rest wait.
    pub max_requests: usize,
    /// A request body must arrive within this (408 otherwise).
    pub body_timeout: Duration,
    /// Open connections at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// A request head must arrive within this, counted from the connection
    /// opening or the previous response (so it is also the idle timeout).
    pub header_timeout: Duration,
    /// Node-route bodies read at once before their signature is checked
    /// (anyone can send those): the rest are refused at once (429/8605), so
    /// anonymous slow bodies hold at most this many of `max_requests`.
    pub node_body_slots: usize,
    /// A node-route body (at most 64 KiB, in practice a few hundred bytes)
    /// must arrive within this (408/8601).
    pub node_body_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_requests: 256,
            body_timeout: Duration::from_secs(15),
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            node_body_slots: 32,
            node_body_timeout: Duration::from_secs(3),
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub(crate) store: Store,
    pub(crate) admin_token: Arc<Zeroizing<String>>,
    pub(crate) www: Arc<PathBuf>,
    pub(crate) allowed_origins: AllowedOrigins,
    /// Origins whose pages may call the admin endpoints (the console).
    pub(crate) admin_origins: AllowedOrigins,
    pub(crate) http: HttpLimits,
    /// Permits for pre-authentication node body reads
    /// ([`HttpLimits::node_body_slots`]).
    pub(crate) node_body_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// The relay's state: its store, the admin bearer token and the built
    /// accept page directory.
    pub fn new(store: Store, admin_token: Zeroizing<String>, www: PathBuf) -> AppState {
        AppState {
            store,
            admin_token: Arc::new(admin_token),
            www: Arc::new(www),
            allowed_origins: AllowedOrigins::default(),
            admin_origins: AllowedOrigins::default(),
            http: HttpLimits::default(),
            node_body_slots: Arc::new(tokio::sync::Semaphore::new(
                HttpLimits::default().node_body_slots,
            )),
        }
    }

    /// Use these connection and request bounds.
    pub fn with_http_limits(mut self, http: HttpLimits) -> AppState {
        self.http = http;
        self.node_body_slots = Arc::new(tokio::sync::Semaphore::new(http.node_body_slots.max(1)));
        self
    }

    /// Let pages on these origins call the sender endpoints (CORS).
    pub fn with_allowed_origins(mut self, origins: AllowedOrigins) -> AppState {
        self.allowed_origins = origins;
        self
    }

    /// Let pages on these origins (the admin console hosted apart) call
    /// the admin endpoints (CORS); no other origin gets admin CORS.
    pub fn with_admin_origins(mut self, origins: AllowedOrigins) -> AppState {
        self.admin_origins = origins;
        self
    }
}

/// Run CPU work off the async threads.
pub(crate) async fn blocking<T, F>(f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::new(Code::Internal, "worker task failed"))?
        .map_err(ApiError::from)
}
