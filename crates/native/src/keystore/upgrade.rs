//! Migration of a format-1 store to format 2: every format-1 record is
//! opened with its old AAD and re-sealed under the same DEK with the new
//! one, which binds the record's delivered context (`secrets` row) as it is
//! stored now. Runs inside the start-up transaction of the first open with
//! the KEK (re-sealing needs the DEKs), so a crash or any error leaves the
//! store exactly as it was, still format 1.
//!
//! Format 1 never authenticated the `secrets` columns, so an edit made
//! before the migration cannot be told from the real context in general.
//! What can be checked is: the row's size against the plaintext, and the
//! row against the plain context copy the consumed pending key kept (an
//! attacker who edits only one of them is caught).

use rusqlite::{params, Connection, OptionalExtension};

use super::aad::{FORMAT_VERSION, LEGACY_FORMAT_VERSION};
use super::audit::{self, Entry};
use super::blob;
use super::db::{now, sql_err, DB_FILE};
use super::kek::KekConfig;
use super::rotate::injected;
use super::{records, secrets, DekCache, Purpose, SecretMeta};
use sealpass::context::Context;
use sealpass::error::{Code, Error, Result};

/// Re-seal every format-1 record in format 2 and mark the store format 2
/// (inside the caller's transaction). Returns how many were re-sealed.
pub(crate) fn run(tx: &Connection, kek: &KekConfig, fail_after: Option<usize>) -> Result<usize> {
    let mut deks = DekCache::default();
    let t = now();
    let mut n = 0;
    for r in records::all(tx)? {
        let what = format!("{} record {:?}", r.purpose.name(), r.record_id);
        if blob::version_of(&r.blob, &what).map_err(stopped)? != LEGACY_FORMAT_VERSION {
            continue;
        }
        injected(n, fail_after)?;
        let dek = deks.get(tx, kek, &r.dek_id).map_err(stopped)?;
        let pt = dek
            .open_legacy(r.purpose, &r.record_id, &r.blob)
            .map_err(stopped)?;
        let context = secrets::context(tx, r.purpose, &r.record_id)?;
        if let Some(m) = &context {
            check_row(tx, m, pt.len()).map_err(stopped)?;
        }
        let sealed = dek.seal(r.purpose, &r.record_id, context.as_ref(), &pt)?;
        tx.execute(
            "UPDATE records SET blob = ?3, updated_at = ?4 WHERE purpose = ?1 AND record_id = ?2",
            params![r.purpose.name(), r.record_id, sealed, t],
        )
        .map_err(sql_err)?;
        n += 1;
    }
    injected(n, fail_after)?;
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'format_version'",
        [FORMAT_VERSION.to_string()],
    )
    .map_err(sql_err)?;
    audit::ok(
        tx,
        Entry::new("migrate").kek(kek.kek_id()).detail(format!(
            "format {LEGACY_FORMAT_VERSION} -> {FORMAT_VERSION}: {n} records re-sealed, delivered contexts bound"
        )),
    )?;
    Ok(n)
}

/// The checks a format-1 row allows: its size, and agreement with the
/// context the pending key it came through was created with (when that
/// consumed pending row is still there).
fn check_row(tx: &Connection, m: &SecretMeta, len: usize) -> Result<()> {
    let edited = |what: &str| {
        Error::with_detail(
            Code::RecordTampered,
            format!(
                "the secrets row of delivered-secret record {:?} disagrees with {what}",
                m.slug
            ),
        )
    };
    if usize::try_from(m.size).ok() != Some(len) {
        return Err(edited("the record's length"));
    }
    let pending: Option<String> = tx
        .query_row(
            "SELECT context_json FROM pending WHERE pending_id = ?1",
            [&m.pending_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err)?;
    let Some(json) = pending else {
        return Ok(());
    };
    let what = format!("the context of pending key {:?}", m.pending_id);
    let ctx = Context::from_json(json.as_bytes()).map_err(|_| edited(&what))?;
    let same = ctx.pending_id() == m.pending_id
        && ctx.slug() == m.slug
        && ctx.node_id() == m.node_id
        && ctx.injection_method() == m.injection_method
        && ctx.field_name() == m.field_name
        && ctx.target_url() == m.target_url;
    if same {
        Ok(())
    } else {
        Err(edited(&what))
    }
}

/// A record that stops the migration: keep its code, say that nothing
/// changed and what the operator can do.
fn stopped(e: Error) -> Error {
    Error::with_detail(
        e.code(),
        format!(
            "{}; the migration to keystore format {FORMAT_VERSION} stopped and changed nothing (the store is still format {LEGACY_FORMAT_VERSION}): restore {DB_FILE} from a backup, or give that record up by deleting its rows (records and, for a {}, secrets) with sqlite3, then start again",
            e.detail(),
            Purpose::DeliveredSecret.name()
        ),
    )
}
