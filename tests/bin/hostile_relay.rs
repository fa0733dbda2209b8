//! `hostile-relay`: a breached relay, for tests. An HTTP proxy on 127.0.0.1
//! in front of a real relay that forwards everything and lies in the
//! pending views, the way an attacker holding the relay would.
//!
//! ```text
//! hostile-relay --upstream http://127.0.0.1:PORT --mode MODE --state-dir DIR [--max-lifetime SECS] [--flood-polls N] [--unreadable-item]
//! ```
//!
//! Prints `listening on http://127.0.0.1:PORT` as its first stdout line.
//! At start it makes the attacker's keys: DIR/attacker_otk.key and
//! DIR/attacker_identity.key (key files as `sealpass keygen` writes them),
//! their public keys in DIR/attacker_otk.pub / DIR/attacker_identity.pub.
//! Everything it sees goes to DIR/log (request and response heads and
//! bodies); every `POST /api/v1/pending/{id}/envelopes` body is appended as
//! one line to DIR/envelopes.jsonl — what an attacker would get to keep.
//!
//! MODE rewrites the 200 answers of `GET /api/v1/pending/{id}` and
//! `GET /api/v1/admin/pending/{id}` in place (the JSON text keeps its key
//! order, only values change):
//! - `pass`: nothing;
//! - `swap-pubkey`: each target's `public_key`/`fingerprint` → the
//!   attacker's one-time key;
//! - `swap-identity`: each `identity_key`/`identity_fingerprint` → the
//!   attacker's identity;
//! - `swap-both`: both of the above;
//! - `swap-view`: both, and every `node_id` (target and context) →
//!   `evil-node`;
//! - `add-target`: keeps the real targets and adds a second copy of the
//!   first one (same node id and context) with the attacker's one-time key
//!   and no identity — bait for a sender that checks pins per node id but
//!   seals per target;
//! - `fake-retry`: each target's key → the attacker's one-time key, and
//!   every `state` → `ciphertext_received` (as if a secret were on its way);
//!   `GET …/status` answers (200) say `decrypt_failed` for the pending and
//!   every target — bait for a page that offers a retry without showing the
//!   key it would seal to.
//!
//! - `add-other-target`: keeps the real targets and adds a copy of the
//!   first one for another node (`idle-1`: target and context `node_id`)
//!   with the attacker's one-time key and identity — bait for a sender that
//!   seals to every target listed instead of the nodes it chose;
//! - `change-context`: every `slug` in the view → `evil-slug` (the
//!   contexts no longer say what the sender submitted).
//!
//! Mode against the admin console:
//! - `admin-identity`: each `identity_key` in the 200 answers of
//!   `GET /api/v1/admin/nodes` → the attacker's identity, while
//!   `identity_fingerprint` keeps the relay's (the real node's) text —
//!   bait for a console that shows and compares the relay's fingerprint
//!   text instead of one it computes from the key it would pin.
//!
//! Modes against the node agent rewrite the 200 answers of
//! `GET /api/v1/node/pending` (the real items first, then the attacker's),
//! for the first `--flood-polls N` of them (default: all), counting them
//! in DIR/floods; the agent's `PUT …/pubkey` for an invented pending is
//! answered here (200, `pubkey_posted`), never forwarded:
//! - `flood-bad-ids`: 20 items with ever-new invalid pending ids (100 KiB
//!   long, `..`/`/`, spaces, an ESC sequence, non-ASCII), each asking for a
//!   key with a context naming that id, and 5 ever-new valid ids whose
//!   context names another node; the envelope list gets 5 invalid ids too;
//! - `flood-pendings`: 50 ever-new valid pendings (`flood-P-I`, one slug
//!   `flood`) asking for keys;
//! - `flood-slugs`: the same with a new slug each (`flood-slug-P-I`);
//! - `flood-oversize`: 1,001 ever-new valid pendings: longer than any
//!   honest relay's list;
//! - `flood-known`: the real items are left out, and 999 ever-new valid
//!   pendings (`flood-known-P-I`) are listed with a key already posted
//!   (`needs_pubkey: false`): ids to remember that cost no key;
//! - `ask-again`: no items added, but every real one says `needs_pubkey`
//!   even after the key was posted;
//! - `ask-alternate`: the real items are left out of every other pending
//!   list, and say `needs_pubkey` in the others even after the key was
//!   posted (an id that comes and goes);
//! - `replay-envelopes`: no items added to the pending list; every
//!   envelope the real relay ever handed out is listed again in every later
//!   envelope list (a lost-ack replay that never stops);
//! - `omit-listed`: envelope lists are empty until the real pending list
//!   first shows a key posted (an item not asking for one); from then on
//!   the next `--flood-polls N` pending lists, and the envelope lists
//!   meanwhile, are empty (an honest relay's restore or failover that
//!   briefly loses its pendings); afterwards everything passes;
//! - `flood-envelopes`: no items added to the pending list; every envelope
//!   list gets 200 ever-new valid pending ids (`flood-env-P-I`) with an
//!   envelope for each (ids this node never made a key for);
//! - `replay-alternate`: like `replay-envelopes`, but the envelopes handed
//!   out before are listed again only in every other envelope list (an id
//!   that comes and goes);
//! - `flap-auth`: every other heartbeat is answered here `401` with the
//!   relay's 8702 (signature invalid) error, never forwarded;
//! - with `--unreadable-item`, every flooded list also holds one item in an
//!   unknown state, so the agent cannot tell from it which pendings are gone;
//! - `redirect`: every request answered `302 Found` (`Location:
//!   http://127.0.0.1:9/`) with a body that would be a valid answer
//!   (`{"pending":[]}`, `{"envelopes":[]}`, a heartbeat), never forwarded.
//!
//! Bounded like any test service: loopback only, heads ≤ 16 KiB, bodies ≤
//! 1 MiB, one thread per connection with read timeouts, and the process
//! exits by itself after `--max-lifetime` (default 900 s).

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::exit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use sealpass::keys::{PublicKey, SecretKey};

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Pass,
    SwapPubkey,
    SwapIdentity,
    SwapBoth,
    SwapView,
    AddTarget,
    FakeRetry,
    AddOtherTarget,
    ChangeContext,
    AdminIdentity,
    FloodBadIds,
    FloodPendings,
    FloodSlugs,
    FloodOversize,
    FloodKnown,
    AskAgain,
    AskAlternate,
    ReplayEnvelopes,
    FloodEnvelopes,
    ReplayAlternate,
    FlapAuth,
    OmitListed,
    Redirect,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "pass" => Mode::Pass,
            "swap-pubkey" => Mode::SwapPubkey,
            "swap-identity" => Mode::SwapIdentity,
            "swap-both" => Mode::SwapBoth,
            "swap-view" => Mode::SwapView,
            "add-target" => Mode::AddTarget,
            "fake-retry" => Mode::FakeRetry,
            "add-other-target" => Mode::AddOtherTarget,
            "change-context" => Mode::ChangeContext,
            "admin-identity" => Mode::AdminIdentity,
            "flood-bad-ids" => Mode::FloodBadIds,
            "flood-pendings" => Mode::FloodPendings,
            "flood-slugs" => Mode::FloodSlugs,
            "flood-oversize" => Mode::FloodOversize,
            "flood-known" => Mode::FloodKnown,
            "ask-again" => Mode::AskAgain,
            "ask-alternate" => Mode::AskAlternate,
            "replay-envelopes" => Mode::ReplayEnvelopes,
            "omit-listed" => Mode::OmitListed,
            "flood-envelopes" => Mode::FloodEnvelopes,
            "replay-alternate" => Mode::ReplayAlternate,
            "flap-auth" => Mode::FlapAuth,
            "redirect" => Mode::Redirect,
            _ => return None,
        })
    }
    fn pubkey(self) -> bool {
        matches!(
            self,
            Mode::SwapPubkey | Mode::SwapBoth | Mode::SwapView | Mode::FakeRetry
        )
    }
    fn identity(self) -> bool {
        matches!(self, Mode::SwapIdentity | Mode::SwapBoth | Mode::SwapView)
    }
    fn floods(self) -> bool {
        matches!(
            self,
            Mode::FloodBadIds
                | Mode::FloodPendings
                | Mode::FloodSlugs
                | Mode::FloodOversize
                | Mode::FloodKnown
                | Mode::AskAgain
                | Mode::AskAlternate
                | Mode::ReplayEnvelopes
                | Mode::OmitListed
                | Mode::FloodEnvelopes
                | Mode::ReplayAlternate
                | Mode::FlapAuth
        )
    }
}

