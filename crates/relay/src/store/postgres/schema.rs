//! The relay's schema in PostgreSQL, as numbered migrations applied at
//! start in one transaction under an advisory lock (instances starting
//! together migrate once; the others wait, then find nothing to do). A
//! database whose schema is newer than this binary is refused.
//!
//! Row-level security (defence in depth): the tables holding per-node rows
//! (`nodes`, `node_secrets`, `targets`) have it enabled and forced, so even
//! their owner — the relay's own role — sees a row only inside a
//! transaction whose `app.current_node_id` is that row's node, or whose
//! `app.scope` is `relay` (admin, sender and sweep work). Node routes run
//! with the first, so a node-route query that named the wrong node, or no
//! node, reads and changes nothing. Unset settings match nothing.

use deadpool_postgres::Object;

use sealpass::error::{Code, Error, Result};

use super::pg;

/// `pg_advisory_xact_lock` key of the migration ("sealpass" in ASCII).
const MIGRATION_LOCK: i64 = 0x7365_616c_7061_7373;

/// The row filter of every per-node table.
const VISIBLE: &str = "current_setting('app.scope', true) = 'relay'
    OR node_id = current_setting('app.current_node_id', true)";

/// Migration `n` is `MIGRATIONS[n - 1]`; never edit one that has shipped,
/// add the next.
fn migrations() -> Vec<(&'static str, String)> {
    let v1 = format!(
        r#"
CREATE TABLE nodes (
    node_id    TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL DEFAULT 0
);
-- One row per secret version; `sealed` is the secret sealed under the KEK
-- (keystore::shared, record "<node_id>:v<version>"), NULL once retired.
CREATE TABLE node_secrets (
    node_id    TEXT NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    not_after  BIGINT,
    sealed     BYTEA,
    PRIMARY KEY (node_id, version)
);
CREATE TABLE pendings (
    pending_id       TEXT PRIMARY KEY,
    slug             TEXT NOT NULL,
    injection_method TEXT NOT NULL,
    field_name       TEXT NOT NULL,
    target_url       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    expired          BOOLEAN NOT NULL DEFAULT false,
    cancelled_at     BIGINT
);
CREATE INDEX pendings_by_expiry ON pendings (expired, expires_at);
CREATE TABLE targets (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    pending_id   TEXT NOT NULL REFERENCES pendings (pending_id) ON DELETE CASCADE,
    node_id      TEXT NOT NULL,
    state        TEXT NOT NULL,
    public_key   TEXT,
    identity_key TEXT,
    envelope     TEXT,
    last_code    INTEGER,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (pending_id, node_id)
);
CREATE INDEX targets_by_node ON targets (node_id, state);
CREATE TABLE post_failures (
    pending_id TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX post_failures_by_pending ON post_failures (pending_id, at);
CREATE TABLE lockouts (
    pending_id TEXT PRIMARY KEY,
    until      BIGINT NOT NULL
);
-- Signatures accepted inside their window: a primary key, so a signature
-- accepted by one instance is refused by every other.
CREATE TABLE replay (
    signature  BYTEA PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX replay_by_expiry ON replay (expires_at);
CREATE TABLE audit (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    event      TEXT NOT NULL,
    actor      TEXT NOT NULL,
    route      TEXT NOT NULL,
    code       INTEGER,
    pending_id TEXT
);
CREATE TABLE auth_failures (
    minute  BIGINT NOT NULL,
    event   TEXT NOT NULL,
    actor   TEXT NOT NULL,
    route   TEXT NOT NULL,
    code    INTEGER NOT NULL,
    count   BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (minute, event, actor, route, code)
);
-- Secrets every instance shares, sealed under the KEK (the admin token).
CREATE TABLE shared_secrets (
    name       TEXT PRIMARY KEY,
    sealed     BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
ALTER TABLE nodes ENABLE ROW LEVEL SECURITY;
ALTER TABLE nodes FORCE ROW LEVEL SECURITY;
CREATE POLICY node_rows ON nodes USING ({VISIBLE}) WITH CHECK ({VISIBLE});
ALTER TABLE node_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE node_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY node_rows ON node_secrets USING ({VISIBLE}) WITH CHECK ({VISIBLE});
ALTER TABLE targets ENABLE ROW LEVEL SECURITY;
ALTER TABLE targets FORCE ROW LEVEL SECURITY;
CREATE POLICY node_rows ON targets USING ({VISIBLE}) WITH CHECK ({VISIBLE});
"#
    );
    vec![("relay tables, row-level security on per-node rows", v1)]
}

/// The newest schema version this binary knows.
pub(crate) fn latest() -> i32 {
    i32::try_from(migrations().len()).unwrap_or(i32::MAX)
}

/// Bring the database to [`latest`], or refuse it if it is newer.
pub(crate) async fn migrate(c: &mut Object) -> Result<()> {
    let fail = |f: super::Fail| match f {
        super::Fail::Err(e) => e,
        super::Fail::Retry => Error::new(Code::StoreUnavailable, "relay database busy; retry"),
    };
    let tx = c.transaction().await.map_err(pg).map_err(fail)?;
    // Another instance may be migrating (or a long migration may wait for
    // running instances' locks): wait up to 5 minutes, not the 10 s every
    // request gets.
    tx.batch_execute("SET LOCAL statement_timeout = '300s'")
        .await
        .map_err(pg)
        .map_err(fail)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg)
        .map_err(fail)?;
    // Created only when missing: CREATE SCHEMA checks the CREATE privilege
    // on the database even with IF NOT EXISTS, and an operator may revoke
    // it once the schema exists (docs/OPERATIONS.md).
    let exists = tx
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = 'sealpass'", &[])
        .await
        .map_err(pg)
        .map_err(fail)?
        .is_some();
    let create = if exists {
        ""
    } else {
        "CREATE SCHEMA sealpass;"
    };
    tx.batch_execute(&format!(
        "{create}
         CREATE TABLE IF NOT EXISTS sealpass.schema_migrations (
             version     INTEGER PRIMARY KEY,
             applied_at  BIGINT NOT NULL,
             description TEXT NOT NULL
         );"
    ))
    .await
    .map_err(|e| {
        if e.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) {
            Error::new(
                Code::StoreUnavailable,
                if exists {
                    "the relay's database role may not create tables in schema sealpass: it must own that schema (docs/OPERATIONS.md)"
                } else {
                    "the relay's database role may not create its schema: GRANT CREATE ON DATABASE … TO the relay role (docs/OPERATIONS.md)"
                },
            )
        } else {
            fail(pg(e))
        }
    })?;
    let have: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM sealpass.schema_migrations",
            &[],
        )
        .await
        .map_err(pg)
        .map_err(fail)?
        .get(0);
    let known = latest();
    if have > known {
        return Err(Error::with_detail(
            Code::FormatUnsupported,
            format!(
                "the relay database has schema version {have}, newer than this sealpass-relay knows ({known}): run a newer sealpass-relay"
            ),
        ));
    }
    let now = sealpass_native::signing::unix_now();
    for (i, (description, sql)) in migrations().into_iter().enumerate() {
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        if version <= have {
            continue;
        }
        tx.batch_execute(&format!("SET LOCAL search_path = sealpass;\n{sql}"))
            .await
            .map_err(pg)
            .map_err(fail)?;
        tx.execute(
            "INSERT INTO sealpass.schema_migrations (version, applied_at, description) VALUES ($1, $2, $3)",
            &[&version, &now, &description],
        )
        .await
        .map_err(pg)
        .map_err(fail)?;
        eprintln!("sealpass-relay: database schema migrated to version {version} ({description})");
    }
    tx.commit().await.map_err(pg).map_err(fail)?;
    Ok(())
}
