//! Registered nodes, their versioned HMAC secrets (sealed in the database
//! under the KEK), signed-request verification and the shared replay cache.

use deadpool_postgres::Transaction;
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};
use sealpass_native::keystore::shared::SharedPurpose;
use sealpass_native::signing::{
    generate_secret, is_valid_caller, ReplayCache, SecretSource, SignatureHeaders, Verified,
    Verifier, ROTATION_GRACE_SECS, WINDOW_SECS,
};
use sealpass_native::wire::TargetState;

use super::{audit, begin, count_failure, pg, retry, version_of, Fail, PgStore, Scope};
use crate::store::model::{
    check_node_id, check_window, mac_mismatch, record_id, IssuedSecret, SecretRefresh,
};

type Res<T> = std::result::Result<T, Fail>;

impl PgStore {
    /// Register a node and issue its first secret (409/8604 if it exists).
    pub async fn add_node(&self, node_id: &str, now: i64) -> Result<IssuedSecret> {
        check_node_id(node_id)?;
        let secret = generate_secret()?;
        let version = retry(|| self.add_node_once(node_id, &secret, now)).await?;
        self.cache_secret(node_id, version, &secret);
        Ok(IssuedSecret {
            node_id: node_id.to_owned(),
            key_version: version,
            secret,
        })
    }

