//! One-time keypairs awaiting an envelope.
//!
//! A pending key's record plaintext is
//! `secret_key (32) || 0x02 || identity_public_key (32) || context JSON`:
//! the context used to open the envelope and the identity the key is bound
//! to are as tamper-proof as the key. Records made before keys were bound
//! are `secret_key (32) || context JSON`; a context always starts with `{`,
//! so the byte after the key tells the two apart. The `pending` table keeps
//! plain copies (context, public key, identity) for listing and counting.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use super::audit::{self, Entry};
use super::db::{immediate, now, row_err, sql_err};
use super::kek::KekConfig;
use super::records;
use super::{active_dek, identity, Keystore, NewPendingKey, PendingMeta, Purpose};
use sealpass::context::Context;
use sealpass::error::{Code, Error, Result};
use sealpass::keys::{PublicKey, SecretKey};
use sealpass::suite::KEY_LEN;

/// A one-time key's life on the node: its own state machine, not the
/// relay's per-target states (`sealpass_native::wire::TargetState`).
/// Stored as [`PendingKeyState::as_str`]; the schema's CHECK constraint
/// (db.rs) lists the same two names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PendingKeyState {
    /// The private key is sealed in the keystore, waiting for its envelope.
    Pending,
    /// The envelope was opened and the private key deleted.
    Consumed,
}

impl PendingKeyState {
    const ALL: [PendingKeyState; 2] = [PendingKeyState::Pending, PendingKeyState::Consumed];

    /// The stored name.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            PendingKeyState::Pending => "pending",
            PendingKeyState::Consumed => "consumed",
        }
    }
}

impl ToSql for PendingKeyState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for PendingKeyState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let name = value.as_str()?;
        PendingKeyState::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| {
                FromSqlError::Other(Box::new(Error::new(
                    Code::RecordTampered,
                    "unknown pending key state in the database",
                )))
            })
    }
}

