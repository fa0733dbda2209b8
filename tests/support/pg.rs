//! A real PostgreSQL server for the relay's PostgreSQL store: the private
//! server `tests/pg/run.sh` starts (its `SEALPASS_TEST_PG_*` environment,
//! tests/pg/server.sh), a fresh database per relay or cluster, SQL as the
//! superuser to inspect rows, and stopping/starting a server for restart
//! tests.
//!
//! Roles: the superuser `postgres` only over the server's unix socket; the
//! relay's login role (`SEALPASS_TEST_PG_RELAY_USER`, no superuser,
//! createdb, createrole, bypassrls) only over TCP on 127.0.0.1 with its
//! password. Each [`Database`] is `sp_<random hex>`, owned by the
//! superuser, CONNECT and CREATE granted to the relay role alone, and
//! dropped (WITH (FORCE)) when its last handle goes.
//!
//! With `SEALPASS_TEST_STORE=postgres` ([`enabled`]) every
//! [`crate::relay::Relay`] runs on a fresh database of the shared server.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use crate::proc::rand_hex;

/// The message of every test or helper that cannot run without a server.
pub const NEEDS_PG: &str = "needs PostgreSQL: run tests/pg/run.sh";

/// Where one server is and how to reach it (the `env` of server.sh).
#[derive(Clone, Debug)]
struct Env {
    /// server.sh's DIR.
    dir: PathBuf,
    /// The unix socket dir (superuser access).
    socket: String,
    host: String,
    port: u16,
    relay_user: String,
    relay_password: String,
    ca: Option<PathBuf>,
    log: PathBuf,
}

impl Env {
    fn from_process_env() -> Option<Env> {
        let v = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
        Some(Env {
            dir: PathBuf::from(v("SEALPASS_TEST_PG_DIR")?),
            socket: v("SEALPASS_TEST_PG_SOCKET")?,
            host: v("SEALPASS_TEST_PG_HOST")?,
            port: v("SEALPASS_TEST_PG_PORT")?.parse().ok()?,
            relay_user: v("SEALPASS_TEST_PG_RELAY_USER")?,
            relay_password: v("SEALPASS_TEST_PG_RELAY_PASSWORD")?,
            ca: v("SEALPASS_TEST_PG_CA").map(PathBuf::from),
            log: PathBuf::from(v("SEALPASS_TEST_PG_LOG")?),
        })
    }

    /// Parse the `export K=V` lines of `server.sh env DIR` (values are
    /// printed with %q: plain paths, numbers and hex here).
    fn from_exports(text: &str) -> Env {
        let get = |k: &str| -> Option<String> {
            text.lines()
                .filter_map(|l| l.strip_prefix("export "))
                .filter_map(|l| l.split_once('='))
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.replace('\\', ""))
                .filter(|s| !s.is_empty() && s != "''")
        };
        let need = |k: &str| get(k).unwrap_or_else(|| panic!("server.sh env: no {k}"));
        Env {
            dir: PathBuf::from(need("SEALPASS_TEST_PG_DIR")),
            socket: need("SEALPASS_TEST_PG_SOCKET"),
            host: need("SEALPASS_TEST_PG_HOST"),
            port: need("SEALPASS_TEST_PG_PORT").parse().expect("port"),
            relay_user: need("SEALPASS_TEST_PG_RELAY_USER"),
            relay_password: need("SEALPASS_TEST_PG_RELAY_PASSWORD"),
            ca: get("SEALPASS_TEST_PG_CA").map(PathBuf::from),
            log: PathBuf::from(need("SEALPASS_TEST_PG_LOG")),
        }
    }

    fn admin_url(&self, db: &str) -> String {
        format!(
            "postgresql://postgres@/{db}?host={}&port={}&connect_timeout=10",
            self.socket, self.port
        )
    }
}

/// Is a server running for this test process (tests/pg/run.sh's env)?
pub fn available() -> bool {
    Env::from_process_env().is_some()
}

/// Do relays run on PostgreSQL (`SEALPASS_TEST_STORE=postgres`)? Panics
/// when asked for PostgreSQL without a server, so that a suite meant for
/// PostgreSQL never passes on SQLite by mistake.
pub fn enabled() -> bool {
    match std::env::var("SEALPASS_TEST_STORE").as_deref() {
        Ok("postgres") => {
            assert!(
                available(),
                "SEALPASS_TEST_STORE=postgres but no SEALPASS_TEST_PG_* server environment: {NEEDS_PG}"
            );
            true
        }
        Ok("") | Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("SEALPASS_TEST_STORE={other:?}: expected postgres or sqlite"),
    }
}

