//! The one relay harness: the real `sealpass-relay` binary on a loopback
//! port the OS picks, in its own data dir, output collected, killed on drop;
//! HTTP/1.1 to it over a plain TcpStream (no client library between the test
//! and the bytes on the wire).
//!
//! Two ways to start it, as operators do: [`Relay::start`] (a temp dir,
//! `--dev-insecure-kek`, the admin token the relay writes to admin.token) for
//! relay tests, and [`Relay::start_sealed`] (a KEK and admin token given in
//! the environment) for whole-system tests with agents.
//!
//! The store: SQLite in the data dir by default; with
//! `SEALPASS_TEST_STORE=postgres` (tests/pg/run.sh, [`pg::enabled`]) each
//! new relay gets a fresh PostgreSQL database ([`pg::Database`]), kept by
//! its restarts. [`Relay::start_cluster`] runs several relays, each with
//! its own data dir, on ONE database (PostgreSQL only); [`RoundRobin`]
//! spreads requests over them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crate::proc::{new_kek, rand_hex, Proc};
use crate::{bins, pg};

const LISTENING: &str = "listening on http://";

/// The relay's store setting (`--store URL`), given on the environment so
/// that the URL, which carries the role's password, is not in argv.
const STORE_ENV: &str = "SEALPASS_RELAY_STORE";

/// The PostgreSQL database of each data dir a live [`Relay`] runs on, so a
/// relay started again on the same dir ([`Relay::start_in`], or a cluster
/// member) finds the same database while someone still holds it.
static DATABASES: Mutex<Vec<(PathBuf, Weak<pg::Database>)>> = Mutex::new(Vec::new());

/// The database a relay on `dir` uses: `given`, else the one a live relay
/// on `dir` uses, else a fresh one when relays run on PostgreSQL
/// ([`pg::enabled`]), else none (SQLite).
fn database_for(dir: &Path, given: Option<Arc<pg::Database>>) -> Option<Arc<pg::Database>> {
    let live = || {
        let mut map = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|(_, w)| w.strong_count() > 0);
        map.iter()
            .find(|(d, _)| d == dir)
            .and_then(|(_, w)| w.upgrade())
    };
    // Not under the lock: creating one runs psql.
    let db = given
        .or_else(live)
        .or_else(|| pg::enabled().then(pg::Database::create))?;
    let mut map = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    map.retain(|(d, w)| d != dir && w.strong_count() > 0);
    map.push((dir.to_owned(), Arc::downgrade(&db)));
    Some(db)
}

/// For a relay a test starts itself (a `Command`, not a [`Relay`]): when
/// relays run on PostgreSQL ([`pg::enabled`]), a fresh database, its URL
/// set as the relay's store on `cmd`; else (SQLite) the store setting
/// removed from `cmd`. Hold the handle while the relay runs (the database
/// is dropped with it).
pub fn store_for(cmd: &mut Command) -> Option<Arc<pg::Database>> {
    let db = pg::enabled().then(pg::Database::create);
    match &db {
        Some(db) => cmd.env(STORE_ENV, db.relay_url()),
        None => cmd.env_remove(STORE_ENV),
    };
    db
}

/// How the relay gets its KEK and admin token.
#[derive(Clone)]
enum Keys {
    /// `--dev-insecure-kek`; the relay makes the admin token (admin.token).
    Dev,
    /// `SEALPASS_KEK` and `SEALPASS_ADMIN_TOKEN` from the environment.
    Sealed { kek: String },
}

/// A running relay process, killed on drop.
pub struct Relay {
    proc: Option<Proc>,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub data_dir: PathBuf,
    pub token: String,
    pub args: Vec<String>,
    keys: Keys,
    /// Output of earlier incarnations (restarts).
    past: String,
    /// The PostgreSQL database (None: SQLite in the data dir); shared with
    /// restarts and the other members of a cluster, dropped with the last.
    pg: Option<Arc<pg::Database>>,
    _tmp: Option<tempfile::TempDir>,
}

impl Relay {
    /// Start on a fresh temp data dir.
    pub fn start() -> Relay {
        Self::start_with(&[])
    }

