//! Relay state in SQLite (the embedded, single-instance store). Every
//! method is synchronous and short; the `Store` facade calls them from
//! `spawn_blocking`. Multi-row changes run in one IMMEDIATE
//! transaction, so two racing posts are serialised and the second one sees
//! the first one's state (first push wins).
//!
//! Target states are `sealpass_native::wire::TargetState`, stored by name
//! and bound as SQL parameters wherever a statement compares them.

mod admin;
pub(crate) mod db;
mod envelopes;
mod load;
mod nodes;
mod pending;
mod posts;
mod sweep;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};
use sealpass_native::keystore::Keystore;
use sealpass_native::signing::generate_secret;

use self::db::sql_err;
use super::Limits;

/// Opened secrets by (node id, key version).
type SecretCache = HashMap<(String, u32), Zeroizing<Vec<u8>>>;

/// The relay's state: its own database plus the keystore that seals the
/// per-node HMAC secrets.
pub struct SqliteStore {
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

impl SqliteStore {
    /// Open (or create) the relay database and keystore in `data_dir`.
    pub fn open(db_path: &Path, keystore: Keystore, limits: Limits) -> Result<Arc<SqliteStore>> {
        let conn = db::open(db_path)?;
        Ok(Arc::new(SqliteStore {
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

    pub(crate) fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
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
