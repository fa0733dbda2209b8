//! Relay state in PostgreSQL, shared by several relay instances. Every
//! guarantee is the database's: a post takes the pending's row lock (`FOR
//! UPDATE`), so concurrent posts on any instances are judged one after
//! another (first push wins, the failure count and lockout); the queue cap
//! counts under the target nodes' row locks; the replay cache is a primary
//! key (`INSERT … ON CONFLICT`). Row-level security confines node-scoped
//! transactions to the calling node's rows (schema.rs). Deadlocks and
//! serialization failures are retried; a database that is away answers
//! 503/8506 until it is back.

mod admin;
mod envelopes;
mod nodes;
mod pending;
mod posts;
mod schema;
mod sweep;
mod tls;

use std::collections::HashMap;
use std::sync::Mutex;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Timeouts, Transaction,
};
use tokio_postgres::error::SqlState;
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};
use sealpass_native::keystore::shared::SharedPurpose;
use sealpass_native::keystore::KekConfig;
use sealpass_native::signing::generate_secret;

use super::url::PgUrl;
use super::Limits;

/// Connections per instance.
const POOL_SIZE: usize = 16;
/// How long a request waits for a connection (or for one to be made).
pub(crate) const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(15);
/// Attempts of a transaction that met a deadlock or serialization failure.
const ATTEMPTS: usize = 4;

/// Opened secrets by (node id, key version).
type SecretCache = HashMap<(String, u32), Zeroizing<Vec<u8>>>;

/// The PostgreSQL store of one relay instance: a connection pool, the KEK
/// that seals node secrets in the database, and this instance's cache of
/// opened secrets (validity is read from the database on every request).
pub struct PgStore {
    pool: Pool,
    kek: KekConfig,
    secret_cache: Mutex<SecretCache>,
    /// (node, version) pairs whose sealed secret would not open (a KEK
    /// this instance lacks): reported once each. Bounded by the secrets
    /// that exist, since only a stored row gets this far.
    unopenable: Mutex<std::collections::HashSet<(String, u32)>>,
    /// One gate per pending id with a post in flight on this instance:
    /// concurrent posts for one pending queue here, not on pooled
    /// connections waiting for the pending's row lock (a burst of posts
    /// for one id would otherwise hold the whole pool). Correctness stays
    /// with the row lock; this only bounds what a burst costs others.
    /// Entries live while a post for that id runs (at most the relay's
    /// request cap).
    post_gates: Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    /// A random HMAC key nobody holds, verified against for callers that
    /// have no valid secret: same work, same answer as a wrong MAC.
    dummy_secret: Zeroizing<Vec<u8>>,
    limits: Limits,
}

/// Why a transaction stopped: retried, or answered.
pub(crate) enum Fail {
    /// Deadlock or serialization failure: run the transaction again.
    Retry,
    /// The answer.
    Err(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Err(e)
    }
}

/// A database error as the relay answers it: 503/8506, no SQL text and no
/// values in the message (the detail names the SQLSTATE only).
pub(crate) fn pg(e: tokio_postgres::Error) -> Fail {
    match e.code() {
        Some(c)
            if *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::T_R_SERIALIZATION_FAILURE =>
        {
            Fail::Retry
        }
        Some(c) => {
            let state = c.code();
            // Temporary (the client should retry; 503): connection
            // exceptions (08), insufficient resources (53), operator
            // intervention — shutdown, statement timeout, cancel (57, but
            // not 57P04 database dropped), lock not available (55P03), a
            // read-only server after a failover (25006), our own idle
            // session timeout (25P03), a commit whose outcome is unknown
            // (40003). Anything else (a privilege, a missing table, a data
            // error) will not pass by retrying: 500.
            let temporary = (["08", "53", "57"].iter().any(|p| state.starts_with(p))
                && state != "57P04")
                || ["55P03", "25006", "25P03", "40003"].contains(&state);
            let code = if temporary {
                Code::StoreUnavailable
            } else {
                Code::Internal
            };
            Fail::Err(Error::with_detail(
                code,
                format!("relay database error (SQLSTATE {state})"),
            ))
        }
        None => Fail::Err(unavailable()),
    }
}