struct Attacker {
    otk: PublicKey,
    identity: PublicKey,
}

struct Shared {
    upstream: String,
    mode: Mode,
    attacker: Attacker,
    log: Mutex<File>,
    envelopes: Mutex<File>,
    dir: PathBuf,
    /// Flooded answers so far, and how many to flood.
    floods: AtomicU64,
    flood_polls: u64,
    unreadable_item: bool,
    /// Every envelope item handed out (replay-envelopes).
    handed_out: Mutex<Vec<serde_json::Value>>,
    /// omit-listed: 0 before the omission, 1 during it, 2 after.
    omit: AtomicU64,
    /// Envelope lists (replay-alternate) or heartbeats (flap-auth) so far.
    calls: AtomicU64,
}

fn usage(msg: &str) -> ! {
    eprintln!("hostile-relay: {msg}");
    eprintln!(
        "usage: hostile-relay --upstream http://127.0.0.1:PORT --mode pass|swap-pubkey|swap-identity|swap-both|swap-view|add-target|fake-retry|add-other-target|change-context|admin-identity|flood-bad-ids|flood-pendings|flood-slugs|flood-oversize|flood-known|ask-again|ask-alternate|replay-envelopes|replay-alternate|flood-envelopes|flap-auth|omit-listed|redirect --state-dir DIR [--max-lifetime SECS] [--flood-polls N] [--unreadable-item]"
    );
    exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut upstream, mut mode, mut dir, mut lifetime) = (None, None, None, 900u64);
    let mut flood_polls = u64::MAX;
    let mut unreadable_item = false;
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage("missing value"));
        match a.as_str() {
            "--upstream" => upstream = Some(val()),
            "--mode" => mode = Some(Mode::parse(&val()).unwrap_or_else(|| usage("unknown mode"))),
            "--state-dir" => dir = Some(PathBuf::from(val())),
            "--max-lifetime" => {
                lifetime = val()
                    .parse()
                    .unwrap_or_else(|_| usage("bad --max-lifetime"))
            }
            "--flood-polls" => {
                flood_polls = val().parse().unwrap_or_else(|_| usage("bad --flood-polls"))
            }
            "--unreadable-item" => unreadable_item = true,
            _ => usage("unknown argument"),
        }
    }
    let upstream = upstream.unwrap_or_else(|| usage("--upstream is required"));
    let host = upstream
        .strip_prefix("http://")
        .map(|h| h.trim_end_matches('/').to_owned())
        .filter(|h| h.starts_with("127.0.0.1:") || h.starts_with("localhost:"))
        .unwrap_or_else(|| usage("--upstream must be http://127.0.0.1:PORT"));
    let mode = mode.unwrap_or_else(|| usage("--mode is required"));
    let dir = dir.unwrap_or_else(|| usage("--state-dir is required"));
    fs::create_dir_all(&dir).unwrap_or_else(|e| usage(&format!("state dir: {e}")));

    let attacker = Attacker {
        otk: write_key(&dir, "attacker_otk"),
        identity: write_key(&dir, "attacker_identity"),
    };
    let open = |name: &str| {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(name))
            .unwrap_or_else(|e| usage(&format!("{name}: {e}")))
    };
    let shared = Arc::new(Shared {
        upstream: host,
        mode,
        attacker,
        log: Mutex::new(open("log")),
        envelopes: Mutex::new(open("envelopes.jsonl")),
        dir: dir.clone(),
        floods: AtomicU64::new(0),
        flood_polls,
        unreadable_item,
        handed_out: Mutex::new(Vec::new()),
        omit: AtomicU64::new(0),
        calls: AtomicU64::new(0),
    });

    let listener =
        TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| usage(&format!("bind: {e}")));
    let addr = listener.local_addr().expect("bound address");
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    thread::spawn(move || {
        thread::sleep(Duration::from_secs(lifetime));
        exit(0)
    });
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let shared = shared.clone();
        thread::spawn(move || {
            if let Err(e) = serve(conn, &shared) {
                shared.note(&format!("!! connection error: {e}\n"));
            }
        });
    }
}

