//! Test helpers for the relay: start the real `sealpass-relay` binary on a
//! random loopback port, talk HTTP/1.1 to it over a plain TcpStream, and
//! drive the node side by signing requests with `sealpass::signing`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sealpass::signing::sign_request;

/// Directory holding the built binaries (debug or release, like this test).
pub fn bin_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join(if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    })
}

/// Path to a built binary; panics with how to build it when missing.
pub fn binary(name: &str, build: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.is_file(),
        "{} is missing: build it first with `{build}` (build.sh does this before cargo test)",
        p.display()
    );
    p
}

/// The relay under test; `SEALPASS_TEST_RELAY_BIN` overrides (the load test
/// runs a release relay from a quick-to-build debug test).
pub fn relay_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SEALPASS_TEST_RELAY_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "SEALPASS_TEST_RELAY_BIN={} is not a file",
            p.display()
        );
        return p;
    }
    let release = if cfg!(debug_assertions) {
        ""
    } else {
        " --release"
    };
    binary(
        "sealpass-relay",
        &format!(
            "cargo build{release} --no-default-features --features relay --bin sealpass-relay"
        ),
    )
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A running relay process, killed on drop.
pub struct Relay {
    child: Option<Child>,
    _stdout: Option<BufReader<ChildStdout>>,
    pub addr: String,
    pub data_dir: PathBuf,
    pub token: String,
    pub args: Vec<String>,
    _tmp: Option<tempfile::TempDir>,
}

