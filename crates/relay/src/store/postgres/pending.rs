//! Creating pending credentials, reading them, and the node's key posting.

use deadpool_postgres::Transaction;

use sealpass::error::{Code, Error, Result};
use sealpass::keys::PublicKey;
use sealpass_native::wire::{
    CreatePending, NodePending, PendingView, StatusView, TargetState, WireContext,
};

use super::{audit, audit_pending, begin, pg, retry, state_of, Fail, PgStore, Scope};
use crate::store::model::{check_create, is_valid_pending_id, unregistered};
use crate::store::views::{self, pending_view, status_view, Loaded, PendingRow, TargetRow};

type Res<T> = std::result::Result<T, Fail>;

impl PgStore {
    /// Create a pending credential with one target per node.
    pub async fn create_pending(&self, p: &CreatePending, now: i64) -> Result<StatusView> {
        let (pending_id, ttl) = check_create(p, self.limits)?;
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let mut ids = p.node_ids.clone();
            ids.sort();
            // Share-lock the nodes: a delete cannot slip in between this
            // check and the insert.
            let known = tx
                .query(
                    "SELECT node_id FROM nodes WHERE node_id = ANY($1) ORDER BY node_id FOR SHARE",
                    &[&ids],
                )
                .await
                .map_err(pg)?;
            for n in &p.node_ids {
                if !known.iter().any(|r| r.get::<_, &str>(0) == n) {
                    return Err(unregistered(n).into());
                }
            }
            tx.execute(
                "INSERT INTO pendings (pending_id, slug, injection_method, field_name, target_url,
                                       created_at, expires_at, expired)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, false)",
                &[
                    &pending_id,
                    &p.slug,
                    &p.injection_method,
                    &p.field_name.as_deref().unwrap_or(""),
                    &p.target_url.as_deref().unwrap_or(""),
                    &now,
                    &now.saturating_add(ttl),
                ],
            )
            .await
            .map_err(pg)?;
            for n in &p.node_ids {
                tx.execute(
                    "INSERT INTO targets (pending_id, node_id, state, updated_at) VALUES ($1, $2, $3, $4)",
                    &[&pending_id, n, &TargetState::AwaitingPubkey.as_str(), &now],
                )
                .await
                .map_err(pg)?;
            }
            audit_pending(&tx, now, "pending_created", &pending_id).await?;
            let l = load(&tx, &pending_id, false)
                .await?
                .ok_or_else(|| Error::new(Code::Internal, "pending vanished"))?;
            tx.commit().await.map_err(pg)?;
            Ok(status_view(&l, now))
        })
        .await
    }

    /// The sealing side's view: 404, 410, 409/8009 until every key is posted.
    pub async fn pending_for_sealing(&self, pending_id: &str, now: i64) -> Result<PendingView> {
        let l = self
            .read(pending_id)
            .await
            .and_then(|l| views::live(l, now))?;
        if l.targets
            .iter()
            .any(|t| t.state == TargetState::AwaitingPubkey)
        {
            return Err(Error::new(
                Code::PubkeyAwaiting,
                "not every node has posted its public key yet; retry with backoff",
            ));
        }
        pending_view(&l, now)
    }

    /// States only (works after expiry too).
    pub async fn status(&self, pending_id: &str, now: i64) -> Result<StatusView> {
        let l = self
            .read(pending_id)
            .await?
            .ok_or_else(|| Error::new(Code::NotFound, "unknown pending id"))?;
        Ok(status_view(&l, now))
    }

    /// A pending as it stands (`None`: unknown or malformed id).
    async fn read(&self, pending_id: &str) -> Result<Option<Loaded>> {
        if !is_valid_pending_id(pending_id) {
            return Ok(None);
        }
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let l = load(&tx, pending_id, false).await?;
            tx.commit().await.map_err(pg)?;
            Ok(l)
        })
        .await
    }

    /// The node posts its one-time public key and the identity key it is
    /// bound to (idempotent for the same pair).
    pub async fn post_pubkey(
        &self,
        node_id: &str,
        pending_id: &str,
        public_key: &str,
        identity_key: Option<&str>,
        now: i64,
    ) -> Result<TargetState> {
        let canonical = PublicKey::from_b64u(public_key)?.to_b64u();
        let identity = identity_key
            .map(PublicKey::from_b64u)
            .transpose()?
            .map(|k| k.to_b64u());
        if !is_valid_pending_id(pending_id) {
            return Err(Error::new(Code::NotFound, "unknown pending id"));
        }
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Node(node_id)).await?;
            let l = views::live_for_node(load(&tx, pending_id, true).await?, now)?;
            let t = l.target(node_id)?;
            if t.state == TargetState::AwaitingPubkey {
                let to = TargetState::PubkeyPosted;
                let changed = tx
                    .execute(
                        "UPDATE targets SET state = $3, public_key = $4, identity_key = $6, updated_at = $5
                         WHERE pending_id = $1 AND node_id = $2 AND state = $7",
                        &[
                            &pending_id,
                            &node_id,
                            &to.as_str(),
                            &canonical,
                            &now,
                            &identity,
                            &TargetState::AwaitingPubkey.as_str(),
                        ],
                    )
                    .await
                    .map_err(pg)?;
                if changed == 1 {
                    audit(&tx, now, to.as_str(), node_id, "node", None).await?;
                    tx.commit().await.map_err(pg)?;
                    return Ok(to);
                }
                // Another instance posted for this node meanwhile.
                return Err(Fail::Retry);
            }
            if t.public_key.as_deref() == Some(canonical.as_str()) && t.identity_key == identity {
                return Ok(t.state);
            }
            Err(Error::new(
                Code::InvalidState,
                "a different public key or identity was already posted",
            )
            .into())
        })
        .await
    }

    /// Live targets of one node (in the node's scope: only its rows).
    pub async fn node_pending(&self, node_id: &str, now: i64) -> Result<Vec<NodePending>> {
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Node(node_id)).await?;
            let rows = tx
                .query(
                    "SELECT t.state, p.pending_id, p.slug, p.injection_method, p.field_name,
                            p.target_url, p.expires_at, p.expired, p.cancelled_at
                     FROM targets t JOIN pendings p USING (pending_id)
                     WHERE t.node_id = $1 AND t.state NOT IN ($2, $3)
                       AND NOT p.expired AND p.expires_at > $4
                     ORDER BY p.created_at, t.pending_id LIMIT 1000",
                    &[
                        &node_id,
                        &TargetState::Consumed.as_str(),
                        &TargetState::Expired.as_str(),
                        &now,
                    ],
                )
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let state = state_of(r.get(0))?;
                let row = pending_row(&r, 1);
                out.push(NodePending {
                    pending_id: row.pending_id.clone(),
                    state,
                    expires_at: row.expires_at,
                    needs_pubkey: state == TargetState::AwaitingPubkey,
                    context: WireContext::raw(&row.context(node_id)?)?,
                });
            }
            Ok(out)
        })
        .await
    }
}