/// A fresh key pair: the secret as a key file, the public key as B64U.
fn write_key(dir: &Path, name: &str) -> PublicKey {
    let sk = SecretKey::generate().expect("OS random");
    let pk = sk.public_key();
    fs::write(dir.join(format!("{name}.key")), sk.to_key_file().as_bytes()).expect("key file");
    fs::write(dir.join(format!("{name}.pub")), pk.to_b64u() + "\n").expect("pub file");
    pk
}

impl Shared {
    fn note(&self, s: &str) {
        if let Ok(mut f) = self.log.lock() {
            let _ = f.write_all(s.as_bytes());
        }
    }
}

struct Message {
    /// Request or status line.
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Read one HTTP/1.1 message: head, then a Content-Length or chunked body
/// (or, for a response without either, everything until EOF).
fn read_message(r: &mut impl BufRead, is_response: bool) -> Result<Message, String> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = r
            .take((MAX_HEAD + 1 - head.len().min(MAX_HEAD)) as u64)
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed in the head".into());
        }
        head.extend_from_slice(&line);
        if head.len() > MAX_HEAD {
            return Err("head too large".into());
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let text = String::from_utf8(head).map_err(|_| "head is not UTF-8".to_string())?;
    let mut lines = text.lines();
    let start = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut m = Message {
        start,
        headers,
        body: Vec::new(),
    };
    if m.header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).map_err(|e| e.to_string())?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| "bad chunk size".to_string())?;
            if m.body.len() + n > MAX_BODY {
                return Err("body too large".into());
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).map_err(|e| e.to_string())?;
            m.body.extend_from_slice(&chunk[..n]);
            if n == 0 {
                break;
            }
        }
        m.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("transfer-encoding"));
    } else if let Some(len) = m.header("content-length") {
        let n: usize = len.parse().map_err(|_| "bad content-length".to_string())?;
        if n > MAX_BODY {
            return Err("body too large".into());
        }
        m.body = vec![0; n];
        r.read_exact(&mut m.body).map_err(|e| e.to_string())?;
    } else if is_response {
        r.take(MAX_BODY as u64)
            .read_to_end(&mut m.body)
            .map_err(|e| e.to_string())?;
    }
    Ok(m)
}

