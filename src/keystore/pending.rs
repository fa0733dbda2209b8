//! One-time keypairs awaiting an envelope, and delivered-secret metadata.
//!
//! A pending key's record plaintext is `secret_key (32) || context JSON`,
//! so the context used to open the envelope is as tamper-proof as the key;
//! the `pending` table keeps a plain copy for listing.

use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use super::audit::{self, Entry};
use super::db::{immediate, now, sql_err};
use super::kek::KekConfig;
use super::records;
use super::{active_dek, Keystore, PendingMeta, Purpose, SecretMeta};
use crate::context::Context;
use crate::error::{Code, Error, Result};
use crate::keys::{PublicKey, SecretKey};
use crate::suite::KEY_LEN;

/// `(state, context_json, public_key)` of a pending row.
pub(crate) fn row(conn: &Connection, pending_id: &str) -> Result<Option<(String, String, String)>> {
    conn.query_row(
        "SELECT state, context_json, public_key FROM pending WHERE pending_id = ?1",
        [pending_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
    .map_err(sql_err)
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

/// Open the sealed pending key: the secret key and the context stored with it.
pub(crate) fn open_key(
    conn: &Connection,
    kek: &KekConfig,
    event: &str,
    pending_id: &str,
) -> Result<(SecretKey, Context)> {
    let pt = records::read_audited(conn, kek, event, Purpose::PendingKey, pending_id)?;
    let tampered = || Error::new(Code::RecordTampered, "pending key record has a bad layout");
    if pt.len() <= KEY_LEN {
        return Err(tampered());
    }
    let mut sk = Zeroizing::new([0u8; KEY_LEN]);
    sk.copy_from_slice(&pt[..KEY_LEN]);
    let ctx = Context::from_json(&pt[KEY_LEN..]).map_err(|_| tampered())?;
    if ctx.pending_id() != pending_id {
        return Err(tampered());
    }
    Ok((SecretKey::from_bytes(*sk), ctx))
}

impl Keystore {
    /// Create a one-time X25519 keypair for `ctx` and seal its private key
    /// (purpose PendingKey, id = pending id). Idempotent: the same pending id
    /// with the same context returns the existing public key; a different
    /// context is 8509, a consumed one 8507.
    pub fn create_pending(&self, ctx: &Context) -> Result<PublicKey> {
        let pending_id = ctx.pending_id();
        let ctx_json = ctx.to_json();
        let mut conn = self.conn()?;
        let tx = immediate(&mut conn)?;
        if let Some((state, stored_ctx, pk)) = row(&tx, pending_id)? {
            if state == "consumed" {
                return Err(consumed(pending_id));
            }
            if stored_ctx != ctx_json {
                return Err(Error::with_detail(
                    Code::PendingConflict,
                    format!("pending id {pending_id:?} already exists with a different context"),
                ));
            }
            return PublicKey::from_b64u(&pk)
                .map_err(|_| Error::new(Code::RecordTampered, "stored public key is malformed"));
        }
        let sk = SecretKey::generate()?;
        let pk = sk.public_key();
        let mut pt = Zeroizing::new(Vec::with_capacity(KEY_LEN + ctx_json.len()));
        pt.extend_from_slice(sk.as_bytes());
        pt.extend_from_slice(ctx_json.as_bytes());
        let dek = active_dek(&tx, &self.kek)?;
        records::write(&tx, &dek, Purpose::PendingKey, pending_id, &pt)?;
        tx.execute(
            "INSERT INTO pending (pending_id, node_id, slug, context_json, public_key, state, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
            params![pending_id, ctx.node_id(), ctx.slug(), ctx_json, pk.to_b64u(), now()],
        )
        .map_err(sql_err)?;
        let e = Entry::new("pending-new").record(Purpose::PendingKey, pending_id);
        audit::ok(
            &tx,
            e.kek(self.kek.kek_id())
                .dek(&dek.id)
                .detail(format!("fingerprint {}", pk.fingerprint())),
        )?;
        tx.commit().map_err(sql_err)?;
        Ok(pk)
    }

    /// The context stored with a pending key (from the sealed record while
    /// the key exists; from the metadata copy once consumed).
    pub fn pending_context(&self, pending_id: &str) -> Result<Context> {
        let conn = self.conn()?;
        match row(&conn, pending_id)? {
            None => Err(not_found(pending_id)),
            Some((state, ctx_json, _)) if state == "consumed" => {
                Context::from_json(ctx_json.as_bytes())
            }
            Some(_) => {
                open_key(&conn, &self.kek, "pending-context", pending_id).map(|(_, ctx)| ctx)
            }
        }
    }

    /// Pending keys not yet consumed, oldest first.
    pub fn list_pending(&self) -> Result<Vec<PendingMeta>> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(
                "SELECT pending_id, node_id, slug, created_at, public_key FROM pending
                 WHERE state = 'pending' ORDER BY created_at, pending_id",
            )
            .map_err(sql_err)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for r in rows {
            let (pending_id, node_id, slug, created_at, pk) = r.map_err(sql_err)?;
            let public_key = PublicKey::from_b64u(&pk)
                .map_err(|_| Error::new(Code::RecordTampered, "stored public key is malformed"))?;
            let fingerprint = public_key.fingerprint();
            out.push(PendingMeta {
                pending_id,
                node_id,
                slug,
                created_at,
                public_key,
                fingerprint,
            });
        }
        Ok(out)
    }

    /// Delivered secrets' metadata (never values), by slug.
    pub fn secret_list(&self) -> Result<Vec<SecretMeta>> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(
                "SELECT slug, pending_id, node_id, injection_method, field_name, target_url, stored_at, size
                 FROM secrets ORDER BY slug",
            )
            .map_err(sql_err)?;
        let rows = st
            .query_map([], |r| {
                Ok(SecretMeta {
                    slug: r.get(0)?,
                    pending_id: r.get(1)?,
                    node_id: r.get(2)?,
                    injection_method: r.get(3)?,
                    field_name: r.get(4)?,
                    target_url: r.get(5)?,
                    stored_at: r.get(6)?,
                    size: r.get(7)?,
                })
            })
            .map_err(sql_err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_err)
    }
}
