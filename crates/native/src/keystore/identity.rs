//! The node's long-term identity keys (docs/PROTOCOL.md §15, PINNING.md §6).
//!
//! Each generation is one X25519 secret key sealed as its own record
//! (purpose `node-identity-key`): generation 1 is record `identity` (what
//! stores made before rotation existed hold), generation N ≥ 2 is
//! `identity-N`. The highest generation present is **current**: new
//! one-time keys are bound to it. Lower ones are **retired**: they open only
//! envelopes for keys bound to them (the binding is inside each pending
//! key's sealed record) and are deleted once no pending key is bound to
//! them. Record ids are bound into every record's AAD, so a record cannot
//! be moved to another generation.

use rusqlite::{params, Connection};

use sealpass::error::{Code, Error, Result};
use sealpass::{PublicKey, SecretKey};

use super::audit::{self, Entry};
use super::db::{immediate, sql_err};
use super::kek::KekConfig;
use super::pending::PendingKeyState;
use super::records;
use super::{active_dek, Keystore, Purpose};

/// Record id of generation 1 (and of the only identity of older stores).
const FIRST_RECORD_ID: &str = "identity";

/// The record id of a generation.
fn record_id(generation: u32) -> String {
    if generation <= 1 {
        FIRST_RECORD_ID.to_owned()
    } else {
        format!("identity-{generation}")
    }
}

/// The generation of an identity record id; `None` for anything else.
fn generation_of(record_id: &str) -> Option<u32> {
    if record_id == FIRST_RECORD_ID {
        return Some(1);
    }
    let n = record_id.strip_prefix("identity-")?;
    if n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|g| *g >= 2)
}

/// One identity generation as `node identity` shows it (no secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityInfo {
    /// 1, 2, ...
    pub generation: u32,
    /// Its record id (purpose node-identity-key).
    pub record_id: String,
    /// The identity public key `nik`.
    pub public_key: PublicKey,
    /// True for the one new keys are bound to.
    pub current: bool,
    /// Pending (unconsumed) one-time keys bound to it.
    pub pending_keys: u64,
}

/// What [`Keystore::rotate_node_identity`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityRotation {
    /// The new current identity.
    pub new: IdentityInfo,
    /// The identity that was current before, if there was one.
    pub previous: Option<PublicKey>,
    /// Pending keys still bound to the previous identity (it stays, retired,
    /// until they are consumed or swept).
    pub previous_pending_keys: u64,
    /// Retired identities whose secret was deleted by this rotation.
    pub deleted: Vec<PublicKey>,
}

/// Every identity generation present: (generation, record id), lowest first.
fn generations(conn: &Connection) -> Result<Vec<(u32, String)>> {
    let mut st = conn
        .prepare("SELECT record_id FROM records WHERE purpose = ?1")
        .map_err(sql_err)?;
    let rows = st
        .query_map([Purpose::NodeIdentityKey.name()], |r| r.get::<_, String>(0))
        .map_err(sql_err)?;
    let mut out = Vec::new();
    for r in rows {
        let id = r.map_err(sql_err)?;
        let g = generation_of(&id).ok_or_else(|| {
            Error::new(
                Code::RecordTampered,
                "an identity record has an unknown record id",
            )
        })?;
        out.push((g, id));
    }
    out.sort_unstable();
    Ok(out)
}

fn from_record(bytes: &[u8]) -> Result<SecretKey> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Error::new(Code::RecordTampered, "stored identity key is malformed"))?;
    Ok(SecretKey::from_bytes(arr))
}

/// Open one identity record (not audited: callers audit what they do with it).
fn read_identity(conn: &Connection, kek: &KekConfig, record_id: &str) -> Result<SecretKey> {
    let (bytes, _) = records::read(conn, kek, Purpose::NodeIdentityKey, record_id)?;
    from_record(&bytes)
}

/// The current identity (highest generation), if any.
fn current(conn: &Connection, kek: &KekConfig) -> Result<Option<(u32, SecretKey)>> {
    match generations(conn)?.pop() {
        Some((g, id)) => Ok(Some((g, read_identity(conn, kek, &id)?))),
        None => Ok(None),
    }
}

/// Make and seal generation `generation` (inside the caller's transaction).
fn create(conn: &Connection, kek: &KekConfig, generation: u32, event: &str) -> Result<SecretKey> {
    let sk = SecretKey::generate()?;
    let id = record_id(generation);
    let dek = active_dek(conn, kek)?;
    records::write(conn, &dek, Purpose::NodeIdentityKey, &id, sk.as_bytes())?;
    audit::ok(
        conn,
        Entry::new(event)
            .record(Purpose::NodeIdentityKey, &id)
            .kek(kek.kek_id())
            .dek(&dek.id)
            .detail(format!(
                "identity fingerprint {} (generation {generation})",
                sk.public_key().identity_fingerprint()
            )),
    )?;
    Ok(sk)
}

/// The current identity, made (generation 1) if there is none yet.
pub(crate) fn current_or_create(conn: &Connection, kek: &KekConfig) -> Result<SecretKey> {
    match current(conn, kek)? {
        Some((_, sk)) => Ok(sk),
        None => create(conn, kek, 1, "identity-create"),
    }
}

