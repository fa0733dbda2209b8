//! Generic sealed records: put (upsert), get, delete, each audited. Every
//! seal and open binds the record's context as stored: a seal reads it in
//! the writing transaction (`secrets::context`), an open reads it in the
//! same statement as the blob ([`Stored`]).

use rusqlite::{params, Connection, ToSql};
use zeroize::Zeroizing;

use super::audit::{self, Entry};
use super::blob::{self, Dek};
use super::db::{immediate, now, row_err, sql_err};
use super::kek::KekConfig;
use super::pending::PendingKeyState;
use super::secrets::{self, S_COLUMNS};
use super::{
    active_dek, check_record_id, DekCache, Keystore, Purpose, SecretMeta, MAX_RECORD_PLAINTEXT,
};
use sealpass::error::{Code, Error, Result};

/// Seal `pt` under `dek`, binding the record's context as stored now (a
/// delivered secret's `secrets` row is written first), and upsert it.
pub(crate) fn write(
    conn: &Connection,
    dek: &Dek,
    purpose: Purpose,
    record_id: &str,
    pt: &[u8],
) -> Result<()> {
    if pt.len() > MAX_RECORD_PLAINTEXT {
        return Err(Error::with_detail(
            Code::CiphertextTooLarge,
            format!("record plaintext larger than {MAX_RECORD_PLAINTEXT} bytes"),
        ));
    }
    let context = secrets::context(conn, purpose, record_id)?;
    let sealed = dek.seal(purpose, record_id, context.as_ref(), pt)?;
    let t = now();
    conn.execute(
        "INSERT INTO records (purpose, record_id, dek_id, blob, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (purpose, record_id) DO UPDATE
         SET dek_id = excluded.dek_id, blob = excluded.blob, updated_at = excluded.updated_at",
        params![purpose.name(), record_id, dek.id, sealed, t],
    )
    .map(|_| ())
    .map_err(sql_err)
}

/// One stored record row and the `secrets` row it binds (`None` for every
/// purpose but a delivered secret, and for a delivered secret without one),
/// read together in one statement.
pub(crate) struct Stored {
    pub purpose: Purpose,
    pub record_id: String,
    /// The `dek_id` column (the blob names its DEK too; opening checks both agree).
    pub dek_id: String,
    pub blob: Vec<u8>,
    pub context: Option<SecretMeta>,
}

/// Every record row joined with its `secrets` row. One statement is one
/// read snapshot, so a context is never checked against one version of the
/// rows and then used with another.
fn select(conn: &Connection, filter: &str, args: &[&dyn ToSql]) -> Result<Vec<Stored>> {
    let mut st = conn
        .prepare(&format!(
            "SELECT r.purpose, r.record_id, r.dek_id, r.blob, {S_COLUMNS} FROM records r
             LEFT JOIN secrets s ON r.purpose = '{}' AND s.slug = r.record_id
             {filter} ORDER BY r.purpose, r.record_id",
            Purpose::DeliveredSecret.name()
        ))
        .map_err(sql_err)?;
    let rows = st
        .query_map(args, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                secrets::meta_at(r, 4)?,
            ))
        })
        .map_err(sql_err)?;
    let mut out: Vec<Stored> = Vec::new();
    for row in rows {
        let (purpose, record_id, dek_id, blob, context) = row.map_err(row_err)?;
        let purpose = Purpose::from_name(&purpose).ok_or_else(|| {
            Error::with_detail(
                Code::RecordTampered,
                format!("record {record_id:?} has an unknown purpose"),
            )
        })?;
        // Rows come sorted: a second one for the same record is adjacent.
        if out
            .last()
            .is_some_and(|p| p.purpose == purpose && p.record_id == record_id)
        {
            return Err(if purpose == Purpose::DeliveredSecret {
                secrets::duplicate(&record_id)
            } else {
                Error::with_detail(
                    Code::RecordTampered,
                    format!("{} record {record_id:?} is stored twice", purpose.name()),
                )
            });
        }
        out.push(Stored {
            purpose,
            record_id,
            dek_id,
            blob,
            context,
        });
    }
    Ok(out)
}

/// Every record (DEK rotation, verify, the format migration); an unknown
/// purpose name or a record stored twice is 8504.
pub(crate) fn all(conn: &Connection) -> Result<Vec<Stored>> {
    select(conn, "", &[])
}

/// Open a record exactly as read, with the context read with it.
pub(crate) fn open_stored(
    conn: &Connection,
    kek: &KekConfig,
    deks: &mut DekCache,
    r: &Stored,
) -> Result<Zeroizing<Vec<u8>>> {
    let what = format!("{} record {:?}", r.purpose.name(), r.record_id);
    let blob_dek = blob::key_id_of(&r.blob, &what)?;
    if blob_dek != r.dek_id {
        return Err(Error::with_detail(
            Code::RecordTampered,
            format!("{what}: DEK id column and blob disagree"),
        ));
    }
    deks.get(conn, kek, &blob_dek)?
        .open(r.purpose, &r.record_id, r.context.as_ref(), &r.blob)
}

