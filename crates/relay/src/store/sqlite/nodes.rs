//! Registered nodes (added, deleted), their versioned HMAC secrets (sealed
//! in the keystore; rotated, previous ones revoked), signed-request
//! verification and the replay cache.

use std::cell::Cell;

use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};
use sealpass_native::keystore::Purpose;
use sealpass_native::signing::{
    generate_secret, is_valid_caller, ReplayCache, SecretSource, SignatureHeaders, Verified,
    Verifier, ROTATION_GRACE_SECS,
};
use sealpass_native::wire::TargetState;

use super::{audit, count_failure, immediate, sql_err, SqliteStore};
use crate::store::model::{
    check_node_id, check_window, mac_mismatch, record_id, IssuedSecret, SecretRefresh,
};

impl SqliteStore {
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
        // A node id deleted before keeps its retired versions, so a
        // re-registered node starts after them: (node id, version) never
        // names two secrets, and no cache (here or in a running relay
        // beside the ops CLI) can hand out a predecessor's secret.
        let retired: Option<u32> = tx
            .query_row(
                "SELECT MAX(version) FROM node_secrets WHERE node_id = ?1",
                [node_id],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        let version = retired
            .unwrap_or(0)
            .checked_add(1)
            .ok_or_else(|| Error::new(Code::Internal, "key version overflow"))?;
        let secret = generate_secret()?;
        self.keystore.put_record(
            Purpose::RelayHmacSecret,
            &record_id(node_id, version),
            &secret,
        )?;
        tx.execute(
            "INSERT INTO nodes (node_id, created_at, last_seen) VALUES (?1, ?2, 0)",
            params![node_id, now],
        )
        .map_err(sql_err)?;
        tx.execute(
            "INSERT INTO node_secrets (node_id, version, created_at, not_after) VALUES (?1, ?2, ?3, NULL)",
            params![node_id, version, now],
        )
        .map_err(sql_err)?;
        audit(&tx, now, "node_added", node_id, "admin", None)?;
        tx.commit().map_err(sql_err)?;
        // Still under the database lock, so a concurrent refresh
        // (`refresh_secrets`) cannot drop it as "not valid".
        self.cache_secret(node_id, version, &secret);
        Ok(IssuedSecret {
            node_id: node_id.to_owned(),
            key_version: version,
            secret,
        })
    }

    /// Issue version N+1; version N stays valid for 24 h, older ones stop now.
    pub fn rotate_secret(&self, node_id: &str, now: i64) -> Result<IssuedSecret> {
        check_node_id(node_id)?;
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let current = current_version(&tx, node_id)?;
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
        self.cache_secret(node_id, next, &secret);
        Ok(IssuedSecret {
            node_id: node_id.to_owned(),
            key_version: next,
            secret,
        })
    }

    /// End the rotation grace now: every version but the newest stops being
    /// valid (an operator who rotated because the old secret leaked must not
    /// wait 24 h). Returns (current version, versions that were still valid).
    pub fn revoke_previous(&self, node_id: &str, now: i64) -> Result<(u32, u32)> {
        check_node_id(node_id)?;
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let current = current_version(&tx, node_id)?;
        let revoked = tx
            .execute(
                "UPDATE node_secrets SET not_after = ?3
                 WHERE node_id = ?1 AND version < ?2 AND (not_after IS NULL OR not_after > ?3)",
                params![node_id, current, now],
            )
            .map_err(sql_err)?;
        audit(&tx, now, "previous_secret_revoked", node_id, "admin", None)?;
        tx.commit().map_err(sql_err)?;
        self.forget_secrets(node_id, |v| v < current);
        Ok((current, u32::try_from(revoked).unwrap_or(u32::MAX)))
    }