    /// [`Relay::start`] with extra relay flags (e.g. `--test-offline-after-secs 2`).
    pub fn start_with(extra: &[&str]) -> Relay {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("relay");
        let mut r = Self::start_in(&dir, extra);
        r._tmp = Some(tmp);
        r
    }

    /// Start with an existing data dir (restart tests). On PostgreSQL: the
    /// database of a live relay (or [`Relay::database`] handle) on `dir`,
    /// else a fresh one.
    pub fn start_in(dir: &Path, extra: &[&str]) -> Relay {
        let db = database_for(dir, None);
        Self::launch(dir, extra, Keys::Dev, String::new(), "127.0.0.1:0", db)
    }

    /// One more relay (`--dev-insecure-kek`, fresh temp data dir) on an
    /// existing PostgreSQL database, e.g. another instance of a cluster.
    pub fn start_on(db: &Arc<pg::Database>, extra: &[&str]) -> Relay {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("relay");
        let db = database_for(&dir, Some(db.clone()));
        let mut r = Self::launch(&dir, extra, Keys::Dev, String::new(), "127.0.0.1:0", db);
        r._tmp = Some(tmp);
        r
    }

    /// `n` relays (`--dev-insecure-kek`, each its own temp data dir and
    /// port, `extra` flags) on ONE fresh PostgreSQL database of the shared
    /// server, started one after the other. PostgreSQL only: panics with
    /// [`pg::NEEDS_PG`] outside tests/pg/run.sh.
    pub fn start_cluster(n: usize, extra: &[&str]) -> Vec<Relay> {
        assert!(pg::available(), "Relay::start_cluster {}", pg::NEEDS_PG);
        Self::start_cluster_on(&pg::Database::create(), n, extra)
    }

    /// [`Relay::start_cluster`] on a given database (e.g. of a
    /// [`pg::Server::private`] server for a database-restart test).
    pub fn start_cluster_on(db: &Arc<pg::Database>, n: usize, extra: &[&str]) -> Vec<Relay> {
        assert!(n > 0, "a cluster of 0 relays");
        (0..n).map(|_| Self::start_on(db, extra)).collect()
    }

    /// The PostgreSQL database this relay runs on (None: SQLite). Holding
    /// it keeps the database after the relay is dropped, for a
    /// [`Relay::start_in`] on the same dir or [`Relay::start_on`].
    pub fn database(&self) -> Option<Arc<pg::Database>> {
        self.pg.clone()
    }

    /// Start with its KEK and admin token from the environment, as an
    /// operator runs it, in `data` (created if missing).
    pub fn start_sealed(data: &Path) -> Relay {
        Self::start_sealed_with(data, &[])
    }

    /// [`Relay::start_sealed`] with extra relay flags.
    pub fn start_sealed_with(data: &Path, extra: &[&str]) -> Relay {
        std::fs::create_dir_all(data).unwrap();
        let keys = Keys::Sealed { kek: new_kek() };
        let db = database_for(data, None);
        Self::launch(data, extra, keys, rand_hex(24), "127.0.0.1:0", db)
    }

    fn launch(
        dir: &Path,
        extra: &[&str],
        keys: Keys,
        token: String,
        listen: &str,
        pg: Option<Arc<pg::Database>>,
    ) -> Relay {
        let mut r = Relay {
            proc: None,
            addr: listen.to_owned(),
            url: String::new(),
            data_dir: dir.to_owned(),
            token,
            args: extra.iter().map(|s| s.to_string()).collect(),
            keys,
            past: String::new(),
            pg,
            _tmp: None,
        };
        let proc = r.spawn_once();
        let line = proc.out.wait_for(LISTENING, Duration::from_secs(30));
        r.url = line[line.find("http://").unwrap()..].trim().to_string();
        r.addr = r.url.trim_start_matches("http://").to_string();
        if let Some(db) = &r.pg {
            // A relay that ignored the store setting would run on SQLite
            // and pass the suite without PostgreSQL: it must have made its
            // schema.
            let schema = db.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'sealpass'");
            assert_eq!(
                schema,
                "1",
                "the relay runs, but not on PostgreSQL database {} (no schema sealpass): \
                 does it read {STORE_ENV}?\n{}",
                db.name(),
                proc.out.all()
            );
        }
        if matches!(r.keys, Keys::Dev) {
            r.token = std::fs::read_to_string(dir.join("admin.token"))
                .expect("admin.token")
                .trim()
                .to_owned();
        }
        r.proc = Some(proc);
        r
    }

