//! Loading a pending credential and shaping it for the API; the aggregate
//! state is computed from the per-target states, never stored.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::context::Context;
use crate::error::{Code, Error, Result};
use crate::keys::PublicKey;

use super::sql_err;
use super::state::*;

pub(super) struct PendingRow {
    pub pending_id: String,
    pub slug: String,
    pub injection_method: String,
    pub field_name: String,
    pub target_url: String,
    pub expires_at: i64,
    pub expired: bool,
}

pub(super) struct TargetRow {
    pub node_id: String,
    pub state: String,
    pub public_key: Option<String>,
    pub last_code: Option<u16>,
}

pub(super) struct Loaded {
    pub row: PendingRow,
    pub targets: Vec<TargetRow>,
}

impl Loaded {
    /// The target for `node_id`; a node that is not a target of this pending
    /// id gets the same 404 as an unknown id (no probing of other nodes').
    pub fn target(&self, node_id: &str) -> Result<&TargetRow> {
        self.targets
            .iter()
            .find(|t| t.node_id == node_id)
            .ok_or_else(|| Error::new(Code::NotFound, "unknown pending id"))
    }
}

impl PendingRow {
    /// Expired by flag (sweep) or by clock (before the sweep ran).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expired || now >= self.expires_at
    }

    pub fn context(&self, node_id: &str) -> Result<Context> {
        Context::new(
            node_id,
            &self.pending_id,
            &self.slug,
            &self.injection_method,
            Some(&self.field_name),
            Some(&self.target_url),
        )
    }
}

pub(super) fn load(c: &Connection, pending_id: &str) -> Result<Option<Loaded>> {
    let row = c
        .query_row(
            "SELECT pending_id, slug, injection_method, field_name, target_url, expires_at, expired
             FROM pendings WHERE pending_id = ?1",
            [pending_id],
            |r| {
                Ok(PendingRow {
                    pending_id: r.get(0)?,
                    slug: r.get(1)?,
                    injection_method: r.get(2)?,
                    field_name: r.get(3)?,
                    target_url: r.get(4)?,
                    expires_at: r.get(5)?,
                    expired: r.get::<_, i64>(6)? != 0,
                })
            },
        )
        .optional()
        .map_err(sql_err)?;
    let Some(row) = row else { return Ok(None) };
    let mut st = c
        .prepare(
            "SELECT node_id, state, public_key, last_code FROM targets
             WHERE pending_id = ?1 ORDER BY rowid",
        )
        .map_err(sql_err)?;
    let targets = st
        .query_map([pending_id], |r| {
            Ok(TargetRow {
                node_id: r.get(0)?,
                state: r.get(1)?,
                public_key: r.get(2)?,
                last_code: r.get(3)?,
            })
        })
        .map_err(sql_err)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql_err)?;
    Ok(Some(Loaded { row, targets }))
}

/// A target's state as seen by clients (an expired pending shows every
/// unconsumed target as expired even before the sweep ran).
pub(super) fn effective_state<'a>(row: &PendingRow, t: &'a TargetRow, now: i64) -> &'a str {
    if row.is_expired(now) && t.state != CONSUMED {
        EXPIRED
    } else {
        &t.state
    }
}

/// The aggregate state of a pending credential (docs/API.md §States).
pub(super) fn aggregate(l: &Loaded, now: i64) -> &'static str {
    if l.row.is_expired(now) {
        return EXPIRED;
    }
    let n = l.targets.len();
    let count = |s: &str| l.targets.iter().filter(|t| t.state == s).count();
    let (consumed, failed) = (count(CONSUMED), count(DECRYPT_FAILED));
    if count(AWAITING_PUBKEY) > 0 {
        AWAITING_PUBKEY
    } else if consumed == n {
        CONSUMED
    } else if failed == n {
        DECRYPT_FAILED
    } else if failed > 0 {
        PARTIAL_DECRYPTED
    } else if count(PUBKEY_POSTED) > 0 {
        PUBKEY_POSTED
    } else if count(CIPHERTEXT_QUEUED) > 0 {
        CIPHERTEXT_QUEUED
    } else {
        CIPHERTEXT_RECEIVED
    }
}

