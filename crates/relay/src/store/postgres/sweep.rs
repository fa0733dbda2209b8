//! The expiry sweep, run by every instance on its timer; one at a time
//! does the work (a transaction-scoped advisory lock: an instance that
//! does not get it skips this round), and every step is idempotent.

use sealpass::error::Result;
use sealpass_native::signing::WINDOW_SECS;
use sealpass_native::wire::TargetState;

use super::{audit, begin, pg, retry, PgStore, Scope};
use crate::store::model::{
    KEEP_EXPIRED_SECS, KEEP_FAILURE_SECS, MAX_AUDIT_ROWS, MAX_FAILURE_BUCKETS,
};

/// `pg_try_advisory_xact_lock` key of the sweep ("sweeping").
const SWEEP_LOCK: i64 = 0x7377_6565_7069_6e67;

impl PgStore {
    /// One sweep; returns how many pendings it expired (0 when another
    /// instance is sweeping right now).
    pub async fn sweep(&self, now: i64) -> Result<usize> {
        let window = self.limits.failure_window_secs;
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let mine: bool = tx
                .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&SWEEP_LOCK])
                .await
                .map_err(pg)?
                .get(0);
            if !mine {
                return Ok(0);
            }
            let expired_state = TargetState::Expired.as_str();
            let consumed = TargetState::Consumed.as_str();
            // The pendings' row locks first, in id order, as every other
            // change of a pending takes them: no deadlock with a post, an
            // ack or a cancel on another instance.
            tx.execute(
                "SELECT 1 FROM pendings WHERE NOT expired AND expires_at <= $1
                 ORDER BY pending_id FOR UPDATE",
                &[&now],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "UPDATE targets SET state = $1, envelope = NULL, updated_at = $2
                 WHERE state != $3 AND state != $1 AND pending_id IN
                   (SELECT pending_id FROM pendings WHERE NOT expired AND expires_at <= $2)",
                &[&expired_state, &now, &consumed],
            )
            .await
            .map_err(pg)?;
            let expired = tx
                .execute(
                    "UPDATE pendings SET expired = true WHERE NOT expired AND expires_at <= $1",
                    &[&now],
                )
                .await
                .map_err(pg)?;
            // Belt and braces: no envelope outlives its pending.
            tx.execute(
                "UPDATE targets SET envelope = NULL WHERE envelope IS NOT NULL AND pending_id IN
                   (SELECT pending_id FROM pendings WHERE expired)",
                &[],
            )
            .await
            .map_err(pg)?;
            // Targets go with their pendings (ON DELETE CASCADE).
            tx.execute(
                "DELETE FROM pendings WHERE expired AND expires_at < $1",
                &[&(now - KEEP_EXPIRED_SECS)],
            )
            .await
            .map_err(pg)?;
            // Kept one window longer than they are needed: an instance whose
            // clock runs behind this one's still refuses a replay.
            tx.execute(
                "DELETE FROM replay WHERE expires_at < $1",
                &[&(now - WINDOW_SECS)],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "DELETE FROM post_failures WHERE at <= $1",
                &[&(now - window)],
            )
            .await
            .map_err(pg)?;
            tx.execute("DELETE FROM lockouts WHERE until <= $1", &[&now])
                .await
                .map_err(pg)?;
            tx.execute(
                "DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - $1",
                &[&MAX_AUDIT_ROWS],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "DELETE FROM auth_failures WHERE minute < $1",
                &[&(now - KEEP_FAILURE_SECS)],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "DELETE FROM auth_failures WHERE (minute, event, actor, route, code) IN
                   (SELECT minute, event, actor, route, code FROM auth_failures
                    ORDER BY minute DESC OFFSET $1)",
                &[&MAX_FAILURE_BUCKETS],
            )
            .await
            .map_err(pg)?;
            if expired > 0 {
                audit(
                    &tx,
                    now,
                    TargetState::Expired.as_str(),
                    "sweep",
                    "sweep",
                    None,
                )
                .await?;
            }
            tx.commit().await.map_err(pg)?;
            Ok(usize::try_from(expired).unwrap_or(usize::MAX))
        })
        .await
    }
}
