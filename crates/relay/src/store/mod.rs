//! The relay's state behind one interface, two stores: SQLite (embedded,
//! one relay process; the default) and PostgreSQL (several relay instances
//! sharing one database). Both keep the same guarantees — first push wins,
//! the lockout, the queue cap, the replay cache — by their database's own
//! locking, never by process memory, so the PostgreSQL ones hold across
//! instances. Handlers see only [`Store`]: its methods are async; SQLite
//! calls run on the blocking pool, PostgreSQL ones on its async client.

mod model;
mod postgres;
mod sqlite;
mod url;
mod views;

use std::path::Path;
use std::sync::Arc;

use sealpass::error::{Code, Error, Result};
use sealpass_native::keystore::{KekConfig, Keystore};
use sealpass_native::signing::{SignatureHeaders, Verified};
use sealpass_native::wire::{
    AckResult, CreatePending, Delivery, NodePending, PendingView, StatusView, TargetState,
};

pub use model::{
    page_size, AuditRow, IssuedSecret, KeystoreView, NodeInfo, PostVerdict, Posted, SecretRefresh,
    MAX_TARGETS,
};
pub use url::StoreUrl;

pub(crate) use postgres::PgStore;
pub(crate) use sqlite::db::DB_FILE;
pub(crate) use sqlite::SqliteStore;

/// Tunables (the hidden test flags shorten them).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A node with no signed request for this long is offline.
    pub offline_after_secs: i64,
    /// Smallest `expires_in_secs` an admin may ask for.
    pub min_expiry_secs: i64,
    /// Largest `expires_in_secs`.
    pub max_expiry_secs: i64,
    /// Undelivered envelopes per node.
    pub queue_cap: i64,
    /// Failed posts that trigger a lockout...
    pub max_failed_posts: i64,
    /// ...within this window...
    pub failure_window_secs: i64,
    /// ...lock the pending id for this long.
    pub lockout_secs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            offline_after_secs: 30,
            min_expiry_secs: 60,
            max_expiry_secs: 86_400,
            queue_cap: 5,
            max_failed_posts: 3,
            failure_window_secs: 60,
            lockout_secs: 300,
        }
    }
}

/// The relay's state: one of the two stores.
#[derive(Clone)]
pub enum Store {
    /// `sqlite:PATH`: the database file, with the node secrets sealed in
    /// the keystore of the data dir.
    Sqlite(Arc<SqliteStore>),
    /// `postgres://…`: one database shared by every instance, the node
    /// secrets sealed in it under the KEK every instance is given.
    Postgres(Arc<PgStore>),
}

/// Run a SQLite call on the blocking pool (every SQLite method blocks).
async fn blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Error::new(Code::Internal, "worker task failed"))?
}

/// `store.method(args…)` on either store: the SQLite one off the async
/// threads (the arguments are moved into the closure), the PostgreSQL one
/// awaited in place.
macro_rules! dispatch {
    ($self:ident . $m:ident ( $($a:expr),* )) => {
        match $self {
            Store::Sqlite(s) => {
                let s = Arc::clone(s);
                blocking(move || s.$m($($a),*)).await
            }
            Store::Postgres(p) => p.$m($($a),*).await,
        }
    };
}

impl Store {
    /// Open the store `url` names: SQLite (with the keystore in `data_dir`
    /// sealing the node secrets) or PostgreSQL (migrated at start under an
    /// advisory lock; refused if its schema is newer than this binary).
    pub async fn open(
        url: &StoreUrl,
        data_dir: &Path,
        kek: &KekConfig,
        limits: Limits,
    ) -> Result<Store> {
        match url {
            StoreUrl::Sqlite(path) => {
                let (data_dir, path, kek) = (data_dir.to_owned(), path.clone(), kek.clone());
                blocking(move || {
                    let keystore = Keystore::open(&data_dir, &kek)?;
                    SqliteStore::open(&path, keystore, limits).map(Store::Sqlite)
                })
                .await
            }
            StoreUrl::Postgres(pg) => PgStore::connect(pg, kek.clone(), limits)
                .await
                .map(|p| Store::Postgres(Arc::new(p))),
        }
    }