fn write_message(w: &mut impl Write, m: &Message) -> std::io::Result<()> {
    let mut out = Vec::new();
    out.extend_from_slice(m.start.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (k, v) in &m.headers {
        if k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("connection") {
            continue;
        }
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n", m.body.len()).as_bytes());
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&m.body);
    w.write_all(&out)?;
    w.flush()
}

fn log_message(shared: &Shared, dir: &str, m: &Message) {
    let mut s = format!("{dir} {}\n", m.start);
    for (k, v) in &m.headers {
        s.push_str(&format!("{dir} {k}: {v}\n"));
    }
    s.push_str(&format!("{dir} body {} bytes: ", m.body.len()));
    s.push_str(&String::from_utf8_lossy(&m.body));
    s.push('\n');
    shared.note(&s);
}

fn serve(conn: TcpStream, shared: &Shared) -> Result<(), String> {
    conn.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(conn.try_clone().map_err(|e| e.to_string())?);
    let mut req = read_message(&mut reader, false)?;
    log_message(shared, ">>", &req);
    let mut parts = req.start.split(' ');
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    if method == "POST" && is_pending_path(&path, Some("envelopes")) {
        if let Ok(mut f) = shared.envelopes.lock() {
            let mut line: Vec<u8> = req
                .body
                .iter()
                .map(|&b| if b == b'\n' { b' ' } else { b })
                .collect();
            line.push(b'\n');
            let _ = f.write_all(&line);
        }
    }
    if let Some(resp) = answer_here(shared, &method, &path) {
        log_message(shared, "<<", &resp);
        let mut w = conn;
        return write_message(&mut w, &resp).map_err(|e| e.to_string());
    }
    let caller = req.header("x-sealpass-caller").unwrap_or("").to_owned();
    for (k, v) in req.headers.iter_mut() {
        if k.eq_ignore_ascii_case("host") {
            *v = shared.upstream.clone();
        }
    }
    let up = TcpStream::connect(&shared.upstream).map_err(|e| format!("upstream: {e}"))?;
    up.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut up_w = up.try_clone().map_err(|e| e.to_string())?;
    write_message(&mut up_w, &req).map_err(|e| e.to_string())?;
    let mut resp = read_message(&mut BufReader::new(up), true)?;
    let ok = resp.start.split(' ').nth(1) == Some("200");
    if ok && method == "GET" && is_pending_path(&path, None) {
        resp.body = rewrite_view(&resp.body, shared.mode, &shared.attacker);
    }
    if ok
        && method == "GET"
        && shared.mode == Mode::AdminIdentity
        && path.split('?').next() == Some("/api/v1/admin/nodes")
    {
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        resp.body =
            replace_values(&text, "identity_key", &shared.attacker.identity.to_b64u()).into_bytes();
    }
    if ok
        && method == "GET"
        && shared.mode == Mode::FakeRetry
        && is_pending_path(&path, Some("status"))
    {
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        resp.body = replace_values(&text, "state", "decrypt_failed").into_bytes();
    }
    if ok && method == "GET" && shared.mode.floods() {
        let route = path.split('?').next().unwrap_or("");
        if shared.mode == Mode::OmitListed {
            omit_listed(&mut resp.body, shared, route);
        } else if route == "/api/v1/node/pending" {
            if let Some(poll) = shared.next_flood() {
                resp.body = flood_pending(&resp.body, shared, &caller, poll);
            }
        } else if route == "/api/v1/node/envelopes" && shared.mode == Mode::FloodBadIds {
            let poll = shared.floods.load(Ordering::SeqCst);
            if poll <= shared.flood_polls {
                resp.body = flood_envelopes(&resp.body, poll);
            }
        } else if route == "/api/v1/node/envelopes" && shared.mode == Mode::ReplayEnvelopes {
            resp.body = replay_envelopes(&resp.body, shared, true);
        } else if route == "/api/v1/node/envelopes" && shared.mode == Mode::ReplayAlternate {
            let n = shared.calls.fetch_add(1, Ordering::SeqCst);
            resp.body = replay_envelopes(&resp.body, shared, n % 2 == 0);
        } else if route == "/api/v1/node/envelopes" && shared.mode == Mode::FloodEnvelopes {
            let poll = shared.floods.load(Ordering::SeqCst);
            resp.body = flood_valid_envelopes(&resp.body, poll);
        }
    }
    log_message(shared, "<<", &resp);
    let mut w = conn;
    write_message(&mut w, &resp).map_err(|e| e.to_string())
}

impl Shared {
    /// The number of this flooded answer (1, 2, …), or `None` once
    /// `--flood-polls` are done; DIR/floods holds the count.
    fn next_flood(&self) -> Option<u64> {
        let n = self
            .floods
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.flood_polls).then_some(n + 1)
            })
            .ok()?
            + 1;
        let _ = fs::write(self.dir.join("floods"), format!("{n}\n"));
        Some(n)
    }
}