/// The secret of the identity whose public key is `nik` (the one a pending
/// key is bound to). 8504 if it is gone: identities are deleted only once
/// no pending key is bound to them, so a bound key without one was tampered.
pub(crate) fn secret_for(conn: &Connection, kek: &KekConfig, nik: &PublicKey) -> Result<SecretKey> {
    for (_, id) in generations(conn)?.into_iter().rev() {
        let sk = read_identity(conn, kek, &id)?;
        if &sk.public_key() == nik {
            return Ok(sk);
        }
    }
    Err(Error::new(
        Code::RecordTampered,
        "the identity this one-time key is bound to is not in the keystore",
    ))
}

/// Generation 1, for legacy one-time keys made before keys were bound (they
/// were published with the only identity there was).
pub(crate) fn legacy_identity(conn: &Connection, kek: &KekConfig) -> Result<Option<SecretKey>> {
    match read_identity(conn, kek, FIRST_RECORD_ID) {
        Ok(sk) => Ok(Some(sk)),
        Err(e) if e.code() == Code::RecordNotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Pending keys bound to `nik` (by the plain copy in `pending`; legacy
/// unbound keys count for generation 1, which they were published with).
fn bound_count(conn: &Connection, nik: &PublicKey, generation: u32) -> Result<u64> {
    conn.query_row(
        "SELECT count(*) FROM pending WHERE state = ?1
         AND (identity_key = ?2 OR (identity_key IS NULL AND ?3))",
        params![PendingKeyState::Pending, nik.to_b64u(), generation == 1],
        |r| r.get(0),
    )
    .map_err(sql_err)
}

/// Delete every retired identity no pending key is bound to (audited as
/// `identity-delete`); returns their public keys. The current one is kept.
pub(crate) fn prune_retired(conn: &Connection, kek: &KekConfig) -> Result<Vec<PublicKey>> {
    let mut gens = generations(conn)?;
    gens.pop();
    let mut deleted = Vec::new();
    for (g, id) in gens {
        let nik = read_identity(conn, kek, &id)?.public_key();
        if bound_count(conn, &nik, g)? == 0 {
            records::delete(conn, Purpose::NodeIdentityKey, &id)?;
            audit::ok(
                conn,
                Entry::new("identity-delete")
                    .record(Purpose::NodeIdentityKey, &id)
                    .kek(kek.kek_id())
                    .detail(format!(
                        "retired identity {} deleted: no pending key is bound to it",
                        nik.identity_fingerprint()
                    )),
            )?;
            deleted.push(nik);
        }
    }
    Ok(deleted)
}

fn list(conn: &Connection, kek: &KekConfig) -> Result<Vec<IdentityInfo>> {
    let gens = generations(conn)?;
    let top = gens.last().map(|(g, _)| *g);
    let mut out = Vec::new();
    for (g, id) in gens {
        let nik = read_identity(conn, kek, &id)?.public_key();
        out.push(IdentityInfo {
            generation: g,
            pending_keys: bound_count(conn, &nik, g)?,
            record_id: id,
            public_key: nik,
            current: Some(g) == top,
        });
    }
    Ok(out)
}

impl Keystore {
    /// The node's current identity key, made (from the OS CSPRNG) and sealed
    /// on first use. Read and, if absent, written in one transaction, so two
    /// processes starting together agree on one identity.
    pub fn node_identity(&self) -> Result<SecretKey> {
        let mut conn = self.conn()?;
        let tx = immediate(&mut conn)?;
        let sk = current_or_create(&tx, &self.kek)?;
        tx.commit().map_err(sql_err)?;
        Ok(sk)
    }

    /// The current identity key if one was made, without making one.
    pub fn existing_node_identity(&self) -> Result<Option<SecretKey>> {
        let conn = self.conn()?;
        Ok(current(&conn, &self.kek)?.map(|(_, sk)| sk))
    }

    /// Every identity generation still in the store, oldest first: the
    /// current one and the retired ones some pending key is bound to.
    pub fn node_identities(&self) -> Result<Vec<IdentityInfo>> {
        list(&*self.conn()?, &self.kek)
    }

    /// Make a new current identity (the next generation). The previous one
    /// is retired: it keeps opening envelopes for the keys bound to it and
    /// nothing else, and is deleted once none is left (now, if none is).
    /// Senders who pinned it must re-pin (docs/PINNING.md §6).
    pub fn rotate_node_identity(&self) -> Result<IdentityRotation> {
        let mut conn = self.conn()?;
        let tx = immediate(&mut conn)?;
        let before = current(&tx, &self.kek)?;
        let next = before.as_ref().map_or(1, |(g, _)| g + 1);
        let previous = before.map(|(g, sk)| (g, sk.public_key()));
        let previous_pending_keys = match &previous {
            Some((g, nik)) => bound_count(&tx, nik, *g)?,
            None => 0,
        };
        create(&tx, &self.kek, next, "identity-rotate")?;
        let deleted = prune_retired(&tx, &self.kek)?;
        let new = list(&tx, &self.kek)?
            .into_iter()
            .find(|i| i.current)
            .ok_or_else(|| Error::new(Code::StoreUnavailable, "new identity not found"))?;
        tx.commit().map_err(sql_err)?;
        Ok(IdentityRotation {
            new,
            previous: previous.map(|(_, k)| k),
            previous_pending_keys,
            deleted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_and_generations_round_trip() {
        for g in [1u32, 2, 3, 10, 999] {
            assert_eq!(generation_of(&record_id(g)), Some(g));
        }
        for bad in [
            "identity-1",
            "identity-0",
            "identity-02",
            "identity-",
            "identity-x",
            "x",
        ] {
            assert_eq!(generation_of(bad), None, "{bad}");
        }
    }
}