impl Relay {
    /// Start on a fresh temp data dir with fast sweeps and test hooks.
    pub fn start() -> Relay {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Relay {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("relay");
        let mut r = Self::start_in(&dir, extra);
        r._tmp = Some(tmp);
        r
    }

    /// Start with an existing data dir (restart tests).
    pub fn start_in(dir: &Path, extra: &[&str]) -> Relay {
        let args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let mut child = Command::new(relay_binary())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--dev-insecure-kek",
                "--data-dir",
            ])
            .arg(dir)
            .args(&args)
            .env_remove("SEALPASS_ADMIN_TOKEN")
            .env_remove("SEALPASS_KEK")
            .env_remove("SEALPASS_KEK_FILE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sealpass-relay");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("read relay stdout");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("relay did not start: first stdout line {line:?}")
            })
            .to_owned();
        let token = std::fs::read_to_string(dir.join("admin.token"))
            .expect("admin.token")
            .trim()
            .to_owned();
        Relay {
            child: Some(child),
            _stdout: Some(out),
            addr,
            data_dir: dir.to_owned(),
            token,
            args,
            _tmp: None,
        }
    }

    /// SIGTERM and wait: the relay must shut down gracefully.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(st)) = child.try_wait() {
                return st;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        child.wait().expect("wait")
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
        let mut r = Relay::start_in(&self.data_dir, &args);
        r._tmp = self._tmp.take();
        r
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
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

    /// Register a node; returns its secret bytes.
    pub fn add_node(&self, node_id: &str) -> Vec<u8> {
        let r = self.admin(
            "POST",
            "/api/v1/admin/nodes",
            &format!(r#"{{"node_id":"{node_id}"}}"#),
        );
        assert_eq!(r.status, 201, "add node: {}", r.text());
        let secret = r.json()["secret"].as_str().expect("secret").to_owned();
        sealpass::b64::decode(&secret).expect("b64")
    }

    /// Create a pending credential for these nodes; returns its id.
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
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

static USED: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// A node as the relay sees it: id, secret, key version.
#[derive(Clone)]
pub struct Node {
    pub id: String,
    pub secret: Vec<u8>,
    pub version: u32,
}

impl Node {
    pub fn register(relay: &Relay, id: &str) -> Node {
        Node {
            id: id.to_owned(),
            secret: relay.add_node(id),
            version: 1,
        }
    }

    /// A signature is single-use, and identical requests in the same second
    /// sign identically: like a real client, step the timestamp back (still
    /// inside the window) when this exact signature was already used.
    pub fn call(&self, relay: &Relay, method: &str, path: &str, body: &[u8]) -> Resp {
        let mut ts = now();
        loop {
            let h = sign_request(&self.secret, &self.id, self.version, method, path, body, ts);
            let sig = h[3].1.clone();
            if USED.lock().unwrap().insert(sig) {
                return self.call_at(relay, method, path, body, ts);
            }
            ts -= 1;
        }
    }

    pub fn call_at(&self, relay: &Relay, method: &str, path: &str, body: &[u8], ts: i64) -> Resp {
        let h = sign_request(&self.secret, &self.id, self.version, method, path, body, ts);
        let mut headers: Vec<(&str, &str)> = h.iter().map(|(n, v)| (*n, v.as_str())).collect();
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json"));
        }
        relay.req(method, path, &headers, body)
    }

    pub fn heartbeat(&self, relay: &Relay) {
        let r = self.call(relay, "POST", "/api/v1/node/heartbeat", b"{}");
        assert_eq!(r.status, 200, "heartbeat: {}", r.text());
    }

    /// Generate a one-time key and post it; returns the secret key.
    pub fn post_pubkey(&self, relay: &Relay, pending_id: &str) -> sealpass::SecretKey {
        let sk = sealpass::SecretKey::generate().expect("keygen");
        let body = format!(r#"{{"public_key":"{}"}}"#, sk.public_key().to_b64u());
        let r = self.call(
            relay,
            "PUT",
            &format!("/api/v1/node/pending/{pending_id}/pubkey"),
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "pubkey: {}", r.text());
        sk
    }

    pub fn pull(&self, relay: &Relay) -> Vec<serde_json::Value> {
        let r = self.call(relay, "GET", "/api/v1/node/envelopes", b"");
        assert_eq!(r.status, 200, "pull: {}", r.text());
        r.json()["envelopes"].as_array().expect("envelopes").clone()
    }

    pub fn ack(&self, relay: &Relay, pending_id: &str, result: &str) -> Resp {
        self.call(
            relay,
            "POST",
            &format!("/api/v1/node/pending/{pending_id}/ack"),
            format!(r#"{{"result":"{result}"}}"#).as_bytes(),
        )
    }
}

/// Seal `plaintext` for every target of a pending (via the public GET),
/// returning `(node_id, envelope JSON)` pairs.
pub fn seal_for(relay: &Relay, pending_id: &str, plaintext: &[u8]) -> Vec<(String, String)> {
    let r = relay.req("GET", &format!("/api/v1/pending/{pending_id}"), &[], b"");
    assert_eq!(r.status, 200, "get pending: {}", r.text());
    let v = r.json();
    v["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            let pk = sealpass::PublicKey::from_b64u(t["public_key"].as_str().unwrap()).unwrap();
            assert_eq!(t["fingerprint"].as_str().unwrap(), pk.fingerprint());
            let ctx_json = serde_json::to_vec(&t["context"]).unwrap();
            let ctx = sealpass::Context::from_json(&ctx_json).expect("context");
            let env = sealpass::seal(&pk, plaintext, &ctx).expect("seal");
            (t["node_id"].as_str().unwrap().to_owned(), env.to_json())
        })
        .collect()
}

pub fn envelopes_body(items: &[(String, String)]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|(n, e)| format!(r#"{{"node_id":"{n}","envelope":{e}}}"#))
        .collect();
    format!(r#"{{"envelopes":[{}]}}"#, parts.join(","))
}

pub fn post_envelopes(relay: &Relay, pending_id: &str, body: &str) -> Resp {
    relay.req(
        "POST",
        &format!("/api/v1/pending/{pending_id}/envelopes"),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
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
    raw(addr, &bytes)
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

/// Open the relay database read-only (tests check audit rows and that
/// nothing was stored).
pub fn db(relay: &Relay) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        relay.data_dir.join("relay.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open relay.db")
}

pub fn stored_envelopes(relay: &Relay) -> i64 {
    db(relay)
        .query_row(
            "SELECT COUNT(*) FROM targets WHERE envelope IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("count")
}