/// `(state, context_json, public_key)` of a pending row.
pub(crate) fn typed_row(
    conn: &Connection,
    pending_id: &str,
) -> Result<Option<(PendingKeyState, String, String)>> {
    conn.query_row(
        "SELECT state, context_json, public_key FROM pending WHERE pending_id = ?1",
        [pending_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
    .map_err(row_err)
}

pub(crate) fn consumed(pending_id: &str) -> Error {
    Error::with_detail(
        Code::AlreadyConsumed,
        format!("pending key {pending_id:?} was already consumed"),
    )
}

pub(crate) fn not_found(pending_id: &str) -> Error {
    Error::with_detail(
        Code::RecordNotFound,
        format!("no pending key {pending_id:?}"),
    )
}

/// [`Keystore::key_status`]: the one-time key of a pending id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    /// No key was ever made here for it (or it was deleted).
    Missing,
    /// The key waits for its envelope.
    Waiting,
    /// Its envelope was opened; `stored`: the secret it delivered is still
    /// the one stored under its slug.
    Consumed {
        /// The delivered secret is still stored.
        stored: bool,
    },
}

/// The byte after the secret key that marks a record bound to an identity.
const BOUND_TAG: u8 = 0x02;

/// A pending key opened from its sealed record.
pub(crate) struct OpenedKey {
    pub sk: SecretKey,
    /// The identity it is bound to; `None` for a legacy (unbound) record.
    pub identity: Option<PublicKey>,
    pub ctx: Context,
}

/// Open the sealed pending key: the secret key, the identity it is bound
/// to and the context stored with it.
pub(crate) fn open_key(
    conn: &Connection,
    kek: &KekConfig,
    event: &str,
    pending_id: &str,
) -> Result<OpenedKey> {
    let pt = records::read_audited(conn, kek, event, Purpose::PendingKey, pending_id)?;
    let tampered = || Error::new(Code::RecordTampered, "pending key record has a bad layout");
    let (key, rest) = pt.split_first_chunk::<KEY_LEN>().ok_or_else(tampered)?;
    let sk = Zeroizing::new(*key);
    let (identity, ctx_json) = match rest.split_first() {
        Some((&BOUND_TAG, bound)) => {
            let (nik, ctx_json) = bound.split_first_chunk::<KEY_LEN>().ok_or_else(tampered)?;
            (Some(PublicKey::from_bytes(*nik)), ctx_json)
        }
        Some((b'{', _)) => (None, rest),
        _ => return Err(tampered()),
    };
    let ctx = Context::from_json(ctx_json).map_err(|_| tampered())?;
    if ctx.pending_id() != pending_id {
        return Err(tampered());
    }
    Ok(OpenedKey {
        sk: SecretKey::from_bytes(*sk),
        identity,
        ctx,
    })
}

/// `(public_key, identity_key)` of a stored pending row.
fn stored_keys(pk: &str, identity: Option<&str>) -> Result<NewPendingKey> {
    let bad = |_| Error::new(Code::RecordTampered, "stored public key is malformed");
    Ok(NewPendingKey {
        public_key: PublicKey::from_b64u(pk).map_err(bad)?,
        identity_key: identity
            .map(PublicKey::from_b64u)
            .transpose()
            .map_err(bad)?,
    })
}

impl Keystore {
    /// Create a one-time X25519 keypair for `ctx`, bound to the current
    /// identity (made if there is none), and seal its private key with the
    /// binding (purpose PendingKey, id = pending id). Idempotent: the same
    /// pending id with the same context returns the existing keys (a legacy
    /// key has no identity); a different context is 8509, a consumed one 8507.
    pub fn create_pending(&self, ctx: &Context) -> Result<NewPendingKey> {
        let pending_id = ctx.pending_id();
        let ctx_json = ctx.to_json();
        let mut conn = self.conn()?;
        let tx = immediate(&mut conn)?;
        if let Some((state, stored_ctx, pk)) = typed_row(&tx, pending_id)? {
            if state == PendingKeyState::Consumed {
                return Err(consumed(pending_id));
            }
            if stored_ctx != ctx_json {
                return Err(Error::with_detail(
                    Code::PendingConflict,
                    format!("pending id {pending_id:?} already exists with a different context"),
                ));
            }
            let identity: Option<String> = tx
                .query_row(
                    "SELECT identity_key FROM pending WHERE pending_id = ?1",
                    [pending_id],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            // The keys come from the sealed record; the plain copies (which
            // anyone with the file can edit) must agree with it.
            let opened = open_key(&tx, &self.kek, "pending-reuse", pending_id)?;
            let keys = NewPendingKey {
                public_key: opened.sk.public_key(),
                identity_key: opened.identity,
            };
            let plain = stored_keys(&pk, identity.as_deref())?;
            if plain.public_key != keys.public_key || plain.identity_key != keys.identity_key {
                return Err(Error::new(
                    Code::RecordTampered,
                    "pending key row disagrees with its sealed record",
                ));
            }
            tx.commit().map_err(sql_err)?;
            return Ok(keys);
        }
        let nik = identity::current_or_create(&tx, &self.kek)?.public_key();
        let sk = SecretKey::generate()?;
        let pk = sk.public_key();
        let mut pt = Zeroizing::new(Vec::with_capacity(2 * KEY_LEN + 1 + ctx_json.len()));
        pt.extend_from_slice(sk.as_bytes());
        pt.push(BOUND_TAG);
        pt.extend_from_slice(nik.as_bytes());
        pt.extend_from_slice(ctx_json.as_bytes());
        let dek = active_dek(&tx, &self.kek)?;
        records::write(&tx, &dek, Purpose::PendingKey, pending_id, &pt)?;
        tx.execute(
            "INSERT INTO pending (pending_id, node_id, slug, context_json, public_key, state, created_at, identity_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                pending_id,
                ctx.node_id(),
                ctx.slug(),
                ctx_json,
                pk.to_b64u(),
                PendingKeyState::Pending,
                now(),
                nik.to_b64u()
            ],
        )
        .map_err(sql_err)?;
        let e = Entry::new("pending-new").record(Purpose::PendingKey, pending_id);
        audit::ok(
            &tx,
            e.kek(self.kek.kek_id()).dek(&dek.id).detail(format!(
                "fingerprint {}; bound to identity {}",
                pk.fingerprint(),
                nik.identity_fingerprint()
            )),
        )?;
        tx.commit().map_err(sql_err)?;
        Ok(NewPendingKey {
            public_key: pk,
            identity_key: Some(nik),
        })
    }

    /// The context stored with a pending key (from the sealed record while
    /// the key exists; from the metadata copy once consumed).
    pub fn pending_context(&self, pending_id: &str) -> Result<Context> {
        let conn = self.conn()?;
        match typed_row(&conn, pending_id)? {
            None => Err(not_found(pending_id)),
            Some((PendingKeyState::Consumed, ctx_json, _)) => {
                Context::from_json(ctx_json.as_bytes())
            }
            Some(_) => open_key(&conn, &self.kek, "pending-context", pending_id).map(|k| k.ctx),
        }
    }

    /// What this keystore knows of the one-time key for `pending_id`, from
    /// the metadata only: no record is opened and no audit row written, so
    /// a caller may ask before deciding whether an accept is worth it.
    pub fn key_status(&self, pending_id: &str) -> Result<KeyStatus> {
        let conn = self.conn()?;
        Ok(match typed_row(&conn, pending_id)? {
            None => KeyStatus::Missing,
            Some((PendingKeyState::Pending, _, _)) => KeyStatus::Waiting,
            Some((PendingKeyState::Consumed, _, _)) => {
                let stored = conn
                    .query_row(
                        "SELECT 1 FROM secrets WHERE pending_id = ?1 LIMIT 1",
                        [pending_id],
                        |_| Ok(()),
                    )
                    .optional()
                    .map_err(sql_err)?
                    .is_some();
                KeyStatus::Consumed { stored }
            }
        })
    }

    /// Pending keys not yet consumed, oldest first.
    pub fn list_pending(&self) -> Result<Vec<PendingMeta>> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(
                "SELECT pending_id, node_id, slug, created_at, public_key, identity_key FROM pending
                 WHERE state = ?1 ORDER BY created_at, pending_id",
            )
            .map_err(sql_err)?;
        let rows = st
            .query_map([PendingKeyState::Pending], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for r in rows {
            let (pending_id, node_id, slug, created_at, pk, identity) = r.map_err(sql_err)?;
            let NewPendingKey {
                public_key,
                identity_key,
            } = stored_keys(&pk, identity.as_deref())?;
            let fingerprint = public_key.fingerprint();
            out.push(PendingMeta {
                pending_id,
                node_id,
                slug,
                created_at,
                public_key,
                fingerprint,
                identity_key,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::PendingKeyState;

    #[test]
    fn key_states_round_trip_through_sqlite() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        // The same constraint as the keystore schema (db.rs).
        c.execute_batch("CREATE TABLE t (s TEXT CHECK (s IN ('pending', 'consumed')))")
            .unwrap();
        for s in PendingKeyState::ALL {
            c.execute("INSERT INTO t (s) VALUES (?1)", [s]).unwrap();
            let back: PendingKeyState = c
                .query_row("SELECT s FROM t WHERE s = ?1", [s], |r| r.get(0))
                .unwrap();
            assert_eq!(back, s);
        }
        let bad = c.query_row("SELECT 'active'", [], |r| r.get::<_, PendingKeyState>(0));
        assert!(bad.is_err());
    }
}
