//! The relay's SQLite file: schema, pragmas, private permissions.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use sealpass::error::{Code, Error, Result};

/// File name of the relay database inside the data dir (the keystore uses
/// its own `keystore.db` next to it).
pub const DB_FILE: &str = "relay.db";

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS nodes (
    node_id    TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL DEFAULT 0
);
-- Secret bytes live sealed in the keystore (record "<node_id>:v<version>");
-- this table only says which versions exist and until when they are valid.
CREATE TABLE IF NOT EXISTS node_secrets (
    node_id    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    not_after  INTEGER,
    PRIMARY KEY (node_id, version)
);
CREATE TABLE IF NOT EXISTS pendings (
    pending_id       TEXT PRIMARY KEY,
    slug             TEXT NOT NULL,
    injection_method TEXT NOT NULL,
    field_name       TEXT NOT NULL,
    target_url       TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    expired          INTEGER NOT NULL DEFAULT 0,
    cancelled_at     INTEGER
);
CREATE TABLE IF NOT EXISTS targets (
    pending_id TEXT NOT NULL,
    node_id    TEXT NOT NULL,
    state      TEXT NOT NULL,
    public_key TEXT,
    identity_key TEXT,
    envelope   TEXT,
    last_code  INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (pending_id, node_id)
);
CREATE INDEX IF NOT EXISTS targets_by_node ON targets (node_id, state);
CREATE TABLE IF NOT EXISTS post_failures (
    pending_id TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS post_failures_by_pending ON post_failures (pending_id, at);
CREATE TABLE IF NOT EXISTS lockouts (
    pending_id TEXT PRIMARY KEY,
    until      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS replay (
    signature  BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
-- Security-relevant events, one row each, written only by credentialed
-- actions (docs/OPERATIONS.md, "Audit trail").
CREATE TABLE IF NOT EXISTS audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    event  TEXT NOT NULL,
    actor  TEXT NOT NULL,
    route  TEXT NOT NULL,
    code   INTEGER
);
-- Failures without valid credentials, counted per minute bucket (minute is
-- the bucket's start, unix seconds): bounded, and kept apart from events.
CREATE TABLE IF NOT EXISTS auth_failures (
    minute  INTEGER NOT NULL,
    event   TEXT NOT NULL,
    actor   TEXT NOT NULL,
    route   TEXT NOT NULL,
    code    INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (minute, event, actor, route, code)
);
"#;

pub(crate) fn sql_err(e: rusqlite::Error) -> Error {
    Error::with_detail(Code::StoreUnavailable, format!("relay database: {e}"))
}

/// Open or create the database file `path` (0600, WAL), creating its
/// directory (0700) when missing.
pub fn open(path: &Path) -> Result<Connection> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        create_private_dir(dir)?;
    }
    let path = path.to_path_buf();
    let existed = path.exists();
    if !existed {
        create_private_file(&path)?;
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_err)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(sql_err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sql_err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sql_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(sql_err)?;
    conn.execute_batch(SCHEMA).map_err(sql_err)?;
    add_column(&conn, "targets", "identity_key", "TEXT")?;
    add_column(&conn, "pendings", "cancelled_at", "INTEGER")?;
    add_column(&conn, "audit", "pending_id", "TEXT")?;
    restrict_permissions(&path)?;
    Ok(conn)
}

/// Columns added after the first schema, to databases made before them:
/// `targets.identity_key` (envelope v2; NULL: those targets' nodes posted no
/// identity), `pendings.cancelled_at` (admin cancel; NULL: not cancelled)
/// and `audit.pending_id` (the pending an admin created or cancelled).
/// Names are our own constants, never input.
fn add_column(conn: &Connection, table: &str, column: &str, ty: &str) -> Result<()> {
    let has: bool = conn
        .query_row(
            &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
            [column],
            |r| r.get::<_, i64>(0),
        )
        .map_err(sql_err)?
        > 0;
    if !has {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))
            .map_err(sql_err)?;
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| {
        Error::with_detail(
            Code::Io,
            format!("cannot create {}: {}", dir.display(), e.kind()),
        )
    })
}

fn create_private_file(path: &Path) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path).map(|_| ()).map_err(|e| {
        Error::with_detail(
            Code::Io,
            format!("cannot create {}: {}", path.display(), e.kind()),
        )
    })
}

/// The database and its WAL/SHM side files are 0600 whatever the umask.
fn restrict_permissions(db: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            let p = std::path::PathBuf::from(name);
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).map_err(
                    |e| {
                        Error::with_detail(
                            Code::Io,
                            format!("cannot chmod {}: {}", p.display(), e.kind()),
                        )
                    },
                )?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}