/// Answers the proxy gives itself: every request in `redirect` mode, and
/// key posts for the pendings a flood invented.
fn answer_here(shared: &Shared, method: &str, path: &str) -> Option<Message> {
    let route = path.split('?').next().unwrap_or("");
    let json = |start: &str, extra: Vec<(String, String)>, body: &str| {
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        headers.extend(extra);
        Message {
            start: start.to_owned(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    };
    if shared.mode == Mode::Redirect {
        let body = match route {
            "/api/v1/node/pending" => r#"{"pending":[]}"#,
            "/api/v1/node/envelopes" => r#"{"envelopes":[]}"#,
            "/api/v1/node/heartbeat" => r#"{"node_id":"web-1","server_time":0}"#,
            _ => "{}",
        };
        let location = ("Location".to_owned(), "http://127.0.0.1:9/".to_owned());
        return Some(json("HTTP/1.1 302 Found", vec![location], body));
    }
    if shared.mode == Mode::FlapAuth
        && route == "/api/v1/node/heartbeat"
        && shared.calls.fetch_add(1, Ordering::SeqCst) % 2 == 1
    {
        let body = r#"{"code":8702,"name":"SignatureInvalid","message":"signature invalid"}"#;
        return Some(json("HTTP/1.1 401 Unauthorized", vec![], body));
    }
    let invented = route
        .strip_prefix("/api/v1/node/pending/flood-")
        .is_some_and(|r| r.ends_with("/pubkey"));
    (shared.mode.floods() && method == "PUT" && invented)
        .then(|| json("HTTP/1.1 200 OK", vec![], r#"{"state":"pubkey_posted"}"#))
}

/// A pending item asking `node` for a key, with a context naming `id`.
fn invented_pending(node: &str, id: &str, slug: &str) -> serde_json::Value {
    serde_json::json!({
        "pending_id": id,
        "state": "awaiting_pubkey",
        "expires_at": 4_000_000_000i64,
        "needs_pubkey": true,
        "context": {"node_id": node, "pending_id": id, "slug": slug,
                    "injection_method": "env", "field_name": "API_TOKEN"},
    })
}

/// Ever-new invalid pending ids for flood `poll`.
fn bad_ids(poll: u64, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 5 {
            0 => format!("{}{poll}-{i}", "a".repeat(100 * 1024)),
            1 => format!("../x{poll}-{i}"),
            2 => format!("bad id {poll}-{i}"),
            3 => format!("\u{1b}[31mred{poll}-{i}"),
            _ => format!("é{poll}-{i}"),
        })
        .collect()
}

/// The real node pending list with the attacker's items appended.
fn flood_pending(body: &[u8], shared: &Shared, node: &str, poll: u64) -> Vec<u8> {
    let mode = shared.mode;
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    let Some(items) = v.get_mut("pending").and_then(|p| p.as_array_mut()) else {
        return body.to_vec();
    };
    match mode {
        Mode::FloodBadIds => {
            for id in bad_ids(poll, 20) {
                items.push(invented_pending(node, &id, "flood"));
            }
            for i in 0..5 {
                let id = format!("flood-other-{poll}-{i}");
                items.push(invented_pending("evil-node", &id, "flood"));
            }
        }
        Mode::FloodPendings | Mode::FloodSlugs | Mode::FloodOversize => {
            let n = if mode == Mode::FloodOversize {
                1001
            } else {
                50
            };
            for i in 0..n {
                let id = format!("flood-{poll}-{i}");
                let slug = if mode == Mode::FloodSlugs {
                    format!("flood-slug-{poll}-{i}")
                } else {
                    "flood".to_owned()
                };
                items.push(invented_pending(node, &id, &slug));
            }
        }
        Mode::FloodKnown => {
            items.clear();
            for i in 0..999 {
                let id = format!("flood-known-{poll}-{i}");
                let mut item = invented_pending(node, &id, "flood");
                item["state"] = serde_json::Value::from("pubkey_posted");
                item["needs_pubkey"] = serde_json::Value::Bool(false);
                items.push(item);
            }
        }
        Mode::AskAlternate if poll % 2 == 0 => items.clear(),
        Mode::AskAgain | Mode::AskAlternate => {
            for item in items.iter_mut() {
                item["needs_pubkey"] = serde_json::Value::Bool(true);
            }
        }
        _ => {}
    }
    if shared.unreadable_item {
        let mut odd = invented_pending(node, &format!("flood-odd-{poll}"), "flood");
        odd["state"] = serde_json::Value::from("from_the_future");
        items.push(odd);
    }
    serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec())
}

/// The real envelope list with envelopes for invalid pending ids appended.
fn flood_envelopes(body: &[u8], poll: u64) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    let Some(items) = v.get_mut("envelopes").and_then(|p| p.as_array_mut()) else {
        return body.to_vec();
    };
    for id in bad_ids(poll + 1_000_000, 5) {
        items.push(serde_json::json!({"pending_id": id, "envelope": {}, "context": {}}));
    }
    serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec())
}

