//! Harness for the full-flow tests: a real `sealpass-relay` process, real
//! `sealpass node run` agents and real `sealpass inject` runs, each in its
//! own temp dir, every process killed on drop (even when a test fails).
//!
//! The binaries come from target/debug (build.sh builds them before
//! `cargo test`); a missing binary fails the test with a clear message.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const POLL: &str = "0.2";

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Path of a built binary, or a clear failure.
pub fn bin(name: &str) -> PathBuf {
    let p = target_dir().join("debug").join(name);
    assert!(
        p.is_file(),
        "{} is missing: build it first (cargo build --features cli --bin sealpass; \
         cargo build --no-default-features --features relay --bin sealpass-relay)",
        p.display()
    );
    p
}

/// Random bytes as lowercase hex (from the OS, via the crate's own RNG path).
pub fn rand_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).expect("rng");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A fresh KEK for a node keystore (B64U of 32 bytes).
pub fn new_kek() -> String {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).expect("rng");
    sealpass::b64::encode(&b)
}

/// Output lines of a child, collected by reader threads.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn spawn_reader(&self, r: impl Read + Send + 'static) {
        let lines = self.0.clone();
        thread::spawn(move || {
            let mut br = BufReader::new(r);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match br.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let s = String::from_utf8_lossy(&buf).trim_end().to_string();
                        lines.lock().unwrap().push(s);
                    }
                }
            }
        });
    }

    pub fn all(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }

    /// First line containing `needle`, waiting up to `timeout`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let end = Instant::now() + timeout;
        loop {
            if let Some(l) = self.0.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            if Instant::now() > end {
                panic!(
                    "no line containing {needle:?} within {timeout:?}; output so far:\n{}",
                    self.all()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn count(&self, needle: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }
}

/// A child process killed (SIGKILL) and reaped on drop.
pub struct Proc {
    child: Option<Child>,
    stdin: Option<std::process::ChildStdin>,
    pub out: Lines,
}

impl Proc {
    fn spawn(cmd: Command) -> Proc {
        Proc::spawn_io(cmd, false)
    }

    fn spawn_io(mut cmd: Command, with_stdin: bool) -> Proc {
        cmd.stdin(if with_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn child process");
        let out = Lines::default();
        out.spawn_reader(child.stdout.take().unwrap());
        out.spawn_reader(child.stderr.take().unwrap());
        let stdin = child.stdin.take();
        Proc {
            child: Some(child),
            stdin,
            out,
        }
    }

    /// Write to the child's stdin (spawned with [`spawn_with_stdin`]).
    pub fn write_stdin(&mut self, s: &str) {
        use std::io::Write;
        let w = self.stdin.as_mut().expect("stdin not piped");
        w.write_all(s.as_bytes()).unwrap();
        w.flush().unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGKILL, like a crash or power loss.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM (via kill(1): no unsafe code) and wait for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let mut c = self.child.take().expect("process already gone");
        let ok = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .expect("run kill(1)")
            .success();
        assert!(ok, "kill -TERM failed");
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = c.try_wait().expect("wait") {
                return st;
            }
            if Instant::now() > end {
                let _ = c.kill();
                let _ = c.wait();
                panic!("process did not exit within {timeout:?} after SIGTERM");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let end = Instant::now() + timeout;
        loop {
            let c = self.child.as_mut().expect("process already gone");
            if let Some(st) = c.try_wait().expect("wait") {
                self.child = None;
                return st;
            }
            if Instant::now() > end {
                self.kill();
                panic!(
                    "process did not exit within {timeout:?}; output:\n{}",
                    self.out.all()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A relay process with its own data dir and admin token.
pub struct Relay {
    pub proc: Option<Proc>,
    pub url: String,
    pub addr: String,
    pub data: PathBuf,
    pub token: String,
    kek: String,
    extra: Vec<String>,
    past: String,
}

impl Relay {
    pub fn start(data: &Path) -> Relay {
        Relay::start_with(data, &[])
    }

    /// Start with extra relay flags (e.g. `--test-offline-after-secs 2`).
    pub fn start_with(data: &Path, extra: &[&str]) -> Relay {
        std::fs::create_dir_all(data).unwrap();
        let mut r = Relay {
            proc: None,
            url: String::new(),
            addr: "127.0.0.1:0".into(),
            data: data.to_path_buf(),
            token: rand_hex(24),
            kek: new_kek(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            past: String::new(),
        };
        let proc = r.spawn_once();
        let line = proc
            .out
            .wait_for("listening on http://", Duration::from_secs(30));
        r.url = line[line.find("http://").unwrap()..].trim().to_string();
        r.addr = r.url.trim_start_matches("http://").to_string();
        r.proc = Some(proc);
        r
    }

    fn spawn_once(&self) -> Proc {
        let mut cmd = Command::new(bin("sealpass-relay"));
        cmd.args(["--listen", &self.addr, "--data-dir"])
            .arg(&self.data)
            .args(&self.extra)
            .env("SEALPASS_ADMIN_TOKEN", &self.token)
            .env("SEALPASS_KEK", &self.kek)
            .env_remove("SEALPASS_KEK_FILE")
            .env_remove("SEALPASS_KEK_PREVIOUS")
            .env_remove("SEALPASS_KEK_PREVIOUS_FILE")
            .env_remove("SEALPASS_RELAY_DATA_DIR");
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

    /// Crash the relay (SIGKILL) and start it again on the same address
    /// with the same data dir.
    pub fn restart(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
            self.past.push_str(&p.out.all());
            self.past.push('\n');
        }
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let proc = self.spawn_once();
            let t = Instant::now() + Duration::from_secs(10);
            while Instant::now() < t && proc.out.count("listening on http://") == 0 {
                thread::sleep(Duration::from_millis(50));
            }
            if proc.out.count("listening on http://") > 0 {
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

    fn agent(&self) -> ureq::Agent {
        ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(20))
            .build()
    }

    /// Raw HTTP call; returns (status, body JSON or Null).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        admin: bool,
        body: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let mut req = self.agent().request(method, &format!("{}{path}", self.url));
        if admin {
            req = req.set("Authorization", &format!("Bearer {}", self.token));
        }
        let res = match body {
            Some(b) => req.set("Content-Type", "application/json").send_string(b),
            None => req.call(),
        };
        let resp = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let text = resp.into_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
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

    /// Register a node; returns the relay's JSON answer (node_id, key_version, secret).
    pub fn add_node(&self, node_id: &str) -> String {
        let (st, v) = self.http(
            "POST",
            "/api/v1/admin/nodes",
            true,
            Some(&format!(r#"{{"node_id":"{node_id}"}}"#)),
        );
        assert_eq!(st, 201, "register node {node_id}: {v}");
        v.to_string()
    }

    pub fn status(&self, pending_id: &str) -> serde_json::Value {
        let (st, v) = self.http(
            "GET",
            &format!("/api/v1/pending/{pending_id}/status"),
            false,
            None,
        );
        assert_eq!(st, 200, "status: {v}");
        v
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

    /// Create a pending credential through the admin API (slug, method env,
    /// field API_TOKEN — the same context `inject_cmd` asks for).
    pub fn create_pending(&self, nodes: &[&str], slug: &str) -> String {
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

    pub fn token_file(&self, dir: &Path) -> PathBuf {
        let p = dir.join("admin.token.copy");
        std::fs::write(&p, format!("{}\n", self.token)).unwrap();
        p
    }
}

/// State of one target in a status/pending answer.
pub fn target_state(v: &serde_json::Value, node: &str) -> String {
    v["targets"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["node_id"] == node))
        .and_then(|t| t["state"].as_str())
        .unwrap_or("")
        .to_string()
}

/// One node: its data dir, KEK and (while running) its agent process.
pub struct Node {
    pub id: String,
    pub data: PathBuf,
    pub kek: String,
    pub secret_file: PathBuf,
    /// The relay's registration answer (node_id, key_version, secret).
    pub registration: serde_json::Value,
    pub agent: Option<Proc>,
}

impl Node {
    /// Register at the relay and write the relay's answer to a file.
    pub fn new(relay: &Relay, root: &Path, id: &str) -> Node {
        let data = root.join(format!("node-{id}"));
        std::fs::create_dir_all(&data).unwrap();
        let secret_file = root.join(format!("{id}.secret.json"));
        let answer = relay.add_node(id);
        std::fs::write(&secret_file, &answer).unwrap();
        Node {
            id: id.to_string(),
            data,
            kek: new_kek(),
            secret_file,
            registration: serde_json::from_str(&answer).unwrap(),
            agent: None,
        }
    }

    /// Start `sealpass node run` (registering the secret on first start).
    pub fn start(&mut self, relay_url: &str) -> &Proc {
        let mut cmd = Command::new(bin("sealpass"));
        cmd.args([
            "node",
            "run",
            "--relay",
            relay_url,
            "--node-id",
            &self.id,
            "--poll-interval",
            POLL,
            "--data-dir",
        ])
        .arg(&self.data)
        .env("SEALPASS_KEK", &self.kek)
        .env_remove("SEALPASS_DATA_DIR");
        if self.secret_file.exists() {
            cmd.arg("--register-secret-file").arg(&self.secret_file);
        }
        let p = Proc::spawn(cmd);
        p.out.wait_for("agent started", Duration::from_secs(30));
        if self.secret_file.exists() {
            std::fs::remove_file(&self.secret_file).unwrap();
        }
        self.agent = Some(p);
        self.agent.as_ref().unwrap()
    }

    pub fn out(&self) -> &Lines {
        &self.agent.as_ref().expect("agent not running").out
    }

    /// The fingerprint the agent printed for a pending id.
    pub fn fingerprint(&self, pending_id: &str) -> String {
        let line = self.out().wait_for(
            &format!("pending {pending_id}: one-time key fingerprint "),
            Duration::from_secs(30),
        );
        line.split("fingerprint ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }

    /// A signed node request made by hand (as the agent would), for tests
    /// that need to act as the node without its agent.
    pub fn signed_get(&self, relay: &Relay, path: &str) -> serde_json::Value {
        let secret = sealpass::b64::decode(self.registration["secret"].as_str().unwrap()).unwrap();
        let version = self.registration["key_version"].as_u64().unwrap() as u32;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let target = format!("{path}?n={}", rand_hex(8));
        let headers =
            sealpass::signing::sign_request(&secret, &self.id, version, "GET", &target, b"", now);
        let mut req = ureq::get(&format!("{}{target}", relay.url));
        for (k, v) in &headers {
            req = req.set(k, v);
        }
        let text = req.call().expect("signed GET").into_string().unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// `sealpass node accept --pending ID` with the envelope on stdin.
    pub fn accept_by_hand(&self, pending_id: &str, envelope_json: &str) -> Output {
        let mut cmd = Command::new(bin("sealpass"));
        cmd.args(["node", "accept", "--pending", pending_id, "--data-dir"])
            .arg(&self.data)
            .env("SEALPASS_KEK", &self.kek)
            .env_remove("SEALPASS_DATA_DIR");
        run_with_stdin(cmd, envelope_json)
    }

    /// `sealpass node secret get SLUG`: the delivered bytes.
    pub fn secret_get(&self, slug: &str) -> Output {
        Command::new(bin("sealpass"))
            .args(["node", "secret", "get", "--data-dir"])
            .arg(&self.data)
            .arg(slug)
            .env("SEALPASS_KEK", &self.kek)
            .env_remove("SEALPASS_DATA_DIR")
            .output()
            .expect("run sealpass node secret get")
    }
}

/// Command for `sealpass inject` against `relay` (method env, field
/// API_TOKEN). The admin token comes from `token_file`, or from
/// SEALPASS_ADMIN_TOKEN when `None`.
pub fn inject_cmd(relay: &Relay, token_file: Option<&Path>, nodes: &[&str], slug: &str) -> Command {
    let mut cmd = Command::new(bin("sealpass"));
    cmd.args(["inject", "--relay", &relay.url])
        .args([
            "--slug",
            slug,
            "--method",
            "env",
            "--field-name",
            "API_TOKEN",
        ])
        .args(["--timeout", "120"]);
    match token_file {
        Some(f) => {
            cmd.arg("--admin-token-file")
                .arg(f)
                .env_remove("SEALPASS_ADMIN_TOKEN");
        }
        None => {
            cmd.env("SEALPASS_ADMIN_TOKEN", &relay.token);
        }
    }
    for n in nodes {
        cmd.args(["--node", n]);
    }
    cmd
}

/// Start a process with piped stdout/stderr collected into lines.
pub fn spawn(cmd: Command) -> Proc {
    Proc::spawn(cmd)
}

/// Like [`spawn`], with stdin piped for answering prompts.
pub fn spawn_with_stdin(cmd: Command) -> Proc {
    Proc::spawn_io(cmd, true)
}

/// Run a command to completion with `stdin` fed in.
pub fn run_with_stdin(mut cmd: Command, stdin: &str) -> Output {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("wait")
}

/// The pending id an inject run announced ("pending <id>: created ...").
pub fn created_pending_id(text: &str) -> String {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("pending ")
                .filter(|r| r.contains(": created"))
                .and_then(|r| r.split(':').next())
        })
        .unwrap_or_else(|| panic!("no 'pending <id>: created' line in:\n{text}"))
        .to_string()
}

/// Every file under `dir` (recursively) as (path, bytes).
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Assert `secret` is nowhere under `dir` (db, WAL, SHM, anything).
pub fn assert_not_in_files(dir: &Path, secret: &str) {
    let files = files_under(dir);
    assert!(!files.is_empty(), "no files under {}", dir.display());
    for (p, b) in files {
        assert!(
            !contains(&b, secret.as_bytes()),
            "secret found in {}",
            p.display()
        );
    }
}

/// A temp dir kept for inspection when the test fails (cleaned otherwise).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sealpass-flow-")
        .tempdir()
        .unwrap()
}

/// Wait for a condition.
pub fn eventually(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out: {what}");
        thread::sleep(Duration::from_millis(100));
    }
}
