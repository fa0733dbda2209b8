//! A pending credential as loaded by either store, and its shaping for the
//! API; the aggregate state is computed from the per-target states, never
//! stored.

use sealpass::context::Context;
use sealpass::error::{Code, Error, Result};
use sealpass::keys::PublicKey;
use sealpass_native::wire::{
    PendingState, PendingView, StatusView, TargetState, TargetStatus, TargetView, WireContext,
};

pub(crate) struct PendingRow {
    pub pending_id: String,
    pub slug: String,
    pub injection_method: String,
    pub field_name: String,
    pub target_url: String,
    pub expires_at: i64,
    pub expired: bool,
    /// When an admin cancelled it (`expired` is set then too, so every
    /// "live" filter leaves it out).
    pub cancelled_at: Option<i64>,
}

pub(crate) struct TargetRow {
    pub node_id: String,
    pub state: TargetState,
    pub public_key: Option<String>,
    pub identity_key: Option<String>,
    pub last_code: Option<u16>,
}

pub(crate) struct Loaded {
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

/// A target's state as seen by clients (an expired pending shows every
/// unconsumed target as expired even before the sweep ran; a cancelled one
/// shows them cancelled).
pub(crate) fn effective_state(row: &PendingRow, t: &TargetRow, now: i64) -> TargetState {
    if row.cancelled_at.is_some() && t.state != TargetState::Consumed {
        TargetState::Cancelled
    } else if row.is_expired(now) && t.state != TargetState::Consumed {
        TargetState::Expired
    } else {
        t.state
    }
}

/// The aggregate state of a pending credential (docs/API.md §States).
pub(crate) fn aggregate(l: &Loaded, now: i64) -> PendingState {
    use TargetState::*;
    if l.row.cancelled_at.is_some() {
        return PendingState::Cancelled;
    }
    if l.row.is_expired(now) {
        return PendingState::Expired;
    }
    let n = l.targets.len();
    let count = |s: TargetState| l.targets.iter().filter(|t| t.state == s).count();
    let (consumed, failed) = (count(Consumed), count(DecryptFailed));
    if count(AwaitingPubkey) > 0 {
        PendingState::AwaitingPubkey
    } else if consumed == n {
        PendingState::Consumed
    } else if failed == n {
        PendingState::DecryptFailed
    } else if failed > 0 {
        PendingState::PartialDecrypted
    } else if count(PubkeyPosted) > 0 {
        PendingState::PubkeyPosted
    } else if count(CiphertextQueued) > 0 {
        PendingState::CiphertextQueued
    } else {
        PendingState::CiphertextReceived
    }
}

pub(crate) fn status_view(l: &Loaded, now: i64) -> StatusView {
    let targets = l
        .targets
        .iter()
        .map(|t| {
            let state = effective_state(&l.row, t, now);
            let code = match state {
                TargetState::CiphertextQueued => Some(Code::NodeOffline.number()),
                TargetState::Expired => Some(Code::Expired.number()),
                TargetState::Cancelled => Some(Code::Cancelled.number()),
                TargetState::DecryptFailed => t.last_code.or(Some(Code::DecryptFailed.number())),
                _ => None,
            };
            TargetStatus {
                node_id: t.node_id.clone(),
                state,
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

pub(crate) fn pending_view(l: &Loaded, now: i64) -> Result<PendingView> {
    let mut targets = Vec::with_capacity(l.targets.len());
    for t in &l.targets {
        let pk = t
            .public_key
            .as_deref()
            .ok_or_else(|| Error::new(Code::PubkeyAwaiting, "waiting for keys"))?;
        let key = PublicKey::from_b64u(pk)?;
        let identity = t
            .identity_key
            .as_deref()
            .map(PublicKey::from_b64u)
            .transpose()?;
        targets.push(TargetView {
            node_id: t.node_id.clone(),
            state: effective_state(&l.row, t, now),
            public_key: pk.to_owned(),
            fingerprint: key.fingerprint(),
            identity_key: identity.as_ref().map(PublicKey::to_b64u),
            identity_fingerprint: identity.as_ref().map(PublicKey::identity_fingerprint),
            context: WireContext::raw(&l.row.context(&t.node_id)?)?,
        });
    }
    Ok(PendingView {
        pending_id: l.row.pending_id.clone(),
        state: aggregate(l, now),
        expires_at: l.row.expires_at,
        targets,
    })
}

/// A pending that exists and has neither expired nor been cancelled (404 /
/// 410/8603 / 410/8613 otherwise), from what a store loaded.
pub(crate) fn live(loaded: Option<Loaded>, now: i64) -> Result<Loaded> {
    let l = loaded.ok_or_else(|| Error::new(Code::NotFound, "unknown pending id"))?;
    if l.row.cancelled_at.is_some() {
        return Err(Error::new(Code::Cancelled, "pending credential cancelled"));
    }
    if l.row.is_expired(now) {
        return Err(Error::new(Code::Expired, "pending credential expired"));
    }
    Ok(l)
}

/// [`live`] for the node routes: a cancelled pending is answered like an
/// expired one (410/8603). To the node both mean "ended, drop the key",
/// and node agents treat 8603 as the relay having moved on (their steps are
/// idempotent), so an agent that predates cancelling copes with it.
pub(crate) fn live_for_node(loaded: Option<Loaded>, now: i64) -> Result<Loaded> {
    live(loaded, now).map_err(|e| {
        if e.code() == Code::Cancelled {
            Error::new(Code::Expired, "pending credential ended")
        } else {
            e
        }
    })
}
