//! Relay state in SQLite. Every method is synchronous and short; handlers
//! call them from `spawn_blocking`. Multi-row changes run in one IMMEDIATE
//! transaction, so two racing posts are serialised and the second one sees
//! the first one's state (first push wins).
//!
//! Target states are `sealpass_native::wire::TargetState`, stored by name
//! and bound as SQL parameters wherever a statement compares them.

mod admin;
mod envelopes;
mod nodes;
mod pending;
mod posts;
mod sweep;
mod views;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};
use sealpass_native::keystore::Keystore;
use sealpass_native::signing::generate_secret;

use super::db::{self, sql_err};

pub use admin::{page_size, AuditRow, KeystoreView, NodeInfo};
pub use nodes::IssuedSecret;
pub use pending::MAX_TARGETS;
pub use posts::{PostVerdict, Posted};

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

/// Opened secrets by (node id, key version).
type SecretCache = HashMap<(String, u32), Zeroizing<Vec<u8>>>;

/// The relay's state: its own database plus the keystore that seals the
/// per-node HMAC secrets.
pub struct Store {
    conn: Mutex<Connection>,
    keystore: Keystore,
    /// Opened HMAC secrets of every valid (node, version): the request
    /// path reads only this, never the keystore (`Store::refresh_secrets`
    /// fills it at start and on each sweep; add and rotate insert into it).
    /// Validity (rotation grace) is still read from the database each time.
    secret_cache: Mutex<SecretCache>,
    /// (node, version) pairs whose record could not be opened: retried
    /// after the others, so broken records cannot use up every refresh.
    secret_failures: Mutex<std::collections::HashSet<(String, u32)>>,
    /// A random HMAC key nobody holds, verified against for callers that
    /// have no valid secret (nodes.rs): same work, same answer as a wrong MAC.
    dummy_secret: Zeroizing<Vec<u8>>,
    limits: Limits,
}

impl Store {
    /// Open (or create) the relay database and keystore in `data_dir`.
    pub fn open(data_dir: &Path, keystore: Keystore, limits: Limits) -> Result<Arc<Store>> {
        let conn = db::open(data_dir)?;
        Ok(Arc::new(Store {
            conn: Mutex::new(conn),
            keystore,
            secret_cache: Mutex::new(HashMap::new()),
            secret_failures: Mutex::new(std::collections::HashSet::new()),
            dummy_secret: generate_secret()?,
            limits,
        }))
    }

    /// The configured limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::new(Code::Internal, "relay database lock poisoned"))
    }

    /// Count a failure by a client without valid credentials (bad admin
    /// token, node signature that does not verify, bad envelope post): one
    /// `auth_failures` row per (minute, event, actor, route, code), its
    /// `count` incremented. Such failures never become `audit` events, so
    /// junk traffic cannot push real events out of the trail. `actor` must
    /// be bounded (a registered node id, "unknown", "sealer").
    pub fn count_failure(&self, now: i64, event: &str, actor: &str, route: &str, code: Code) {
        if let Ok(c) = self.conn() {
            let _ = count_failure(&c, now, event, actor, route, code);
        }
    }
}

fn immediate(conn: &mut Connection) -> Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_err)
}

/// Record a security-relevant event (metadata only: never bodies or
/// secrets). Only credentialed actions (admin, a verified node, a sealer
/// holding a live pending id) write events; failures go to
/// [`count_failure`].
fn audit(
    c: &Connection,
    now: i64,
    event: &str,
    actor: &str,
    route: &str,
    code: Option<Code>,
) -> Result<()> {
    c.execute(
        "INSERT INTO audit (at, event, actor, route, code) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![now, event, actor, route, code.map(|c| c.number())],
    )
    .map_err(sql_err)?;
    Ok(())
}

/// [`audit`] for an admin action on one pending credential: the row names it.
fn audit_pending(c: &Connection, now: i64, event: &str, pending_id: &str) -> Result<()> {
    c.execute(
        "INSERT INTO audit (at, event, actor, route, pending_id) VALUES (?1, ?2, 'admin', 'admin', ?3)",
        rusqlite::params![now, event, pending_id],
    )
    .map_err(sql_err)?;
    Ok(())
}

fn count_failure(
    c: &Connection,
    now: i64,
    event: &str,
    actor: &str,
    route: &str,
    code: Code,
) -> Result<()> {
    c.execute(
        "INSERT INTO auth_failures (minute, event, actor, route, code, count, last_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
         ON CONFLICT (minute, event, actor, route, code)
         DO UPDATE SET count = count + 1, last_at = MAX(last_at, excluded.last_at)",
        rusqlite::params![
            now.div_euclid(60) * 60,
            event,
            actor,
            route,
            code.number(),
            now
        ],
    )
    .map_err(sql_err)?;
    Ok(())
}
