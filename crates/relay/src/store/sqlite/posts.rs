//! Envelope posts by the sealing side: first push wins, the caps, and the
//! per-pending-id lockout. A post's verdict (locked out, accepted, or failed
//! and counted) is reached in one IMMEDIATE transaction, so concurrent posts
//! are judged one after another against the failures already counted: no
//! more than `max_failed_posts` failures are ever answered before the lock.

use rusqlite::{params, Connection, OptionalExtension};

use sealpass::error::{Code, Error, Result};
use sealpass_native::wire::{StatusView, TargetState};

use super::load::load;
use super::pending::load_live;
use super::{audit, count_failure, immediate, sql_err, SqliteStore};
use crate::store::model::{
    already_accepted, check_post_items, counts_as_failure, queue_full, PostVerdict, Posted,
};
use crate::store::views::status_view;
use crate::store::Limits;

/// Seconds the lockout of `pending_id` still runs, if it does.
fn lockout_left(c: &Connection, pending_id: &str, now: i64) -> Result<Option<i64>> {
    let until: Option<i64> = c
        .query_row(
            "SELECT until FROM lockouts WHERE pending_id = ?1",
            [pending_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err)?;
    Ok(until.filter(|u| *u > now).map(|u| u - now))
}

impl SqliteStore {
    /// 404 / 410 / 429-with-seconds-left before the body is read (cheap
    /// refusal; [`Store::settle_post`] checks the lockout again).
    pub fn check_post_allowed(&self, pending_id: &str, now: i64) -> Result<Option<i64>> {
        let c = self.conn()?;
        load_live(&c, pending_id, now)?;
        lockout_left(&c, pending_id, now)
    }

    /// Decide a post whose body was parsed into `parsed`, in one
    /// transaction: a lockout set meanwhile wins; else store the envelopes
    /// (all or nothing), or count the failure (the third inside the window
    /// locks the id). `Err` only for server faults.
    pub fn settle_post(
        &self,
        pending_id: &str,
        parsed: Result<Vec<Posted>>,
        now: i64,
    ) -> Result<PostVerdict> {
        let lim = self.limits;
        let mut c = self.conn()?;
        let mut tx = immediate(&mut c)?;
        if let Some(left) = lockout_left(&tx, pending_id, now)? {
            return Ok(PostVerdict::LockedOut(left));
        }
        let outcome = parsed.and_then(|items| {
            // A savepoint: a failure half-way leaves nothing behind, while
            // the failure count below still commits.
            let sp = tx.savepoint().map_err(sql_err)?;
            let view = accept(&sp, lim, pending_id, &items, now)?;
            sp.commit().map_err(sql_err)?;
            Ok(view)
        });
        let verdict = match outcome {
            Ok(view) => PostVerdict::Accepted(view),
            Err(e) => {
                if counts_as_failure(e.code()) {
                    record_failure(&tx, lim, pending_id, e.code(), now)?;
                }
                PostVerdict::Refused(e)
            }
        };
        tx.commit().map_err(sql_err)?;
        Ok(verdict)
    }
}

/// Count a failed post; the `max_failed_posts`-th inside the window locks
/// the id.
fn record_failure(
    c: &Connection,
    lim: Limits,
    pending_id: &str,
    code: Code,
    now: i64,
) -> Result<()> {
    c.execute(
        "INSERT INTO post_failures (pending_id, at) VALUES (?1, ?2)",
        params![pending_id, now],
    )
    .map_err(sql_err)?;
    let n: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM post_failures WHERE pending_id = ?1 AND at > ?2",
            params![pending_id, now - lim.failure_window_secs],
            |r| r.get(0),
        )
        .map_err(sql_err)?;
    if n >= lim.max_failed_posts {
        c.execute(
            "INSERT OR REPLACE INTO lockouts (pending_id, until) VALUES (?1, ?2)",
            params![pending_id, now + lim.lockout_secs],
        )
        .map_err(sql_err)?;
        c.execute(
            "DELETE FROM post_failures WHERE pending_id = ?1",
            [pending_id],
        )
        .map_err(sql_err)?;
        audit(
            c,
            now,
            "pending_locked",
            "sealer",
            "envelopes",
            Some(Code::RateLimited),
        )?;
    }
    // The lockout above is the event; each failure is only counted.
    count_failure(c, now, "envelope_post_failed", "sealer", "envelopes", code)
}