/// omit-listed: empty lists while the omission lasts (see the module doc).
fn omit_listed(body: &mut Vec<u8>, shared: &Shared, route: &str) {
    let state = shared.omit.load(Ordering::SeqCst);
    if route == "/api/v1/node/pending" {
        let posted = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["pending"].as_array().cloned())
            .is_some_and(|items| items.iter().any(|i| i["needs_pubkey"] == false));
        if state == 0 && !posted {
            return;
        }
        if shared.next_flood().is_some() {
            shared.omit.store(1, Ordering::SeqCst);
            *body = br#"{"pending":[]}"#.to_vec();
        } else {
            shared.omit.store(2, Ordering::SeqCst);
        }
    } else if route == "/api/v1/node/envelopes" && state < 2 {
        *body = br#"{"envelopes":[]}"#.to_vec();
    }
}

/// The real envelope list plus 200 envelopes for ever-new valid ids.
fn flood_valid_envelopes(body: &[u8], poll: u64) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    let Some(items) = v.get_mut("envelopes").and_then(|p| p.as_array_mut()) else {
        return body.to_vec();
    };
    for i in 0..200 {
        let id = format!("flood-env-{poll}-{i}");
        items.push(serde_json::json!({"pending_id": id, "envelope": {"v": 2}, "context": {}}));
    }
    serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec())
}

