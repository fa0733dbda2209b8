//! Creating pending credentials, reading them, and the node's key posting.

use rusqlite::{params, OptionalExtension};

use sealpass::error::{Code, Error, Result};
use sealpass::keys::PublicKey;
use sealpass_native::wire::{
    CreatePending, NodePending, PendingView, StatusView, TargetState, WireContext,
};

use super::load::load;
use super::{audit, audit_pending, immediate, sql_err, SqliteStore};
use crate::store::model::{check_create, is_valid_pending_id, unregistered};
use crate::store::views::{self, pending_view, status_view};

impl SqliteStore {
    /// Create a pending credential with one target per node.
    pub fn create_pending(&self, p: &CreatePending, now: i64) -> Result<StatusView> {
        let (pending_id, ttl) = check_create(p, self.limits)?;
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        for n in &p.node_ids {
            let known = tx
                .query_row("SELECT 1 FROM nodes WHERE node_id = ?1", [n], |_| Ok(()))
                .optional()
                .map_err(sql_err)?
                .is_some();
            if !known {
                return Err(unregistered(n));
            }
        }
        tx.execute(
            "INSERT INTO pendings (pending_id, slug, injection_method, field_name, target_url,
                                   created_at, expires_at, expired)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
            params![
                pending_id,
                p.slug,
                p.injection_method,
                p.field_name.as_deref().unwrap_or(""),
                p.target_url.as_deref().unwrap_or(""),
                now,
                now.saturating_add(ttl)
            ],
        )
        .map_err(sql_err)?;
        for n in &p.node_ids {
            tx.execute(
                "INSERT INTO targets (pending_id, node_id, state, updated_at) VALUES (?1, ?2, ?3, ?4)",
                params![pending_id, n, TargetState::AwaitingPubkey, now],
            )
            .map_err(sql_err)?;
        }
        audit_pending(&tx, now, "pending_created", &pending_id)?;
        let l = load(&tx, &pending_id)?
            .ok_or_else(|| Error::new(Code::Internal, "pending vanished"))?;
        let view = status_view(&l, now);
        tx.commit().map_err(sql_err)?;
        Ok(view)
    }

    /// The sealing side's view: 404, 410, 409/8009 until every key is posted.
    pub fn pending_for_sealing(&self, pending_id: &str, now: i64) -> Result<PendingView> {
        let c = self.conn()?;
        let l = load_live(&c, pending_id, now)?;
        if l.targets
            .iter()
            .any(|t| t.state == TargetState::AwaitingPubkey)
        {
            return Err(Error::new(
                Code::PubkeyAwaiting,
                "not every node has posted its public key yet; retry with backoff",
            ));
        }
        pending_view(&l, now)
    }

    /// States only (works after expiry too).
    pub fn status(&self, pending_id: &str, now: i64) -> Result<StatusView> {
        let c = self.conn()?;
        if !is_valid_pending_id(pending_id) {
            return Err(Error::new(Code::NotFound, "unknown pending id"));
        }
        let l = load(&c, pending_id)?
            .ok_or_else(|| Error::new(Code::NotFound, "unknown pending id"))?;
        Ok(status_view(&l, now))
    }

    /// The node posts its one-time public key and the identity key it is
    /// bound to (idempotent for the same pair; docs/PINNING.md §1).
    pub fn post_pubkey(
        &self,
        node_id: &str,
        pending_id: &str,
        public_key: &str,
        identity_key: Option<&str>,
        now: i64,
    ) -> Result<TargetState> {
        let key = PublicKey::from_b64u(public_key)?;
        let canonical = key.to_b64u();
        let identity = identity_key
            .map(PublicKey::from_b64u)
            .transpose()?
            .map(|k| k.to_b64u());
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let l = load_live_for_node(&tx, pending_id, now)?;
        let t = l.target(node_id)?;
        if t.state == TargetState::AwaitingPubkey {
            let to = TargetState::PubkeyPosted;
            tx.execute(
                "UPDATE targets SET state = ?3, public_key = ?4, identity_key = ?7, updated_at = ?5
                 WHERE pending_id = ?1 AND node_id = ?2 AND state = ?6",
                params![
                    pending_id,
                    node_id,
                    to,
                    canonical,
                    now,
                    TargetState::AwaitingPubkey,
                    identity
                ],
            )
            .map_err(sql_err)?;
            // The audit event is named after the state the target moved to.
            audit(&tx, now, to.as_str(), node_id, "node", None)?;
            tx.commit().map_err(sql_err)?;
            return Ok(to);
        }
        if t.public_key.as_deref() == Some(canonical.as_str()) && t.identity_key == identity {
            return Ok(t.state);
        }
        Err(Error::new(
            Code::InvalidState,
            "a different public key or identity was already posted",
        ))
    }

    /// Live targets of one node.
    pub fn node_pending(&self, node_id: &str, now: i64) -> Result<Vec<NodePending>> {
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT t.pending_id FROM targets t JOIN pendings p USING (pending_id)
                 WHERE t.node_id = ?1 AND t.state NOT IN (?2, ?3)
                   AND p.expired = 0 AND p.expires_at > ?4
                 ORDER BY p.created_at, t.pending_id LIMIT 1000",
            )
            .map_err(sql_err)?;
        let ids = st
            .query_map(
                params![node_id, TargetState::Consumed, TargetState::Expired, now],
                |r| r.get::<_, String>(0),
            )
            .map_err(sql_err)?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(l) = load(&c, &id)? else { continue };
            let Some(t) = l.targets.iter().find(|t| t.node_id == node_id) else {
                continue;
            };
            out.push(NodePending {
                pending_id: id.clone(),
                state: t.state,
                expires_at: l.row.expires_at,
                needs_pubkey: t.state == TargetState::AwaitingPubkey,
                context: WireContext::raw(&l.row.context(node_id)?)?,
            });
        }
        Ok(out)
    }
}

/// Load a pending that is live ([`views::live`]; 404 for a malformed id).
pub(super) fn load_live(
    c: &rusqlite::Connection,
    pending_id: &str,
    now: i64,
) -> Result<views::Loaded> {
    if !is_valid_pending_id(pending_id) {
        return Err(Error::new(Code::NotFound, "unknown pending id"));
    }
    views::live(load(c, pending_id)?, now)
}

/// [`load_live`] as the node routes see it ([`views::live_for_node`]).
pub(super) fn load_live_for_node(
    c: &rusqlite::Connection,
    pending_id: &str,
    now: i64,
) -> Result<views::Loaded> {
    if !is_valid_pending_id(pending_id) {
        return Err(Error::new(Code::NotFound, "unknown pending id"));
    }
    views::live_for_node(load(c, pending_id)?, now)
}
