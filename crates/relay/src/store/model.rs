//! What both stores share: the values handlers pass in and get back, the
//! bounds, and the checks made before any database is touched, so SQLite
//! and PostgreSQL answer the same input with the same code.

use serde::Serialize;
use zeroize::Zeroizing;

use sealpass::envelope::Envelope;
use sealpass::error::{Code, Error, Result};
use sealpass_native::keystore::AuditEvent;
use sealpass_native::signing::{is_valid_caller, SignatureHeaders, WINDOW_SECS};
use sealpass_native::wire::{CreatePending, StatusView};

use super::Limits;

/// One envelope for one target, already shape-checked and canonical.
pub struct Posted {
    /// Target node.
    pub node_id: String,
    /// Canonical envelope JSON.
    pub envelope_json: String,
}

/// What became of a post.
pub enum PostVerdict {
    /// Stored (202).
    Accepted(StatusView),
    /// Refused with this error; counted towards the lockout if it is the
    /// poster's own fault ([`counts_as_failure`]).
    Refused(Error),
    /// The pending id is locked for this many more seconds (429, not counted).
    LockedOut(i64),
}

/// Failures that count towards the lockout: the poster's own mistakes (a
/// body or envelope that fails the checks, a node that is not a target).
/// Not counted: capacity and server faults, and the state conflicts a
/// well-formed post can meet through no fault of its own — a late duplicate
/// after the winner (8604) or a post before every key is in (8009); counting
/// those locked out the sealer's legitimate retry.
pub(crate) fn counts_as_failure(code: Code) -> bool {
    !matches!(
        code,
        Code::QueueFull
            | Code::NotFound
            | Code::Expired
            | Code::RateLimited
            | Code::AlreadyUsed
            | Code::PubkeyAwaiting
            | Code::Internal
            | Code::StoreUnavailable
            | Code::RecordTampered
            | Code::Cancelled
    )
}

/// A newly issued secret, shown to the operator once.
pub struct IssuedSecret {
    /// The node.
    pub node_id: String,
    /// Version of this secret.
    pub key_version: u32,
    /// The secret bytes.
    pub secret: Zeroizing<Vec<u8>>,
}

pub(crate) fn record_id(node_id: &str, version: u32) -> String {
    format!("{node_id}:v{version}")
}

pub(crate) fn check_node_id(node_id: &str) -> Result<()> {
    if is_valid_caller(node_id) {
        Ok(())
    } else {
        Err(Error::new(
            Code::BadRequest,
            "node_id must be 1..=64 chars of [A-Za-z0-9._-]",
        ))
    }
}

/// What a wrong MAC is answered with: also the answer for an unknown
/// caller or key version, so the two cannot be told apart.
pub(crate) fn mac_mismatch() -> Error {
    Error::new(Code::SignatureInvalid, "signature does not verify")
}

/// What a refresh of the opened-secret cache did (`Store::refresh_secrets`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretRefresh {
    /// Secrets opened and cached.
    pub loaded: usize,
    /// Records that could not be opened (reported on stderr).
    pub failed: usize,
    /// Valid secrets still not cached (left for the next refresh).
    pub pending: usize,
}

/// Fan-out bound: targets per pending credential.
pub const MAX_TARGETS: usize = 16;

/// A pending id is 22 B64U chars (16 random bytes); anything else is unknown.
pub fn is_valid_pending_id(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) fn new_pending_id() -> Result<String> {
    let mut b = [0u8; 16];
    sealpass::rng::os_fill(&mut b)?;
    Ok(sealpass::b64::encode(&b))
}

/// Re-check the caps on stored envelope text (before storage and on replay):
/// whatever happened to the row, nothing over 16 KiB leaves the relay.
pub(crate) fn recheck(envelope_json: &str) -> Result<Envelope> {
    Envelope::from_json(envelope_json.as_bytes())
}

/// Largest page of `GET /api/v1/admin/nodes` and `…/audit`.
pub const MAX_PAGE: usize = 200;
/// Page size when `limit` is not given.
pub const DEFAULT_PAGE: usize = 50;
/// Newest secret versions listed per node.
pub const MAX_KEY_VERSIONS: usize = 8;
/// Newest DEKs listed by the keystore status.
pub const MAX_DEKS: usize = 64;

