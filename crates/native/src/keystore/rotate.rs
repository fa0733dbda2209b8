//! Key rotation (each one transaction: all or nothing) and status.

use rusqlite::{params, Connection, OptionalExtension};

use super::audit::{self, Entry};
use super::blob::Dek;
use super::db::{immediate, now, sql_err};
use super::kek::KekConfig;
use super::pending::PendingKeyState;
use super::{aad, records, DekCache, DekStatus, Keystore, Purpose, RotationReport, Status};
use sealpass::error::{Code, Error, Result};

/// Injected failure for the interrupted-rotation and -migration tests.
pub(crate) fn injected(done: usize, fail_after: Option<usize>) -> Result<()> {
    if fail_after == Some(done) {
        return Err(Error::new(
            Code::StoreUnavailable,
            "injected fault inside the transaction",
        ));
    }
    Ok(())
}

/// Retire the active DEK(s) and make a fresh active one, wrapped under the
/// current KEK: the first step of a DEK rotation and of the format
/// migration (both re-seal every record under it, in the caller's
/// transaction).
pub(crate) fn replace_active_dek(tx: &Connection, kek: &KekConfig, t: i64) -> Result<Dek> {
    tx.execute(
        "UPDATE deks SET state = 'retired', retired_at = ?1 WHERE state = 'active'",
        [t],
    )
    .map_err(sql_err)?;
    let new = Dek::generate()?;
    tx.execute(
        "INSERT INTO deks (dek_id, kek_id, state, wrapped, created_at) VALUES (?1, ?2, 'active', ?3, ?4)",
        params![new.id, kek.kek_id(), new.wrap(&kek.current)?, t],
    )
    .map_err(sql_err)?;
    Ok(new)
}

fn rotate_kek_tx(
    conn: &mut Connection,
    kek: &KekConfig,
    fail_after: Option<usize>,
) -> Result<RotationReport> {
    let tx = immediate(conn)?;
    let deks: Vec<(String, String, Vec<u8>)> = {
        let mut st = tx
            .prepare("SELECT dek_id, kek_id, wrapped FROM deks ORDER BY dek_id")
            .map_err(sql_err)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(sql_err)?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(sql_err)?
    };
    let mut n = 0;
    for (id, kek_id, wrapped) in &deks {
        if kek_id == kek.kek_id() {
            continue;
        }
        injected(n, fail_after)?;
        let dek = Dek::unwrap(kek, id, wrapped)?;
        tx.execute(
            "UPDATE deks SET kek_id = ?2, wrapped = ?3 WHERE dek_id = ?1",
            params![id, kek.kek_id(), dek.wrap(&kek.current)?],
        )
        .map_err(sql_err)?;
        n += 1;
    }
    injected(n, fail_after)?;
    let detail = format!("{n} DEKs re-wrapped");
    audit::ok(
        &tx,
        Entry::new("rotate-kek").kek(kek.kek_id()).detail(detail),
    )?;
    tx.commit().map_err(sql_err)?;
    Ok(RotationReport {
        kind: "rotate-kek".into(),
        kek_id: kek.kek_id().to_owned(),
        deks_rewrapped: n,
        records_resealed: 0,
        new_dek_id: None,
        retired_dek_ids: Vec::new(),
        dropped_dek_ids: Vec::new(),
    })
}

fn rotate_dek_tx(
    conn: &mut Connection,
    kek: &KekConfig,
    fail_after: Option<usize>,
) -> Result<RotationReport> {
    let tx = immediate(conn)?;
    let t = now();
    let retired: Vec<String> = {
        let mut st = tx
            .prepare("SELECT dek_id FROM deks WHERE state = 'active'")
            .map_err(sql_err)?;
        let rows = st.query_map([], |r| r.get(0)).map_err(sql_err)?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(sql_err)?
    };
    let new = replace_active_dek(&tx, kek, t)?;
    let mut deks = DekCache::default();
    let mut n = 0;
    {
        let mut update = tx
            .prepare("UPDATE records SET dek_id = ?3, blob = ?4, updated_at = ?5 WHERE purpose = ?1 AND record_id = ?2")
            .map_err(sql_err)?;
        for r in records::all(&tx)?.iter().filter(|r| r.dek_id != new.id) {
            injected(n, fail_after)?;
            // Opened and re-sealed with the context read with it: an
            // edited row fails here (8504) instead of being sealed in.
            let pt = records::open_stored(&tx, kek, &mut deks, r)?;
            let resealed = new.seal(r.purpose, &r.record_id, r.context.as_ref(), &pt)?;
            update
                .execute(params![r.purpose.name(), r.record_id, new.id, resealed, t])
                .map_err(sql_err)?;
            n += 1;
        }
    }
    injected(n, fail_after)?;
    let dropped: Vec<String> = {
        let mut st = tx
            .prepare(
                "DELETE FROM deks WHERE state = 'retired'
                 AND NOT EXISTS (SELECT 1 FROM records r WHERE r.dek_id = deks.dek_id) RETURNING dek_id",
            )
            .map_err(sql_err)?;
        let rows = st.query_map([], |r| r.get(0)).map_err(sql_err)?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(sql_err)?
    };
    let detail = format!(
        "{n} records re-sealed; retired {}; dropped {}",
        retired.join(","),
        dropped.join(",")
    );
    audit::ok(
        &tx,
        Entry::new("rotate-dek")
            .kek(kek.kek_id())
            .dek(&new.id)
            .detail(detail),
    )?;
    tx.commit().map_err(sql_err)?;
    Ok(RotationReport {
        kind: "rotate-dek".into(),
        kek_id: kek.kek_id().to_owned(),
        deks_rewrapped: 0,
        records_resealed: n,
        new_dek_id: Some(new.id.clone()),
        retired_dek_ids: retired,
        dropped_dek_ids: dropped,
    })
}

