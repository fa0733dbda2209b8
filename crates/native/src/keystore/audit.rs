//! The append-only audit trail: what happened to which key or record, and
//! whether it worked. Metadata only — never key material or plaintext.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::db::{now, sql_err};
use super::Purpose;
use sealpass::error::{Error, Result};

/// One audit row, as printed by `sealpass keystore audit` (one JSON object a line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// Monotonic sequence number.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// What happened: `init`, `open`, `rotate-kek`, `rotate-dek`, `record-get`,
    /// `record-put`, `record-delete`, `pending-new`, `accept`, `secret-get`.
    pub event: String,
    /// `ok` or `error`.
    pub outcome: String,
    /// Record purpose, when a record was involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Record id (pending id, slug, ...), when a record was involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// KEK id involved (public).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kek_id: Option<String>,
    /// DEK id involved (public).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dek_id: Option<String>,
    /// Error code on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Secret-free detail (error detail or counts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What to write; built with the helpers below.
#[derive(Default)]
pub(crate) struct Entry<'a> {
    pub event: &'a str,
    pub purpose: Option<Purpose>,
    pub record_id: Option<&'a str>,
    pub kek_id: Option<&'a str>,
    pub dek_id: Option<&'a str>,
    pub detail: Option<String>,
}

impl<'a> Entry<'a> {
    pub(crate) fn new(event: &'a str) -> Self {
        Entry {
            event,
            ..Default::default()
        }
    }
    pub(crate) fn record(mut self, purpose: Purpose, record_id: &'a str) -> Self {
        self.purpose = Some(purpose);
        self.record_id = Some(record_id);
        self
    }
    pub(crate) fn kek(mut self, kek_id: &'a str) -> Self {
        self.kek_id = Some(kek_id);
        self
    }
    pub(crate) fn dek(mut self, dek_id: &'a str) -> Self {
        self.dek_id = Some(dek_id);
        self
    }
    pub(crate) fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
}

/// Append a success row.
pub(crate) fn ok(conn: &Connection, e: Entry<'_>) -> Result<()> {
    insert(conn, e, None)
}

/// Append a failure row carrying the error's code and (secret-free) detail.
pub(crate) fn fail(conn: &Connection, mut e: Entry<'_>, err: &Error) -> Result<()> {
    if e.detail.is_none() && !err.detail().is_empty() {
        e.detail = Some(err.detail().to_owned());
    }
    insert(conn, e, Some(err.code().number()))
}

fn insert(conn: &Connection, e: Entry<'_>, code: Option<u16>) -> Result<()> {
    conn.execute(
        "INSERT INTO audit (at, event, outcome, purpose, record_id, kek_id, dek_id, code, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            now(),
            e.event,
            if code.is_some() { "error" } else { "ok" },
            e.purpose.map(Purpose::name),
            e.record_id,
            e.kek_id,
            e.dek_id,
            code,
            e.detail,
        ],
    )
    .map(|_| ())
    .map_err(sql_err)
}

/// Every row, oldest first.
pub(crate) fn list(conn: &Connection) -> Result<Vec<AuditEvent>> {
    query(conn, "ORDER BY seq", [])
}

/// The newest row of `event` with outcome `ok`, if any.
pub(crate) fn last_ok(conn: &Connection, event: &str) -> Result<Option<AuditEvent>> {
    let mut rows = query(
        conn,
        "WHERE event = ?1 AND outcome = 'ok' ORDER BY seq DESC LIMIT 1",
        [event],
    )?;
    Ok(rows.pop())
}

fn query<P: rusqlite::Params>(conn: &Connection, tail: &str, p: P) -> Result<Vec<AuditEvent>> {
    let mut st = conn
        .prepare(&format!(
            "SELECT seq, at, event, outcome, purpose, record_id, kek_id, dek_id, code, detail
             FROM audit {tail}"
        ))
        .map_err(sql_err)?;
    let rows = st
        .query_map(p, |r| {
            Ok(AuditEvent {
                seq: r.get(0)?,
                at: r.get(1)?,
                event: r.get(2)?,
                outcome: r.get(3)?,
                purpose: r.get(4)?,
                record_id: r.get(5)?,
                kek_id: r.get(6)?,
                dek_id: r.get(7)?,
                code: r.get(8)?,
                detail: r.get(9)?,
            })
        })
        .map_err(sql_err)?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql_err)
}
