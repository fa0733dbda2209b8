//! The SQLite file: private directory and file modes, connection settings,
//! schema, and the error mapping for database failures.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use sealpass::error::{Code, Error, Result};

/// The one database file in the data directory.
pub const DB_FILE: &str = "keystore.db";
/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Map a database error to 8506 with a detail that carries SQLite's message
/// (statement parameters, and so secrets, never appear in it).
pub(crate) fn sql_err(e: rusqlite::Error) -> Error {
    Error::with_detail(Code::StoreUnavailable, format!("database error: {e}"))
}

/// Map an error reading a row of a sealed table. A value sealpass never
/// writes (wrong type, out of range, e.g. `size = -1`) can only come from an
/// edit of the file, so it is 8504, not a local problem to retry (8506).
pub(crate) fn row_err(e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..) => Error::with_detail(
            Code::RecordTampered,
            format!("the database holds a value sealpass never writes: {e}"),
        ),
        e => sql_err(e),
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `BEGIN IMMEDIATE`: take the write lock up front so two processes never
/// interleave a read-modify-write.
pub(crate) fn immediate(conn: &mut Connection) -> Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_err)
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::with_detail(
        Code::StoreUnavailable,
        format!("{what} {}: {}", path.display(), e.kind()),
    )
}

/// Create the data directory with mode 0700. An existing one must not be
/// writable by group or others (they could swap the database file); the
/// file itself is 0600 either way.
fn ensure_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        let mut b = fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(dir)
            .map_err(|e| io_err("cannot create data directory", dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| io_err("cannot chmod data directory", dir, e))?;
        }
    }
    check_dir(dir)
}

