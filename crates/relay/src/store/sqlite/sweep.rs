//! The expiry sweep: marks expired pendings, deletes their envelopes (accepted
//! targets stay consumed), and prunes caches and old rows.

use rusqlite::params;

use sealpass::error::Result;
use sealpass_native::wire::TargetState;

use super::{audit, immediate, sql_err, SqliteStore};
use crate::store::model::{
    KEEP_EXPIRED_SECS, KEEP_FAILURE_SECS, MAX_AUDIT_ROWS, MAX_FAILURE_BUCKETS,
};

impl SqliteStore {
    /// One sweep; returns how many pendings it expired.
    pub fn sweep(&self, now: i64) -> Result<usize> {
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        tx.execute(
            "UPDATE targets SET state = ?1, envelope = NULL, updated_at = ?2
             WHERE state != ?3 AND state != ?1 AND pending_id IN
               (SELECT pending_id FROM pendings WHERE expired = 0 AND expires_at <= ?2)",
            params![TargetState::Expired, now, TargetState::Consumed],
        )
        .map_err(sql_err)?;
        let expired = tx
            .execute(
                "UPDATE pendings SET expired = 1 WHERE expired = 0 AND expires_at <= ?1",
                [now],
            )
            .map_err(sql_err)?;
        // Belt and braces: no envelope outlives its pending.
        tx.execute(
            "UPDATE targets SET envelope = NULL WHERE envelope IS NOT NULL AND pending_id IN
               (SELECT pending_id FROM pendings WHERE expired = 1)",
            [],
        )
        .map_err(sql_err)?;
        let old = now - KEEP_EXPIRED_SECS;
        tx.execute(
            "DELETE FROM targets WHERE pending_id IN
               (SELECT pending_id FROM pendings WHERE expired = 1 AND expires_at < ?1)",
            [old],
        )
        .map_err(sql_err)?;
        tx.execute(
            "DELETE FROM pendings WHERE expired = 1 AND expires_at < ?1",
            [old],
        )
        .map_err(sql_err)?;
        tx.execute("DELETE FROM replay WHERE expires_at < ?1", [now])
            .map_err(sql_err)?;
        tx.execute(
            "DELETE FROM post_failures WHERE at <= ?1",
            [now - self.limits.failure_window_secs],
        )
        .map_err(sql_err)?;
        tx.execute("DELETE FROM lockouts WHERE until <= ?1", [now])
            .map_err(sql_err)?;
        tx.execute(
            "DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?1",
            [MAX_AUDIT_ROWS],
        )
        .map_err(sql_err)?;
        tx.execute(
            "DELETE FROM auth_failures WHERE minute < ?1",
            [now - KEEP_FAILURE_SECS],
        )
        .map_err(sql_err)?;
        tx.execute(
            "DELETE FROM auth_failures WHERE rowid IN
               (SELECT rowid FROM auth_failures ORDER BY minute DESC LIMIT -1 OFFSET ?1)",
            [MAX_FAILURE_BUCKETS],
        )
        .map_err(sql_err)?;
        if expired > 0 {
            // Named after the state the swept targets moved to.
            audit(
                &tx,
                now,
                TargetState::Expired.as_str(),
                "sweep",
                "sweep",
                None,
            )?;
        }
        tx.commit().map_err(sql_err)?;
        Ok(expired)
    }
}