    /// Unregister a node: its secrets stop at once (sealed bytes deleted), and
    /// every live pending credential that names it ends (expired, stored
    /// envelopes deleted) — a pending for a set of nodes is never left to
    /// be sealed to a subset. Consumed targets stay consumed. Returns how
    /// many pendings were ended.
    pub fn delete_node(&self, node_id: &str, now: i64) -> Result<u32> {
        check_node_id(node_id)?;
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let current = current_version(&tx, node_id)?;
        let live = "SELECT t.pending_id FROM targets t JOIN pendings p USING (pending_id)
                    WHERE t.node_id = ?1 AND p.expired = 0";
        tx.execute(
            &format!(
                "UPDATE targets SET state = ?2, envelope = NULL, updated_at = ?3
                 WHERE state != ?4 AND pending_id IN ({live})"
            ),
            params![node_id, TargetState::Expired, now, TargetState::Consumed],
        )
        .map_err(sql_err)?;
        // A pending whose every target consumed is done, not ended.
        let ended = tx
            .execute(
                &format!(
                    "UPDATE pendings SET expired = 1, expires_at = MIN(expires_at, ?2)
                     WHERE pending_id IN ({live}) AND EXISTS
                       (SELECT 1 FROM targets u
                        WHERE u.pending_id = pendings.pending_id AND u.state != ?3)"
                ),
                params![node_id, now, TargetState::Consumed],
            )
            .map_err(sql_err)?;
        // Versions stay as retired rows (see `add_node`).
        tx.execute(
            "UPDATE node_secrets SET not_after = MIN(COALESCE(not_after, ?2), ?2)
             WHERE node_id = ?1",
            params![node_id, now],
        )
        .map_err(sql_err)?;
        tx.execute("DELETE FROM nodes WHERE node_id = ?1", [node_id])
            .map_err(sql_err)?;
        audit(&tx, now, "node_deleted", node_id, "admin", None)?;
        tx.commit().map_err(sql_err)?;
        self.forget_secrets(node_id, |_| true);
        // Every version is retired now, so these records are never read
        // again; deleting them is clean-up, and a failure is only logged.
        for v in 1..=current {
            if let Err(e) = self
                .keystore
                .delete_record(Purpose::RelayHmacSecret, &record_id(node_id, v))
            {
                eprintln!("sealpass-relay: deleting a node secret record: {e}");
            }
        }
        Ok(u32::try_from(ended).unwrap_or(u32::MAX))
    }

    /// Drop opened secrets of `node_id` whose version matches `which` (a
    /// re-registered node must never meet its predecessor's cached secret).
    fn forget_secrets(&self, node_id: &str, which: impl Fn(u32) -> bool) {
        if let Ok(mut cache) = self.secret_cache.lock() {
            cache.retain(|(n, v), _| n != node_id || !which(*v));
        }
    }

    /// What the signing headers prove without the body: the timestamp
    /// window (8703), which says nothing about who is registered. Run
    /// before a body is read; whether the caller and key version exist is
    /// left to [`Store::verify_node_request`], which answers an unknown one
    /// exactly like a wrong MAC. Failures are counted.
    pub fn precheck_node_request(
        &self,
        headers: &SignatureHeaders,
        route: &str,
        now: i64,
    ) -> Result<()> {
        let Err(e) = check_window(headers, now) else {
            return Ok(());
        };
        let c = self.conn()?;
        let actor = bounded_actor(&c, Some(&headers.caller));
        let _ = count_failure(&c, now, "node_auth_failed", &actor, route, e.code());
        Err(e)
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
            used_dummy: Cell::new(false),
        };
        let replay = SqlReplay { conn: &c };
        let out = Verifier::new()
            .verify(headers, method, path_and_query, body, now, &source, &replay)
            .and_then(|v| {
                // Unreachable in practice (nobody knows the dummy key), but
                // a dummy must never authenticate anyone.
                if source.used_dummy.get() {
                    Err(mac_mismatch())
                } else {
                    Ok(v)
                }
            });
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