fn unavailable() -> Error {
    Error::new(Code::StoreUnavailable, "relay database unavailable")
}

/// Whose rows a transaction may see (row-level security, schema.rs).
#[derive(Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// A node route: only this node's rows of nodes, node_secrets, targets.
    Node(&'a str),
    /// Admin, sender and sweep work: every row.
    Relay,
}

/// Run `f` (one transaction) until it does not ask for a retry.
async fn retry<T, F, Fut>(mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, Fail>>,
{
    for _ in 1..ATTEMPTS {
        match f().await {
            Ok(v) => return Ok(v),
            Err(Fail::Err(e)) => return Err(e),
            Err(Fail::Retry) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
        }
    }
    match f().await {
        Ok(v) => Ok(v),
        Err(Fail::Err(e)) => Err(e),
        Err(Fail::Retry) => Err(Error::new(
            Code::StoreUnavailable,
            "relay database busy (deadlocks); retry",
        )),
    }
}

impl PgStore {
    /// Connect, migrate (under an advisory lock: instances starting
    /// together migrate once), and check the schema is not newer than
    /// this binary.
    pub async fn connect(url: &PgUrl, kek: KekConfig, limits: Limits) -> Result<PgStore> {
        let mut config = url.config.clone();
        // Every statement names tables unqualified; they live in the
        // relay's own schema. A runaway statement is cut at 10 s; a
        // session left idle inside a transaction (an instance frozen or cut
        // off while holding a row lock) is ended by the server after 15 s,
        // and a dead peer is found by TCP keepalives within about a minute,
        // so no lock outlives its holder for long. Options given in the URL
        // come after ours and win.
        let ours = "-c search_path=sealpass -c statement_timeout=10000 \
                    -c idle_in_transaction_session_timeout=15000 \
                    -c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3";
        let options = match config.get_options() {
            Some(theirs) if !theirs.trim().is_empty() => format!("{ours} {theirs}"),
            _ => ours.to_owned(),
        };
        config.options(&options);
        // The relay's side of the same: keepalives find a vanished server
        // host within about a minute, and data the host never acknowledges
        // fails the connection after 20 s, instead of the kernel's
        // retransmissions (minutes).
        config.keepalives(true);
        config.keepalives_idle(std::time::Duration::from_secs(30));
        config.keepalives_interval(std::time::Duration::from_secs(10));
        config.keepalives_retries(3);
        config.tcp_user_timeout(std::time::Duration::from_secs(20));
        if config.get_application_name().is_none() {
            config.application_name("sealpass-relay");
        }
        let recycling = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        // With sslmode=disable no TLS connector at all: tokio-postgres asks
        // one for a host name even on a Unix socket, where there is none.
        let manager = match url.tls {
            super::url::PgTls::Require => {
                Manager::from_config(config, tls::connector(url)?, recycling)
            }
            super::url::PgTls::Disable => {
                if !url.is_local() {
                    eprintln!(
                        "sealpass-relay: warning: --store sslmode=disable to {}: the database traffic (envelopes, sealed secrets, the password) crosses the network in plain text",
                        url.display
                    );
                }
                Manager::from_config(config, tokio_postgres::NoTls, recycling)
            }
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(POOL_WAIT),
                create: Some(POOL_WAIT),
                recycle: Some(POOL_WAIT),
            })
            .build()
            .map_err(|_| Error::new(Code::Internal, "cannot build the database pool"))?;
        let store = PgStore {
            pool,
            kek,
            secret_cache: Mutex::new(HashMap::new()),
            unopenable: Mutex::new(std::collections::HashSet::new()),
            post_gates: Mutex::new(HashMap::new()),
            dummy_secret: generate_secret()?,
            limits,
        };
        let mut c = store.pool.get().await.map_err(|e| {
            Error::with_detail(
                Code::StoreUnavailable,
                format!(
                    "cannot connect to the relay database {}: {}",
                    url.display,
                    pool_reason(&e)
                ),
            )
        })?;
        schema::migrate(&mut c).await?;
        // Row-level security does not hold for a superuser or a BYPASSRLS
        // role: say so at every start (it still works; it is the operator's
        // database).
        let bypass: bool = c
            .query_one(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
                &[],
            )
            .await
            .map(|r| r.get(0))
            .unwrap_or(false);
        if bypass {
            eprintln!(
                "sealpass-relay: warning: the database role is a superuser or has BYPASSRLS: row-level security does not apply to it; give the relay its own role (docs/OPERATIONS.md)"
            );
        }
        Ok(store)
    }

    /// The configured limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    async fn client(&self) -> std::result::Result<Object, Fail> {
        self.pool.get().await.map_err(|_| Fail::Err(unavailable()))
    }

    /// The admin token every instance shares: made (random, sealed under
    /// the KEK) by the first instance that asks, read by the others.
    pub async fn shared_admin_token(&self) -> Result<Zeroizing<String>> {
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let mut b = Zeroizing::new([0u8; 32]);
            sealpass::rng::os_fill(&mut b[..])?;
            let fresh = Zeroizing::new(sealpass::b64::encode(&b[..]));
            let sealed = self.kek.seal_shared(
                SharedPurpose::RelayAdminToken,
                ADMIN_TOKEN,
                fresh.as_bytes(),
            )?;
            tx.execute(
                "INSERT INTO shared_secrets (name, sealed, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING",
                &[&ADMIN_TOKEN, &sealed, &sealpass_native::signing::unix_now()],
            )
            .await
            .map_err(pg)?;
            let row = tx
                .query_one(
                    "SELECT sealed FROM shared_secrets WHERE name = $1",
                    &[&ADMIN_TOKEN],
                )
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            let blob: Vec<u8> = row.get(0);
            let pt = self
                .kek
                .open_shared(SharedPurpose::RelayAdminToken, ADMIN_TOKEN, &blob)?;
            let text = std::str::from_utf8(&pt)
                .map_err(|_| Error::new(Code::RecordTampered, "shared admin token unreadable"))?;
            Ok(Zeroizing::new(text.to_owned()))
        })
        .await
    }

    /// Re-seal the shared admin token under the current KEK if it is still
    /// under the previous one (guarded by the old bytes). Whether it did.
    pub(crate) async fn reseal_admin_token(&self) -> Result<bool> {
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            let old: Option<Vec<u8>> = tx
                .query_opt(
                    "SELECT sealed FROM shared_secrets WHERE name = $1",
                    &[&ADMIN_TOKEN],
                )
                .await
                .map_err(pg)?
                .map(|r| r.get(0));
            let mut done = false;
            if let Some(old) = old.filter(|b| !self.kek.is_sealed_under_current(b)) {
                let pt = self
                    .kek
                    .open_shared(SharedPurpose::RelayAdminToken, ADMIN_TOKEN, &old)?;
                let new = self
                    .kek
                    .seal_shared(SharedPurpose::RelayAdminToken, ADMIN_TOKEN, &pt)?;
                done = tx
                    .execute(
                        "UPDATE shared_secrets SET sealed = $2 WHERE name = $1 AND sealed = $3",
                        &[&ADMIN_TOKEN, &new, &old],
                    )
                    .await
                    .map_err(pg)?
                    == 1;
            }
            tx.commit().await.map_err(pg)?;
            Ok(done)
        })
        .await
    }

    /// Count a failure by a client without valid credentials (one
    /// `auth_failures` row per minute bucket; see the SQLite store).
    pub async fn count_failure(
        &self,
        now: i64,
        event: &str,
        actor: &str,
        route: &str,
        code: Code,
    ) -> Result<()> {
        retry(|| async {
            let mut c = self.client().await?;
            let tx = begin(&mut c, Scope::Relay).await?;
            count_failure(&tx, now, event, actor, route, code).await?;
            tx.commit().await.map_err(pg)?;
            Ok(())
        })
        .await
    }
}