/// The real envelope list plus every envelope handed out before (when
/// `replay`).
fn replay_envelopes(body: &[u8], shared: &Shared, replay: bool) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    let Some(items) = v.get_mut("envelopes").and_then(|p| p.as_array_mut()) else {
        return body.to_vec();
    };
    let Ok(mut handed_out) = shared.handed_out.lock() else {
        return body.to_vec();
    };
    for item in items.iter() {
        if !handed_out.contains(item) {
            handed_out.push(item.clone());
        }
    }
    for old in handed_out.iter().filter(|_| replay) {
        if !items.contains(old) {
            items.push(old.clone());
        }
    }
    drop(handed_out);
    serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec())
}

/// `/api/v1/pending/{id}[/{tail}]` or `/api/v1/admin/pending/{id}[/{tail}]`
/// with exactly that tail (None: no tail).
fn is_pending_path(path: &str, tail: Option<&str>) -> bool {
    let path = path.split('?').next().unwrap_or("");
    let rest = path
        .strip_prefix("/api/v1/pending/")
        .or_else(|| path.strip_prefix("/api/v1/admin/pending/"));
    let Some(rest) = rest else { return false };
    let mut segs = rest.split('/');
    let id_ok = segs.next().is_some_and(|id| !id.is_empty());
    id_ok && segs.next() == tail && segs.next().is_none()
}

/// Replace the string values of the view's keys, keeping every other byte.
fn rewrite_view(body: &[u8], mode: Mode, a: &Attacker) -> Vec<u8> {
    let Ok(mut text) = String::from_utf8(body.to_vec()) else {
        return body.to_vec();
    };
    if mode.pubkey() {
        text = replace_values(&text, "public_key", &a.otk.to_b64u());
        text = replace_values(&text, "fingerprint", &a.otk.fingerprint());
    }
    if mode.identity() {
        text = replace_values(&text, "identity_key", &a.identity.to_b64u());
        text = replace_values(
            &text,
            "identity_fingerprint",
            &a.identity.identity_fingerprint(),
        );
    }
    if mode == Mode::SwapView {
        text = replace_values(&text, "node_id", "evil-node");
    }
    if mode == Mode::AddTarget {
        text = add_target(&text, a);
    }
    if mode == Mode::FakeRetry {
        text = replace_values(&text, "state", "ciphertext_received");
    }
    if mode == Mode::AddOtherTarget {
        text = add_other_target(&text, a, "idle-1");
    }
    if mode == Mode::ChangeContext {
        text = replace_values(&text, "slug", "evil-slug");
    }
    text.into_bytes()
}

/// Insert after the first target a copy of it with the attacker's one-time
/// key and without identity fields.
fn add_target(text: &str, a: &Attacker) -> String {
    let Some(start) = text
        .find("\"targets\":[{")
        .map(|i| i + "\"targets\":[".len())
    else {
        return text.to_owned();
    };
    let Some(len) = object_len(&text[start..]) else {
        return text.to_owned();
    };
    let first = &text[start..start + len];
    let mut copy = replace_values(first, "public_key", &a.otk.to_b64u());
    copy = replace_values(&copy, "fingerprint", &a.otk.fingerprint());
    copy = remove_field(&copy, "identity_key");
    copy = remove_field(&copy, "identity_fingerprint");
    format!("{},{copy}{}", &text[..start + len], &text[start + len..])
}

