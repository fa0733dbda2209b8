//! What every handler shares, and the bridge from async handlers to the
//! synchronous store.

use std::path::PathBuf;
use std::sync::Arc;

use zeroize::Zeroizing;

use sealpass::error::{Code, Result};

use super::api_error::{ApiError, ApiResult};
use super::cors::AllowedOrigins;
use super::store::Store;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub(crate) store: Arc<Store>,
    pub(crate) admin_token: Arc<Zeroizing<String>>,
    pub(crate) www: Arc<PathBuf>,
    pub(crate) allowed_origins: AllowedOrigins,
}

impl AppState {
    /// The relay's state: its store, the admin bearer token and the built
    /// accept page directory.
    pub fn new(store: Arc<Store>, admin_token: Zeroizing<String>, www: PathBuf) -> AppState {
        AppState {
            store,
            admin_token: Arc::new(admin_token),
            www: Arc::new(www),
            allowed_origins: AllowedOrigins::default(),
        }
    }

    /// Let pages on these origins call the sender endpoints (CORS).
    pub fn with_allowed_origins(mut self, origins: AllowedOrigins) -> AppState {
        self.allowed_origins = origins;
        self
    }
}

/// Run a store call off the async threads (every store method is blocking).
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