/// One secret version of a node (no secret bytes).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct KeyVersion {
    /// Version number.
    pub version: u32,
    /// Unix seconds.
    pub created_at: i64,
    /// End of validity (rotation grace, revoked); absent: no end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
    /// Valid now.
    pub valid: bool,
}

/// One registered node.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node id.
    pub node_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Last verified signed request (absent: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<i64>,
    /// A signed request within the offline bound.
    pub online: bool,
    /// The identity key the node posted with its newest one-time key still
    /// held by the relay (a hint: pin it only after checking it out of band).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_key: Option<String>,
    /// Its identity fingerprint (docs/PROTOCOL.md §15).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_fingerprint: Option<String>,
    /// The newest secret version.
    pub key_version: u32,
    /// The newest versions (at most [`MAX_KEY_VERSIONS`]), newest first.
    pub key_versions: Vec<KeyVersion>,
}

/// One audit event of the relay.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Increasing id (the `before` cursor).
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// What happened.
    pub event: String,
    /// Who: `admin`, a node id, `sealer`, `sweep`.
    pub actor: String,
    /// Which kind of route.
    pub route: String,
    /// Error code, for events that record one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// The pending credential, for `pending_created`/`pending_cancelled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_id: Option<String>,
}

/// A DEK of the relay's keystore.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct DekInfo {
    /// Public DEK id.
    pub dek_id: String,
    /// KEK it is wrapped under.
    pub kek_id: String,
    /// `active` or `retired`.
    pub state: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, when retired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
    /// Records sealed under it.
    pub records: u64,
}

/// The last successful rotation of one kind.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Unix seconds.
    pub at: i64,
    /// KEK everything was wrapped under afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kek_id: Option<String>,
    /// The DEK it made (rotate-dek).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dek_id: Option<String>,
    /// Records re-sealed (rotate-dek) or DEKs re-wrapped (rotate-kek).
    pub count: u64,
    /// The keystore's own words (counts and DEK ids only).
    pub detail: String,
}

/// The keystore that seals the node secrets at rest.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct KeystoreView {
    /// Storage format version.
    pub format_version: u8,
    /// Current KEK id (public).
    pub kek_id: String,
    /// Previous KEK id, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_kek_id: Option<String>,
    /// The well-known development KEK is in use.
    pub dev_insecure: bool,
    /// The DEK new records are sealed with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_dek_id: Option<String>,
    /// Key history, newest first (at most [`MAX_DEKS`]).
    pub deks: Vec<DekInfo>,
    /// How many DEKs there are in all.
    pub deks_total: usize,
    /// Sealed node secrets (one record per valid or retained version).
    pub node_secret_records: u64,
    /// Records of every purpose.
    pub records_total: u64,
    /// The last `rotate-dek` (new DEK, every record re-sealed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_dek_rotation: Option<Rotation>,
    /// The last `rotate-kek` (every DEK re-wrapped under a new KEK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_kek_rotation: Option<Rotation>,
}

pub(crate) fn rotation(e: AuditEvent) -> Rotation {
    let detail = e.detail.unwrap_or_default();
    let count = detail
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Rotation {
        at: e.at,
        kek_id: e.kek_id,
        dek_id: e.dek_id,
        count,
        detail,
    }
}

/// A page size from `limit` (1..=[`MAX_PAGE`]; absent: [`DEFAULT_PAGE`]).
pub fn page_size(limit: Option<usize>) -> Result<usize> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(Error::new(Code::BadRequest, "limit must be 1..=200")),
    }
}

/// The timestamp window of a node request (8703), checked before its body
/// is read; says nothing about who is registered.
pub(crate) fn check_window(headers: &SignatureHeaders, now: i64) -> Result<()> {
    if headers.timestamp.abs_diff(now) <= WINDOW_SECS.unsigned_abs() {
        Ok(())
    } else {
        Err(Error::new(
            Code::SignatureExpired,
            "timestamp outside the 300 s window",
        ))
    }
}