/// An existing data directory: a directory, not writable by group or others.
fn check_dir(dir: &Path) -> Result<()> {
    let md = fs::metadata(dir).map_err(|e| io_err("cannot stat data directory", dir, e))?;
    if !md.is_dir() {
        return Err(Error::with_detail(
            Code::StoreUnavailable,
            format!("data directory {} is not a directory", dir.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = md.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(Error::with_detail(
                Code::StoreUnavailable,
                format!(
                    "data directory {} has mode {mode:03o}; it must not be writable by group or others (chmod 700 it)",
                    dir.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Create `path` with mode 0600, refusing anything already there (O_EXCL:
/// a symlink planted at the name, even a dangling one, is never followed).
fn create_private_new(path: &Path) -> Result<fs::File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path).map_err(|e| io_err("cannot create", path, e))
}

/// Force 0600 on `path` if it exists (the database and SQLite's side files).
fn ensure_private_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    if path.exists() {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|e| io_err("cannot stat", path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .map_err(|e| io_err("cannot chmod", path, e))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn side_file(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Run `f` again while SQLite reports the database busy or locked, for up to
/// [`BUSY_TIMEOUT`].
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let start = std::time::Instant::now();
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && start.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Make a missing database file appear whole: the schema is written to a
/// private temporary file that is then hard-linked into place (which fails
/// if another process got there first; then its file is used). So a
/// `keystore.db` is never empty because it is being created, and an empty
/// one can be refused.
fn create_db(data_dir: &Path, path: &Path) -> Result<()> {
    let mut rnd = [0u8; 8];
    sealpass::rng::os_fill(&mut rnd)?;
    let tmp = data_dir.join(format!(
        "{DB_FILE}.new-{}-{}",
        std::process::id(),
        crate::hex::encode(&rnd)
    ));
    let made = (|| {
        drop(create_private_new(&tmp)?);
        let c = Connection::open_with_flags(&tmp, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(sql_err)?;
        c.execute_batch(SCHEMA).map_err(sql_err)?;
        c.close().map_err(|(_, e)| sql_err(e))?;
        match fs::hard_link(&tmp, path) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                Err(io_err("cannot create", path, e))
            }
            _ => Ok(()),
        }
    })();
    let _ = fs::remove_file(&tmp);
    made
}

/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// SQLite's file header is 100 bytes; any real database is longer.
const SQLITE_HEADER_LEN: u64 = 100;

/// Only a missing file means a new store. One that is not an SQLite
/// database (empty, a byte or a few: truncated by a crash, a bad copy, an
/// operator) would be taken by SQLite as an empty database and silently
/// re-initialised, dropping every secret and the node identity, so it fails
/// closed and is left untouched.
fn check_is_database(path: &Path) -> Result<()> {
    use std::io::Read;
    let md = fs::metadata(path).map_err(|e| io_err("cannot stat", path, e))?;
    let hint = "Restore it from a backup; only if this node never stored anything, delete the file to start a new store (with a new node identity)";
    if md.len() == 0 {
        return Err(Error::with_detail(
            Code::StoreUnavailable,
            format!(
                "{} is empty (0 bytes): the keystore was truncated, and this would lose every stored secret and the node identity, so nothing was done. {hint}",
                path.display()
            ),
        ));
    }
    let mut head = Vec::with_capacity(SQLITE_MAGIC.len());
    fs::File::open(path)
        .and_then(|f| f.take(SQLITE_MAGIC.len() as u64).read_to_end(&mut head))
        .map_err(|e| io_err("cannot read", path, e))?;
    if md.len() < SQLITE_HEADER_LEN || head != SQLITE_MAGIC {
        return Err(Error::with_detail(
            Code::StoreUnavailable,
            format!(
                "{} is not an SQLite database ({} bytes, no SQLite header): the keystore was truncated or overwritten, and this would lose every stored secret and the node identity, so nothing was done. {hint}",
                path.display(),
                md.len()
            ),
        ));
    }
    Ok(())
}

/// Whether `name` is one [`create_db`] gives its temporary file:
/// `keystore.db.new-<pid>-<16 hex digits>`.
fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix(DB_FILE)
        .and_then(|r| r.strip_prefix(".new-"))
    else {
        return false;
    };
    let Some((pid, rnd)) = rest.split_once('-') else {
        return false;
    };
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && rnd.len() == 16
        && rnd.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A crash between [`create_db`] linking its temporary file into place and
/// removing it leaves that name as a second link to the live store: remove
/// such names (regular files named exactly so, in the data directory, that
/// are the live file). Another name, or a temporary file that is not the
/// live one (a racing first open may be filling it), is left alone.
/// Best effort: a name that stays holds nothing the store does not.
#[cfg(unix)]
fn remove_stale_links(data_dir: &Path, path: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(live) = fs::symlink_metadata(path) else {
        return;
    };
    let Ok(entries) = fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(is_temp_name) {
            continue;
        }
        // DirEntry::metadata does not follow symlinks.
        let Ok(md) = entry.metadata() else { continue };
        if md.is_file() && md.dev() == live.dev() && md.ino() == live.ino() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(not(unix))]
fn remove_stale_links(_data_dir: &Path, _path: &Path) {}

/// Open (creating if missing) the keystore database in `data_dir`.
pub(crate) fn open(data_dir: &Path) -> Result<(Connection, PathBuf)> {
    match open_with(data_dir, true)? {
        Some(c) => Ok(c),
        None => Err(Error::with_detail(
            Code::StoreUnavailable,
            format!("no keystore in {}", data_dir.display()),
        )),
    }
}

/// Open the keystore database in `data_dir` only if it exists: `None` when
/// the directory or the file is missing (nothing is created, not even the
/// directory, and SQLite opens without `SQLITE_OPEN_CREATE`, so a file
/// removed meanwhile is not made anew). Any other failure (EACCES, ...) is
/// an error naming it.
pub(crate) fn open_existing(data_dir: &Path) -> Result<Option<(Connection, PathBuf)>> {
    open_with(data_dir, false)
}

fn is_missing(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound
}

fn open_with(data_dir: &Path, create: bool) -> Result<Option<(Connection, PathBuf)>> {
    if create {
        ensure_dir(data_dir)?;
    } else {
        match fs::metadata(data_dir) {
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(io_err("cannot stat data directory", data_dir, e)),
            Ok(_) => check_dir(data_dir)?,
        }
    }
    let path = data_dir.join(DB_FILE);
    match fs::symlink_metadata(&path) {
        Err(e) if is_missing(&e) && create => create_db(data_dir, &path)?,
        Err(e) if is_missing(&e) => return Ok(None),
        Err(e) => return Err(io_err("cannot stat", &path, e)),
        Ok(_) => {}
    }
    check_is_database(&path)?;
    remove_stale_links(data_dir, &path);
    ensure_private_file(&path)?;
    // The file exists now (made above when `create`): never let SQLite
    // make one of its own.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match Connection::open_with_flags(&path, flags) {
        Ok(c) => c,
        Err(_) if !create && !path.exists() => return Ok(None),
        Err(e) => return Err(sql_err(e)),
    };
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_err)?;
    // Switching to WAL (first open) or finding the WAL being recovered or
    // removed by a closing process can answer SQLITE_BUSY without going
    // through the busy handler, so opening retries for the same timeout.
    let mode: String = retry_busy(|| {
        let current: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        if current.eq_ignore_ascii_case("wal") {
            return Ok(current);
        }
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
    })
    .map_err(sql_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::with_detail(
            Code::StoreUnavailable,
            format!("could not enable WAL (got {mode})"),
        ));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
    )
    .map_err(sql_err)?;
    for suffix in ["-wal", "-shm"] {
        ensure_private_file(&side_file(&path, suffix))?;
    }
    Ok(Some((conn, path)))
}

/// Open an existing database read-only (only to name the expected KEK id in
/// an error); `None` when there is none.
pub(crate) fn open_read_only(data_dir: &Path) -> Option<Connection> {
    let path = data_dir.join(DB_FILE);
    if !path.is_file() {
        return None;
    }
    let c = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    c.busy_timeout(BUSY_TIMEOUT).ok()?;
    Some(c)
}

/// The schema. `audit` is append-only: triggers abort any UPDATE or DELETE.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS deks (
    dek_id TEXT PRIMARY KEY,
    kek_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'retired')),
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS deks_one_active ON deks(state) WHERE state = 'active';
CREATE TABLE IF NOT EXISTS records (
    purpose TEXT NOT NULL,
    record_id TEXT NOT NULL,
    dek_id TEXT NOT NULL REFERENCES deks(dek_id),
    blob BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (purpose, record_id)
) STRICT;
CREATE INDEX IF NOT EXISTS records_by_dek ON records(dek_id);
CREATE TABLE IF NOT EXISTS pending (
    pending_id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    context_json TEXT NOT NULL,
    public_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'consumed')),
    created_at INTEGER NOT NULL,
    consumed_at INTEGER,
    identity_key TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS secrets (
    slug TEXT PRIMARY KEY,
    pending_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    injection_method TEXT NOT NULL,
    field_name TEXT NOT NULL,
    target_url TEXT NOT NULL,
    stored_at INTEGER NOT NULL,
    size INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    purpose TEXT,
    record_id TEXT,
    kek_id TEXT,
    dek_id TEXT,
    code INTEGER,
    detail TEXT
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
";

/// Stores made before one-time keys were bound to an identity lack
/// `pending.identity_key`: add it (NULL: a legacy, unbound key).
pub(crate) fn migrate(conn: &Connection) -> Result<()> {
    let has: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('pending') WHERE name = 'identity_key'",
            [],
            |r| r.get(0),
        )
        .map_err(sql_err)?;
    if has == 0 {
        conn.execute_batch("ALTER TABLE pending ADD COLUMN identity_key TEXT")
            .map_err(sql_err)?;
    }
    Ok(())
}

/// `sqlite_master` as `(type, name) -> (table, normalized SQL)`, without
/// `sqlite_stat*` (ANALYZE's statistics change plans, never results).
type Objects = std::collections::BTreeMap<(String, String), (String, Option<String>)>;

fn objects(conn: &Connection) -> Result<Objects> {
    let mut st = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM main.sqlite_master
             WHERE substr(name, 1, 11) <> 'sqlite_stat'",
        )
        .map_err(sql_err)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                (r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?),
            ))
        })
        .map_err(sql_err)?;
    rows.map(|r| r.map(|(k, (t, sql))| (k, (t, sql.as_deref().map(normalize)))))
        .collect::<std::result::Result<_, _>>()
        .map_err(row_err)
}

