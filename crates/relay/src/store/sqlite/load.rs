//! Loading a pending credential and its targets from SQLite.

use rusqlite::{Connection, OptionalExtension};

use sealpass::error::Result;

use super::super::views::{Loaded, PendingRow, TargetRow};
use super::sql_err;

pub(super) fn load(c: &Connection, pending_id: &str) -> Result<Option<Loaded>> {
    let row = c
        .query_row(
            "SELECT pending_id, slug, injection_method, field_name, target_url, expires_at, expired,
                    cancelled_at
             FROM pendings WHERE pending_id = ?1",
            [pending_id],
            |r| {
                Ok(PendingRow {
                    pending_id: r.get(0)?,
                    slug: r.get(1)?,
                    injection_method: r.get(2)?,
                    field_name: r.get(3)?,
                    target_url: r.get(4)?,
                    expires_at: r.get(5)?,
                    expired: r.get::<_, i64>(6)? != 0,
                    cancelled_at: r.get(7)?,
                })
            },
        )
        .optional()
        .map_err(sql_err)?;
    let Some(row) = row else { return Ok(None) };
    let mut st = c
        .prepare(
            "SELECT node_id, state, public_key, identity_key, last_code FROM targets
             WHERE pending_id = ?1 ORDER BY rowid",
        )
        .map_err(sql_err)?;
    let targets = st
        .query_map([pending_id], |r| {
            Ok(TargetRow {
                node_id: r.get(0)?,
                state: r.get(1)?,
                public_key: r.get(2)?,
                identity_key: r.get(3)?,
                last_code: r.get(4)?,
            })
        })
        .map_err(sql_err)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql_err)?;
    Ok(Some(Loaded { row, targets }))
}
