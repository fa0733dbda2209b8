//! Envelope posts by the sealing side: first push wins, the caps, and the
//! per-pending-id lockout. A post's verdict is reached in one transaction
//! holding the pending's row lock, so concurrent posts — on any instance —
//! are judged one after another against the failures already counted.

use deadpool_postgres::Transaction;

use sealpass::error::{Code, Error, Result};
use sealpass_native::wire::{StatusView, TargetState};

use super::pending::{load, load_live_locked};
use super::{audit, begin, count_failure, pg, retry, Fail, PgStore, Scope};
use crate::store::model::{
    already_accepted, check_post_items, counts_as_failure, is_valid_pending_id, queue_full,
    recheck, PostVerdict, Posted,
};
use crate::store::views::{self, status_view};
use crate::store::Limits;

type Res<T> = std::result::Result<T, Fail>;

/// Seconds the lockout of `pending_id` still runs, if it does.
async fn lockout_left(tx: &Transaction<'_>, pending_id: &str, now: i64) -> Res<Option<i64>> {
    let until: Option<i64> = tx
        .query_opt(
            "SELECT until FROM lockouts WHERE pending_id = $1",
            &[&pending_id],
        )
        .await
        .map_err(pg)?
        .map(|r| r.get(0));
    Ok(until.filter(|u| *u > now).map(|u| u - now))
}

impl PgStore {
    /// 404 / 410 / 429-with-seconds-left before the body is read.
    pub async fn check_post_allowed(&self, pending_id: &str, now: i64) -> Result<Option<i64>> {
        if !is_valid_pending_id(pending_id) {
            return Err(Error::new(Code::NotFound, "unknown pending id"));
        }
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            views::live(load(&tx, pending_id, false).await?, now)?;
            let left = lockout_left(&tx, pending_id, now).await?;
            tx.commit().await.map_err(pg)?;
            Ok(left)
        })
        .await
    }

    /// Decide a post in one transaction: a lockout set meanwhile wins;
    /// else store the envelopes (all or nothing), or count the failure
    /// (the third inside the window locks the id). `Err` only for faults.
    pub async fn settle_post(
        &self,
        pending_id: &str,
        parsed: Result<Vec<Posted>>,
        now: i64,
    ) -> Result<PostVerdict> {
        let lim = self.limits;
        // Every envelope's caps re-checked on the blocking pool (up to
        // 512 KiB of JSON), before the transaction takes any lock.
        let (parsed, checks) = tokio::task::spawn_blocking(move || {
            let checks: Vec<Result<()>> = match &parsed {
                Ok(items) => items
                    .iter()
                    .map(|i| recheck(&i.envelope_json).map(drop))
                    .collect(),
                Err(_) => Vec::new(),
            };
            (parsed, checks)
        })
        .await
        .map_err(|_| Error::new(Code::Internal, "worker task failed"))?;
        let gate = PostGate::enter(self, pending_id);
        // Bounded: behind a burst (or a row lock another instance holds)
        // a post answers 503/8506 "retry" in time, not the router's 408.
        let _turn = tokio::time::timeout(super::POOL_WAIT, gate.lock())
            .await
            .map_err(|_| {
                Error::new(
                    Code::StoreUnavailable,
                    "relay busy with posts for this pending id; retry",
                )
            })?;
        retry(|| self.settle_once(pending_id, &parsed, &checks, lim, now)).await
    }

    async fn settle_once(
        &self,
        pending_id: &str,
        parsed: &Result<Vec<Posted>>,
        checks: &[Result<()>],
        lim: Limits,
        now: i64,
    ) -> Res<PostVerdict> {
        let mut c = self.client().await?;
        let mut tx = begin(&mut c, Scope::Relay).await?;
        // The pending's row lock first: every post of this id, on every
        // instance, waits here for the one before it.
        if is_valid_pending_id(pending_id) {
            tx.execute(
                "SELECT 1 FROM pendings WHERE pending_id = $1 FOR UPDATE",
                &[&pending_id],
            )
            .await
            .map_err(pg)?;
        }
        if let Some(left) = lockout_left(&tx, pending_id, now).await? {
            return Ok(PostVerdict::LockedOut(left));
        }
        let outcome = match parsed {
            Ok(items) => {
                // A savepoint: a failure half-way leaves nothing behind,
                // while the failure count below still commits.
                let sp = tx.savepoint("post").await.map_err(pg)?;
                match accept(&sp, lim, pending_id, items, checks, now).await {
                    Ok(view) => {
                        sp.commit().await.map_err(pg)?;
                        Ok(view)
                    }
                    Err(Fail::Retry) => return Err(Fail::Retry),
                    Err(Fail::Err(e)) => {
                        sp.rollback().await.map_err(pg)?;
                        Err(e)
                    }
                }
            }
            Err(e) => Err(e.clone()),
        };
        let verdict = match outcome {
            Ok(view) => PostVerdict::Accepted(view),
            Err(e) => {
                if counts_as_failure(e.code()) {
                    record_failure(&tx, lim, pending_id, e.code(), now).await?;
                }
                PostVerdict::Refused(e)
            }
        };
        tx.commit().await.map_err(pg)?;
        Ok(verdict)
    }
}