/// Insert after the first target a copy of it for node `other` (target
/// and context), with the attacker's one-time key and identity.
fn add_other_target(text: &str, a: &Attacker, other: &str) -> String {
    let Some(start) = text
        .find("\"targets\":[{")
        .map(|i| i + "\"targets\":[".len())
    else {
        return text.to_owned();
    };
    let Some(len) = object_len(&text[start..]) else {
        return text.to_owned();
    };
    let first = &text[start..start + len];
    let mut copy = replace_values(first, "public_key", &a.otk.to_b64u());
    copy = replace_values(&copy, "fingerprint", &a.otk.fingerprint());
    copy = replace_values(&copy, "identity_key", &a.identity.to_b64u());
    copy = replace_values(
        &copy,
        "identity_fingerprint",
        &a.identity.identity_fingerprint(),
    );
    copy = replace_values(&copy, "node_id", other);
    format!("{},{copy}{}", &text[..start + len], &text[start + len..])
}

/// Length of the JSON object at the start of `s` (strings and escapes
/// respected), if it closes.
fn object_len(s: &str) -> Option<usize> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (i, b) in s.bytes().enumerate() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Drop `,"key":"…"` (a string value without escapes).
fn remove_field(text: &str, key: &str) -> String {
    let needle = format!(",\"{key}\":\"");
    let Some(i) = text.find(&needle) else {
        return text.to_owned();
    };
    let rest = &text[i + needle.len()..];
    let end = rest.find('"').map_or(rest.len(), |e| e + 1);
    format!("{}{}", &text[..i], &rest[end..])
}

/// Every `"key":"…"` (a value without escapes) gets `value`.
fn replace_values(text: &str, key: &str, value: &str) -> String {
    let needle = format!("\"{key}\":\"");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(&needle) {
        out.push_str(&rest[..i + needle.len()]);
        rest = &rest[i + needle.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        out.push_str(value);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_replaced_in_place() {
        let t = r#"{"targets":[{"node_id":"a","fingerprint":"x","identity_fingerprint":"y","context":{"node_id":"a"}}]}"#;
        assert_eq!(
            replace_values(t, "node_id", "evil-node"),
            r#"{"targets":[{"node_id":"evil-node","fingerprint":"x","identity_fingerprint":"y","context":{"node_id":"evil-node"}}]}"#
        );
        // "fingerprint" does not match inside "identity_fingerprint".
        assert_eq!(
            replace_values(t, "fingerprint", "F"),
            r#"{"targets":[{"node_id":"a","fingerprint":"F","identity_fingerprint":"y","context":{"node_id":"a"}}]}"#
        );
        let view = r#"{"pending_id":"p","targets":[{"node_id":"a","public_key":"K","fingerprint":"F","identity_key":"I","identity_fingerprint":"J","context":{"node_id":"a","slug":"}{\"x"}}],"x":1}"#;
        let a = Attacker {
            otk: SecretKey::from_bytes([1; 32]).public_key(),
            identity: SecretKey::from_bytes([2; 32]).public_key(),
        };
        let added = add_target(view, &a);
        let v: serde_json::Value = serde_json::from_str(&added).unwrap();
        let ts = v["targets"].as_array().unwrap();
        assert_eq!(ts.len(), 2);
        assert_eq!(ts[0]["public_key"], "K");
        assert_eq!(ts[1]["node_id"], "a");
        assert_eq!(ts[1]["public_key"], a.otk.to_b64u().as_str());
        assert!(ts[1].get("identity_key").is_none() && ts[1].get("identity_fingerprint").is_none());
        assert_eq!(ts[1]["context"], ts[0]["context"]);
        assert!(is_pending_path("/api/v1/pending/abc", None));
        assert!(is_pending_path("/api/v1/admin/pending/abc", None));
        assert!(!is_pending_path("/api/v1/pending/abc/status", None));
        assert!(is_pending_path(
            "/api/v1/pending/abc/envelopes",
            Some("envelopes")
        ));
    }
}