    /// The configured limits.
    pub fn limits(&self) -> Limits {
        match self {
            Store::Sqlite(s) => s.limits(),
            Store::Postgres(p) => p.limits(),
        }
    }

    /// Which kind of store this is (`sqlite` or `postgres`), for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// The admin token kept in a shared store (PostgreSQL: one for every
    /// instance, sealed under the KEK, made by the first instance that
    /// asks); `None` for SQLite, whose token file lives in the data dir.
    pub async fn shared_admin_token(&self) -> Result<Option<zeroize::Zeroizing<String>>> {
        match self {
            Store::Sqlite(_) => Ok(None),
            Store::Postgres(p) => p.shared_admin_token().await.map(Some),
        }
    }

    /// Count a failure by a client without valid credentials (see
    /// `SqliteStore::count_failure`). Never fails the request.
    pub async fn count_failure(
        &self,
        now: i64,
        event: &'static str,
        actor: String,
        route: &'static str,
        code: Code,
    ) {
        match self {
            Store::Sqlite(s) => {
                let s = Arc::clone(s);
                let _ = blocking(move || {
                    s.count_failure(now, event, &actor, route, code);
                    Ok(())
                })
                .await;
            }
            Store::Postgres(p) => {
                let _ = p.count_failure(now, event, &actor, route, code).await;
            }
        }
    }

    /// Register a node and issue its first secret (409/8604 if it exists).
    pub async fn add_node(&self, node_id: String, now: i64) -> Result<IssuedSecret> {
        dispatch!(self.add_node(&node_id, now))
    }

    /// Issue version N+1; version N stays valid for 24 h, older ones stop now.
    pub async fn rotate_secret(&self, node_id: String, now: i64) -> Result<IssuedSecret> {
        dispatch!(self.rotate_secret(&node_id, now))
    }

    /// End the rotation grace now; (current version, versions revoked).
    pub async fn revoke_previous(&self, node_id: String, now: i64) -> Result<(u32, u32)> {
        dispatch!(self.revoke_previous(&node_id, now))
    }

    /// Unregister a node; returns how many pendings were ended.
    pub async fn delete_node(&self, node_id: String, now: i64) -> Result<u32> {
        dispatch!(self.delete_node(&node_id, now))
    }

    /// The signing checks that need no body (the timestamp window).
    pub async fn precheck_node_request(
        &self,
        headers: SignatureHeaders,
        route: &'static str,
        now: i64,
    ) -> Result<SignatureHeaders> {
        match self {
            Store::Sqlite(s) => {
                let s = Arc::clone(s);
                blocking(move || {
                    s.precheck_node_request(&headers, route, now)?;
                    Ok(headers)
                })
                .await
            }
            Store::Postgres(p) => {
                p.precheck_node_request(&headers, route, now).await?;
                Ok(headers)
            }
        }
    }

    /// Verify a signed node request (MAC, key validity, replay), mark the
    /// node as seen; failures are counted.
    pub async fn verify_node_request(
        &self,
        headers: SignatureHeaders,
        method: String,
        path_and_query: String,
        body: axum::body::Bytes,
        route: &'static str,
        now: i64,
    ) -> Result<Verified> {
        dispatch!(self.verify_node_request(&headers, &method, &path_and_query, &body, route, now))
    }

    /// Count a node-auth failure that happened before headers parsed.
    pub async fn count_node_failure(&self, route: &'static str, code: Code, now: i64) {
        match self {
            Store::Sqlite(s) => {
                let s = Arc::clone(s);
                let _ = blocking(move || {
                    s.count_node_failure(None, route, code, now);
                    Ok(())
                })
                .await;
            }
            Store::Postgres(p) => {
                let _ = p.count_node_failure(None, route, code, now).await;
            }
        }
    }

    /// Open every valid node secret the cache lacks (at most `max_loads`)
    /// and drop the ones no longer valid.
    pub async fn refresh_secrets(&self, now: i64, max_loads: usize) -> Result<SecretRefresh> {
        dispatch!(self.refresh_secrets(now, max_loads))
    }

