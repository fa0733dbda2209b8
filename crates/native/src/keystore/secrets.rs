//! Delivered secrets' `secrets` rows: where a secret may be used (node,
//! pending id, injection method, field name, target URL) and when it came.
//!
//! The row is plain text so it can be listed without opening anything, but
//! every column is bound into the record's AAD (`aad::record_aad`): a record
//! opens only with its row exactly as it was when sealed, so an edited,
//! added or deleted row is 8504 on every read, and the listing opens each
//! record before showing its row.

use rusqlite::{params, Connection, OptionalExtension, Row};
use zeroize::Zeroizing;

use super::audit::{self, Entry};
use super::db::sql_err;
use super::records;
use super::{check_record_id, Keystore, Purpose, SecretMeta};
use sealpass::error::Result;

/// The `secrets` columns, in [`meta_from_row`]'s order.
const COLUMNS: &str =
    "slug, pending_id, node_id, injection_method, field_name, target_url, stored_at, size";

fn meta_from_row(r: &Row<'_>) -> rusqlite::Result<SecretMeta> {
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
}

/// The context a record's AAD binds, read as stored now: a delivered
/// secret's `secrets` row (`None` if it has none: only the generic
/// `put_record` makes such a record), `None` for every other purpose.
pub(crate) fn context(
    conn: &Connection,
    purpose: Purpose,
    record_id: &str,
) -> Result<Option<SecretMeta>> {
    if purpose != Purpose::DeliveredSecret {
        return Ok(None);
    }
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM secrets WHERE slug = ?1"),
        [record_id],
        meta_from_row,
    )
    .optional()
    .map_err(sql_err)
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

impl Keystore {
    /// Delivered secrets' metadata (never values), by slug. Each row is
    /// shown only after its record opened with it: an edited row fails the
    /// listing with 8504 (audited as `secret-list`) instead of showing a
    /// context the secret was never delivered with.
    pub fn secret_list(&self) -> Result<Vec<SecretMeta>> {
        let conn = self.conn()?;
        let rows = {
            let mut st = conn
                .prepare(&format!("SELECT {COLUMNS} FROM secrets ORDER BY slug"))
                .map_err(sql_err)?;
            let rows = st.query_map([], meta_from_row).map_err(sql_err)?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .map_err(sql_err)?
        };
        for m in &rows {
            if let Err(e) = records::read(&conn, &self.kek, Purpose::DeliveredSecret, &m.slug) {
                let entry = Entry::new("secret-list")
                    .record(Purpose::DeliveredSecret, &m.slug)
                    .kek(self.kek.kek_id());
                let _ = audit::fail(&conn, entry, &e);
                return Err(e);
            }
        }
        Ok(rows)
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
