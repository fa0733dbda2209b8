//! What the admin console reads and does beyond the node and pending
//! actions (see the SQLite store for the contract): the node list,
//! cancelling a pending, the audit trail, how node secrets are sealed.

use sealpass::error::{Code, Error, Result};
use sealpass::keys::PublicKey;
use sealpass_native::wire::{StatusView, TargetState};

use super::pending::load;
use super::{audit_pending, begin, pg, retry, version_of, PgStore, Scope};
use crate::store::model::{
    is_valid_pending_id, AuditRow, KeyVersion, KeystoreView, NodeInfo, MAX_KEY_VERSIONS, MAX_PAGE,
};
use crate::store::views::status_view;

impl PgStore {
    /// Registered nodes in id order after `after`, at most `limit`; the
    /// second value is the cursor of the next page.
    pub async fn list_nodes(
        &self,
        after: Option<&str>,
        limit: usize,
        now: i64,
    ) -> Result<(Vec<NodeInfo>, Option<String>)> {
        let limit = limit.clamp(1, MAX_PAGE);
        let offline_after = self.limits.offline_after_secs;
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let rows = tx
                .query(
                    "SELECT node_id, created_at, last_seen FROM nodes WHERE node_id > $1
                     ORDER BY node_id LIMIT $2",
                    &[&after.unwrap_or(""), &(limit as i64 + 1)],
                )
                .await
                .map_err(pg)?;
            let more = rows.len() > limit;
            let mut out = Vec::with_capacity(limit);
            for r in rows.into_iter().take(limit) {
                let node_id: String = r.get(0);
                let created_at: i64 = r.get(1);
                let last_seen: i64 = r.get(2);
                let identity: Option<String> = tx
                    .query_opt(
                        "SELECT identity_key FROM targets
                         WHERE node_id = $1 AND identity_key IS NOT NULL
                         ORDER BY seq DESC LIMIT 1",
                        &[&node_id],
                    )
                    .await
                    .map_err(pg)?
                    .map(|r| r.get(0));
                let identity = identity
                    .as_deref()
                    .map(PublicKey::from_b64u)
                    .transpose()
                    .map_err(|_| {
                        Error::new(Code::RecordTampered, "stored identity key unreadable")
                    })?;
                let vs = tx
                    .query(
                        "SELECT version, created_at, not_after FROM node_secrets
                         WHERE node_id = $1 ORDER BY version DESC LIMIT $2",
                        &[&node_id, &(MAX_KEY_VERSIONS as i64)],
                    )
                    .await
                    .map_err(pg)?;
                let mut key_versions = Vec::with_capacity(vs.len());
                for v in vs {
                    let not_after: Option<i64> = v.get(2);
                    key_versions.push(KeyVersion {
                        version: version_of(v.get(0))?,
                        created_at: v.get(1),
                        not_after,
                        valid: not_after.map_or(true, |t| now < t),
                    });
                }
                out.push(NodeInfo {
                    online: last_seen > 0 && now - last_seen <= offline_after,
                    last_seen: (last_seen > 0).then_some(last_seen),
                    identity_key: identity.as_ref().map(PublicKey::to_b64u),
                    identity_fingerprint: identity.as_ref().map(PublicKey::identity_fingerprint),
                    key_version: key_versions.first().map_or(0, |v| v.version),
                    key_versions,
                    node_id,
                    created_at,
                });
            }
            tx.commit().await.map_err(pg)?;
            let next = if more {
                out.last().map(|n| n.node_id.clone())
            } else {
                None
            };
            Ok((out, next))
        })
        .await
    }

    /// Cancel a pending credential (idempotent; 404, 410/8603, 409/8608).
    /// The second value: targets that held an envelope at the cancel.
    pub async fn cancel_pending(
        &self,
        pending_id: &str,
        now: i64,
    ) -> Result<(StatusView, Vec<String>)> {
        if !is_valid_pending_id(pending_id) {
            return Err(Error::new(Code::NotFound, "unknown pending id"));
        }
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let l = load(&tx, pending_id, true)
                .await?
                .ok_or_else(|| Error::new(Code::NotFound, "unknown pending id"))?;
            if l.row.cancelled_at.is_some() {
                return Ok((status_view(&l, now), Vec::new()));
            }
            if l.row.is_expired(now) {
                return Err(Error::new(Code::Expired, "pending credential expired").into());
            }
            let sent: Vec<String> = l
                .targets
                .iter()
                .filter(|t| t.state.envelope_in_flight())
                .map(|t| t.node_id.clone())
                .collect();
            if l.targets.iter().all(|t| t.state == TargetState::Consumed) {
                return Err(Error::new(
                    Code::InvalidState,
                    "every target already consumed; nothing to cancel",
                )
                .into());
            }
            tx.execute(
                "UPDATE targets SET state = $2, envelope = NULL, updated_at = $3
                 WHERE pending_id = $1 AND state != $4",
                &[
                    &pending_id,
                    &TargetState::Cancelled.as_str(),
                    &now,
                    &TargetState::Consumed.as_str(),
                ],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "UPDATE pendings SET expired = true, cancelled_at = $2 WHERE pending_id = $1",
                &[&pending_id, &now],
            )
            .await
            .map_err(pg)?;
            audit_pending(&tx, now, "pending_cancelled", pending_id).await?;
            let l = load(&tx, pending_id, false)
                .await?
                .ok_or_else(|| Error::new(Code::Internal, "pending vanished"))?;
            tx.commit().await.map_err(pg)?;
            Ok((status_view(&l, now), sent))
        })
        .await
    }

    /// Audit events newest first, with ids below `before`, at most `limit`.
    pub async fn audit_page(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<(Vec<AuditRow>, Option<i64>)> {
        let limit = limit.clamp(1, MAX_PAGE);
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let rows = tx
                .query(
                    "SELECT id, at, event, actor, route, code, pending_id FROM audit WHERE id < $1
                     ORDER BY id DESC LIMIT $2",
                    &[&before.unwrap_or(i64::MAX), &(limit as i64 + 1)],
                )
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            let mut out: Vec<AuditRow> = rows
                .iter()
                .map(|r| AuditRow {
                    id: r.get(0),
                    at: r.get(1),
                    event: r.get(2),
                    actor: r.get(3),
                    route: r.get(4),
                    code: r
                        .get::<_, Option<i32>>(5)
                        .and_then(|c| u16::try_from(c).ok()),
                    pending_id: r.get(6),
                })
                .collect();
            let more = out.len() > limit;
            out.truncate(limit);
            let next = if more { out.last().map(|r| r.id) } else { None };
            Ok((out, next))
        })
        .await
    }

    /// How node secrets are sealed here: straight under the KEK (no DEKs),
    /// with counts of the sealed records (ids and counts only).
    pub async fn keystore_status(&self) -> Result<KeystoreView> {
        let (secrets, total): (i64, i64) = retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let r = tx
                .query_one(
                    "SELECT (SELECT COUNT(*) FROM node_secrets WHERE sealed IS NOT NULL),
                            (SELECT COUNT(*) FROM shared_secrets)",
                    &[],
                )
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            let (a, b): (i64, i64) = (r.get(0), r.get(1));
            Ok((a, a + b))
        })
        .await?;
        Ok(KeystoreView {
            format_version: sealpass_native::keystore::shared::SHARED_FORMAT,
            kek_id: self.kek.kek_id().to_owned(),
            previous_kek_id: self.kek.previous_kek_id().map(str::to_owned),
            dev_insecure: self.kek.is_dev_insecure(),
            active_dek_id: None,
            deks: Vec::new(),
            deks_total: 0,
            node_secret_records: u64::try_from(secrets).unwrap_or(0),
            records_total: u64::try_from(total).unwrap_or(0),
            last_dek_rotation: None,
            last_kek_rotation: None,
        })
    }
}