/// Read and open one record with its context as stored (both in one
/// statement): 8505 if absent, 8504 if any byte of it or of its context
/// was changed.
pub(crate) fn read(
    conn: &Connection,
    kek: &KekConfig,
    purpose: Purpose,
    record_id: &str,
) -> Result<(Zeroizing<Vec<u8>>, String)> {
    let mut rows = select(
        conn,
        "WHERE r.purpose = ?1 AND r.record_id = ?2",
        &[&purpose.name(), &record_id],
    )?;
    let Some(r) = rows.pop() else {
        let what = format!("{} record {record_id:?}", purpose.name());
        // Only which error to give: nothing is opened either way.
        return Err(if secrets::context(conn, purpose, record_id)?.is_some() {
            // A metadata row without its record was added or renamed.
            Error::with_detail(
                Code::RecordTampered,
                format!("{what} is missing but its secrets row exists"),
            )
        } else {
            Error::with_detail(Code::RecordNotFound, format!("no {what}"))
        });
    };
    let pt = open_stored(conn, kek, &mut DekCache::default(), &r)?;
    Ok((pt, r.dek_id))
}

/// Delete one record; true if it existed.
pub(crate) fn delete(conn: &Connection, purpose: Purpose, record_id: &str) -> Result<bool> {
    conn.execute(
        "DELETE FROM records WHERE purpose = ?1 AND record_id = ?2",
        params![purpose.name(), record_id],
    )
    .map(|n| n > 0)
    .map_err(sql_err)
}

/// Open a record and audit the access (`event`) either way.
pub(crate) fn read_audited(
    conn: &Connection,
    kek: &KekConfig,
    event: &str,
    purpose: Purpose,
    record_id: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    let entry = || {
        Entry::new(event)
            .record(purpose, record_id)
            .kek(kek.kek_id())
    };
    match read(conn, kek, purpose, record_id) {
        Ok((pt, dek_id)) => {
            audit::ok(conn, entry().dek(&dek_id))?;
            Ok(pt)
        }
        Err(e) => {
            let _ = audit::fail(conn, entry(), &e);
            Err(e)
        }
    }
}

impl Keystore {
    /// Seal `plaintext` under the active DEK and store it (insert or replace).
    pub fn put_record(&self, purpose: Purpose, record_id: &str, plaintext: &[u8]) -> Result<()> {
        check_record_id(record_id)?;
        let mut conn = self.conn()?;
        let tx = immediate(&mut conn)?;
        let dek = active_dek(&tx, &self.kek)?;
        write(&tx, &dek, purpose, record_id, plaintext)?;
        audit::ok(
            &tx,
            Entry::new("record-put")
                .record(purpose, record_id)
                .kek(self.kek.kek_id())
                .dek(&dek.id),
        )?;
        tx.commit().map_err(sql_err)
    }

    /// Open a stored record. 8505 RecordNotFound, 8504 RecordTampered (the
    /// stored bytes are left as they are).
    pub fn get_record(&self, purpose: Purpose, record_id: &str) -> Result<Zeroizing<Vec<u8>>> {
        check_record_id(record_id)?;
        read_audited(&*self.conn()?, &self.kek, "record-get", purpose, record_id)
    }

    /// Delete a record (and, for a delivered secret or pending key, its
    /// metadata row). Returns whether it existed.
    pub fn delete_record(&self, purpose: Purpose, record_id: &str) -> Result<bool> {
        check_record_id(record_id)?;
        let mut conn = self.conn()?;
        let tx = immediate(&mut conn)?;
        let existed = delete(&tx, purpose, record_id)?;
        match purpose {
            Purpose::DeliveredSecret => {
                tx.execute("DELETE FROM secrets WHERE slug = ?1", [record_id])
                    .map_err(sql_err)?;
            }
            Purpose::PendingKey => {
                tx.execute(
                    "DELETE FROM pending WHERE pending_id = ?1 AND state = ?2",
                    params![record_id, PendingKeyState::Pending],
                )
                .map_err(sql_err)?;
                // A retired identity may have lost its last bound key.
                super::identity::prune_retired(&tx, &self.kek)?;
            }
            Purpose::RelayHmacSecret | Purpose::NodeHmacSecret | Purpose::NodeIdentityKey => {}
        }
        let e = Entry::new("record-delete")
            .record(purpose, record_id)
            .kek(self.kek.kek_id());
        audit::ok(&tx, e.detail(if existed { "deleted" } else { "absent" }))?;
        tx.commit().map_err(sql_err)?;
        Ok(existed)
    }

    /// Bulk insert for tests and benchmarks: one transaction, one audit row.
    #[doc(hidden)]
    pub fn put_records_bulk(&self, purpose: Purpose, items: &[(String, Vec<u8>)]) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = immediate(&mut conn)?;
        let dek = active_dek(&tx, &self.kek)?;
        for (id, pt) in items {
            check_record_id(id)?;
            write(&tx, &dek, purpose, id, pt)?;
        }
        let e = Entry::new("record-put").kek(self.kek.kek_id()).dek(&dek.id);
        audit::ok(
            &tx,
            e.detail(format!("bulk: {} {} records", items.len(), purpose.name())),
        )?;
        tx.commit().map_err(sql_err)
    }
}