/// Record id of the shared admin token.
const ADMIN_TOKEN: &str = "admin-token";

fn pool_reason(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Timeout(_) => "timed out".into(),
        // The server's or the client library's words (a refused password,
        // a certificate that does not verify); never the URL's password.
        deadpool_postgres::PoolError::Backend(b) => match b.as_db_error() {
            Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
            None => match std::error::Error::source(b) {
                Some(why) => format!("{b}: {why}"),
                None => b.to_string(),
            },
        },
        _ => "connection failed".into(),
    }
}

/// Open a transaction confined to `scope` (set with `set_config(…, true)`,
/// so it ends with the transaction and never leaks to the next user of the
/// pooled connection).
pub(crate) async fn begin<'c>(
    c: &'c mut Object,
    scope: Scope<'_>,
) -> std::result::Result<Transaction<'c>, Fail> {
    let tx = c.transaction().await.map_err(pg)?;
    match scope {
        Scope::Node(node_id) => tx
            .execute(
                "SELECT set_config('app.current_node_id', $1, true)",
                &[&node_id],
            )
            .await
            .map_err(pg)?,
        Scope::Relay => tx
            .execute("SELECT set_config('app.scope', 'relay', true)", &[])
            .await
            .map_err(pg)?,
    };
    Ok(tx)
}