/// Checks of a create request made before the database is read: 1..=16
/// distinct valid node ids, the expiry within the limits, and the context
/// rules exactly as the sealer and the node apply them. Returns the new
/// pending id and its lifetime in seconds.
pub(crate) fn check_create(p: &CreatePending, lim: Limits) -> Result<(String, i64)> {
    if p.node_ids.is_empty() || p.node_ids.len() > MAX_TARGETS {
        return Err(Error::new(
            Code::BadRequest,
            "node_ids must list 1..=16 nodes",
        ));
    }
    for (i, n) in p.node_ids.iter().enumerate() {
        if !is_valid_caller(n) {
            return Err(Error::new(
                Code::BadRequest,
                "node_id must be 1..=64 chars of [A-Za-z0-9._-]",
            ));
        }
        if p.node_ids.iter().take(i).any(|m| m == n) {
            return Err(Error::new(Code::BadRequest, "node_ids must be distinct"));
        }
    }
    let ttl = p.expires_in_secs.unwrap_or(3600);
    if ttl < lim.min_expiry_secs || ttl > lim.max_expiry_secs {
        return Err(Error::with_detail(
            Code::BadRequest,
            format!(
                "expires_in_secs must be {}..={}",
                lim.min_expiry_secs, lim.max_expiry_secs
            ),
        ));
    }
    let pending_id = new_pending_id()?;
    for n in &p.node_ids {
        sealpass::context::Context::new(
            n,
            &pending_id,
            &p.slug,
            &p.injection_method,
            p.field_name.as_deref(),
            p.target_url.as_deref(),
        )?;
    }
    Ok((pending_id, ttl))
}

/// The unknown-node answer of `create_pending`.
pub(crate) fn unregistered(node_id: &str) -> Error {
    Error::with_detail(Code::NotFound, format!("node {node_id} is not registered"))
}

/// The answer for an envelope queue at its cap.
pub(crate) fn queue_full() -> Error {
    Error::new(
        Code::QueueFull,
        "the node already has 5 undelivered envelopes",
    )
}

/// The answer for a target that already took an envelope (first push wins).
pub(crate) fn already_accepted() -> Error {
    Error::new(
        Code::AlreadyUsed,
        "an envelope was already accepted for this target",
    )
}

/// The answer while a target still awaits its one-time key.
pub(crate) fn keys_awaited() -> Error {
    Error::new(
        Code::PubkeyAwaiting,
        "not every node has posted its public key yet",
    )
}

/// Checks of a post's item list against the loaded pending that need no
/// database: not empty, one envelope per node, every node a target that
/// still takes an envelope, every envelope within the caps (`recheck(i,
/// item)`: the store says how — SQLite parses there, PostgreSQL hands in
/// what it parsed on the blocking pool before its transaction — so both
/// answer the same first failure). The store then checks the queue cap and
/// stores each one under its state guard.
pub(crate) fn check_post_items(
    l: &super::views::Loaded,
    items: &[Posted],
    recheck: &dyn Fn(usize, &Posted) -> Result<()>,
) -> Result<()> {
    use sealpass_native::wire::TargetState;
    if items.is_empty() {
        return Err(Error::new(Code::BadRequest, "envelopes must not be empty"));
    }
    // Not only the listed targets: until every target has its one-time key
    // the pending is not open for envelopes, so a sender cannot seal to a
    // subset of the nodes it was meant for.
    if l.targets
        .iter()
        .any(|t| t.state == TargetState::AwaitingPubkey)
    {
        return Err(keys_awaited());
    }
    for (i, item) in items.iter().enumerate() {
        if items.iter().take(i).any(|o| o.node_id == item.node_id) {
            return Err(Error::new(Code::BadRequest, "one envelope per node_id"));
        }
        let t = l
            .targets
            .iter()
            .find(|t| t.node_id == item.node_id)
            .ok_or_else(|| {
                Error::new(
                    Code::BadRequest,
                    "node_id is not a target of this pending id",
                )
            })?;
        if !t.state.accepts_envelope() {
            return Err(already_accepted());
        }
        recheck(i, item)?;
    }
    Ok(())
}

/// Expired pendings are kept this long for status queries, then deleted.
pub(crate) const KEEP_EXPIRED_SECS: i64 = 24 * 3600;
/// Audit events kept (oldest deleted first). Only credentialed actions
/// write events, so failure noise cannot reach this bound.
pub(crate) const MAX_AUDIT_ROWS: i64 = 100_000;
/// Failure-counter buckets are kept this long...
pub(crate) const KEEP_FAILURE_SECS: i64 = 7 * 24 * 3600;
/// ...and at most this many (oldest buckets deleted first).
pub(crate) const MAX_FAILURE_BUCKETS: i64 = 50_000;
