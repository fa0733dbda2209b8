//! Envelope pulling and acks, in the node's own scope.

use sealpass::error::{Code, Error, Result};
use sealpass_native::wire::{AckResult, Delivery, TargetState, WireContext, WireEnvelope};

use super::pending::load;
use super::{audit, begin, pg, retry, PgStore, Scope};
use crate::store::model::{is_valid_pending_id, recheck};
use crate::store::views;

impl PgStore {
    /// Hand a node every envelope waiting for it; queued ones become
    /// received (delivered on reconnect). Until the ack, a pull (on any
    /// instance) hands the same envelope again: delivery is at least once,
    /// consumption exactly once (the ack's state guard).
    pub async fn pull_envelopes(&self, node_id: &str, now: i64) -> Result<Vec<Delivery>> {
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Node(node_id)).await?;
            let rows = tx
                .query(
                    "SELECT t.pending_id, t.envelope, p.slug, p.injection_method, p.field_name,
                            p.target_url
                     FROM targets t JOIN pendings p USING (pending_id)
                     WHERE t.node_id = $1 AND t.state IN ($2, $3) AND t.envelope IS NOT NULL
                       AND NOT p.expired AND p.expires_at > $4
                     ORDER BY t.updated_at, t.pending_id
                     FOR UPDATE OF t",
                    &[
                        &node_id,
                        &TargetState::CiphertextReceived.as_str(),
                        &TargetState::CiphertextQueued.as_str(),
                        &now,
                    ],
                )
                .await
                .map_err(pg)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let pending_id: String = r.get(0);
                let env_json: String = r.get(1);
                match recheck(&env_json) {
                    Ok(env) => {
                        tx.execute(
                            "UPDATE targets SET state = $3, updated_at = $4
                             WHERE pending_id = $1 AND node_id = $2 AND state = $5",
                            &[
                                &pending_id,
                                &node_id,
                                &TargetState::CiphertextReceived.as_str(),
                                &now,
                                &TargetState::CiphertextQueued.as_str(),
                            ],
                        )
                        .await
                        .map_err(pg)?;
                        let field_name: String = r.get(4);
                        let target_url: String = r.get(5);
                        let ctx = sealpass::context::Context::new(
                            node_id,
                            &pending_id,
                            r.get(2),
                            r.get(3),
                            Some(&field_name),
                            Some(&target_url),
                        )?;
                        out.push(Delivery {
                            context: WireContext::raw(&ctx)?,
                            envelope: WireEnvelope::raw(&env)?,
                            pending_id,
                        });
                    }
                    Err(e) => {
                        // Never forward what fails the caps; the sealer may retry.
                        tx.execute(
                            "UPDATE targets SET state = $3, envelope = NULL, last_code = $4, updated_at = $5
                             WHERE pending_id = $1 AND node_id = $2",
                            &[
                                &pending_id,
                                &node_id,
                                &TargetState::DecryptFailed.as_str(),
                                &i32::from(e.code().number()),
                                &now,
                            ],
                        )
                        .await
                        .map_err(pg)?;
                        audit(
                            &tx,
                            now,
                            "envelope_rejected_on_replay",
                            node_id,
                            "node",
                            Some(e.code()),
                        )
                        .await?;
                    }
                }
            }
            if !out.is_empty() {
                audit(&tx, now, "envelopes_pulled", node_id, "node", None).await?;
            }
            tx.commit().await.map_err(pg)?;
            Ok(out)
        })
        .await
    }

    /// The node reports the outcome; the stored envelope is deleted.
    pub async fn ack(
        &self,
        node_id: &str,
        pending_id: &str,
        result: AckResult,
        now: i64,
    ) -> Result<TargetState> {
        let to = result.target_state();
        let code = match result {
            AckResult::Consumed => None,
            AckResult::DecryptFailed => Some(i32::from(Code::DecryptFailed.number())),
        };
        if !is_valid_pending_id(pending_id) {
            return Err(Error::new(Code::NotFound, "unknown pending id"));
        }
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Node(node_id)).await?;
            let l = views::live_for_node(load(&tx, pending_id, true).await?, now)?;
            let t = l.target(node_id)?;
            if t.state == to {
                return Ok(to); // a retried ack
            }
            if !t.state.envelope_in_flight() {
                return Err(
                    Error::new(Code::InvalidState, "no envelope is waiting for this ack").into(),
                );
            }
            tx.execute(
                "UPDATE targets SET state = $3, envelope = NULL, last_code = $4, updated_at = $5
                 WHERE pending_id = $1 AND node_id = $2",
                &[&pending_id, &node_id, &to.as_str(), &code, &now],
            )
            .await
            .map_err(pg)?;
            audit(&tx, now, to.as_str(), node_id, "node", None).await?;
            tx.commit().await.map_err(pg)?;
            Ok(to)
        })
        .await
    }
}
