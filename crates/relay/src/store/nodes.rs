//! Registered nodes, their versioned HMAC secrets (sealed in the keystore),
//! signed-request verification and the replay cache.

use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};
use sealpass_native::keystore::Purpose;
use sealpass_native::signing::{
    generate_secret, is_valid_caller, ReplayCache, SecretSource, SignatureHeaders, Verified,
    Verifier, ROTATION_GRACE_SECS, WINDOW_SECS,
};

use super::{audit, count_failure, immediate, sql_err, Store};

/// A newly issued secret, shown to the operator once.
pub struct IssuedSecret {
    /// The node.
    pub node_id: String,
    /// Version of this secret.
    pub key_version: u32,
    /// The secret bytes.
    pub secret: Zeroizing<Vec<u8>>,
}

fn record_id(node_id: &str, version: u32) -> String {
    format!("{node_id}:v{version}")
}

fn check_node_id(node_id: &str) -> Result<()> {
    if is_valid_caller(node_id) {
        Ok(())
    } else {
        Err(Error::new(
            Code::BadRequest,
            "node_id must be 1..=64 chars of [A-Za-z0-9._-]",
        ))
    }
}

impl Store {
    /// Register a node and issue its first secret (409/8604 if it exists).
    pub fn add_node(&self, node_id: &str, now: i64) -> Result<IssuedSecret> {
        check_node_id(node_id)?;
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let exists: bool = tx
            .query_row("SELECT 1 FROM nodes WHERE node_id = ?1", [node_id], |_| {
                Ok(())
            })
            .optional()
            .map_err(sql_err)?
            .is_some();
        if exists {
            return Err(Error::new(Code::AlreadyUsed, "node already registered"));
        }
        let secret = generate_secret()?;
        self.keystore
            .put_record(Purpose::RelayHmacSecret, &record_id(node_id, 1), &secret)?;
        tx.execute(
            "INSERT INTO nodes (node_id, created_at, last_seen) VALUES (?1, ?2, 0)",
            params![node_id, now],
        )
        .map_err(sql_err)?;
        tx.execute(
            "INSERT INTO node_secrets (node_id, version, created_at, not_after) VALUES (?1, 1, ?2, NULL)",
            params![node_id, now],
        )
        .map_err(sql_err)?;
        audit(&tx, now, "node_added", node_id, "admin", None)?;
        tx.commit().map_err(sql_err)?;
        Ok(IssuedSecret {
            node_id: node_id.to_owned(),
            key_version: 1,
            secret,
        })
    }