/// One target of `GET /api/v1/pending/{id}`.
#[derive(Serialize)]
pub struct TargetView {
    /// Target node.
    pub node_id: String,
    /// Target state.
    pub state: String,
    /// The node's one-time public key (B64U).
    pub public_key: String,
    /// Its fingerprint, to compare out of band.
    pub fingerprint: String,
    /// The exact context to seal for.
    pub context: ContextOut,
}

/// `GET /api/v1/pending/{id}`.
#[derive(Serialize)]
pub struct PendingView {
    /// The id.
    pub pending_id: String,
    /// Aggregate state.
    pub state: &'static str,
    /// Unix expiry.
    pub expires_at: i64,
    /// One per node.
    pub targets: Vec<TargetView>,
}

/// One target of a status body.
#[derive(Serialize)]
pub struct TargetStatus {
    /// Target node.
    pub node_id: String,
    /// Target state.
    pub state: String,
    /// Why the target is where it is (8010 queued for an offline node,
    /// 8006/8008 failed, 8603 expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

/// `GET /api/v1/pending/{id}/status` and the post/create responses.
#[derive(Serialize)]
pub struct StatusView {
    /// The id.
    pub pending_id: String,
    /// Aggregate state.
    pub state: &'static str,
    /// Unix expiry.
    pub expires_at: i64,
    /// One per node.
    pub targets: Vec<TargetStatus>,
}

pub(super) fn status_view(l: &Loaded, now: i64) -> StatusView {
    let targets = l
        .targets
        .iter()
        .map(|t| {
            let state = effective_state(&l.row, t, now);
            let code = match state {
                CIPHERTEXT_QUEUED => Some(Code::NodeOffline.number()),
                EXPIRED => Some(Code::Expired.number()),
                DECRYPT_FAILED => t.last_code.or(Some(Code::DecryptFailed.number())),
                _ => None,
            };
            TargetStatus {
                node_id: t.node_id.clone(),
                state: state.to_owned(),
                code,
            }
        })
        .collect();
    StatusView {
        pending_id: l.row.pending_id.clone(),
        state: aggregate(l, now),
        expires_at: l.row.expires_at,
        targets,
    }
}

/// A context on the wire, keys in canonical order, empty optionals omitted
/// (the same object `Context::to_json` produces).
#[derive(Serialize)]
pub struct ContextOut {
    node_id: String,
    pending_id: String,
    slug: String,
    injection_method: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    field_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    target_url: String,
}

pub(super) fn context_json(ctx: &Context) -> Result<ContextOut> {
    Ok(ContextOut {
        node_id: ctx.node_id().to_owned(),
        pending_id: ctx.pending_id().to_owned(),
        slug: ctx.slug().to_owned(),
        injection_method: ctx.injection_method().to_owned(),
        field_name: ctx.field_name().to_owned(),
        target_url: ctx.target_url().to_owned(),
    })
}

/// An envelope on the wire in canonical key order (`Envelope::to_json`).
#[derive(Serialize)]
pub struct EnvelopeOut {
    v: u8,
    suite: &'static str,
    epk: String,
    nonce: String,
    ct: String,
}

pub(super) fn envelope_out(e: &crate::envelope::Envelope) -> EnvelopeOut {
    use crate::b64::encode;
    EnvelopeOut {
        v: crate::envelope::VERSION,
        suite: crate::suite::SUITE,
        epk: encode(&e.epk),
        nonce: encode(&e.nonce),
        ct: encode(&e.ct),
    }
}

pub(super) fn pending_view(l: &Loaded, now: i64) -> Result<PendingView> {
    let mut targets = Vec::with_capacity(l.targets.len());
    for t in &l.targets {
        let pk = t
            .public_key
            .as_deref()
            .ok_or_else(|| crate::error::Error::new(Code::PubkeyAwaiting, "waiting for keys"))?;
        let key = PublicKey::from_b64u(pk)?;
        targets.push(TargetView {
            node_id: t.node_id.clone(),
            state: effective_state(&l.row, t, now).to_owned(),
            public_key: pk.to_owned(),
            fingerprint: key.fingerprint(),
            context: context_json(&l.row.context(&t.node_id)?)?,
        });
    }
    Ok(PendingView {
        pending_id: l.row.pending_id.clone(),
        state: aggregate(l, now),
        expires_at: l.row.expires_at,
        targets,
    })
}