    async fn add_node_once(&self, node_id: &str, secret: &[u8], now: i64) -> Res<u32> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, Scope::Relay).await?;
        let inserted = tx
            .execute(
                "INSERT INTO nodes (node_id, created_at, last_seen) VALUES ($1, $2, 0)
                 ON CONFLICT (node_id) DO NOTHING",
                &[&node_id, &now],
            )
            .await
            .map_err(pg)?;
        if inserted != 1 {
            return Err(Error::new(Code::AlreadyUsed, "node already registered").into());
        }
        // A node id deleted before keeps its retired versions, so a
        // re-registered node starts after them: (node id, version) never
        // names two secrets, in this instance's cache or any other's.
        let retired: Option<i64> = tx
            .query_one(
                "SELECT MAX(version) FROM node_secrets WHERE node_id = $1",
                &[&node_id],
            )
            .await
            .map_err(pg)?
            .get(0);
        let version = version_of(retired.unwrap_or(0))?
            .checked_add(1)
            .ok_or_else(|| Error::new(Code::Internal, "key version overflow"))?;
        let sealed = self.kek.seal_shared(
            SharedPurpose::RelayHmacSecret,
            &record_id(node_id, version),
            secret,
        )?;
        tx.execute(
            "INSERT INTO node_secrets (node_id, version, created_at, not_after, sealed)
             VALUES ($1, $2, $3, NULL, $4)",
            &[&node_id, &i64::from(version), &now, &sealed],
        )
        .await
        .map_err(pg)?;
        audit(&tx, now, "node_added", node_id, "admin", None).await?;
        tx.commit().await.map_err(pg)?;
        Ok(version)
    }

    /// Issue version N+1; version N stays valid for 24 h, older ones stop now.
    pub async fn rotate_secret(&self, node_id: &str, now: i64) -> Result<IssuedSecret> {
        check_node_id(node_id)?;
        let secret = generate_secret()?;
        let next = retry(|| self.rotate_once(node_id, &secret, now)).await?;
        self.cache_secret(node_id, next, &secret);
        Ok(IssuedSecret {
            node_id: node_id.to_owned(),
            key_version: next,
            secret,
        })
    }

    async fn rotate_once(&self, node_id: &str, secret: &[u8], now: i64) -> Res<u32> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, Scope::Relay).await?;
        let current = current_version(&tx, node_id).await?;
        let next = current
            .checked_add(1)
            .ok_or_else(|| Error::new(Code::Internal, "key version overflow"))?;
        let sealed = self.kek.seal_shared(
            SharedPurpose::RelayHmacSecret,
            &record_id(node_id, next),
            secret,
        )?;
        tx.execute(
            "UPDATE node_secrets SET not_after = LEAST(COALESCE(not_after, $3), $3)
             WHERE node_id = $1 AND version < $2",
            &[&node_id, &i64::from(current), &now],
        )
        .await
        .map_err(pg)?;
        tx.execute(
            "UPDATE node_secrets SET not_after = $3 WHERE node_id = $1 AND version = $2",
            &[
                &node_id,
                &i64::from(current),
                &now.saturating_add(ROTATION_GRACE_SECS),
            ],
        )
        .await
        .map_err(pg)?;
        tx.execute(
            "INSERT INTO node_secrets (node_id, version, created_at, not_after, sealed)
             VALUES ($1, $2, $3, NULL, $4)",
            &[&node_id, &i64::from(next), &now, &sealed],
        )
        .await
        .map_err(pg)?;
        audit(&tx, now, "secret_rotated", node_id, "admin", None).await?;
        tx.commit().await.map_err(pg)?;
        Ok(next)
    }

    /// End the rotation grace now. Returns (current version, versions that
    /// were still valid).
    pub async fn revoke_previous(&self, node_id: &str, now: i64) -> Result<(u32, u32)> {
        check_node_id(node_id)?;
        let out = retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let current = current_version(&tx, node_id).await?;
            let revoked = tx
                .execute(
                    "UPDATE node_secrets SET not_after = $3
                     WHERE node_id = $1 AND version < $2 AND (not_after IS NULL OR not_after > $3)",
                    &[&node_id, &i64::from(current), &now],
                )
                .await
                .map_err(pg)?;
            audit(&tx, now, "previous_secret_revoked", node_id, "admin", None).await?;
            tx.commit().await.map_err(pg)?;
            Ok((current, u32::try_from(revoked).unwrap_or(u32::MAX)))
        })
        .await?;
        self.forget_secrets(node_id, |v| v < out.0);
        Ok(out)
    }

    /// Unregister a node: its secrets stop at once (sealed bytes deleted),
    /// every live pending naming it ends. Returns how many pendings ended.
    pub async fn delete_node(&self, node_id: &str, now: i64) -> Result<u32> {
        check_node_id(node_id)?;
        let ended = retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let live = "SELECT t.pending_id FROM targets t JOIN pendings p USING (pending_id)
                        WHERE t.node_id = $1 AND NOT p.expired";
            // The pendings' row locks first (in id order), then the node's
            // (current_version): the order posts take them in, so a delete
            // and a post never wait on each other the other way round.
            tx.execute(
                &format!(
                    "SELECT 1 FROM pendings WHERE pending_id IN ({live})
                     ORDER BY pending_id FOR UPDATE"
                ),
                &[&node_id],
            )
            .await
            .map_err(pg)?;
            current_version(&tx, node_id).await?;
            tx.execute(
                &format!(
                    "UPDATE targets SET state = $2, envelope = NULL, updated_at = $3
                     WHERE state != $4 AND pending_id IN ({live})"
                ),
                &[
                    &node_id,
                    &TargetState::Expired.as_str(),
                    &now,
                    &TargetState::Consumed.as_str(),
                ],
            )
            .await
            .map_err(pg)?;
            let ended = tx
                .execute(
                    &format!(
                        "UPDATE pendings SET expired = true, expires_at = LEAST(expires_at, $2)
                         WHERE pending_id IN ({live}) AND EXISTS
                           (SELECT 1 FROM targets u
                            WHERE u.pending_id = pendings.pending_id AND u.state != $3)"
                    ),
                    &[&node_id, &now, &TargetState::Consumed.as_str()],
                )
                .await
                .map_err(pg)?;
            // Versions stay as retired rows (see `add_node`); their sealed
            // bytes go now.
            tx.execute(
                "UPDATE node_secrets SET not_after = LEAST(COALESCE(not_after, $2), $2), sealed = NULL
                 WHERE node_id = $1",
                &[&node_id, &now],
            )
            .await
            .map_err(pg)?;
            tx.execute("DELETE FROM nodes WHERE node_id = $1", &[&node_id])
                .await
                .map_err(pg)?;
            audit(&tx, now, "node_deleted", node_id, "admin", None).await?;
            tx.commit().await.map_err(pg)?;
            Ok(u32::try_from(ended).unwrap_or(u32::MAX))
        })
        .await?;
        self.forget_secrets(node_id, |_| true);
        Ok(ended)
    }

    /// The timestamp window (8703), before a body is read; counted.
    pub async fn precheck_node_request(
        &self,
        headers: &SignatureHeaders,
        route: &str,
        now: i64,
    ) -> Result<()> {
        let Err(e) = check_window(headers, now) else {
            return Ok(());
        };
        // The answer is 8703 whether or not the count could be written.
        let _ = self
            .count_node_failure(Some(&headers.caller), route, e.code(), now)
            .await;
        Err(e)
    }

    /// Verify a signed node request, mark the node as seen, count a failure
    /// with a bounded actor. Runs in the caller's node scope: the secret
    /// and the node row are read under row-level security.
    pub async fn verify_node_request(
        &self,
        headers: &SignatureHeaders,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        route: &str,
        now: i64,
    ) -> Result<Verified> {
        let out = retry(|| self.verify_once(headers, method, path_and_query, body, now)).await;
        match out {
            Ok(v) => Ok(v),
            Err(e) => {
                // A database fault is not the caller's failure.
                if !matches!(e.code(), Code::StoreUnavailable | Code::Internal) {
                    let _ = self
                        .count_node_failure(Some(&headers.caller), route, e.code(), now)
                        .await;
                }
                Err(e)
            }
        }
    }

    async fn verify_once(
        &self,
        headers: &SignatureHeaders,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now: i64,
    ) -> Res<Verified> {
        let caller = headers.caller.as_str();
        if !is_valid_caller(caller) {
            // Nothing to look up; the verifier answers it as a wrong MAC
            // against the dummy key (or as malformed).
            return self.verify_with(headers, method, path_and_query, body, now, None);
        }
        let mut c = self.client().await?;
        let tx = begin(&mut c, Scope::Node(caller)).await?;
        let row = tx
            .query_opt(
                "SELECT s.not_after, s.sealed FROM node_secrets s JOIN nodes n USING (node_id)
                 WHERE s.node_id = $1 AND s.version = $2",
                &[&caller, &i64::from(headers.key_version)],
            )
            .await
            .map_err(pg)?;
        let secret = match row {
            Some(r) => {
                let not_after: Option<i64> = r.get(0);
                let sealed: Option<Vec<u8>> = r.get(1);
                let valid = not_after.map_or(true, |t| now < t);
                match (valid, sealed) {
                    (true, Some(blob)) => self.opened(caller, headers.key_version, &blob),
                    _ => None,
                }
            }
            None => None,
        };
        let v = self.verify_with(headers, method, path_and_query, body, now, secret)?;
        // Accepted by the MAC: now the replay cache decides, in the
        // database every instance shares (the primary key is the arbiter).
        let fresh = tx
            .execute(
                "INSERT INTO replay (signature, expires_at) VALUES ($1, $2)
                 ON CONFLICT (signature) DO UPDATE SET expires_at = EXCLUDED.expires_at
                 WHERE replay.expires_at < $3",
                &[
                    &&headers.signature[..],
                    &headers.timestamp.saturating_add(WINDOW_SECS),
                    &now,
                ],
            )
            .await
            .map_err(pg)?;
        if fresh != 1 {
            return Err(Error::new(Code::SignatureReplayed, "signature already used").into());
        }
        tx.execute(
            "UPDATE nodes SET last_seen = GREATEST(last_seen, $2) WHERE node_id = $1",
            &[&caller, &now],
        )
        .await
        .map_err(pg)?;
        tx.commit().await.map_err(pg)?;
        Ok(v)
    }

    /// The verifier over `secret` (the dummy key when `None`): the MAC is
    /// computed and compared either way, so unknown callers and versions
    /// answer exactly like a wrong MAC. The replay check is left to the
    /// database ([`PgStore::verify_once`]).
    fn verify_with(
        &self,
        headers: &SignatureHeaders,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now: i64,
        secret: Option<Zeroizing<Vec<u8>>>,
    ) -> Res<Verified> {
        let is_dummy = secret.is_none();
        let source = OneSecret {
            secret: secret.unwrap_or_else(|| self.dummy_secret.clone()),
        };
        let v = Verifier::new().verify(
            headers,
            method,
            path_and_query,
            body,
            now,
            &source,
            &DatabaseDecides,
        )?;
        // Unreachable in practice (nobody knows the dummy key), but a
        // dummy must never authenticate anyone.
        if is_dummy {
            return Err(mac_mismatch().into());
        }
        Ok(v)
    }

    /// Count a node-auth failure; the actor is the caller only if it is a
    /// registered node (so junk ids cannot grow the counters).
    pub async fn count_node_failure(
        &self,
        caller: Option<&str>,
        route: &str,
        code: Code,
        now: i64,
    ) -> Result<()> {
        retry(|| async {
            let mut c = self.client().await?;
            let scope = caller.filter(|id| is_valid_caller(id));
            let tx = match scope {
                Some(id) => begin(&mut c, Scope::Node(id)).await?,
                None => begin(&mut c, Scope::Relay).await?,
            };
            let known = match scope {
                Some(id) => tx
                    .query_opt("SELECT 1 FROM nodes WHERE node_id = $1", &[&id])
                    .await
                    .map_err(pg)?
                    .is_some(),
                None => false,
            };
            let actor = match (known, scope) {
                (true, Some(id)) => id,
                _ => "unknown",
            };
            count_failure(&tx, now, "node_auth_failed", actor, route, code).await?;
            tx.commit().await.map_err(pg)?;
            Ok(())
        })
        .await
    }

    /// Open and cache every valid secret the cache lacks (at most
    /// `max_loads`) and drop cached ones no longer valid. Requests also
    /// open a secret on a cache miss (another instance may have issued
    /// it), so this only warms the cache. Re-sealing under a new KEK is an
    /// operator's step ([`PgStore::reseal_all`]): done here, instances
    /// mid-rotation with the KEKs the other way round would re-seal back
    /// and forth.
    pub async fn refresh_secrets(&self, now: i64, max_loads: usize) -> Result<SecretRefresh> {
        let rows = retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let rows = tx
                .query(
                    "SELECT s.node_id, s.version, s.sealed FROM node_secrets s JOIN nodes n USING (node_id)
                     WHERE (s.not_after IS NULL OR s.not_after > $1) AND s.sealed IS NOT NULL
                     ORDER BY s.node_id, s.version",
                    &[&now],
                )
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push((r.get::<_, String>(0), version_of(r.get(1))?, r.get::<_, Vec<u8>>(2)));
            }
            Ok(out)
        })
        .await?;
        let want: std::collections::HashSet<(String, u32)> =
            rows.iter().map(|(n, v, _)| (n.clone(), *v)).collect();
        let (mut loaded, mut failed) = (0usize, 0usize);
        for (node_id, version, blob) in &rows {
            if loaded >= max_loads || self.cached_secret(node_id, *version).is_some() {
                continue;
            }
            match self.kek.open_shared(
                SharedPurpose::RelayHmacSecret,
                &record_id(node_id, *version),
                blob,
            ) {
                Ok(s) => {
                    self.cache_secret(node_id, *version, &s);
                    loaded += 1;
                }
                Err(e) => {
                    failed += 1;
                    self.report_unopenable(node_id, *version, e.code());
                }
            }
        }
        if let Ok(mut cache) = self.secret_cache.lock() {
            cache.retain(|k, _| want.contains(k));
        }
        let pending = want
            .iter()
            .filter(|(n, v)| self.cached_secret(n, *v).is_none())
            .count()
            .saturating_sub(failed);
        Ok(SecretRefresh {
            loaded,
            failed,
            pending,
        })
    }

    /// Re-seal under the current KEK every node secret and the admin token
    /// still sealed under the previous one (`sealpass-relay reseal`, the
    /// KEK rotation's step 3 in docs/OPERATIONS.md). Each row is guarded
    /// by its old bytes, so running it on two instances at once is safe.
    /// Returns (secrets re-sealed, admin token re-sealed); a record that
    /// opens under neither KEK is an error (8502), nothing after it done.
    pub async fn reseal_all(&self) -> Result<(usize, bool)> {
        let rows = retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let rows = tx
                .query(
                    "SELECT node_id, version, sealed FROM node_secrets WHERE sealed IS NOT NULL
                     ORDER BY node_id, version",
                    &[],
                )
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push((
                    r.get::<_, String>(0),
                    version_of(r.get(1))?,
                    r.get::<_, Vec<u8>>(2),
                ));
            }
            Ok(out)
        })
        .await?;
        let mut done = 0usize;
        for (node_id, version, old) in rows {
            if self.kek.is_sealed_under_current(&old) {
                continue;
            }
            let id = record_id(&node_id, version);
            let pt = self
                .kek
                .open_shared(SharedPurpose::RelayHmacSecret, &id, &old)?;
            let new = self
                .kek
                .seal_shared(SharedPurpose::RelayHmacSecret, &id, &pt)?;
            let changed = retry(|| async {
                let mut c = self.client().await?;
                let tx = begin(&mut c, Scope::Relay).await?;
                let n = tx
                    .execute(
                        "UPDATE node_secrets SET sealed = $3 WHERE node_id = $1 AND version = $2 AND sealed = $4",
                        &[&node_id, &i64::from(version), &new, &old],
                    )
                    .await
                    .map_err(pg)?;
                tx.commit().await.map_err(pg)?;
                Ok(n)
            })
            .await?;
            done += usize::try_from(changed).unwrap_or(0);
        }
        let token = self.reseal_admin_token().await?;
        Ok((done, token))
    }

    /// The opened secret of (node, version): from the cache, else opened
    /// from `blob` and cached (versions are never reused, so a cached
    /// pair never goes stale; validity is checked by the caller).
    fn opened(&self, node_id: &str, version: u32, blob: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if let Some(s) = self.cached_secret(node_id, version) {
            return Some(s);
        }
        match self.kek.open_shared(
            SharedPurpose::RelayHmacSecret,
            &record_id(node_id, version),
            blob,
        ) {
            Ok(s) => {
                self.cache_secret(node_id, version, &s);
                Some(s)
            }
            Err(e) => {
                self.report_unopenable(node_id, version, e.code());
                None
            }
        }
    }

    /// Say once per secret that it would not open (a KEK this instance
    /// lacks): anyone can send requests naming the node, and every sweep
    /// tries again, so each would otherwise write a line.
    fn report_unopenable(&self, node_id: &str, version: u32, code: Code) {
        let first = self
            .unopenable
            .lock()
            .is_ok_and(|mut seen| seen.insert((node_id.to_owned(), version)));
        if first {
            eprintln!(
                "sealpass-relay: cannot open the HMAC secret of node {node_id:?} v{version}: {} (said once)",
                code.number()
            );
        }
    }

    pub(crate) fn cached_secret(&self, node_id: &str, version: u32) -> Option<Zeroizing<Vec<u8>>> {
        let cache = self.secret_cache.lock().ok()?;
        cache.get(&(node_id.to_owned(), version)).cloned()
    }

    fn cache_secret(&self, node_id: &str, version: u32, secret: &Zeroizing<Vec<u8>>) {
        if let Ok(mut cache) = self.secret_cache.lock() {
            cache.insert((node_id.to_owned(), version), secret.clone());
        }
    }

    fn forget_secrets(&self, node_id: &str, which: impl Fn(u32) -> bool) {
        if let Ok(mut cache) = self.secret_cache.lock() {
            cache.retain(|(n, v), _| n != node_id || !which(*v));
        }
    }
}