/// Count a failed post; the `max_failed_posts`-th inside the window locks
/// the id.
async fn record_failure(
    tx: &Transaction<'_>,
    lim: Limits,
    pending_id: &str,
    code: Code,
    now: i64,
) -> Res<()> {
    tx.execute(
        "INSERT INTO post_failures (pending_id, at) VALUES ($1, $2)",
        &[&pending_id, &now],
    )
    .await
    .map_err(pg)?;
    let n: i64 = tx
        .query_one(
            "SELECT COUNT(*) FROM post_failures WHERE pending_id = $1 AND at > $2",
            &[&pending_id, &(now - lim.failure_window_secs)],
        )
        .await
        .map_err(pg)?
        .get(0);
    if n >= lim.max_failed_posts {
        tx.execute(
            "INSERT INTO lockouts (pending_id, until) VALUES ($1, $2)
             ON CONFLICT (pending_id) DO UPDATE SET until = EXCLUDED.until",
            &[&pending_id, &(now + lim.lockout_secs)],
        )
        .await
        .map_err(pg)?;
        tx.execute(
            "DELETE FROM post_failures WHERE pending_id = $1",
            &[&pending_id],
        )
        .await
        .map_err(pg)?;
        audit(
            tx,
            now,
            "pending_locked",
            "sealer",
            "envelopes",
            Some(Code::RateLimited),
        )
        .await?;
    }
    count_failure(tx, now, "envelope_post_failed", "sealer", "envelopes", code).await
}

/// Store one envelope per listed target, all or nothing (the caller rolls
/// back on `Err`).
async fn accept(
    tx: &Transaction<'_>,
    lim: Limits,
    pending_id: &str,
    items: &[Posted],
    checks: &[Result<()>],
    now: i64,
) -> Res<StatusView> {
    let l = load_live_locked(tx, pending_id, now).await?;
    check_post_items(&l, items, &|i, _| {
        checks
            .get(i)
            .cloned()
            .unwrap_or_else(|| Err(Error::new(Code::Internal, "envelope check missing")))
    })?;
    // The target nodes' row locks, in id order: the queue cap of a node
    // is counted by one post at a time, whichever pendings they are for.
    let mut nodes: Vec<&str> = items.iter().map(|i| i.node_id.as_str()).collect();
    nodes.sort_unstable();
    let seen = tx
        .query(
            "SELECT node_id, last_seen FROM nodes WHERE node_id = ANY($1) ORDER BY node_id FOR UPDATE",
            &[&nodes],
        )
        .await
        .map_err(pg)?;
    for item in items {
        let queued: i64 = tx
            .query_one(
                "SELECT COUNT(*) FROM targets WHERE node_id = $1 AND state IN ($2, $3)",
                &[
                    &item.node_id,
                    &TargetState::CiphertextReceived.as_str(),
                    &TargetState::CiphertextQueued.as_str(),
                ],
            )
            .await
            .map_err(pg)?
            .get(0);
        if queued >= lim.queue_cap {
            return Err(queue_full().into());
        }
        let last_seen: i64 = seen
            .iter()
            .find(|r| r.get::<_, &str>(0) == item.node_id)
            .map_or(0, |r| r.get(1));
        let new_state = if now - last_seen <= lim.offline_after_secs {
            TargetState::CiphertextReceived
        } else {
            TargetState::CiphertextQueued
        };
        // First push wins: the state guard makes a lost race change nothing.
        let changed = tx
            .execute(
                "UPDATE targets SET state = $3, envelope = $4, last_code = NULL, updated_at = $5
                 WHERE pending_id = $1 AND node_id = $2 AND state IN ($6, $7)",
                &[
                    &pending_id,
                    &item.node_id,
                    &new_state.as_str(),
                    &item.envelope_json,
                    &now,
                    &TargetState::PubkeyPosted.as_str(),
                    &TargetState::DecryptFailed.as_str(),
                ],
            )
            .await
            .map_err(pg)?;
        if changed != 1 {
            return Err(already_accepted().into());
        }
    }
    audit(tx, now, "envelopes_posted", "sealer", "envelopes", None).await?;
    let l = load(tx, pending_id, false)
        .await?
        .ok_or_else(|| Error::new(Code::Internal, "pending vanished"))?;
    Ok(status_view(&l, now))
}

/// This instance's queue for posts of one pending id (`PgStore::post_gates`):
/// made on first use, forgotten when the last post holding it ends —
/// finished or dropped (a client gone mid-wait), so nothing is left behind.
struct PostGate<'a> {
    store: &'a PgStore,
    pending_id: String,
    gate: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
}

impl<'a> PostGate<'a> {
    fn enter(store: &'a PgStore, pending_id: &str) -> PostGate<'a> {
        let gate = match store.post_gates.lock() {
            Ok(mut gates) => gates.entry(pending_id.to_owned()).or_default().clone(),
            // A poisoned map: no queueing; the row lock still decides.
            Err(_) => std::sync::Arc::default(),
        };
        PostGate {
            store,
            pending_id: pending_id.to_owned(),
            gate: Some(gate),
        }
    }

    async fn lock(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.gate {
            Some(g) => Some(g.lock().await),
            None => None,
        }
    }
}

impl Drop for PostGate<'_> {
    fn drop(&mut self) {
        if let Ok(mut gates) = self.store.post_gates.lock() {
            drop(self.gate.take());
            if gates
                .get(&self.pending_id)
                .is_some_and(|g| std::sync::Arc::strong_count(g) == 1)
            {
                gates.remove(&self.pending_id);
            }
        }
    }
}