    /// Issue version N+1; version N stays valid for 24 h, older ones stop now.
    pub fn rotate_secret(&self, node_id: &str, now: i64) -> Result<IssuedSecret> {
        check_node_id(node_id)?;
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let current: Option<u32> = tx
            .query_row(
                "SELECT MAX(version) FROM node_secrets WHERE node_id = ?1",
                [node_id],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        let current = current.ok_or_else(|| Error::new(Code::NotFound, "unknown node"))?;
        let next = current
            .checked_add(1)
            .ok_or_else(|| Error::new(Code::Internal, "key version overflow"))?;
        let secret = generate_secret()?;
        self.keystore
            .put_record(Purpose::RelayHmacSecret, &record_id(node_id, next), &secret)?;
        tx.execute(
            "UPDATE node_secrets SET not_after = MIN(COALESCE(not_after, ?3), ?3)
             WHERE node_id = ?1 AND version < ?2",
            params![node_id, current, now],
        )
        .map_err(sql_err)?;
        tx.execute(
            "UPDATE node_secrets SET not_after = ?3 WHERE node_id = ?1 AND version = ?2",
            params![node_id, current, now.saturating_add(ROTATION_GRACE_SECS)],
        )
        .map_err(sql_err)?;
        tx.execute(
            "INSERT INTO node_secrets (node_id, version, created_at, not_after) VALUES (?1, ?2, ?3, NULL)",
            params![node_id, next, now],
        )
        .map_err(sql_err)?;
        audit(&tx, now, "secret_rotated", node_id, "admin", None)?;
        tx.commit().map_err(sql_err)?;
        Ok(IssuedSecret {
            node_id: node_id.to_owned(),
            key_version: next,
            secret,
        })
    }

    /// What the signing headers prove without the body, in the verifier's
    /// order: the timestamp window (8703), then a known caller with a valid
    /// key version (8705). Run before a body is read, so clients that are
    /// not nodes cannot hold a request open; [`Store::verify_node_request`]
    /// repeats both and checks the MAC. Failures are counted.
    pub fn precheck_node_request(
        &self,
        headers: &SignatureHeaders,
        route: &str,
        now: i64,
    ) -> Result<()> {
        let c = self.conn()?;
        let out = if headers.timestamp.abs_diff(now) > WINDOW_SECS.unsigned_abs() {
            Err(Error::new(
                Code::SignatureExpired,
                "timestamp outside the 300 s window",
            ))
        } else if !valid_secret_exists(&c, &headers.caller, headers.key_version, now)? {
            Err(Error::new(
                Code::SignatureUnknownKey,
                "no valid secret for this caller and key version",
            ))
        } else {
            Ok(())
        };
        if let Err(e) = &out {
            let actor = bounded_actor(&c, Some(&headers.caller));
            let _ = count_failure(&c, now, "node_auth_failed", &actor, route, e.code());
        }
        out
    }

    /// Verify a signed node request, mark the node as seen, and count a
    /// failure with a bounded actor (a registered node id or "unknown").
    pub fn verify_node_request(
        &self,
        headers: &SignatureHeaders,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        route: &str,
        now: i64,
    ) -> Result<Verified> {
        let c = self.conn()?;
        let source = Secrets {
            store: self,
            conn: &c,
        };
        let replay = SqlReplay { conn: &c };
        let out =
            Verifier::new().verify(headers, method, path_and_query, body, now, &source, &replay);
        match out {
            Ok(v) => {
                c.execute(
                    "UPDATE nodes SET last_seen = MAX(last_seen, ?2) WHERE node_id = ?1",
                    params![v.caller, now],
                )
                .map_err(sql_err)?;
                Ok(v)
            }
            Err(e) => {
                let actor = bounded_actor(&c, Some(&headers.caller));
                let _ = count_failure(&c, now, "node_auth_failed", &actor, route, e.code());
                Err(e)
            }
        }
    }

    /// Count a node-auth failure that happened before headers parsed.
    pub fn count_node_failure(&self, caller: Option<&str>, route: &str, code: Code, now: i64) {
        if let Ok(c) = self.conn() {
            let actor = bounded_actor(&c, caller);
            let _ = count_failure(&c, now, "node_auth_failed", &actor, route, code);
        }
    }

    fn load_secret(&self, node_id: &str, version: u32) -> Result<Zeroizing<Vec<u8>>> {
        let key = (node_id.to_owned(), version);
        if let Ok(cache) = self.secret_cache.lock() {
            if let Some(s) = cache.get(&key) {
                return Ok(s.clone());
            }
        }
        let s = self
            .keystore
            .get_record(Purpose::RelayHmacSecret, &record_id(node_id, version))?;
        if let Ok(mut cache) = self.secret_cache.lock() {
            cache.insert(key, s.clone());
        }
        Ok(s)
    }
}

/// Is there a secret for (caller, version) still valid at `now`? The same
/// rule as [`Secrets`], without opening the secret.
fn valid_secret_exists(c: &Connection, caller: &str, version: u32, now: i64) -> Result<bool> {
    let row: Option<Option<i64>> = c
        .query_row(
            "SELECT not_after FROM node_secrets WHERE node_id = ?1 AND version = ?2",
            params![caller, version],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err)?;
    Ok(match row {
        None => false,
        Some(Some(not_after)) => now < not_after,
        Some(None) => true,
    })
}

/// Caller ids only reach the failure counters if they name a registered node.
fn bounded_actor(c: &Connection, caller: Option<&str>) -> String {
    let known = caller.filter(|id| {
        is_valid_caller(id)
            && c.query_row("SELECT 1 FROM nodes WHERE node_id = ?1", [id], |_| Ok(()))
                .optional()
                .ok()
                .flatten()
                .is_some()
    });
    known.unwrap_or("unknown").to_owned()
}

struct Secrets<'a> {
    store: &'a Store,
    conn: &'a Connection,
}

impl SecretSource for Secrets<'_> {
    fn secret(
        &self,
        caller: &str,
        key_version: u32,
        now: i64,
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let row: Option<Option<i64>> = self
            .conn
            .query_row(
                "SELECT not_after FROM node_secrets WHERE node_id = ?1 AND version = ?2",
                params![caller, key_version],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err)?;
        match row {
            None => Ok(None),
            Some(Some(not_after)) if now >= not_after => Ok(None),
            Some(_) => self.store.load_secret(caller, key_version).map(Some),
        }
    }
}

/// Replay cache in the relay database, so a restart does not reopen it.
struct SqlReplay<'a> {
    conn: &'a Connection,
}

impl ReplayCache for SqlReplay<'_> {
    fn check_and_insert(&self, signature: &[u8; 32], expires_at: i64, now: i64) -> Result<bool> {
        let existing: Option<i64> = self
            .conn
            .query_row(
                "SELECT expires_at FROM replay WHERE signature = ?1",
                [&signature[..]],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err)?;
        if matches!(existing, Some(exp) if exp >= now) {
            return Ok(false);
        }
        self.conn
            .execute(
                "INSERT OR REPLACE INTO replay (signature, expires_at) VALUES (?1, ?2)",
                params![&signature[..], expires_at],
            )
            .map_err(sql_err)?;
        Ok(true)
    }
}