/// The newest secret version of a registered node (404/8602 if none).
/// Takes the node row's lock: rotations and deletes of one node are
/// serialised across instances.
async fn current_version(tx: &Transaction<'_>, node_id: &str) -> Res<u32> {
    let locked = tx
        .query_opt(
            "SELECT 1 FROM nodes WHERE node_id = $1 FOR UPDATE",
            &[&node_id],
        )
        .await
        .map_err(pg)?;
    if locked.is_none() {
        return Err(Error::new(Code::NotFound, "unknown node").into());
    }
    let current: Option<i64> = tx
        .query_one(
            "SELECT MAX(version) FROM node_secrets WHERE node_id = $1",
            &[&node_id],
        )
        .await
        .map_err(pg)?
        .get(0);
    match current {
        Some(v) => version_of(v),
        None => Err(Error::new(Code::NotFound, "unknown node").into()),
    }
}

/// The one secret the verifier may use for this request.
struct OneSecret {
    secret: Zeroizing<Vec<u8>>,
}

impl SecretSource for OneSecret {
    fn secret(
        &self,
        _caller: &str,
        _version: u32,
        _now: i64,
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        Ok(Some(self.secret.clone()))
    }
}

/// The verifier's replay step passes; the shared table decides after it.
struct DatabaseDecides;

impl ReplayCache for DatabaseDecides {
    fn check_and_insert(&self, _signature: &[u8; 32], _expires_at: i64, _now: i64) -> Result<bool> {
        Ok(true)
    }
}