    /// The opened secret of (node, version) if the cache holds it. The
    /// request path only ever asks this: it never reads the keystore, so
    /// an unauthenticated probe costs the same work (and writes no keystore
    /// audit row) whether or not the id is registered.
    fn cached_secret(&self, node_id: &str, version: u32) -> Option<Zeroizing<Vec<u8>>> {
        let cache = self.secret_cache.lock().ok()?;
        cache.get(&(node_id.to_owned(), version)).cloned()
    }

    fn cache_secret(&self, node_id: &str, version: u32, secret: &Zeroizing<Vec<u8>>) {
        if let Ok(mut cache) = self.secret_cache.lock() {
            cache.insert((node_id.to_owned(), version), secret.clone());
        }
    }

    /// Bring the secret cache in line with the database: open (from the
    /// keystore) at most `max_loads` valid (node, version) secrets it lacks
    /// — those added or rotated by the `sealpass-relay node …` ops CLI
    /// beside the running relay — and drop the ones no longer valid. Run
    /// at start (unbounded) and on every sweep (bounded). A record that
    /// cannot be opened is reported and skipped: its pair verifies against
    /// the dummy key until a later refresh opens it.
    pub fn refresh_secrets(&self, now: i64, max_loads: usize) -> Result<SecretRefresh> {
        let valid = |c: &Connection| -> Result<std::collections::HashSet<(String, u32)>> {
            let mut st = c
                .prepare(
                    "SELECT s.node_id, s.version FROM node_secrets s JOIN nodes n USING (node_id)
                     WHERE s.not_after IS NULL OR s.not_after > ?1",
                )
                .map_err(sql_err)?;
            let rows = st
                .query_map([now], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))
                .map_err(sql_err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(sql_err)
        };
        // 1. What is missing (database lock held briefly).
        let missing: Vec<(String, u32)> = {
            let c = self.conn()?;
            let want = valid(&c)?;
            let cache = self
                .secret_cache
                .lock()
                .map_err(|_| Error::new(Code::Internal, "secret cache lock poisoned"))?;
            let failures = self
                .secret_failures
                .lock()
                .map_err(|_| Error::new(Code::Internal, "secret cache lock poisoned"))?;
            let mut m: Vec<_> = want
                .into_iter()
                .filter(|k| !cache.contains_key(k))
                .collect();
            // Ones that failed before go last.
            m.sort_by_cached_key(|k| (failures.contains(k), k.clone()));
            m
        };
        // 2. Open up to `max_loads` of them without holding the database.
        let mut opened = Vec::new();
        let mut failed = 0usize;
        for (node_id, version) in missing.iter().take(max_loads) {
            match self
                .keystore
                .get_record(Purpose::RelayHmacSecret, &record_id(node_id, *version))
            {
                Ok(s) => opened.push(((node_id.clone(), *version), s)),
                Err(e) => {
                    failed += 1;
                    if let Ok(mut f) = self.secret_failures.lock() {
                        f.insert((node_id.clone(), *version));
                    }
                    eprintln!(
                        "sealpass-relay: cannot open the HMAC secret of node {node_id:?} v{version}: {}",
                        e.code().number()
                    );
                }
            }
        }
        // 3. Install what is still valid and prune the rest, under the
        // database lock: add/rotate/revoke/delete change the cache under it
        // too, so nothing they did in between is undone here.
        let c = self.conn()?;
        let want = valid(&c)?;
        let mut cache = self
            .secret_cache
            .lock()
            .map_err(|_| Error::new(Code::Internal, "secret cache lock poisoned"))?;
        let mut loaded = 0usize;
        for (k, s) in opened {
            if want.contains(&k) && !cache.contains_key(&k) {
                cache.insert(k, s);
                loaded += 1;
            }
        }
        cache.retain(|k, _| want.contains(k));
        if let Ok(mut f) = self.secret_failures.lock() {
            f.retain(|k| want.contains(k) && !cache.contains_key(k));
        }
        let pending = want.iter().filter(|k| !cache.contains_key(*k)).count();
        drop(cache);
        drop(c);
        Ok(SecretRefresh {
            loaded,
            failed,
            pending,
        })
    }
}