    /// Point `cmd` (the relay or its ops CLI) at this relay's store.
    fn store_env(&self, cmd: &mut Command) {
        match &self.pg {
            Some(db) => cmd.env(STORE_ENV, db.relay_url()),
            None => cmd.env_remove(STORE_ENV),
        };
    }

    fn spawn_once(&self) -> Proc {
        let mut cmd = Command::new(bins::relay());
        self.store_env(&mut cmd);
        cmd.args(["--listen", &self.addr]);
        if matches!(self.keys, Keys::Dev) {
            cmd.arg("--dev-insecure-kek");
        }
        cmd.arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.args)
            .env_remove("SEALPASS_KEK_FILE")
            .env_remove("SEALPASS_KEK_PREVIOUS")
            .env_remove("SEALPASS_KEK_PREVIOUS_FILE")
            .env_remove("SEALPASS_RELAY_DATA_DIR");
        match &self.keys {
            Keys::Dev => {
                cmd.env_remove("SEALPASS_ADMIN_TOKEN")
                    .env_remove("SEALPASS_KEK");
            }
            Keys::Sealed { kek } => {
                cmd.env("SEALPASS_ADMIN_TOKEN", &self.token)
                    .env("SEALPASS_KEK", kek);
            }
        }
        Proc::spawn(cmd)
    }

    /// Relay output so far (stdout and stderr, all incarnations).
    pub fn output(&self) -> String {
        let mut s = self.past.clone();
        if let Some(p) = &self.proc {
            s.push_str(&p.out.all());
        }
        s
    }

    /// SIGTERM and wait: the relay must shut down gracefully.
    pub fn stop(&mut self) -> ExitStatus {
        let mut p = self.proc.take().expect("running");
        let st = p.terminate(Duration::from_secs(5));
        self.past.push_str(&p.out.all());
        self.past.push('\n');
        st
    }

    /// Stop and start again on the same data dir (keeps the temp dir alive).
    pub fn restart(self) -> Relay {
        self.restart_with(|_| {})
    }

    /// Stop, run `between` on the data dir, start again.
    pub fn restart_with(mut self, between: impl FnOnce(&Path)) -> Relay {
        let st = self.stop();
        assert!(
            st.success(),
            "relay did not exit cleanly on SIGTERM: {st:?}"
        );
        between(&self.data_dir);
        let args: Vec<&str> = self.args.iter().map(|s| s.as_str()).collect();
        let mut r = Self::launch(
            &self.data_dir,
            &args,
            self.keys.clone(),
            self.token.clone(),
            "127.0.0.1:0",
            self.pg.clone(),
        );
        r._tmp = self._tmp.take();
        r.past = std::mem::take(&mut self.past);
        r
    }

    /// Crash the relay (SIGKILL) and start it again on the same address
    /// with the same data dir.
    pub fn crash_restart(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
            self.past.push_str(&p.out.all());
            self.past.push('\n');
        }
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let proc = self.spawn_once();
            let t = Instant::now() + Duration::from_secs(10);
            while Instant::now() < t && proc.out.count(LISTENING) == 0 {
                thread::sleep(Duration::from_millis(50));
            }
            if proc.out.count(LISTENING) > 0 {
                self.proc = Some(proc);
                return;
            }
            assert!(
                Instant::now() < end,
                "relay did not restart on {}: {}",
                self.addr,
                proc.out.all()
            );
            thread::sleep(Duration::from_millis(300));
        }
    }

    /// The relay's process id.
    pub fn pid(&self) -> u32 {
        self.proc.as_ref().expect("running").pid()
    }

    /// How many file descriptors the relay process holds (Linux /proc;
    /// None elsewhere).
    pub fn open_fds(&self) -> Option<usize> {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .ok()
            .map(|d| d.count())
    }

    /// Is the process still running?
    pub fn is_running(&mut self) -> bool {
        self.proc.as_mut().is_some_and(|p| p.is_running())
    }

    pub fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        request(&self.addr, method, path, headers, body)
    }

    pub fn admin(&self, method: &str, path: &str, body: &str) -> Resp {
        let auth = format!("Bearer {}", self.token);
        let mut h = vec![("Authorization", auth.as_str())];
        if !body.is_empty() {
            h.push(("Content-Type", "application/json"));
        }
        self.req(method, path, &h, body.as_bytes())
    }

    /// One call; returns (status, body JSON or Null).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        admin: bool,
        body: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let r = match (admin, body) {
            (true, b) => self.admin(method, path, b.unwrap_or("")),
            (false, Some(b)) => self.req(
                method,
                path,
                &[("Content-Type", "application/json")],
                b.as_bytes(),
            ),
            (false, None) => self.req(method, path, &[], b""),
        };
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Register a node; returns its secret bytes.
    pub fn add_node(&self, node_id: &str) -> Vec<u8> {
        let v: serde_json::Value = serde_json::from_str(&self.add_node_json(node_id)).unwrap();
        let secret = v["secret"].as_str().expect("secret").to_owned();
        sealpass::b64::decode(&secret).expect("b64")
    }

    /// Register a node; returns the relay's JSON answer (node_id,
    /// key_version, secret), what `--register-secret-file` reads.
    pub fn add_node_json(&self, node_id: &str) -> String {
        let r = self.admin(
            "POST",
            "/api/v1/admin/nodes",
            &format!(r#"{{"node_id":"{node_id}"}}"#),
        );
        assert_eq!(r.status, 201, "add node {node_id}: {}", r.text());
        r.text()
    }

    /// Create a pending credential for these nodes (slug db-password, env
    /// DB_PASSWORD); returns its id.
    pub fn create_pending(&self, nodes: &[&str], ttl: Option<i64>) -> String {
        let ids: Vec<String> = nodes.iter().map(|n| format!("\"{n}\"")).collect();
        let ttl = ttl
            .map(|t| format!(",\"expires_in_secs\":{t}"))
            .unwrap_or_default();
        let r = self.admin(
            "POST",
            "/api/v1/admin/pending",
            &format!(
                r#"{{"node_ids":[{}],"slug":"db-password","injection_method":"env","field_name":"DB_PASSWORD"{ttl}}}"#,
                ids.join(",")
            ),
        );
        assert_eq!(r.status, 201, "create pending: {}", r.text());
        r.json()["pending_id"].as_str().expect("id").to_owned()
    }

    /// Create a pending credential through the admin API (this slug, method
    /// env, field API_TOKEN — the same context `agent::inject_cmd` asks for).
    pub fn create_pending_slug(&self, nodes: &[&str], slug: &str) -> String {
        let body = serde_json::json!({"node_ids": nodes, "slug": slug,
            "injection_method": "env", "field_name": "API_TOKEN"});
        let (st, v) = self.http(
            "POST",
            "/api/v1/admin/pending",
            true,
            Some(&body.to_string()),
        );
        assert_eq!(st, 201, "create pending: {v}");
        v["pending_id"].as_str().expect("pending_id").to_string()
    }

    pub fn status(&self, pending_id: &str) -> serde_json::Value {
        let r = self.req(
            "GET",
            &format!("/api/v1/pending/{pending_id}/status"),
            &[],
            b"",
        );
        assert_eq!(r.status, 200, "status: {}", r.text());
        r.json()
    }

    /// (state, code) of one target.
    pub fn target_state(&self, pending_id: &str, node: &str) -> (String, Option<u64>) {
        let s = self.status(pending_id);
        let t = s["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .find(|t| t["node_id"] == node)
            .expect("target")
            .clone();
        (t["state"].as_str().unwrap().to_owned(), t["code"].as_u64())
    }

    /// What the accept page does last: post one envelope per node
    /// (`(node_id, envelope JSON)`) for a pending; returns (status, body).
    pub fn post_envelopes(
        &self,
        pending_id: &str,
        envelopes: &[(&str, String)],
    ) -> (u16, serde_json::Value) {
        let items: Vec<String> = envelopes
            .iter()
            .map(|(node, env)| format!(r#"{{"node_id":"{node}","envelope":{env}}}"#))
            .collect();
        self.http(
            "POST",
            &format!("/api/v1/pending/{pending_id}/envelopes"),
            false,
            Some(&format!(r#"{{"envelopes":[{}]}}"#, items.join(","))),
        )
    }

    /// Wait until the status satisfies `pred`.
    pub fn wait_status(
        &self,
        pending_id: &str,
        timeout: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let end = Instant::now() + timeout;
        loop {
            let v = self.status(pending_id);
            if pred(&v) {
                return v;
            }
            assert!(Instant::now() < end, "status never matched: {v}");
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Poll the public pending view until every key is posted (200).
    pub fn wait_keys(&self, pending_id: &str) -> serde_json::Value {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let (st, v) = self.http("GET", &format!("/api/v1/pending/{pending_id}"), false, None);
            if st == 200 {
                return v;
            }
            assert_eq!(
                v["code"], 8009,
                "unexpected answer while waiting for keys: {st} {v}"
            );
            assert!(Instant::now() < end, "keys never posted: {v}");
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// `sealpass-relay node ARGS... --dev-insecure-kek --data-dir D` (the
    /// ops CLI beside a dev-KEK relay): its JSON answer; fails the test on
    /// a non-zero exit.
    pub fn ops(&self, args: &[&str]) -> serde_json::Value {
        let out = self
            .ops_command(args)
            .output()
            .expect("run sealpass-relay node");
        assert!(
            out.status.success(),
            "sealpass-relay node {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("ops CLI JSON")
    }

    /// The command [`Relay::ops`] runs, not yet run: `sealpass-relay node
    /// ARGS... --dev-insecure-kek --data-dir D` with this relay's store in
    /// the environment (for tests that check a failing call's exit and
    /// stderr themselves).
    pub fn ops_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bins::relay());
        self.store_env(&mut cmd);
        cmd.arg("node")
            .args(args)
            .args(["--dev-insecure-kek", "--data-dir"])
            .arg(&self.data_dir);
        cmd
    }

    pub fn token_file(&self, dir: &Path) -> PathBuf {
        let p = dir.join("admin.token.copy");
        std::fs::write(&p, format!("{}\n", self.token)).unwrap();
        p
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }
}

/// Requests spread over the relays of a cluster in turn (thread-safe: load
/// tests share it). `pick()` gives the next relay.
pub struct RoundRobin<'a> {
    relays: &'a [Relay],
    next: AtomicUsize,
}

impl<'a> RoundRobin<'a> {
    pub fn new(relays: &'a [Relay]) -> RoundRobin<'a> {
        assert!(!relays.is_empty(), "RoundRobin over no relay");
        RoundRobin {
            relays,
            next: AtomicUsize::new(0),
        }
    }

    /// The next relay in turn.
    pub fn pick(&self) -> &'a Relay {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.relays.len();
        &self.relays[i]
    }

    /// Index and relay, in turn (which instance answered, for messages).
    pub fn pick_indexed(&self) -> (usize, &'a Relay) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.relays.len();
        (i, &self.relays[i])
    }

    pub fn relays(&self) -> &'a [Relay] {
        self.relays
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON (status {}): {}", self.status, self.text()))
    }
    /// The error code of a JSON error body (also checks its shape).
    pub fn code(&self) -> u64 {
        let v = self.json();
        assert!(v["name"].is_string() && v["message"].is_string(), "{v}");
        v["code"].as_u64().unwrap_or_else(|| panic!("no code: {v}"))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Assert status and error code together.
    pub fn expect(&self, status: u16, code: u64) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected response: {}",
            self.text()
        );
    }
}

/// One HTTP/1.1 request with `Connection: close`.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    raw(addr, &request_bytes(addr, method, path, headers, body))
}

/// The bytes of one HTTP/1.1 request with `Connection: close`.
pub fn request_bytes(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Send raw bytes, read the whole response.
pub fn raw(addr: &str, bytes: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect to relay");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    // The relay may answer (e.g. 413) before reading everything; ignore a
    // write error and read what it said.
    let _ = s.write_all(bytes);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse_response(&buf)
        .unwrap_or_else(|| panic!("bad HTTP response: {:?}", String::from_utf8_lossy(&buf)))
}

/// Open a connection and send `bytes` (e.g. a request head and part of its
/// body) without reading: a slow or idle client, for limit tests.
pub fn send_partial(addr: &str, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect to relay");
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(bytes).expect("send partial request");
    s
}

/// Read from `s` until the peer closes or `within` passes. Returns the bytes
/// and whether the relay closed the connection in time (EOF or reset).
pub fn read_until_closed(s: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let end = Instant::now() + within;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (buf, false);
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut chunk) {
            Ok(0) => return (buf, true),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (buf, false)
            }
            Err(_) => return (buf, true),
        }
    }
}

/// Read one response from `s` (the relay answers, then closes or not):
/// None if no complete response head arrived within `within`.
pub fn read_response_within(s: &mut TcpStream, within: Duration) -> Option<Resp> {
    let end = Instant::now() + within;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(r) = parse_complete(&buf) {
            return Some(r);
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return parse_response(&buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A response whose body is complete by its Content-Length.
fn parse_complete(buf: &[u8]) -> Option<Resp> {
    let r = parse_response(buf)?;
    let len: usize = r.header("content-length")?.parse().ok()?;
    (r.body.len() >= len).then_some(r)
}

fn parse_response(buf: &[u8]) -> Option<Resp> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Resp {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n")?;
        let n = usize::from_str_radix(std::str::from_utf8(&b[..nl]).ok()?.trim(), 16).ok()?;
        b = &b[nl + 2..];
        if n == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..n)?);
        b = b.get(n + 2..)?;
    }
}

impl Relay {
    /// Run `sql` on the relay's database, whichever store it uses, and
    /// return the rows as `psql -At` prints them: one line per row, columns
    /// joined by `|`, NULL as empty. PostgreSQL: as the superuser with
    /// `search_path = sealpass` (row-level security does not apply to it);
    /// SQLite: `relay.db`, read-write. Write SQL both dialects accept (no
    /// `rowid`; compare booleans as `CAST(expired AS INTEGER) = 1`).
    pub fn sql(&self, sql: &str) -> String {
        match self.database() {
            Some(db) => db.sql(&format!("SET search_path = sealpass; {sql}")),
            None => {
                let c = rusqlite::Connection::open(self.data_dir.join("relay.db"))
                    .expect("open relay.db");
                let mut st = c.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let n = st.column_count();
                let mut rows = st.query([]).expect("query");
                let mut out = Vec::new();
                while let Some(r) = rows.next().expect("row") {
                    let cols: Vec<String> = (0..n)
                        .map(|i| match r.get_ref(i).expect("column") {
                            rusqlite::types::ValueRef::Null => String::new(),
                            rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                            rusqlite::types::ValueRef::Real(v) => v.to_string(),
                            rusqlite::types::ValueRef::Text(t) => {
                                String::from_utf8_lossy(t).into_owned()
                            }
                            rusqlite::types::ValueRef::Blob(b) => format!("\\x{}", hex::encode(b)),
                        })
                        .collect();
                    out.push(cols.join("|"));
                }
                out.join("\n")
            }
        }
    }

    /// [`Relay::sql`] for a query answering one integer.
    pub fn sql_i64(&self, sql: &str) -> i64 {
        let out = self.sql(sql);
        out.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{sql}: not one integer: {out:?}"))
    }

    /// Which store the relay runs on: `"postgres"` or `"sqlite"`.
    pub fn store_kind(&self) -> &'static str {
        if self.database().is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }
}

/// Open the relay database read-only (tests check audit rows and that
/// nothing was stored). SQLite only: [`Relay::sql`] works on both stores.
pub fn db(relay: &Relay) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        relay.data_dir.join("relay.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open relay.db")
}

/// Envelopes the relay holds now (either store).
pub fn stored_envelopes(relay: &Relay) -> i64 {
    relay.sql_i64("SELECT COUNT(*) FROM targets WHERE envelope IS NOT NULL")
}