    /// Create a pending credential with one target per node.
    pub async fn create_pending(&self, p: CreatePending, now: i64) -> Result<StatusView> {
        dispatch!(self.create_pending(&p, now))
    }

    /// The sealing side's view: 404, 410, 409/8009 until every key is posted.
    pub async fn pending_for_sealing(&self, pending_id: String, now: i64) -> Result<PendingView> {
        dispatch!(self.pending_for_sealing(&pending_id, now))
    }

    /// States only (works after expiry too).
    pub async fn status(&self, pending_id: String, now: i64) -> Result<StatusView> {
        dispatch!(self.status(&pending_id, now))
    }

    /// The node posts its one-time public key and the identity key.
    pub async fn post_pubkey(
        &self,
        node_id: String,
        pending_id: String,
        public_key: String,
        identity_key: Option<String>,
        now: i64,
    ) -> Result<TargetState> {
        dispatch!(self.post_pubkey(
            &node_id,
            &pending_id,
            &public_key,
            identity_key.as_deref(),
            now
        ))
    }

    /// Live targets of one node.
    pub async fn node_pending(&self, node_id: String, now: i64) -> Result<Vec<NodePending>> {
        dispatch!(self.node_pending(&node_id, now))
    }

    /// 404 / 410 / seconds of lockout left, before a post's body is read.
    pub async fn check_post_allowed(&self, pending_id: String, now: i64) -> Result<Option<i64>> {
        dispatch!(self.check_post_allowed(&pending_id, now))
    }

    /// Decide a post in one transaction (lockout, first push wins, caps,
    /// failure counting).
    pub async fn settle_post(
        &self,
        pending_id: String,
        parsed: Result<Vec<Posted>>,
        now: i64,
    ) -> Result<PostVerdict> {
        dispatch!(self.settle_post(&pending_id, parsed, now))
    }

    /// Hand a node every envelope waiting for it.
    pub async fn pull_envelopes(&self, node_id: String, now: i64) -> Result<Vec<Delivery>> {
        dispatch!(self.pull_envelopes(&node_id, now))
    }

    /// The node reports the outcome; the stored envelope is deleted.
    pub async fn ack(
        &self,
        node_id: String,
        pending_id: String,
        result: AckResult,
        now: i64,
    ) -> Result<TargetState> {
        dispatch!(self.ack(&node_id, &pending_id, result, now))
    }

    /// Registered nodes, one page.
    pub async fn list_nodes(
        &self,
        after: Option<String>,
        limit: usize,
        now: i64,
    ) -> Result<(Vec<NodeInfo>, Option<String>)> {
        dispatch!(self.list_nodes(after.as_deref(), limit, now))
    }

    /// Cancel a pending credential.
    pub async fn cancel_pending(
        &self,
        pending_id: String,
        now: i64,
    ) -> Result<(StatusView, Vec<String>)> {
        dispatch!(self.cancel_pending(&pending_id, now))
    }

    /// Audit events newest first, one page.
    pub async fn audit_page(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<(Vec<AuditRow>, Option<i64>)> {
        dispatch!(self.audit_page(before, limit))
    }

    /// How the node secrets are sealed at rest (ids and counts only).
    pub async fn keystore_status(&self) -> Result<KeystoreView> {
        dispatch!(self.keystore_status())
    }

    /// Re-seal under the current KEK what is still sealed under the
    /// previous one (PostgreSQL: node secrets and the admin token; returns
    /// how many secrets, and whether the token). The SQLite store keeps its
    /// node secrets in the relay's keystore, which has its own rotation.
    pub async fn reseal(&self) -> Result<(usize, bool)> {
        match self {
            Store::Sqlite(_) => Err(Error::new(
                Code::Usage,
                "reseal is for the PostgreSQL store (--store postgres://…); the SQLite store's secrets are in the relay's keystore (docs/KEYSTORE.md, rotate-kek)",
            )),
            Store::Postgres(p) => p.reseal_all().await,
        }
    }

    /// One expiry sweep; returns how many pendings it expired.
    pub async fn sweep(&self, now: i64) -> Result<usize> {
        dispatch!(self.sweep(now))
    }
}