/// The server of tests/pg/run.sh; panics with [`NEEDS_PG`] without one.
fn shared_env() -> Env {
    Env::from_process_env().unwrap_or_else(|| panic!("{NEEDS_PG}"))
}

fn server_sh() -> PathBuf {
    crate::root().join("tests/pg/server.sh")
}

fn psql(url: &str, sql: &str, password: Option<&str>) -> Output {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url])
        .args(["-c", sql])
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .env_remove("PGSERVICE")
        .stdin(Stdio::null());
    if let Some(pw) = password {
        // On the environment, not argv.
        cmd.env("PGPASSWORD", pw);
    }
    cmd.output()
        .expect("run psql (apt package postgresql-client)")
}

fn result(out: Output) -> Result<String, String> {
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// A PostgreSQL server: the shared one (tests/pg/run.sh's) or a private
/// one a test starts for itself (stopped and removed on drop).
pub struct Server {
    env: Env,
    /// Private: started by [`Server::private`], stopped on drop.
    owned: bool,
}

impl Server {
    /// The server tests/pg/run.sh started. Stopping it disturbs every test
    /// running beside this one: a restart test wants [`Server::private`].
    pub fn shared() -> Arc<Server> {
        Arc::new(Server {
            env: shared_env(),
            owned: false,
        })
    }

    /// A server of its own (tests/pg/server.sh start in a fresh temp dir:
    /// own port, own relay-role password), stopped and removed on drop.
    /// Needs the PostgreSQL binaries ([`NEEDS_PG`] when run outside
    /// tests/pg/run.sh).
    pub fn private() -> Arc<Server> {
        assert!(available(), "{NEEDS_PG}");
        let dir = tempfile::Builder::new()
            .prefix("sealpass-pg-private.")
            .tempdir_in("/tmp")
            .expect("tempdir")
            .keep();
        let sh = |cmd: &str| -> Output {
            Command::new("bash")
                .arg(server_sh())
                .arg(cmd)
                .arg(&dir)
                .stdin(Stdio::null())
                .output()
                .expect("run tests/pg/server.sh")
        };
        let started = sh("start");
        if !started.status.success() {
            let _ = sh("stop");
            panic!(
                "private PostgreSQL server did not start: {}",
                String::from_utf8_lossy(&started.stderr)
            );
        }
        let env = sh("env");
        assert!(env.status.success(), "server.sh env failed");
        Arc::new(Server {
            env: Env::from_exports(&String::from_utf8_lossy(&env.stdout)),
            owned: true,
        })
    }

    fn control(&self, what: &str) {
        let out = Command::new("bash")
            .arg(server_sh())
            .arg(what)
            .arg(&self.env.dir)
            .stdin(Stdio::null())
            .output()
            .expect("run tests/pg/server.sh");
        assert!(
            out.status.success(),
            "tests/pg/server.sh {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stop the server (pg_ctl stop -m fast: connections are cut).
    pub fn stop(&self) {
        self.control("down");
    }

    /// Start it again, same port and data (waits until it takes
    /// connections).
    pub fn start(&self) {
        self.control("up");
    }

    /// [`Server::stop`] then [`Server::start`].
    pub fn restart(&self) {
        self.stop();
        self.start();
    }

    /// Does it answer `SELECT 1` as the superuser?
    pub fn is_up(&self) -> bool {
        self.try_sql("postgres", "SELECT 1").is_ok()
    }

    pub fn host(&self) -> &str {
        &self.env.host
    }

    pub fn port(&self) -> u16 {
        self.env.port
    }

    /// The relay role's name.
    pub fn relay_user(&self) -> &str {
        &self.env.relay_user
    }

    /// The throw-away CA of the server's TLS certificate (for 127.0.0.1
    /// and localhost), if the server has TLS.
    pub fn ca(&self) -> Option<&Path> {
        self.env.ca.as_deref()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.env.log).unwrap_or_default()
    }

    /// A fresh database on this server (see [`Database`]).
    pub fn database(self: &Arc<Self>) -> Arc<Database> {
        Database::create_on(self)
    }

    /// psql -At as the superuser in database `db`: the output (rows one a
    /// line, columns split by `|`), or psql's error.
    pub fn try_sql(&self, db: &str, sql: &str) -> Result<String, String> {
        result(psql(&self.env.admin_url(db), sql, None))
    }

    /// [`Server::try_sql`], failing the test on an error.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        self.try_sql(db, sql)
            .unwrap_or_else(|e| panic!("psql as superuser in {db}: {sql}: {e}"))
    }

    /// psql -At as the relay role over TCP (127.0.0.1, sslmode=disable) in
    /// database `db`: what the relay's own connections may do.
    pub fn try_relay_sql(&self, db: &str, sql: &str) -> Result<String, String> {
        self.try_relay_sql_with(db, "sslmode=disable", sql)
    }

    /// [`Server::try_relay_sql`] with these libpq URL parameters instead of
    /// sslmode=disable, e.g. [`Server::tls_verify_full`].
    pub fn try_relay_sql_with(&self, db: &str, query: &str, sql: &str) -> Result<String, String> {
        let url = format!(
            "postgresql://{}@{}:{}/{db}?{query}&connect_timeout=10",
            self.env.relay_user, self.env.host, self.env.port
        );
        result(psql(&url, sql, Some(&self.env.relay_password)))
    }

    /// libpq parameters for TLS checked against the server's throw-away CA
    /// (`sslmode=verify-full&sslrootcert=CA`); None without TLS.
    pub fn tls_verify_full(&self) -> Option<String> {
        let ca = self.env.ca.as_ref()?;
        Some(format!("sslmode=verify-full&sslrootcert={}", ca.display()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.owned {
            let _ = Command::new("bash")
                .arg(server_sh())
                .arg("stop")
                .arg(&self.env.dir)
                .stdin(Stdio::null())
                .output();
        }
    }
}

/// A fresh database `sp_<hex>` for one relay or one cluster: owned by the
/// superuser, REVOKE ALL FROM PUBLIC, CONNECT and CREATE granted to the
/// relay role (the relay creates its schema `sealpass` in it). Dropped
/// WITH (FORCE) on drop, best effort (the server may be down).
pub struct Database {
    name: String,
    server: Arc<Server>,
}

impl Database {
    /// A fresh database on the shared server ([`NEEDS_PG`] without one).
    pub fn create() -> Arc<Database> {
        Self::create_on(&Server::shared())
    }

    /// A fresh database on `server`.
    pub fn create_on(server: &Arc<Server>) -> Arc<Database> {
        let name = format!("sp_{}", rand_hex(8));
        let role = &server.env.relay_user;
        // One statement per psql call: CREATE DATABASE cannot run in the
        // implicit transaction of a multi-statement string.
        for sql in [
            format!("CREATE DATABASE {name}"),
            format!("REVOKE ALL ON DATABASE {name} FROM PUBLIC"),
            format!("GRANT CONNECT, CREATE ON DATABASE {name} TO {role}"),
        ] {
            server.sql("postgres", &sql);
        }
        Arc::new(Database {
            name,
            server: server.clone(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn server(&self) -> &Arc<Server> {
        &self.server
    }

    /// The relay's `--store` URL: the relay role over TCP loopback,
    /// sslmode=disable. It carries the role's password: do not print it.
    pub fn relay_url(&self) -> String {
        self.relay_url_with("sslmode=disable")
    }

    /// The relay's URL with these query parameters (e.g.
    /// `sslmode=require`).
    pub fn relay_url_with(&self, query: &str) -> String {
        let e = &self.server.env;
        format!(
            "postgres://{}:{}@{}:{}/{}?{query}",
            e.relay_user, e.relay_password, e.host, e.port, self.name
        )
    }

    /// psql -At as the superuser in this database (inspect rows).
    pub fn sql(&self, sql: &str) -> String {
        self.server.sql(&self.name, sql)
    }

    /// [`Database::sql`] returning psql's error instead of failing.
    pub fn try_sql(&self, sql: &str) -> Result<String, String> {
        self.server.try_sql(&self.name, sql)
    }

    /// psql -At as the relay role in this database.
    pub fn try_relay_sql(&self, sql: &str) -> Result<String, String> {
        self.server.try_relay_sql(&self.name, sql)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.server.try_sql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// psql -At as the superuser in database `db` of the shared server: the
/// output, rows one a line, columns split by `|` (fails the test on an
/// SQL error).
pub fn admin_sql(db: &str, sql: &str) -> String {
    Server::shared().sql(db, sql)
}

impl Server {
    /// The server's data directory (server.sh's `DIR/data`: the cluster's
    /// files, WAL included), to search it for what must never be stored.
    pub fn data_dir(&self) -> PathBuf {
        self.env.dir.join("data")
    }

    /// The relay role's password (to check it is never printed; do not
    /// print it yourself).
    pub fn relay_password(&self) -> &str {
        &self.env.relay_password
    }
}
