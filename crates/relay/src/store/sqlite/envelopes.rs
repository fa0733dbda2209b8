//! Envelope pulling and acks (posting: posts.rs).

use rusqlite::params;

use sealpass::error::{Code, Error, Result};
use sealpass_native::wire::{AckResult, Delivery, TargetState, WireContext, WireEnvelope};

use super::load::load;
use super::pending::load_live_for_node;
use super::{audit, immediate, sql_err, SqliteStore};
use crate::store::model::recheck;

impl SqliteStore {
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
        let l = load_live_for_node(&tx, pending_id, now)?;
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