fn verify_all(conn: &Connection, kek: &KekConfig) -> Result<usize> {
    let tx = conn.unchecked_transaction().map_err(sql_err)?;
    let mut deks = DekCache::default();
    let mut n = 0;
    // `all` refuses a record with two secrets rows (or stored twice).
    for r in records::all(&tx)? {
        records::open_stored(&tx, kek, &mut deks, &r)?;
        n += 1;
    }
    // A secrets row whose record is gone was added or renamed.
    let orphan: Option<String> = tx
        .query_row(
            "SELECT slug FROM secrets s WHERE NOT EXISTS (SELECT 1 FROM records r
               WHERE r.purpose = ?1 AND r.record_id = s.slug) ORDER BY slug LIMIT 1",
            [Purpose::DeliveredSecret.name()],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err)?;
    if let Some(slug) = orphan {
        return Err(Error::with_detail(
            Code::RecordTampered,
            format!("delivered-secret record {slug:?} is missing but its secrets row exists"),
        ));
    }
    Ok(n)
}

impl Keystore {
    /// Re-wrap every DEK under the current KEK in one transaction (DEKs
    /// still under the previous KEK are unwrapped with it). Afterwards the
    /// previous KEK is no longer needed.
    pub fn rotate_kek(&self) -> Result<RotationReport> {
        self.rotate(false, None)
    }

    /// Make a fresh active DEK and re-seal every record under it in one
    /// transaction; retired DEKs no record uses are then deleted.
    pub fn rotate_dek(&self) -> Result<RotationReport> {
        self.rotate(true, None)
    }

    /// [`Keystore::rotate_dek`] that fails after `fail_after` records, inside
    /// the transaction (tests: an interrupted rotation must change nothing).
    #[doc(hidden)]
    pub fn rotate_dek_with_fault(&self, fail_after: usize) -> Result<RotationReport> {
        self.rotate(true, Some(fail_after))
    }

    /// [`Keystore::rotate_kek`] that fails after `fail_after` DEKs.
    #[doc(hidden)]
    pub fn rotate_kek_with_fault(&self, fail_after: usize) -> Result<RotationReport> {
        self.rotate(false, Some(fail_after))
    }

    fn rotate(&self, dek: bool, fail_after: Option<usize>) -> Result<RotationReport> {
        let mut conn = self.conn()?;
        let r = if dek {
            rotate_dek_tx(&mut conn, &self.kek, fail_after)
        } else {
            rotate_kek_tx(&mut conn, &self.kek, fail_after)
        };
        if let Err(e) = &r {
            let event = if dek { "rotate-dek" } else { "rotate-kek" };
            let _ = audit::fail(&conn, Entry::new(event).kek(self.kek.kek_id()), e);
        }
        r
    }

    /// Open every record (nothing is written but one audit row); the first
    /// record that fails authentication stops it with 8504. Returns how many
    /// records opened.
    pub fn verify(&self) -> Result<usize> {
        let conn = self.conn()?;
        let r = verify_all(&conn, &self.kek);
        match &r {
            Ok(n) => audit::ok(
                &conn,
                Entry::new("verify")
                    .kek(self.kek.kek_id())
                    .detail(format!("{n} records open")),
            )?,
            Err(e) => {
                let _ = audit::fail(&conn, Entry::new("verify").kek(self.kek.kek_id()), e);
            }
        }
        r
    }

    /// KEK id, DEKs with state and record counts, format version.
    pub fn status(&self) -> Result<Status> {
        let conn = self.conn()?;
        let deks = {
            let mut st = conn
                .prepare(
                    "SELECT d.dek_id, d.kek_id, d.state, d.created_at, d.retired_at,
                       (SELECT count(*) FROM records r WHERE r.dek_id = d.dek_id)
                     FROM deks d ORDER BY d.created_at, d.dek_id",
                )
                .map_err(sql_err)?;
            let rows = st
                .query_map([], |r| {
                    Ok(DekStatus {
                        dek_id: r.get(0)?,
                        kek_id: r.get(1)?,
                        state: r.get(2)?,
                        created_at: r.get(3)?,
                        retired_at: r.get(4)?,
                        records: r.get(5)?,
                    })
                })
                .map_err(sql_err)?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .map_err(sql_err)?
        };
        let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<u64> {
            conn.query_row(sql, p, |r| r.get(0)).map_err(sql_err)
        };
        let mut by_purpose = Vec::new();
        for p in Purpose::ALL {
            by_purpose.push((
                p.name().to_owned(),
                count(
                    "SELECT count(*) FROM records WHERE purpose = ?1",
                    &[&p.name()],
                )?,
            ));
        }
        Ok(Status {
            db_path: self.db_path.display().to_string(),
            format_version: aad::FORMAT_VERSION,
            kek_id: self.kek.kek_id().to_owned(),
            previous_kek_id: self.kek.previous_kek_id().map(str::to_owned),
            dev_insecure: self.kek.is_dev_insecure(),
            deks,
            records_by_purpose: by_purpose,
            pending: count(
                "SELECT count(*) FROM pending WHERE state = ?1",
                &[&PendingKeyState::Pending],
            )?,
            secrets: count("SELECT count(*) FROM secrets", &[])?,
        })
    }
}
