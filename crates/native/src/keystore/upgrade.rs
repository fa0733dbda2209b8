//! Migration of a format-1 store to format 2: every format-1 record is
//! opened with its old AAD and re-sealed under a fresh DEK with the new one,
//! which binds the record's delivered context (`secrets` row) as it is
//! stored now; the old DEKs are then deleted, so a format-1 blob written
//! back into the migrated file names a DEK it no longer has. Runs inside the
//! start-up transaction of the first open with the KEK (re-sealing needs the
//! DEKs), so a crash or any error leaves the file exactly as it was.
//!
//! The migration is atomic, so a real format-1 store holds no format-2
//! blob: one means `format_version` was set back by an edit of the file (to
//! have an edited row sealed in), and nothing runs.
//!
//! Format 1 never authenticated the `secrets` columns, so an edit made
//! before the migration cannot be told from the real context in general.
//! What can be checked is: the row's size against the plaintext, and the
//! row against the consumed pending key it came through (sealpass never
//! deletes a consumed pending row): that row must exist, be consumed, and
//! agree with the secret's row on slug and on its plain context copy. An
//! attacker who edits only the `secrets` row is caught; one who edits both
//! alike, or `stored_at`, is not.

use rusqlite::{params, Connection, OptionalExtension};

use super::aad::{FORMAT_VERSION, LEGACY_FORMAT_VERSION};
use super::audit::{self, Entry};
use super::blob;
use super::db::{now, row_err, sql_err, DB_FILE};
use super::kek::KekConfig;
use super::pending::PendingKeyState;
use super::rotate::{injected, replace_active_dek};
use super::{records, DekCache, Purpose, SecretMeta};
use sealpass::context::Context;
use sealpass::error::{Code, Error, Result};

/// Re-seal every format-1 record in format 2 under a fresh DEK, delete the
/// old DEKs and mark the store format 2 (inside the caller's transaction).
/// Returns how many were re-sealed.
pub(crate) fn run(tx: &Connection, kek: &KekConfig, fail_after: Option<usize>) -> Result<usize> {
    let stored = records::all(tx).map_err(stopped)?;
    for r in &stored {
        let what = format!("{} record {:?}", r.purpose.name(), r.record_id);
        match blob::version_of(&r.blob, &what).map_err(stopped)? {
            LEGACY_FORMAT_VERSION => {}
            FORMAT_VERSION => return Err(set_back(&what)),
            v => {
                return Err(stopped(Error::with_detail(
                    Code::FormatUnsupported,
                    format!(
                        "{what} has record format {v} in a format-{LEGACY_FORMAT_VERSION} store"
                    ),
                )))
            }
        }
    }
    let t = now();
    let old_deks: Vec<String> = {
        let mut st = tx
            .prepare("SELECT dek_id FROM deks ORDER BY dek_id")
            .map_err(sql_err)?;
        let rows = st.query_map([], |r| r.get(0)).map_err(sql_err)?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(row_err)?
    };
    let new = replace_active_dek(tx, kek, t)?;
    let mut deks = DekCache::default();
    let mut n = 0;
    for r in &stored {
        injected(n, fail_after)?;
        let dek = deks.get(tx, kek, &r.dek_id).map_err(stopped)?;
        let pt = dek
            .open_legacy(r.purpose, &r.record_id, &r.blob)
            .map_err(stopped)?;
        if let Some(m) = &r.context {
            check_row(tx, m, pt.len()).map_err(stopped)?;
        }
        let sealed = new.seal(r.purpose, &r.record_id, r.context.as_ref(), &pt)?;
        tx.execute(
            "UPDATE records SET dek_id = ?3, blob = ?4, updated_at = ?5 WHERE purpose = ?1 AND record_id = ?2",
            params![r.purpose.name(), r.record_id, new.id, sealed, t],
        )
        .map_err(sql_err)?;
        n += 1;
    }
    injected(n, fail_after)?;
    tx.execute("DELETE FROM deks WHERE dek_id <> ?1", [&new.id])
        .map_err(sql_err)?;
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'format_version'",
        [FORMAT_VERSION.to_string()],
    )
    .map_err(sql_err)?;
    audit::ok(
        tx,
        Entry::new("migrate").kek(kek.kek_id()).dek(&new.id).detail(format!(
            "format {LEGACY_FORMAT_VERSION} -> {FORMAT_VERSION}: {n} records re-sealed under a new DEK, delivered contexts bound; dropped {}",
            old_deks.join(",")
        )),
    )?;
    Ok(n)
}

/// The checks a format-1 row allows: its size, and agreement with the
/// consumed pending key it came through (which sealpass never deletes, so
/// a missing one, one not consumed, or one for another slug is an edit).
fn check_row(tx: &Connection, m: &SecretMeta, len: usize) -> Result<()> {
    let edited = |what: String| {
        Error::with_detail(
            Code::RecordTampered,
            format!(
                "the secrets row of {} record {:?} {what}",
                Purpose::DeliveredSecret.name(),
                m.slug
            ),
        )
    };
    if usize::try_from(m.size).ok() != Some(len) {
        return Err(edited("disagrees with the record's length".into()));
    }
    let pending: Option<(PendingKeyState, String, String)> = tx
        .query_row(
            "SELECT state, slug, context_json FROM pending WHERE pending_id = ?1",
            [&m.pending_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(row_err)?;
    let key = format!("pending key {:?}", m.pending_id);
    let Some((state, slug, json)) = pending else {
        return Err(edited(format!(
            "names {key}, which does not exist (sealpass keeps the consumed key every secret came through)"
        )));
    };
    if state != PendingKeyState::Consumed {
        return Err(edited(format!("names {key}, which was never consumed")));
    }
    let disagrees = || edited(format!("disagrees with the context of {key}"));
    if slug != m.slug {
        return Err(disagrees());
    }
    let ctx = Context::from_json(json.as_bytes()).map_err(|_| disagrees())?;
    let same = ctx.pending_id() == m.pending_id
        && ctx.slug() == m.slug
        && ctx.node_id() == m.node_id
        && ctx.injection_method() == m.injection_method
        && ctx.field_name() == m.field_name
        && ctx.target_url() == m.target_url;
    if same {
        Ok(())
    } else {
        Err(disagrees())
    }
}

/// A format-2 record in a store that says format 1: the store was migrated
/// and `format_version` set back. Migrating again would seal in whatever the
/// rows say now, so nothing runs.
fn set_back(what: &str) -> Error {
    Error::with_detail(
        Code::RecordTampered,
        format!(
            "meta.format_version is {LEGACY_FORMAT_VERSION} but {what} already has record format {FORMAT_VERSION}: this store was migrated and its format_version was set back by an edit of {DB_FILE} (sealpass never does that), so the migration did not run and nothing changed. Restore {DB_FILE} from a backup taken after the migration, then rotate the KEK (docs/KEYSTORE.md, \"Format versions\")"
        ),
    )
}

/// A record that stops the migration: keep its code, say that nothing
/// changed and what the operator can do.
fn stopped(e: Error) -> Error {
    Error::with_detail(
        e.code(),
        format!(
            "{}; the migration to keystore format {FORMAT_VERSION} stopped and changed nothing ({DB_FILE} is as it was): restore it from a backup, or give that record up by deleting its rows (records and, for a {}, secrets) with sqlite3, then start again",
            e.detail(),
            Purpose::DeliveredSecret.name()
        ),
    )
}