/// Record a security-relevant event (metadata only).
pub(crate) async fn audit(
    tx: &Transaction<'_>,
    now: i64,
    event: &str,
    actor: &str,
    route: &str,
    code: Option<Code>,
) -> std::result::Result<(), Fail> {
    tx.execute(
        "INSERT INTO audit (at, event, actor, route, code) VALUES ($1, $2, $3, $4, $5)",
        &[
            &now,
            &event,
            &actor,
            &route,
            &code.map(|c| i32::from(c.number())),
        ],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// [`audit`] for an admin action on one pending credential.
pub(crate) async fn audit_pending(
    tx: &Transaction<'_>,
    now: i64,
    event: &str,
    pending_id: &str,
) -> std::result::Result<(), Fail> {
    tx.execute(
        "INSERT INTO audit (at, event, actor, route, pending_id) VALUES ($1, $2, 'admin', 'admin', $3)",
        &[&now, &event, &pending_id],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

pub(crate) async fn count_failure(
    tx: &Transaction<'_>,
    now: i64,
    event: &str,
    actor: &str,
    route: &str,
    code: Code,
) -> std::result::Result<(), Fail> {
    tx.execute(
        "INSERT INTO auth_failures (minute, event, actor, route, code, count, last_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6)
         ON CONFLICT (minute, event, actor, route, code)
         DO UPDATE SET count = auth_failures.count + 1,
                       last_at = GREATEST(auth_failures.last_at, EXCLUDED.last_at)",
        &[
            &(now.div_euclid(60) * 60),
            &event,
            &actor,
            &route,
            &i32::from(code.number()),
            &now,
        ],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// A stored target state (an unknown name is a tampered row: 8504).
pub(crate) fn state_of(
    name: &str,
) -> std::result::Result<sealpass_native::wire::TargetState, Fail> {
    sealpass_native::wire::TargetState::from_name(name).ok_or_else(|| {
        Fail::Err(Error::new(
            Code::RecordTampered,
            "unknown target state in the database",
        ))
    })
}

/// A stored version number as the wire's u32 (out of range: tampered).
pub(crate) fn version_of(v: i64) -> std::result::Result<u32, Fail> {
    u32::try_from(v).map_err(|_| {
        Fail::Err(Error::new(
            Code::RecordTampered,
            "bad key version in the database",
        ))
    })
}