/// Store one envelope per listed target, all or nothing (the caller rolls
/// back on `Err`).
fn accept(
    c: &Connection,
    lim: Limits,
    pending_id: &str,
    items: &[Posted],
    now: i64,
) -> Result<StatusView> {
    let l = load_live(c, pending_id, now)?;
    check_post_items(&l, items, &|_, item| {
        crate::store::model::recheck(&item.envelope_json).map(drop)
    })?;
    for item in items {
        let queued: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM targets WHERE node_id = ?1 AND state IN (?2, ?3)",
                params![
                    item.node_id,
                    TargetState::CiphertextReceived,
                    TargetState::CiphertextQueued
                ],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        if queued >= lim.queue_cap {
            return Err(queue_full());
        }
        let last_seen: i64 = c
            .query_row(
                "SELECT last_seen FROM nodes WHERE node_id = ?1",
                [&item.node_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err)?
            .unwrap_or(0);
        let online = now - last_seen <= lim.offline_after_secs;
        let new_state = if online {
            TargetState::CiphertextReceived
        } else {
            TargetState::CiphertextQueued
        };
        // First push wins: the state guard makes a lost race change nothing.
        let changed = c
            .execute(
                "UPDATE targets SET state = ?3, envelope = ?4, last_code = NULL, updated_at = ?5
                 WHERE pending_id = ?1 AND node_id = ?2 AND state IN (?6, ?7)",
                params![
                    pending_id,
                    item.node_id,
                    new_state,
                    item.envelope_json,
                    now,
                    TargetState::PubkeyPosted,
                    TargetState::DecryptFailed
                ],
            )
            .map_err(sql_err)?;
        if changed != 1 {
            return Err(already_accepted());
        }
    }
    audit(c, now, "envelopes_posted", "sealer", "envelopes", None)?;
    let l = load(c, pending_id)?.ok_or_else(|| Error::new(Code::Internal, "pending vanished"))?;
    Ok(status_view(&l, now))
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore as Store;
    use crate::store::model::{PostVerdict, Posted};
    use crate::store::Limits;
    use sealpass::error::Code;
    use sealpass_native::keystore::{KekConfig, Keystore};
    use sealpass_native::wire::CreatePending;

    /// A post that loses the race with a cancel (it passed the cheap
    /// check, then the pending was cancelled before it settled) is refused
    /// 8613 and never counted: however many of them, no lockout.
    #[test]
    fn posts_refused_as_cancelled_do_not_count_towards_the_lockout() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::open(dir.path(), &KekConfig::new([7; 32], None)).unwrap();
        let db = dir.path().join(super::super::db::DB_FILE);
        let store = Store::open(&db, ks, Limits::default()).unwrap();
        let now = 1_700_000_000;
        store.add_node("n1", now).unwrap();
        let p = store
            .create_pending(
                &CreatePending {
                    node_ids: vec!["n1".into()],
                    slug: "s".into(),
                    injection_method: "env".into(),
                    field_name: None,
                    target_url: None,
                    expires_in_secs: None,
                },
                now,
            )
            .unwrap();
        let id = p.pending_id;
        assert_eq!(store.check_post_allowed(&id, now).unwrap(), None);
        store.cancel_pending(&id, now).unwrap();
        let max = Limits::default().max_failed_posts;
        for _ in 0..max + 2 {
            let item = Posted {
                node_id: "n1".into(),
                envelope_json: "{}".into(),
            };
            match store.settle_post(&id, Ok(vec![item]), now).unwrap() {
                PostVerdict::Refused(e) => assert_eq!(e.code(), Code::Cancelled),
                PostVerdict::LockedOut(_) => panic!("a cancelled post was counted"),
                PostVerdict::Accepted(_) => panic!("accepted after cancel"),
            }
        }
        let n: i64 = store
            .conn()
            .unwrap()
            .query_row("SELECT COUNT(*) FROM post_failures", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
}
