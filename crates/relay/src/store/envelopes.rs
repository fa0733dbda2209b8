//! Envelope posting (first push wins, rate limit, caps), pulling and acks.

use rusqlite::{params, OptionalExtension};

use sealpass::envelope::Envelope;
use sealpass::error::{Code, Error, Result};
use sealpass_native::wire::{
    AckResult, Delivery, StatusView, TargetState, WireContext, WireEnvelope,
};

use super::pending::load_live;
use super::views::{load, status_view};
use super::{audit, count_failure, immediate, sql_err, Store};

/// One envelope for one target, already shape-checked and canonical.
pub struct Posted {
    /// Target node.
    pub node_id: String,
    /// Canonical envelope JSON.
    pub envelope_json: String,
}

/// Re-check the caps on stored envelope text (before storage and on replay):
/// whatever happened to the row, nothing over 16 KiB leaves the relay.
fn recheck(envelope_json: &str) -> Result<Envelope> {
    Envelope::from_json(envelope_json.as_bytes())
}

impl Store {
    /// 404 / 410 / 429-with-seconds-left before any work on a post.
    pub fn check_post_allowed(&self, pending_id: &str, now: i64) -> Result<Option<i64>> {
        let c = self.conn()?;
        load_live(&c, pending_id, now)?;
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

    /// Count a failed post; the third inside the window locks the id.
    pub fn record_post_failure(&self, pending_id: &str, code: Code, now: i64) -> Result<()> {
        let lim = self.limits;
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        tx.execute(
            "INSERT INTO post_failures (pending_id, at) VALUES (?1, ?2)",
            params![pending_id, now],
        )
        .map_err(sql_err)?;
        let n: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM post_failures WHERE pending_id = ?1 AND at > ?2",
                params![pending_id, now - lim.failure_window_secs],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        if n >= lim.max_failed_posts {
            tx.execute(
                "INSERT OR REPLACE INTO lockouts (pending_id, until) VALUES (?1, ?2)",
                params![pending_id, now + lim.lockout_secs],
            )
            .map_err(sql_err)?;
            tx.execute(
                "DELETE FROM post_failures WHERE pending_id = ?1",
                [pending_id],
            )
            .map_err(sql_err)?;
            audit(
                &tx,
                now,
                "pending_locked",
                "sealer",
                "envelopes",
                Some(Code::RateLimited),
            )?;
        }
        // The lockout above is the event; each failure is only counted.
        count_failure(
            &tx,
            now,
            "envelope_post_failed",
            "sealer",
            "envelopes",
            code,
        )?;
        tx.commit().map_err(sql_err)
    }

    /// Store one envelope per listed target, all or nothing.
    pub fn accept_envelopes(
        &self,
        pending_id: &str,
        items: &[Posted],
        now: i64,
    ) -> Result<StatusView> {
        let lim = self.limits;
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let l = load_live(&tx, pending_id, now)?;
        if items.is_empty() {
            return Err(Error::new(Code::BadRequest, "envelopes must not be empty"));
        }
        for (i, item) in items.iter().enumerate() {
            if items.iter().take(i).any(|o| o.node_id == item.node_id) {
                return Err(Error::new(Code::BadRequest, "one envelope per node_id"));
            }
            let t = l
                .targets
                .iter()
                .find(|t| t.node_id == item.node_id)
                .ok_or_else(|| {
                    Error::new(
                        Code::BadRequest,
                        "node_id is not a target of this pending id",
                    )
                })?;
            if t.state == TargetState::AwaitingPubkey {
                return Err(Error::new(
                    Code::PubkeyAwaiting,
                    "the node has not posted its public key yet",
                ));
            }
            if !t.state.accepts_envelope() {
                return Err(Error::new(
                    Code::AlreadyUsed,
                    "an envelope was already accepted for this target",
                ));
            }
            recheck(&item.envelope_json)?;
            let queued: i64 = tx
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
                return Err(Error::new(
                    Code::QueueFull,
                    "the node already has 5 undelivered envelopes",
                ));
            }
            let last_seen: i64 = tx
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
            let changed = tx
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
                return Err(Error::new(
                    Code::AlreadyUsed,
                    "an envelope was already accepted for this target",
                ));
            }
        }
        audit(&tx, now, "envelopes_posted", "sealer", "envelopes", None)?;
        let l =
            load(&tx, pending_id)?.ok_or_else(|| Error::new(Code::Internal, "pending vanished"))?;
        let view = status_view(&l, now);
        tx.commit().map_err(sql_err)?;
        Ok(view)
    }

    /// Hand a node every envelope waiting for it; queued ones become
    /// received (delivered on reconnect).
    pub fn pull_envelopes(&self, node_id: &str, now: i64) -> Result<Vec<Delivery>> {
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let rows: Vec<(String, String)> = {
            let mut st = tx
                .prepare(
                    "SELECT t.pending_id, t.envelope FROM targets t JOIN pendings p USING (pending_id)
                     WHERE t.node_id = ?1 AND t.state IN (?2, ?3) AND t.envelope IS NOT NULL
                       AND p.expired = 0 AND p.expires_at > ?4
                     ORDER BY t.updated_at, t.pending_id",
                )
                .map_err(sql_err)?;
            let rows = st
                .query_map(
                    params![
                        node_id,
                        TargetState::CiphertextReceived,
                        TargetState::CiphertextQueued,
                        now
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(sql_err)?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(sql_err)?;
            rows
        };
        let mut out = Vec::with_capacity(rows.len());
        for (pending_id, env_json) in rows {
            match recheck(&env_json) {
                Ok(env) => {
                    tx.execute(
                        "UPDATE targets SET state = ?3, updated_at = ?4
                         WHERE pending_id = ?1 AND node_id = ?2 AND state = ?5",
                        params![
                            pending_id,
                            node_id,
                            TargetState::CiphertextReceived,
                            now,
                            TargetState::CiphertextQueued
                        ],
                    )
                    .map_err(sql_err)?;
                    let Some(l) = load(&tx, &pending_id)? else {
                        continue;
                    };
                    let envelope = WireEnvelope::raw(&env)?;
                    out.push(Delivery {
                        context: WireContext::raw(&l.row.context(node_id)?)?,
                        pending_id,
                        envelope,
                    });
                }
                Err(e) => {
                    // Never forward what fails the caps; the sealer may retry.
                    tx.execute(
                        "UPDATE targets SET state = ?3, envelope = NULL, last_code = ?4, updated_at = ?5
                         WHERE pending_id = ?1 AND node_id = ?2",
                        params![
                            pending_id,
                            node_id,
                            TargetState::DecryptFailed,
                            e.code().number(),
                            now
                        ],
                    )
                    .map_err(sql_err)?;
                    audit(
                        &tx,
                        now,
                        "envelope_rejected_on_replay",
                        node_id,
                        "node",
                        Some(e.code()),
                    )?;
                }
            }
        }
        if !out.is_empty() {
            audit(&tx, now, "envelopes_pulled", node_id, "node", None)?;
        }
        tx.commit().map_err(sql_err)?;
        Ok(out)
    }

    /// The node reports the outcome; the stored envelope is deleted.
    pub fn ack(
        &self,
        node_id: &str,
        pending_id: &str,
        result: AckResult,
        now: i64,
    ) -> Result<TargetState> {
        let to = result.target_state();
        let code = match result {
            AckResult::Consumed => None,
            AckResult::DecryptFailed => Some(Code::DecryptFailed.number()),
        };
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let l = load_live(&tx, pending_id, now)?;
        let t = l.target(node_id)?;
        if t.state == to {
            return Ok(to); // a retried ack
        }
        if !t.state.envelope_in_flight() {
            return Err(Error::new(
                Code::InvalidState,
                "no envelope is waiting for this ack",
            ));
        }
        tx.execute(
            "UPDATE targets SET state = ?3, envelope = NULL, last_code = ?4, updated_at = ?5
             WHERE pending_id = ?1 AND node_id = ?2",
            params![pending_id, node_id, to, code, now],
        )
        .map_err(sql_err)?;
        // The audit event is named after the state the target moved to.
        audit(&tx, now, to.as_str(), node_id, "node", None)?;
        tx.commit().map_err(sql_err)?;
        Ok(to)
    }

    /// Number of stored envelopes (tests: "nothing stored").
    pub fn stored_envelope_count(&self) -> Result<i64> {
        let c = self.conn()?;
        c.query_row(
            "SELECT COUNT(*) FROM targets WHERE envelope IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .map_err(sql_err)
    }
}
