//! Delivered secrets' `secrets` rows: where a secret may be used (node,
//! pending id, injection method, field name, target URL) and when it came.
//!
//! The row is plain text (metadata only, never a value), but
//! every column is bound into the record's AAD (`aad::record_aad`): a record
//! opens only with its row exactly as it was when sealed, so an edited,
//! added, duplicated or deleted row is 8504 on every read. Every read takes
//! the row and the blob from one statement (one snapshot) and opens the
//! blob with exactly that row, so the listing shows only rows it opened.

use rusqlite::{params, Connection, Row};
use zeroize::Zeroizing;

use super::audit::{self, Entry};
use super::db::{row_err, sql_err};
use super::records::{self, Stored};
use super::{check_record_id, DekCache, Keystore, Purpose, SecretMeta};
use sealpass::error::{Code, Error, Result};

/// The `secrets` columns, in [`meta_at`]'s order.
const COLUMNS: &str =
    "slug, pending_id, node_id, injection_method, field_name, target_url, stored_at, size";
/// The same, of the table aliased `s` (the reads that join `records`).
pub(crate) const S_COLUMNS: &str = "s.slug, s.pending_id, s.node_id, s.injection_method, \
     s.field_name, s.target_url, s.stored_at, s.size";

/// The `secrets` row whose columns start at `at`; `None` when the slug is
/// NULL (a LEFT JOIN that found no row: the column is NOT NULL).
pub(crate) fn meta_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Option<SecretMeta>> {
    let Some(slug) = r.get::<_, Option<String>>(at)? else {
        return Ok(None);
    };
    Ok(Some(SecretMeta {
        slug,
        pending_id: r.get(at + 1)?,
        node_id: r.get(at + 2)?,
        injection_method: r.get(at + 3)?,
        field_name: r.get(at + 4)?,
        target_url: r.get(at + 5)?,
        stored_at: r.get(at + 6)?,
        size: r.get(at + 7)?,
    }))
}

/// Two rows for one slug can only come from an edit of the file (the
/// schema makes `slug` the primary key): which one is "the" row is then
/// undefined, so nothing is read.
pub(crate) fn duplicate(slug: &str) -> Error {
    Error::with_detail(
        Code::RecordTampered,
        format!(
            "{} record {slug:?} has more than one secrets row",
            Purpose::DeliveredSecret.name()
        ),
    )
}

/// The context a record's AAD binds, read as stored now: a delivered
/// secret's `secrets` row (`None` if it has none: only the generic
/// `put_record` makes such a record), `None` for every other purpose.
/// Used where the row and the blob are read in one transaction (sealing,
/// and the error path of a read); more than one row is 8504.
pub(crate) fn context(
    conn: &Connection,
    purpose: Purpose,
    record_id: &str,
) -> Result<Option<SecretMeta>> {
    if purpose != Purpose::DeliveredSecret {
        return Ok(None);
    }
    let mut st = conn
        .prepare(&format!("SELECT {COLUMNS} FROM secrets WHERE slug = ?1"))
        .map_err(sql_err)?;
    let rows = st
        .query_map([record_id], |r| meta_at(r, 0))
        .map_err(sql_err)?;
    let mut found = None;
    for row in rows {
        if found.is_some() {
            return Err(duplicate(record_id));
        }
        found = row.map_err(row_err)?;
    }
    Ok(found)
}

/// Insert or replace a delivered secret's row (before its record is sealed,
/// which then binds the row as stored).
pub(crate) fn upsert(conn: &Connection, m: &SecretMeta) -> Result<()> {
    let size = i64::try_from(m.size).unwrap_or(i64::MAX);
    conn.execute(
        &format!(
            "INSERT INTO secrets ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (slug) DO UPDATE SET pending_id = excluded.pending_id, node_id = excluded.node_id,
               injection_method = excluded.injection_method, field_name = excluded.field_name,
               target_url = excluded.target_url, stored_at = excluded.stored_at, size = excluded.size"
        ),
        params![
            m.slug,
            m.pending_id,
            m.node_id,
            m.injection_method,
            m.field_name,
            m.target_url,
            m.stored_at,
            size
        ],
    )
    .map(|_| ())
    .map_err(sql_err)
}

/// Every `secrets` row with the record it belongs to, read in one
/// statement (one snapshot: a row edited between reading it and reading the
/// blob cannot be shown after the blob opened with the old one).
fn listed(conn: &Connection) -> Result<Vec<Stored>> {
    let mut st = conn
        .prepare(&format!(
            "SELECT {S_COLUMNS}, r.dek_id, r.blob FROM secrets s
             LEFT JOIN records r ON r.purpose = ?1 AND r.record_id = s.slug
             ORDER BY s.slug"
        ))
        .map_err(sql_err)?;
    let rows = st
        .query_map([Purpose::DeliveredSecret.name()], |r| {
            Ok((
                meta_at(r, 0)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<Vec<u8>>>(9)?,
            ))
        })
        .map_err(sql_err)?;
    let mut out: Vec<Stored> = Vec::new();
    for row in rows {
        let (meta, dek_id, blob) = row.map_err(row_err)?;
        let Some(meta) = meta else {
            return Err(Error::new(
                Code::RecordTampered,
                "a secrets row has no slug",
            ));
        };
        if out.last().is_some_and(|p| p.record_id == meta.slug) {
            return Err(duplicate(&meta.slug));
        }
        let (Some(dek_id), Some(blob)) = (dek_id, blob) else {
            return Err(Error::with_detail(
                Code::RecordTampered,
                format!(
                    "{} record {:?} is missing but its secrets row exists",
                    Purpose::DeliveredSecret.name(),
                    meta.slug
                ),
            ));
        };
        out.push(Stored {
            purpose: Purpose::DeliveredSecret,
            record_id: meta.slug.clone(),
            dek_id,
            blob,
            context: Some(meta),
        });
    }
    Ok(out)
}

impl Keystore {
    /// Delivered secrets' metadata (never values), by slug. Each row shown
    /// is the very row its record was opened with (read together with the
    /// blob in one statement): an edited, added or duplicated row fails the
    /// listing with 8504 (audited as `secret-list`) instead of showing a
    /// context the secret was never delivered with.
    pub fn secret_list(&self) -> Result<Vec<SecretMeta>> {
        let conn = self.conn()?;
        let fail = |slug: Option<&str>, e: Error| {
            let mut entry = Entry::new("secret-list").kek(self.kek.kek_id());
            if let Some(slug) = slug {
                entry = entry.record(Purpose::DeliveredSecret, slug);
            }
            let _ = audit::fail(&conn, entry, &e);
            e
        };
        let rows = listed(&conn).map_err(|e| fail(None, e))?;
        let mut deks = DekCache::default();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            records::open_stored(&conn, &self.kek, &mut deks, &r)
                .map_err(|e| fail(Some(&r.record_id), e))?;
            out.extend(r.context);
        }
        Ok(out)
    }

    /// Open a delivered secret by slug (audited as `secret-get`); 8504 if
    /// its record or any column of its `secrets` row was edited.
    pub fn secret_get(&self, slug: &str) -> Result<Zeroizing<Vec<u8>>> {
        check_record_id(slug)?;
        records::read_audited(
            &*self.conn()?,
            &self.kek,
            "secret-get",
            Purpose::DeliveredSecret,
            slug,
        )
    }
}
