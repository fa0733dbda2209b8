//! What the admin console reads and does beyond the node and pending
//! actions: the node list, cancelling a pending, the audit trail, and the
//! status of the keystore that seals the node secrets. Every answer is
//! bounded (pages, capped lists) and carries metadata only: never a secret,
//! a sealed blob or the admin token.

use rusqlite::{params, OptionalExtension};

use sealpass::error::{Code, Error, Result};
use sealpass::keys::PublicKey;
use sealpass_native::wire::{StatusView, TargetState};

use super::load::load;
use super::{audit_pending, immediate, sql_err, SqliteStore};
use crate::store::model::{
    is_valid_pending_id, rotation, AuditRow, DekInfo, KeyVersion, KeystoreView, NodeInfo, MAX_DEKS,
    MAX_KEY_VERSIONS, MAX_PAGE,
};
use crate::store::views::status_view;

impl SqliteStore {
    /// Registered nodes in id order after `after`, at most `limit`; the
    /// second value is the cursor of the next page.
    pub fn list_nodes(
        &self,
        after: Option<&str>,
        limit: usize,
        now: i64,
    ) -> Result<(Vec<NodeInfo>, Option<String>)> {
        let limit = limit.clamp(1, MAX_PAGE);
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT node_id, created_at, last_seen FROM nodes WHERE node_id > ?1
                 ORDER BY node_id LIMIT ?2",
            )
            .map_err(sql_err)?;
        let rows: Vec<(String, i64, i64)> = st
            .query_map(params![after.unwrap_or(""), limit as i64 + 1], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(sql_err)?
            .collect::<std::result::Result<_, _>>()
            .map_err(sql_err)?;
        let more = rows.len() > limit;
        let mut out = Vec::with_capacity(limit);
        for (node_id, created_at, last_seen) in rows.into_iter().take(limit) {
            let identity: Option<String> = c
                .query_row(
                    "SELECT identity_key FROM targets
                     WHERE node_id = ?1 AND identity_key IS NOT NULL
                     ORDER BY rowid DESC LIMIT 1",
                    [&node_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            let identity = identity
                .as_deref()
                .map(PublicKey::from_b64u)
                .transpose()
                .map_err(|_| Error::new(Code::RecordTampered, "stored identity key unreadable"))?;
            let mut vs = c
                .prepare(
                    "SELECT version, created_at, not_after FROM node_secrets
                     WHERE node_id = ?1 ORDER BY version DESC LIMIT ?2",
                )
                .map_err(sql_err)?;
            let key_versions: Vec<KeyVersion> = vs
                .query_map(params![node_id, MAX_KEY_VERSIONS as i64], |r| {
                    let not_after: Option<i64> = r.get(2)?;
                    Ok(KeyVersion {
                        version: r.get(0)?,
                        created_at: r.get(1)?,
                        not_after,
                        valid: not_after.map_or(true, |t| now < t),
                    })
                })
                .map_err(sql_err)?
                .collect::<std::result::Result<_, _>>()
                .map_err(sql_err)?;
            out.push(NodeInfo {
                online: last_seen > 0 && now - last_seen <= self.limits.offline_after_secs,
                last_seen: (last_seen > 0).then_some(last_seen),
                identity_key: identity.as_ref().map(PublicKey::to_b64u),
                identity_fingerprint: identity.as_ref().map(PublicKey::identity_fingerprint),
                key_version: key_versions.first().map_or(0, |v| v.version),
                key_versions,
                node_id,
                created_at,
            });
        }
        let next = if more {
            out.last().map(|n| n.node_id.clone())
        } else {
            None
        };
        Ok((out, next))
    }

    /// Cancel a pending credential: every target that has not consumed
    /// becomes `cancelled` (its stored envelope deleted), the pending takes
    /// no envelope and is listed to no node any more. Idempotent: a
    /// cancelled one is answered as it stands. 404 unknown, 410/8603
    /// expired, 409/8608 when every target already consumed.
    ///
    /// The second value: the targets that held an envelope at the cancel
    /// (`ciphertext_received`/`ciphertext_queued`): a node may have pulled
    /// it already, which no cancel recalls, so they "may already be
    /// delivered". Empty when the pending was already cancelled.
    pub fn cancel_pending(&self, pending_id: &str, now: i64) -> Result<(StatusView, Vec<String>)> {
        if !is_valid_pending_id(pending_id) {
            return Err(Error::new(Code::NotFound, "unknown pending id"));
        }
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let l = load(&tx, pending_id)?
            .ok_or_else(|| Error::new(Code::NotFound, "unknown pending id"))?;
        if l.row.cancelled_at.is_some() {
            return Ok((status_view(&l, now), Vec::new()));
        }
        if l.row.is_expired(now) {
            return Err(Error::new(Code::Expired, "pending credential expired"));
        }
        let sent: Vec<String> = l
            .targets
            .iter()
            .filter(|t| {
                matches!(
                    t.state,
                    TargetState::CiphertextReceived | TargetState::CiphertextQueued
                )
            })
            .map(|t| t.node_id.clone())
            .collect();
        if l.targets.iter().all(|t| t.state == TargetState::Consumed) {
            return Err(Error::new(
                Code::InvalidState,
                "every target already consumed; nothing to cancel",
            ));
        }
        tx.execute(
            "UPDATE targets SET state = ?2, envelope = NULL, updated_at = ?3
             WHERE pending_id = ?1 AND state != ?4",
            params![
                pending_id,
                TargetState::Cancelled,
                now,
                TargetState::Consumed
            ],
        )
        .map_err(sql_err)?;
        tx.execute(
            "UPDATE pendings SET expired = 1, cancelled_at = ?2 WHERE pending_id = ?1",
            params![pending_id, now],
        )
        .map_err(sql_err)?;
        audit_pending(&tx, now, "pending_cancelled", pending_id)?;
        let l =
            load(&tx, pending_id)?.ok_or_else(|| Error::new(Code::Internal, "pending vanished"))?;
        let view = status_view(&l, now);
        tx.commit().map_err(sql_err)?;
        Ok((view, sent))
    }

    /// Audit events newest first, with ids below `before`, at most `limit`;
    /// the second value is the cursor of the next (older) page.
    pub fn audit_page(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<(Vec<AuditRow>, Option<i64>)> {
        let limit = limit.clamp(1, MAX_PAGE);
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT id, at, event, actor, route, code, pending_id FROM audit WHERE id < ?1
                 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(sql_err)?;
        let mut rows: Vec<AuditRow> = st
            .query_map(params![before.unwrap_or(i64::MAX), limit as i64 + 1], |r| {
                Ok(AuditRow {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    event: r.get(2)?,
                    actor: r.get(3)?,
                    route: r.get(4)?,
                    code: r.get(5)?,
                    pending_id: r.get(6)?,
                })
            })
            .map_err(sql_err)?
            .collect::<std::result::Result<_, _>>()
            .map_err(sql_err)?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        Ok((rows, next))
    }

    /// The keystore's key hierarchy and last rotations (ids and counts
    /// only; reading it writes no keystore audit row).
    pub fn keystore_status(&self) -> Result<KeystoreView> {
        let s = self.keystore.status()?;
        let count = |name: &str| {
            s.records_by_purpose
                .iter()
                .find(|(p, _)| p == name)
                .map_or(0, |(_, n)| *n)
        };
        let mut deks: Vec<DekInfo> = s
            .deks
            .iter()
            .rev()
            .map(|d| DekInfo {
                dek_id: d.dek_id.clone(),
                kek_id: d.kek_id.clone(),
                state: d.state.clone(),
                created_at: d.created_at,
                retired_at: d.retired_at,
                records: d.records,
            })
            .collect();
        let deks_total = deks.len();
        deks.truncate(MAX_DEKS);
        Ok(KeystoreView {
            format_version: s.format_version,
            kek_id: s.kek_id.clone(),
            previous_kek_id: s.previous_kek_id.clone(),
            dev_insecure: s.dev_insecure,
            active_dek_id: s
                .deks
                .iter()
                .find(|d| d.state == "active")
                .map(|d| d.dek_id.clone()),
            deks,
            deks_total,
            node_secret_records: count(sealpass_native::keystore::Purpose::RelayHmacSecret.name()),
            records_total: s.records_by_purpose.iter().map(|(_, n)| n).sum(),
            last_dek_rotation: self.keystore.last_audit_ok("rotate-dek")?.map(rotation),
            last_kek_rotation: self.keystore.last_audit_ok("rotate-kek")?.map(rotation),
        })
    }
}