/// Whitespace is insignificant next to `( ) , ;` and otherwise one space
/// (SQLite keeps the text as written, and `ALTER TABLE` splices into it).
fn normalize(sql: &str) -> String {
    let punct = |c: char| matches!(c, '(' | ')' | ',' | ';');
    let mut out = String::with_capacity(sql.len());
    let mut gap = false;
    for c in sql.chars() {
        if c.is_whitespace() {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() && !punct(c) && !out.ends_with(punct) {
            out.push(' ');
        }
        gap = false;
        out.push(c);
    }
    out
}

/// The file's tables, indexes and triggers must be exactly the ones
/// [`SCHEMA`] makes. `CREATE ... IF NOT EXISTS` keeps whatever is there, so
/// without this an edit of the file could drop a uniqueness constraint
/// (two `secrets` rows for one slug) or add a trigger that rewrites a row
/// before sealpass seals it; both are 8504, naming the object.
/// Checked at every open and again by `accept` before it writes a row and
/// seals it (a long-running agent's file can be edited under it).
pub(crate) fn check_schema(conn: &Connection) -> Result<()> {
    static WANT: std::sync::OnceLock<Objects> = std::sync::OnceLock::new();
    let want = match WANT.get() {
        Some(w) => w,
        None => {
            let reference = Connection::open_in_memory().map_err(sql_err)?;
            reference.execute_batch(SCHEMA).map_err(sql_err)?;
            let w = objects(&reference)?;
            WANT.get_or_init(|| w)
        }
    };
    let got = objects(conn)?;
    let changed = |(kind, name): &(String, String), table: &str, how: &str| {
        let on = if table == name {
            String::new()
        } else {
            format!(" (on table {table:?})")
        };
        Err(Error::with_detail(
            Code::RecordTampered,
            format!(
                "the keystore schema was changed outside sealpass: {kind} {name:?}{on} {how}; nothing was read or written. Restore {DB_FILE} from a backup"
            ),
        ))
    };
    // Tables first: the message then names what was rebuilt, not the
    // automatic index it lost.
    let rank = |k: &(String, String)| (k.0 != "table", k.clone());
    let mut keys: Vec<_> = want
        .keys()
        .chain(got.keys().filter(|k| !want.contains_key(*k)))
        .collect();
    keys.sort_by_key(|k| rank(k));
    for key in keys {
        match (want.get(key), got.get(key)) {
            (Some(w), None) => return changed(key, &w.0, "is missing"),
            (None, Some(g)) => return changed(key, &g.0, "is not one sealpass creates"),
            (Some(w), Some(g)) if w != g => {
                return changed(key, &g.0, "differs from the one this build creates")
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_check_accepts_what_sealpass_makes_and_spliced_columns() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
        check_schema(&c).unwrap();
        // An older store gains `pending.identity_key` by ALTER TABLE.
        c.execute_batch("ALTER TABLE pending DROP COLUMN identity_key")
            .unwrap();
        assert_eq!(check_schema(&c).unwrap_err().code(), Code::RecordTampered);
        migrate(&c).unwrap();
        check_schema(&c).unwrap();
        assert_eq!(normalize("a ( b ,\n  c )  d"), "a(b,c)d");
        assert_eq!(normalize(" x\n\ty "), "x y");
    }

    #[test]
    fn temp_names_are_matched_exactly() {
        assert!(is_temp_name("keystore.db.new-4242-0123456789abcdef"));
        for n in [
            "keystore.db",
            "keystore.db.new-",
            "keystore.db.new-4242",
            "keystore.db.new--0123456789abcdef",
            "keystore.db.new-42x-0123456789abcdef",
            "keystore.db.new-4242-0123456789abcdeF",
            "keystore.db.new-4242-0123456789abcdef0",
            "keystore.db.new-4242-0123456789abcdef-wal",
            "other.db.new-4242-0123456789abcdef",
        ] {
            assert!(!is_temp_name(n), "{n}");
        }
    }

    /// The temporary file of a new store is created O_EXCL: a symlink
    /// planted at its name, dangling or not, is refused, never followed.
    #[cfg(unix)]
    #[test]
    fn a_new_private_file_never_follows_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(create_private_new(&link).is_err());
        assert!(!target.exists(), "followed a dangling symlink");
        fs::write(&target, b"keep").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(create_private_new(&link).is_err());
        assert_eq!(fs::read(&target).unwrap(), b"keep");
        let md = fs::metadata(&target).unwrap();
        assert_eq!(
            md.permissions().mode() & 0o777,
            0o644,
            "chmodded through it"
        );
        let new = dir.path().join("new");
        create_private_new(&new).unwrap();
        let mode = fs::metadata(&new).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