/// The newest secret version of a registered node (404/8602 if none,
/// also for a deleted one).
fn current_version(c: &Connection, node_id: &str) -> Result<u32> {
    let current: Option<u32> = c
        .query_row(
            "SELECT MAX(s.version) FROM node_secrets s JOIN nodes n USING (node_id)
             WHERE s.node_id = ?1",
            [node_id],
            |r| r.get(0),
        )
        .map_err(sql_err)?;
    current.ok_or_else(|| Error::new(Code::NotFound, "unknown node"))
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

/// The verifier's secrets. For a caller or key version with no valid
/// secret it hands out the store's dummy key instead of "none": the MAC is
/// computed and compared as for a real node and fails as a wrong MAC
/// (8702), so registered ids and versions cannot be enumerated.
struct Secrets<'a> {
    store: &'a SqliteStore,
    conn: &'a Connection,
    /// Set when the dummy key was handed out.
    used_dummy: Cell<bool>,
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
        let valid = match row {
            Some(None) => true,
            Some(Some(not_after)) => now < not_after,
            None => false,
        };
        // Only the cache: a valid pair the cache lacks (added by the ops
        // CLI since the last refresh) is treated like an unknown one.
        match valid
            .then(|| self.store.cached_secret(caller, key_version))
            .flatten()
        {
            Some(s) => Ok(Some(s)),
            None => {
                self.used_dummy.set(true);
                Ok(Some(self.store.dummy_secret.clone()))
            }
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

#[cfg(test)]
mod tests {
    use super::super::SqliteStore as Store;
    use crate::store::Limits;
    use sealpass_native::keystore::{KekConfig, Keystore};

    fn open(dir: &std::path::Path) -> std::sync::Arc<Store> {
        let ks = Keystore::open(dir, &KekConfig::new([7; 32], None)).unwrap();
        Store::open(&dir.join(super::super::db::DB_FILE), ks, Limits::default()).unwrap()
    }

    /// Secrets issued beside a running relay (the ops CLI: another store on
    /// the same data dir) are loaded at most `max_loads` per refresh, and
    /// retired ones are dropped from the cache.
    #[test]
    fn refresh_loads_a_bounded_number_and_drops_retired_ones() {
        let dir = tempfile::tempdir().unwrap();
        let relay = open(dir.path());
        let cli = open(dir.path());
        let now = 1_700_000_000;
        for id in ["a", "b", "c"] {
            cli.add_node(id, now).unwrap();
        }
        assert!(relay.cached_secret("a", 1).is_none());
        let r = relay.refresh_secrets(now, 2).unwrap();
        assert_eq!((r.loaded, r.failed, r.pending), (2, 0, 1));
        let r = relay.refresh_secrets(now, 2).unwrap();
        assert_eq!((r.loaded, r.failed, r.pending), (1, 0, 0));
        for id in ["a", "b", "c"] {
            assert!(relay.cached_secret(id, 1).is_some(), "{id}");
        }
        // Deleted (by the CLI) and revoked versions leave the cache.
        cli.delete_node("a", now).unwrap();
        cli.rotate_secret("b", now).unwrap();
        cli.revoke_previous("b", now).unwrap();
        let r = relay.refresh_secrets(now + 1, 64).unwrap();
        assert_eq!((r.loaded, r.pending), (1, 0));
        assert!(relay.cached_secret("a", 1).is_none());
        assert!(relay.cached_secret("b", 1).is_none());
        assert!(relay.cached_secret("b", 2).is_some());
        assert!(relay.cached_secret("c", 1).is_some());
        // In-process issuance is cached at once.
        let s = relay.rotate_secret("c", now + 1).unwrap();
        assert_eq!(
            relay.cached_secret("c", 2).map(|z| z.to_vec()),
            Some(s.secret.to_vec())
        );
    }
}