/// The pending row from columns `at..at + 8` of `r` (pending_id, slug,
/// injection_method, field_name, target_url, expires_at, expired,
/// cancelled_at).
fn pending_row(r: &tokio_postgres::Row, at: usize) -> PendingRow {
    PendingRow {
        pending_id: r.get(at),
        slug: r.get(at + 1),
        injection_method: r.get(at + 2),
        field_name: r.get(at + 3),
        target_url: r.get(at + 4),
        expires_at: r.get(at + 5),
        expired: r.get(at + 6),
        cancelled_at: r.get(at + 7),
    }
}

/// Load a pending and the targets this transaction may see (in a node
/// scope: that node's target only). `lock`: take the pending's row lock,
/// which every change of a pending and its targets takes first, so they
/// run one at a time across instances.
pub(crate) async fn load(
    tx: &Transaction<'_>,
    pending_id: &str,
    lock: bool,
) -> Res<Option<Loaded>> {
    let sql = if lock {
        "SELECT pending_id, slug, injection_method, field_name, target_url, expires_at, expired,
                cancelled_at FROM pendings WHERE pending_id = $1 FOR UPDATE"
    } else {
        "SELECT pending_id, slug, injection_method, field_name, target_url, expires_at, expired,
                cancelled_at FROM pendings WHERE pending_id = $1"
    };
    let Some(r) = tx.query_opt(sql, &[&pending_id]).await.map_err(pg)? else {
        return Ok(None);
    };
    let row = pending_row(&r, 0);
    let rows = tx
        .query(
            "SELECT node_id, state, public_key, identity_key, last_code FROM targets
             WHERE pending_id = $1 ORDER BY seq",
            &[&pending_id],
        )
        .await
        .map_err(pg)?;
    let mut targets = Vec::with_capacity(rows.len());
    for t in rows {
        let code: Option<i32> = t.get(4);
        targets.push(TargetRow {
            node_id: t.get(0),
            state: state_of(t.get(1))?,
            public_key: t.get(2),
            identity_key: t.get(3),
            last_code: code.and_then(|c| u16::try_from(c).ok()),
        });
    }
    Ok(Some(Loaded { row, targets }))
}

/// A live pending, locked (404 / 410).
pub(crate) async fn load_live_locked(
    tx: &Transaction<'_>,
    pending_id: &str,
    now: i64,
) -> Res<Loaded> {
    if !is_valid_pending_id(pending_id) {
        return Err(Error::new(Code::NotFound, "unknown pending id").into());
    }
    Ok(views::live(load(tx, pending_id, true).await?, now)?)
}
