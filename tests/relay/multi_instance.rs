//! Several relay instances on one PostgreSQL database (issue #17), and the
//! harness under them: a real private server (tests/pg/run.sh), a fresh
//! database per cluster, the relay's role without privileges.
//!
//! Every test here needs the server: `#[ignore]`d, run by
//! `bash tests/pg/run.sh` (`-- --ignored multi_instance`), which also
//! checks that all of them ran and passed.

use sealpass_tests::pg::{self, Database, Server};

/// The relay's login role: no superuser, no bypassing row security, cannot
/// create roles or databases, and it is refused the same through its own
/// connection; it may create its schema in its database and nowhere else.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn relay_role_is_unprivileged() {
    let db = Database::create();
    let role = db.server().relay_user().to_owned();
    let flags = pg::admin_sql(
        "postgres",
        &format!(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin \
             FROM pg_roles WHERE rolname = '{role}'"
        ),
    );
    assert_eq!(flags, "f|f|f|f|f|t", "flags of role {role}");

    // What it may do in its own database: connect, create its schema.
    assert_eq!(
        db.try_relay_sql("SELECT current_user").as_deref(),
        Ok(role.as_str())
    );
    db.try_relay_sql("CREATE SCHEMA sealpass")
        .expect("the relay role creates its schema");
    assert_eq!(
        db.sql("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'sealpass'"),
        role
    );

    // What it may not.
    for sql in [
        "CREATE ROLE sp_intruder LOGIN".to_owned(),
        "CREATE DATABASE sp_intruder".to_owned(),
        format!("ALTER ROLE {role} SUPERUSER"),
        "SET ROLE postgres".to_owned(),
        "COPY (SELECT 1) TO PROGRAM 'true'".to_owned(),
    ] {
        let err = db
            .try_relay_sql(&sql)
            .expect_err(&format!("the relay role may not: {sql}"));
        assert!(
            err.contains("permission denied") || err.contains("must be"),
            "{sql}: {err}"
        );
    }
    for other in ["postgres", "template1"] {
        let err = db
            .server()
            .try_relay_sql(other, "SELECT 1")
            .expect_err(&format!("no CONNECT on database {other}"));
        assert!(err.contains("permission denied"), "{other}: {err}");
    }

    // TLS to the server, its certificate checked against the test CA.
    let tls = db
        .server()
        .tls_verify_full()
        .expect("the test server has TLS");
    assert_eq!(
        db.server().try_relay_sql_with(
            db.name(),
            &tls,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ),
        Ok("t".to_owned())
    );

    // The superuser is not reachable over TCP at all (socket only).
    let tcp = std::process::Command::new("psql")
        .args(["-X", "-At", "-c", "SELECT 1", "-d"])
        .arg(format!(
            "postgresql://postgres@{}:{}/postgres?sslmode=disable&connect_timeout=10",
            db.server().host(),
            db.server().port()
        ))
        .env_remove("PGPASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("psql");
    let err = String::from_utf8_lossy(&tcp.stderr);
    assert!(
        !tcp.status.success() && err.contains("no pg_hba.conf entry"),
        "superuser over TCP: {err}"
    );

    // The refused CREATE ROLE left nothing.
    assert_eq!(
        pg::admin_sql(
            "postgres",
            "SELECT count(*) FROM pg_roles WHERE rolname = 'sp_intruder'"
        ),
        "0"
    );
}

/// A database handle drops its database (WITH (FORCE)) with its last
/// holder, so runs leave no databases behind.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn database_is_dropped_with_its_last_handle() {
    let db = Database::create();
    let name = db.name().to_owned();
    let exists = format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'");
    assert_eq!(pg::admin_sql("postgres", &exists), "1");
    let second = db.clone();
    drop(db);
    assert_eq!(
        pg::admin_sql("postgres", &exists),
        "1",
        "dropped while held"
    );
    drop(second);
    assert_eq!(pg::admin_sql("postgres", &exists), "0", "left behind");
}

/// A private server stops (connections refused) and starts again on the
/// same port with its data: what a database-restart test builds on.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn private_server_stops_and_starts_with_its_data() {
    let server = Server::private();
    assert!(server.is_up());
    let db = server.database();
    db.try_relay_sql("CREATE SCHEMA sealpass; CREATE TABLE sealpass.t (v text); INSERT INTO sealpass.t VALUES ('kept')")
        .expect("relay role writes its schema");
    let port = server.port();

    server.stop();
    assert!(!server.is_up(), "still answering after stop");
    let err = db
        .try_relay_sql("SELECT 1")
        .expect_err("connect while down");
    assert!(
        err.contains("connection") || err.contains("refused"),
        "{err}"
    );

    server.start();
    assert!(server.is_up());
    assert_eq!(server.port(), port);
    assert_eq!(
        db.try_relay_sql("SELECT v FROM sealpass.t").as_deref(),
        Ok("kept")
    );
    assert!(
        server.log().contains("database system is ready"),
        "log: {}",
        server.log()
    );
}

// ---------------------------------------------------------------------
// Several relay instances on one database: the relay's guarantees hold
// across them (docs/OPERATIONS.md, "Several relay instances").
// ---------------------------------------------------------------------

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sealpass_native::signing::sign_request;
use sealpass_tests::bins;
use sealpass_tests::proc::{rand_hex, Proc};
use sealpass_tests::relay::{request_bytes, Relay, Resp, RoundRobin};
use sealpass_tests::signed::{envelopes_body, now, post_envelopes, seal_for, Node};

/// Failed envelope posts that lock a pending id (lockout.rs).
const MAX_FAILED: usize = 3;

/// One HTTP/1.1 request (`Connection: close`) that reports a transport
/// failure instead of failing the test: a refused or reset connection, or
/// an answer cut short (the instance was killed). Bounded: 5 s to connect,
/// 30 s to read.
fn try_req(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Resp, String> {
    let sock: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let mut s = TcpStream::connect_timeout(&sock, Duration::from_secs(5))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let bytes = request_bytes(addr, method, path, headers, body);
    // The relay may answer before reading everything: read what it said.
    let _ = s.write_all(&bytes);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse_complete(&buf).ok_or_else(|| {
        format!(
            "no complete answer from {addr} ({} bytes) to {method} {path}",
            buf.len()
        )
    })
}

/// A whole response (its body complete by Content-Length), else None.
fn parse_complete(buf: &[u8]) -> Option<Resp> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = buf[end + 4..].to_vec();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))?
        .1
        .parse()
        .ok()?;
    (body.len() == len).then_some(Resp {
        status,
        headers,
        body,
    })
}

/// Signatures this file has used: identical requests signed in the same
/// second sign identically, so step the timestamp back (inside the 300 s
/// window) as signed.rs does.
static SIGNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn sign_once(node: &Node, method: &str, path: &str, body: &[u8]) -> Vec<(String, String)> {
    let mut ts = now();
    loop {
        let h = sign_request(&node.secret, &node.id, node.version, method, path, body, ts);
        if SIGNED.lock().unwrap().insert(h[3].1.clone()) {
            return h.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
        }
        ts -= 1;
    }
}

/// A signed node request (a fresh signature every call) to one instance.
fn try_signed(
    relay: &Relay,
    node: &Node,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Resp, String> {
    let h = sign_once(node, method, path, body);
    let mut headers: Vec<(&str, &str)> = h.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    if !body.is_empty() {
        headers.push(("Content-Type", "application/json"));
    }
    try_req(&relay.addr, method, path, &headers, body)
}

/// The error code of a JSON error answer (0 if there is none).
fn code_of(r: &Resp) -> u64 {
    serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["code"].as_u64())
        .unwrap_or(0)
}

/// Does `marker` occur in any file under `dir`? grep -rF (fast on a data
/// dir of many MB); files that vanish while it reads (WAL recycling) are
/// skipped.
fn grep_dir(dir: &std::path::Path, marker: &str) -> Vec<String> {
    let out = Command::new("grep")
        .args(["-rlsF", "--", marker])
        .arg(dir)
        .output()
        .expect("run grep");
    assert!(
        out.status.code().is_some_and(|c| c <= 2),
        "grep failed: {:?}",
        out.status
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Every row of every table of the relay's schema, as text (what a
/// `pg_dump --data-only` would hold), as the superuser.
fn dump_all_rows(relay: &Relay) -> String {
    let tables = relay.sql(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'sealpass' AND c.relkind = 'r' ORDER BY 1",
    );
    let mut dump = String::new();
    for t in tables.lines() {
        dump.push_str(&relay.sql(&format!("SELECT t::text FROM sealpass.{t} t")));
        dump.push('\n');
    }
    dump
}

/// For a failure message: the unexpected answers' bodies, the relays'
/// output lines that look like errors, and the server log's errors.
fn diagnose(relays: &[Relay], answers: &BTreeSet<&str>) -> String {
    let mut s = format!("\n-- unexpected answer bodies: {answers:#?}");
    for (i, r) in relays.iter().enumerate() {
        let lines: Vec<String> = r
            .output()
            .lines()
            .filter(|l| !l.contains("listening on") && !l.contains("schema migrated"))
            .map(str::to_owned)
            .collect();
        let from = lines.len().saturating_sub(15);
        s.push_str(&format!(
            "\n-- relay {i} output (last 15 lines):\n{}",
            lines[from..].join("\n")
        ));
    }
    if let Some(db) = relays.first().and_then(Relay::database) {
        let log = db.server().log();
        let errs: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("ERROR") || l.contains("FATAL") || l.contains("DETAIL"))
            .collect();
        let from = errs.len().saturating_sub(20);
        s.push_str(&format!(
            "\n-- server log errors (last 20):\n{}",
            errs[from..].join("\n")
        ));
    }
    s
}

/// 200 envelope posts for one pending at once, over three instances:
/// exactly one wins (202), every other is 409/8604 AlreadyUsed (a valid
/// late duplicate is no failure: nothing counted, no lockout), and the
/// stored envelope is the winner's.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn first_push_wins_across_three_instances() {
    let relays = Relay::start_cluster(3, &[]);
    let n = Node::register(&relays[0], "race");
    n.heartbeat(&relays[1]);
    let pid = relays[2].create_pending(&["race"], None);
    let sk = n.post_pubkey(&relays[1], &pid);
    const POSTS: usize = 200;
    let bodies: Vec<String> = (0..POSTS)
        .map(|i| {
            envelopes_body(&seal_for(
                &relays[i % 3],
                &pid,
                format!("race-secret-{i}").as_bytes(),
            ))
        })
        .collect();
    let gate = Arc::new(Barrier::new(POSTS));
    let answers: Vec<(usize, u16, u64, String)> = thread::scope(|s| {
        let handles: Vec<_> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let (gate, pid, relay) = (gate.clone(), pid.clone(), &relays[i % 3]);
                s.spawn(move || {
                    gate.wait();
                    let t0 = Instant::now();
                    let r = try_req(
                        &relay.addr,
                        "POST",
                        &format!("/api/v1/pending/{pid}/envelopes"),
                        &[("Content-Type", "application/json")],
                        body.as_bytes(),
                    )
                    .unwrap_or_else(|e| panic!("post {i}: {e}"));
                    let text = format!(
                        "{} after {} ms",
                        r.text(),
                        t0.elapsed().as_millis() / 500 * 500
                    );
                    (i, r.status, code_of(&r), text)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<usize> = answers.iter().filter(|a| a.1 == 202).map(|a| a.0).collect();
    let mut tally = std::collections::BTreeMap::new();
    for a in &answers {
        *tally.entry((a.1, a.2)).or_insert(0usize) += 1;
    }
    let other: BTreeSet<&str> = answers
        .iter()
        .filter(|a| a.1 != 202 && (a.1, a.2) != (409, 8604))
        .map(|a| a.3.as_str())
        .collect();
    let why = || diagnose(&relays, &other);
    assert_eq!(
        winners.len(),
        1,
        "exactly one post wins: {tally:?}{}",
        why()
    );
    assert_eq!(
        tally.get(&(409, 8604)).copied(),
        Some(POSTS - 1),
        "every loser is 409/8604 (a valid duplicate counts as no failure, so no lockout): {tally:?}{}",
        why()
    );
    // Nothing counted as a failed post, no lockout.
    let r = &relays[0];
    assert_eq!(
        r.sql_i64("SELECT COALESCE(SUM(count), 0) FROM auth_failures WHERE event = 'envelope_post_failed'"),
        0
    );
    assert_eq!(r.sql_i64("SELECT COUNT(*) FROM lockouts"), 0);
    assert_eq!(
        r.sql_i64("SELECT COUNT(*) FROM audit WHERE event = 'envelopes_posted'"),
        1,
        "one accepted post"
    );

    // The stored envelope is the winner's: in the database and as pulled.
    let winner: serde_json::Value = serde_json::from_str(&bodies[winners[0]]).unwrap();
    let want = &winner["envelopes"][0]["envelope"];
    let stored: serde_json::Value = serde_json::from_str(&r.sql(&format!(
        "SELECT envelope FROM targets WHERE pending_id = '{pid}' AND node_id = 'race'"
    )))
    .expect("stored envelope JSON");
    assert_eq!(&stored, want, "the stored one is the winner's");
    let got = n.pull(&relays[2]);
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0]["envelope"], want);
    let env = sealpass::Envelope::from_json(got[0]["envelope"].to_string().as_bytes()).unwrap();
    let ctx = sealpass::Context::from_json(got[0]["context"].to_string().as_bytes()).unwrap();
    let plain = sealpass_open::open(&sk, &env, &ctx).expect("the node opens it");
    assert_eq!(&plain[..], format!("race-secret-{}", winners[0]).as_bytes());
}

/// A signed node request accepted by one instance is a replay on every
/// other: the same bytes to B and C are 401/8704 SignatureReplayed.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn signature_replayed_to_another_instance_is_refused() {
    let relays = Relay::start_cluster(3, &[]);
    let n = Node::register(&relays[0], "n1");
    let send = |relay: &Relay, method: &str, path: &str, h: &[(String, String)], body: &[u8]| {
        let mut headers: Vec<(&str, &str)> =
            h.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json"));
        }
        relay.req(method, path, &headers, body)
    };
    let t = now();
    let hb = "/api/v1/node/heartbeat";
    let h = sign_once(&n, "POST", hb, b"{}");
    let r = send(&relays[0], "POST", hb, &h, b"{}");
    assert_eq!(r.status, 200, "accepted by A: {}", r.text());
    send(&relays[1], "POST", hb, &h, b"{}").expect(401, 8704);
    send(&relays[2], "POST", hb, &h, b"{}").expect(401, 8704);
    send(&relays[0], "POST", hb, &h, b"{}").expect(401, 8704);

    // A GET, first accepted by C, replayed to A and B.
    let list = "/api/v1/node/pending";
    let g = sign_once(&n, "GET", list, b"");
    assert_eq!(send(&relays[2], "GET", list, &g, b"").status, 200);
    send(&relays[0], "GET", list, &g, b"").expect(401, 8704);
    send(&relays[1], "GET", list, &g, b"").expect(401, 8704);

    // A replay raced to all three at once: exactly one instance takes it.
    let raced =
        sealpass_native::signing::sign_request(&n.secret, &n.id, 1, "POST", hb, b"{}", t - 30);
    let raced: Vec<(String, String)> = raced.into_iter().map(|(a, b)| (a.to_owned(), b)).collect();
    let gate = Barrier::new(9);
    let answers: Vec<(u16, u64)> = thread::scope(|s| {
        let hs: Vec<_> = (0..9)
            .map(|i| {
                let (gate, raced, relay) = (&gate, &raced, &relays[i % 3]);
                s.spawn(move || {
                    gate.wait();
                    let r = send(relay, "POST", hb, raced, b"{}");
                    (r.status, code_of(&r))
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        answers.iter().filter(|a| a.0 == 200).count(),
        1,
        "one of 9 copies accepted: {answers:?}"
    );
    assert!(
        answers.iter().all(|a| *a == (200, 0) || *a == (401, 8704)),
        "{answers:?}"
    );

    // Counted as failures of n1 with 8704: 3 + 2 + 8.
    assert_eq!(
        relays[1].sql_i64(
            "SELECT COALESCE(SUM(count), 0) FROM auth_failures \
             WHERE event = 'node_auth_failed' AND actor = 'n1' AND code = 8704"
        ),
        13
    );
    assert_eq!(
        relays[1].sql_i64("SELECT COUNT(*) FROM replay"),
        3,
        "one row per accepted signature"
    );
    // Every instance still serves n1's fresh requests.
    for r in &relays {
        let a = try_signed(r, &n, "POST", hb, b"{}").unwrap();
        assert_eq!(a.status, 200, "{}", a.text());
    }
}

/// The lockout counts failed posts over every instance: bad posts to A,
/// B, C in turn, the third locks, and then a good post to any instance is
/// 429/8605 with Retry-After. Concurrent bad posts over the three answer
/// no more failures than the limit.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn lockout_is_shared_by_the_instances() {
    let relays = Relay::start_cluster(3, &[]);
    let n = Node::register(&relays[0], "n");
    let _m = Node::register(&relays[0], "m");
    let pid = relays[1].create_pending(&["n"], None);
    n.post_pubkey(&relays[2], &pid);
    // A well-formed envelope for node m, which is not a target: a failed
    // post of the poster's own (400/8601), counted.
    let bad = {
        let sk = sealpass::SecretKey::generate().unwrap();
        let ctx =
            sealpass::Context::new("m", &pid, "db-password", "env", Some("DB_PASSWORD"), None)
                .unwrap();
        let env = sealpass::seal(&sk.public_key(), b"x", &ctx)
            .unwrap()
            .to_json();
        envelopes_body(&[("m".to_owned(), env)])
    };
    let failures = |r: &Relay| {
        r.sql_i64("SELECT COALESCE(SUM(count), 0) FROM auth_failures WHERE event = 'envelope_post_failed'")
    };
    for (i, relay) in relays.iter().enumerate() {
        post_envelopes(relay, &pid, &bad).expect(400, 8601);
        assert_eq!(
            failures(&relays[(i + 1) % 3]),
            i as i64 + 1,
            "after failure {}",
            i + 1
        );
    }
    assert_eq!(
        relays[0].sql_i64("SELECT COUNT(*) FROM lockouts"),
        1,
        "locked after the third"
    );
    // Locked on every instance, even for a good post.
    let good = envelopes_body(&seal_for(&relays[0], &pid, b"pw"));
    for relay in &relays {
        let r = post_envelopes(relay, &pid, &good);
        r.expect(429, 8605);
        let retry: u64 = r
            .header("Retry-After")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((290..=300).contains(&retry), "Retry-After {retry}");
    }
    post_envelopes(&relays[1], &pid, &bad).expect(429, 8605);
    assert_eq!(
        failures(&relays[0]),
        MAX_FAILED as i64,
        "the lockout itself does not count"
    );
    assert_eq!(
        relays[0].sql_i64("SELECT COUNT(*) FROM audit WHERE event = 'pending_locked'"),
        1
    );
    assert_eq!(
        relays[0].target_state(&pid, "n").0,
        "pubkey_posted",
        "nothing stored"
    );
    assert_eq!(sealpass_tests::relay::stored_envelopes(&relays[0]), 0);

    // Another pending id is not affected, on any instance.
    let pid3 = relays[2].create_pending(&["n"], None);
    n.post_pubkey(&relays[0], &pid3);
    let r = post_envelopes(
        &relays[1],
        &pid3,
        &envelopes_body(&seal_for(&relays[2], &pid3, b"pw")),
    );
    assert_eq!(r.status, 202, "{}", r.text());
}

/// Concurrent bad posts for one pending over the three instances: the
/// verdicts are taken one after another in the database, so exactly
/// MAX_FAILED are answered as failures and every other post is locked out
/// (lockout.rs, across instances).
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn concurrent_bad_posts_over_instances_stop_at_the_limit() {
    let relays = Relay::start_cluster(3, &[]);
    let n = Node::register(&relays[0], "n");
    let failures = |r: &Relay| {
        r.sql_i64(
            "SELECT COALESCE(SUM(count), 0) FROM auth_failures WHERE event = 'envelope_post_failed'",
        )
    };
    // Concurrent bad posts over the three instances: exactly MAX_FAILED
    // answered as failures, the rest locked out.
    let pid2 = relays[0].create_pending(&["n"], None);
    n.post_pubkey(&relays[1], &pid2);
    const POSTS: usize = 45;
    let gate = Barrier::new(POSTS);
    let answers: Vec<(u16, u64, String)> = thread::scope(|s| {
        let hs: Vec<_> = (0..POSTS)
            .map(|i| {
                let (gate, relay, pid2) = (&gate, &relays[i % 3], &pid2);
                s.spawn(move || {
                    gate.wait();
                    let t0 = Instant::now();
                    let r = post_envelopes(relay, pid2, r#"{"envelopes":[]}"#);
                    let text = format!(
                        "{} after {} ms",
                        r.text(),
                        t0.elapsed().as_millis() / 500 * 500
                    );
                    (r.status, code_of(&r), text)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let failed = answers.iter().filter(|a| (a.0, a.1) == (400, 8601)).count();
    let locked = answers.iter().filter(|a| (a.0, a.1) == (429, 8605)).count();
    let other: BTreeSet<&str> = answers
        .iter()
        .filter(|a| !matches!((a.0, a.1), (400, 8601) | (429, 8605)))
        .map(|a| a.2.as_str())
        .collect();
    assert_eq!(
        (failed, locked),
        (MAX_FAILED, POSTS - MAX_FAILED),
        "{:?}{}",
        answers.iter().map(|a| (a.0, a.1)).collect::<Vec<_>>(),
        diagnose(&relays, &other)
    );
    assert_eq!(failures(&relays[2]), MAX_FAILED as i64);
    assert_eq!(
        relays[2].sql_i64("SELECT COUNT(*) FROM audit WHERE event = 'pending_locked'"),
        1
    );
}

/// The whole flow with every step on another instance than the one
/// before: admin create (0), node key (1), sender reads keys (2), seals,
/// posts (0), node pulls (2), acks (1); consumed on all three.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn flow_with_node_and_sender_on_different_instances() {
    let relays = Relay::start_cluster(3, &[]);
    // The shared admin token: every instance has the same one.
    assert!(
        relays.iter().all(|r| r.token == relays[0].token),
        "one admin token"
    );
    let n1 = Node::register(&relays[0], "n1");
    n1.heartbeat(&relays[2]);
    let pid = relays[0].create_pending(&["n1"], None);
    for r in &relays {
        r.req("GET", &format!("/api/v1/pending/{pid}"), &[], b"")
            .expect(409, 8009);
    }
    let list = n1
        .call(&relays[1], "GET", "/api/v1/node/pending", b"")
        .json();
    assert_eq!(list["pending"][0]["pending_id"], pid.as_str());
    let sk = n1.post_pubkey(&relays[1], &pid);
    for r in &relays {
        assert_eq!(r.status(&pid)["state"], "pubkey_posted");
    }
    let secret = format!("flow-secret-{}", rand_hex(8));
    let items = seal_for(&relays[2], &pid, secret.as_bytes());
    let v = relays[2]
        .req("GET", &format!("/api/v1/pending/{pid}"), &[], b"")
        .json();
    assert_eq!(
        v["targets"][0]["public_key"],
        sk.public_key().to_b64u().as_str()
    );
    let r = post_envelopes(&relays[0], &pid, &envelopes_body(&items));
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["state"], "ciphertext_received");
    for r in &relays {
        assert_eq!(r.status(&pid)["state"], "ciphertext_received");
    }
    // A second post through another instance: first push won.
    post_envelopes(&relays[1], &pid, &envelopes_body(&items)).expect(409, 8604);

    let got = n1.pull(&relays[2]);
    assert_eq!(got.len(), 1);
    let env = sealpass::Envelope::from_json(got[0]["envelope"].to_string().as_bytes()).unwrap();
    assert_eq!(env.to_json(), items[0].1);
    let ctx = sealpass::Context::from_json(got[0]["context"].to_string().as_bytes()).unwrap();
    assert_eq!(
        &sealpass_open::open(&sk, &env, &ctx).unwrap()[..],
        secret.as_bytes()
    );
    let r = n1.ack(&relays[1], &pid, "consumed");
    assert_eq!(
        (r.status, r.json()["state"].as_str()),
        (200, Some("consumed"))
    );
    // The ack repeated through another instance is the same answer.
    assert_eq!(n1.ack(&relays[0], &pid, "consumed").status, 200);
    for r in &relays {
        assert_eq!(r.status(&pid)["state"], "consumed");
        assert!(n1.pull(r).is_empty());
    }
    assert_eq!(sealpass_tests::relay::stored_envelopes(&relays[0]), 0);
    for r in &relays {
        assert!(!r.output().contains(&secret), "plaintext in relay output");
    }
}

/// What the load runs record.
#[derive(Default)]
struct Stats {
    /// Pendings through the whole flow.
    done: AtomicUsize,
    /// Transport failures (refused, reset, cut short), retried.
    transport: AtomicUsize,
    /// 503/8506 answers, retried.
    unavailable: AtomicUsize,
    /// Answers per instance after the disturbance began.
    served_after: [AtomicUsize; 3],
    /// Set when the disturbance began.
    disturbed: AtomicBool,
    /// Every unexpected answer (other 5xx, wrong status): the test fails.
    wrong: Mutex<Vec<String>>,
}

/// One request through the cluster: the next instance in turn; a
/// transport failure (or, when `retry_503`, a 503/8506) is tried again on
/// the next one after a short pause, until `deadline`. Returns the answer
/// and whether an earlier attempt may have reached the database (so that
/// its effect may already be there).
fn through(
    rr: &RoundRobin,
    stats: &Stats,
    deadline: Instant,
    retry_503: bool,
    what: &str,
    f: impl Fn(&Relay) -> Result<Resp, String>,
) -> Result<(Resp, bool), String> {
    let mut maybe_done = false;
    loop {
        if Instant::now() > deadline {
            return Err(format!("{what}: deadline passed"));
        }
        let (i, relay) = rr.pick_indexed();
        // Counted as served after the disturbance only when sent after it.
        let after = stats.disturbed.load(Ordering::SeqCst);
        match f(relay) {
            Err(_) => {
                stats.transport.fetch_add(1, Ordering::Relaxed);
                maybe_done = true;
            }
            Ok(r) => {
                if after {
                    stats.served_after[i].fetch_add(1, Ordering::Relaxed);
                }
                if r.status == 503 && code_of(&r) == 8506 && retry_503 {
                    stats.unavailable.fetch_add(1, Ordering::Relaxed);
                    maybe_done = true;
                } else if r.status >= 500 {
                    let msg = format!("{what} on instance {i}: {} {}", r.status, r.text());
                    stats.wrong.lock().unwrap().push(msg.clone());
                    return Err(msg);
                } else {
                    return Ok((r, maybe_done));
                }
            }
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// One pending through the flow as its node and a sender drive it, every
/// request on the next instance: key, read keys + seal, post, pull (the
/// envelope is the one sealed and opens to the plaintext), ack.
fn drive_one(
    rr: &RoundRobin,
    stats: &Stats,
    deadline: Instant,
    retry_503: bool,
    node: &Node,
    pid: &str,
    plaintext: &[u8],
) -> Result<(), String> {
    let expect = |what: &str, r: &Resp, want: u16| -> Result<(), String> {
        if r.status == want {
            Ok(())
        } else {
            let msg = format!("{what} {pid}: {} {}", r.status, r.text());
            stats.wrong.lock().unwrap().push(msg.clone());
            Err(msg)
        }
    };
    let sk = sealpass::SecretKey::generate().map_err(|e| e.to_string())?;
    let key = format!(r#"{{"public_key":"{}"}}"#, sk.public_key().to_b64u());
    let path = format!("/api/v1/node/pending/{pid}/pubkey");
    let (r, _) = through(rr, stats, deadline, retry_503, "pubkey", |relay| {
        try_signed(relay, node, "PUT", &path, key.as_bytes())
    })?;
    expect("pubkey", &r, 200)?;

    let view = format!("/api/v1/pending/{pid}");
    let (r, _) = through(rr, stats, deadline, retry_503, "keys", |relay| {
        try_req(&relay.addr, "GET", &view, &[], b"")
    })?;
    expect("keys", &r, 200)?;
    let t = &r.json()["targets"][0];
    let pk = sealpass::PublicKey::from_b64u(t["public_key"].as_str().unwrap_or(""))
        .map_err(|e| e.to_string())?;
    if pk.to_b64u() != sk.public_key().to_b64u() {
        return Err(format!("{pid}: the sender read another key"));
    }
    let ctx = sealpass::Context::from_json(t["context"].to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let sealed = sealpass::seal(&pk, plaintext, &ctx)
        .map_err(|e| e.to_string())?
        .to_json();
    let body = envelopes_body(&[(node.id.clone(), sealed.clone())]);

    let post = format!("/api/v1/pending/{pid}/envelopes");
    let (r, maybe) = through(rr, stats, deadline, retry_503, "post", |relay| {
        try_req(
            &relay.addr,
            "POST",
            &post,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    })?;
    // 8604 only when an earlier attempt of this very post may have won.
    if !(r.status == 202 || (maybe && r.status == 409 && code_of(&r) == 8604)) {
        expect("post", &r, 202)?;
    }

    let got = loop {
        let (r, _) = through(rr, stats, deadline, retry_503, "pull", |relay| {
            try_signed(relay, node, "GET", "/api/v1/node/envelopes", b"")
        })?;
        expect("pull", &r, 200)?;
        let list = r.json()["envelopes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if list.len() > 1 {
            return Err(format!(
                "{pid}: node {} holds {} envelopes",
                node.id,
                list.len()
            ));
        }
        if let Some(item) = list.into_iter().find(|e| e["pending_id"] == pid) {
            break item;
        }
        if Instant::now() > deadline {
            return Err(format!("{pid}: envelope never pulled"));
        }
        thread::sleep(Duration::from_millis(100));
    };
    let env = sealpass::Envelope::from_json(got["envelope"].to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    if env.to_json() != sealed {
        let msg = format!("{pid}: pulled another envelope than the one posted");
        stats.wrong.lock().unwrap().push(msg.clone());
        return Err(msg);
    }
    let plain = sealpass_open::open(&sk, &env, &ctx).map_err(|e| format!("{pid}: open: {e}"))?;
    if &plain[..] != plaintext {
        return Err(format!("{pid}: another plaintext"));
    }

    let ack = format!("/api/v1/node/pending/{pid}/ack");
    let (r, _) = through(rr, stats, deadline, retry_503, "ack", |relay| {
        try_signed(relay, node, "POST", &ack, br#"{"result":"consumed"}"#)
    })?;
    expect("ack", &r, 200)?;
    if r.json()["state"] != "consumed" {
        return Err(format!("{pid}: ack answered {}", r.text()));
    }
    stats.done.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// A load run: `workers` nodes, `per_worker` pendings each (created
/// before), every worker drives its own pendings one after another over
/// the cluster; `disturb` runs on the main thread meanwhile (it gets the
/// stats to wait for progress and mark the disturbance). Returns the
/// pendings and their plaintexts.
fn load_run(
    relays: &[Relay],
    workers: usize,
    per_worker: usize,
    retry_503: bool,
    marker: &str,
    disturb: impl FnOnce(&Stats),
) -> (Stats, Vec<(String, String)>) {
    let nodes: Vec<Node> = (0..workers)
        .map(|w| Node::register(&relays[w % relays.len()], &format!("w{w}")))
        .collect();
    let admin = RoundRobin::new(relays);
    let jobs: Vec<Vec<(String, String)>> = nodes
        .iter()
        .map(|n| {
            (0..per_worker)
                .map(|_| {
                    let pid = admin.pick().create_pending(&[n.id.as_str()], None);
                    (pid, format!("{marker}-{}", rand_hex(12)))
                })
                .collect()
        })
        .collect();
    let stats = Stats::default();
    let deadline = Instant::now() + Duration::from_secs(100);
    let errors: Vec<String> = thread::scope(|s| {
        let hs: Vec<_> = nodes
            .iter()
            .zip(&jobs)
            .enumerate()
            .map(|(w, (node, jobs))| {
                let stats = &stats;
                s.spawn(move || {
                    let rr = RoundRobin::new(relays);
                    // Start each worker on another instance.
                    for _ in 0..w {
                        rr.pick();
                    }
                    let mut errors = Vec::new();
                    for (pid, plain) in jobs {
                        if let Err(e) =
                            drive_one(&rr, stats, deadline, retry_503, node, pid, plain.as_bytes())
                        {
                            errors.push(e);
                        }
                    }
                    errors
                })
            })
            .collect();
        disturb(&stats);
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(errors.is_empty(), "workers failed: {errors:#?}");
    (stats, jobs.into_iter().flatten().collect())
}

/// After a load run: every pending consumed exactly once, nothing lost,
/// nothing stored, and no plaintext in any relay's output, any row, or
/// any file of the database server.
fn check_after_load(
    relays: &[&Relay],
    jobs: &[(String, String)],
    marker: &str,
    data_dir: &std::path::Path,
) {
    let n = jobs.len() as i64;
    for (pid, _) in jobs {
        for r in relays {
            let s = r.status(pid);
            assert_eq!(s["state"], "consumed", "{pid}: {s}");
        }
    }
    let r = relays[0];
    // The load's nodes are w0, w1, ...
    assert_eq!(
        r.sql_i64("SELECT COUNT(*) FROM targets WHERE node_id LIKE 'w%'"),
        n,
        "targets"
    );
    assert_eq!(
        r.sql_i64("SELECT COUNT(*) FROM targets WHERE node_id LIKE 'w%' AND state = 'consumed'"),
        n,
        "consumed"
    );
    assert_eq!(
        r.sql_i64("SELECT COUNT(*) FROM targets WHERE envelope IS NOT NULL"),
        0,
        "envelopes left"
    );
    assert_eq!(
        r.sql_i64("SELECT COUNT(*) FROM audit WHERE event = 'envelopes_posted'"),
        n,
        "one accepted post per pending (none delivered twice)"
    );
    assert_eq!(
        r.sql_i64("SELECT COUNT(*) FROM audit WHERE event = 'consumed'"),
        n,
        "one consumption per target"
    );

    // No plaintext anywhere: relay output, every row, every server file.
    for (i, r) in relays.iter().enumerate() {
        assert!(
            !r.output().contains(marker),
            "plaintext in relay {i}'s output"
        );
    }
    let dump = dump_all_rows(r);
    assert!(
        dump.contains(&jobs[0].0),
        "the dump holds the pending ids (the search works)"
    );
    assert!(!dump.contains(marker), "plaintext in a database row");
    r.database().unwrap().sql("CHECKPOINT");
    assert!(
        !grep_dir(data_dir, &jobs[0].0).is_empty(),
        "the pending id is in the server's files (the search works)"
    );
    let found = grep_dir(data_dir, marker);
    assert!(found.is_empty(), "plaintext in server files: {found:?}");
}

/// One instance SIGKILLed in the middle of a load run: the survivors keep
/// serving, workers move on to the next instance, and every pending is
/// consumed exactly once.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn load_survives_an_instance_killed_mid_run() {
    let mut relays = Relay::start_cluster(3, &[]);
    let marker = format!("mi-kill-{}", rand_hex(6));
    const WORKERS: usize = 6;
    const PER_WORKER: usize = 12;
    let victim = relays[1].pid();
    let (stats, jobs) = load_run(&relays, WORKERS, PER_WORKER, false, &marker, |stats| {
        let end = Instant::now() + Duration::from_secs(60);
        while stats.done.load(Ordering::Relaxed) < WORKERS * PER_WORKER / 3 && Instant::now() < end
        {
            thread::sleep(Duration::from_millis(20));
        }
        let st = Command::new("kill")
            .args(["-KILL", &victim.to_string()])
            .status()
            .expect("kill(1)");
        assert!(st.success(), "kill -KILL {victim}");
        // Dead (a zombie: the harness reaps it on drop) before requests
        // count as "after the kill".
        let end = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(format!("/proc/{victim}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(true)
        {
            assert!(
                Instant::now() < end,
                "relay {victim} still alive after SIGKILL"
            );
            thread::sleep(Duration::from_millis(10));
        }
        stats.disturbed.store(true, Ordering::SeqCst);
    });
    assert!(!relays[1].is_running(), "the victim is dead");
    let wrong = stats.wrong.lock().unwrap().clone();
    assert!(wrong.is_empty(), "unexpected answers: {wrong:#?}");
    assert_eq!(stats.done.load(Ordering::Relaxed), WORKERS * PER_WORKER);
    assert!(
        stats.transport.load(Ordering::Relaxed) > 0,
        "no request met the dead instance"
    );
    assert_eq!(
        stats.served_after[1].load(Ordering::Relaxed),
        0,
        "the dead answered"
    );
    for i in [0, 2] {
        assert!(
            stats.served_after[i].load(Ordering::Relaxed) > 0,
            "survivor {i} served nothing after the kill"
        );
    }
    let data_dir = relays[0].database().unwrap().server().data_dir();
    check_after_load(&[&relays[0], &relays[2]], &jobs, &marker, &data_dir);
    assert!(!relays[1].output().contains(&marker));
    eprintln!(
        "kill run: {} pendings, {} transport failures retried",
        jobs.len(),
        stats.transport.load(Ordering::Relaxed)
    );
}

/// PostgreSQL restarted in the middle of a load run (a private server):
/// while it is down requests are 503/8506 StoreUnavailable (and no other
/// 5xx); after it is back the instances recover by themselves and the run
/// completes, nothing lost or delivered twice.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn load_survives_a_database_restart() {
    let server = pg::Server::private();
    let db = Database::create_on(&server);
    let mut relays = Relay::start_cluster_on(&db, 3, &[]);
    let pids: Vec<u32> = relays.iter().map(Relay::pid).collect();
    let marker = format!("mi-pgrestart-{}", rand_hex(6));
    const WORKERS: usize = 5;
    const PER_WORKER: usize = 10;
    // A pending outside the load (node "probe" never posts a key) to
    // probe the instances while the database is down.
    let _probe = Node::register(&relays[0], "probe");
    let probe_pid = relays[0].create_pending(&["probe"], None);
    let down_answers = Mutex::new(Vec::new());
    let (stats, jobs) = load_run(&relays, WORKERS, PER_WORKER, true, &marker, |stats| {
        let end = Instant::now() + Duration::from_secs(60);
        while stats.done.load(Ordering::Relaxed) < WORKERS * PER_WORKER / 4 && Instant::now() < end
        {
            thread::sleep(Duration::from_millis(20));
        }
        server.stop();
        stats.disturbed.store(true, Ordering::SeqCst);
        // While it is down: every instance answers 503/8506, on the
        // sender's and the admin's routes.
        let status = format!("/api/v1/pending/{probe_pid}/status");
        for r in &relays {
            let a = try_req(&r.addr, "GET", &status, &[], b"");
            let b = try_req(
                &r.addr,
                "POST",
                "/api/v1/admin/pending",
                &[
                    ("Authorization", &format!("Bearer {}", r.token)),
                    ("Content-Type", "application/json"),
                ],
                br#"{"node_ids":["w0"],"slug":"x","injection_method":"env","field_name":"X"}"#,
            );
            down_answers.lock().unwrap().push((
                a.map(|r| (r.status, code_of(&r))),
                b.map(|r| (r.status, code_of(&r))),
            ));
        }
        thread::sleep(Duration::from_millis(1500));
        server.start();
        // Back: every instance serves again by itself.
        for r in &relays {
            let end = Instant::now() + Duration::from_secs(30);
            loop {
                match try_req(&r.addr, "GET", &status, &[], b"") {
                    Ok(a) if a.status == 200 => break,
                    other => assert!(
                        Instant::now() < end,
                        "instance did not recover: {:?}",
                        other.map(|a| (a.status, a.text()))
                    ),
                }
                thread::sleep(Duration::from_millis(100));
            }
        }
    });
    for (a, b) in down_answers.into_inner().unwrap() {
        assert_eq!(a, Ok((503, 8506)), "status while the database is down");
        assert_eq!(
            b,
            Ok((503, 8506)),
            "admin create while the database is down"
        );
    }
    let wrong = stats.wrong.lock().unwrap().clone();
    assert!(
        wrong.is_empty(),
        "unexpected answers (only 503/8506 allowed): {wrong:#?}"
    );
    assert!(
        stats.unavailable.load(Ordering::Relaxed) > 0,
        "workers never saw 503/8506"
    );
    assert_eq!(
        stats.transport.load(Ordering::Relaxed),
        0,
        "an instance dropped connections"
    );
    assert_eq!(stats.done.load(Ordering::Relaxed), WORKERS * PER_WORKER);
    // Not restarted: the same processes, still running.
    for (r, pid) in relays.iter_mut().zip(&pids) {
        assert!(r.is_running());
        assert_eq!(r.pid(), *pid);
    }
    let refs: Vec<&Relay> = relays.iter().collect();
    check_after_load(&refs, &jobs, &marker, &server.data_dir());
    eprintln!(
        "database restart run: {} pendings, {} answers 503/8506 retried",
        jobs.len(),
        stats.unavailable.load(Ordering::Relaxed)
    );
}

/// Row-level security as the relay's own role over TCP: a transaction
/// that set `app.current_node_id` sees (and changes) only that node's rows
/// of nodes, node_secrets and targets; one that set nothing sees none;
/// `app.scope = 'relay'` sees all. The tables are the relay role's, with
/// row security forced on the per-node ones.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn row_level_security_as_the_relay_role() {
    let relays = Relay::start_cluster(2, &[]);
    let db = relays[0].database().unwrap();
    let n1 = Node::register(&relays[0], "n1");
    let n2 = Node::register(&relays[1], "n2");
    let pid = relays[1].create_pending(&["n1", "n2"], None);
    n1.post_pubkey(&relays[0], &pid);
    n2.post_pubkey(&relays[1], &pid);
    let items = seal_for(&relays[0], &pid, b"rls");
    assert_eq!(
        post_envelopes(&relays[1], &pid, &envelopes_body(&items)).status,
        202
    );
    assert_eq!(n1.pull(&relays[1]).len(), 1);
    assert_eq!(n1.ack(&relays[0], &pid, "consumed").status, 200);
    // A second pending for n2 alone.
    let pid2 = relays[0].create_pending(&["n2"], None);
    n2.post_pubkey(&relays[0], &pid2);

    // What one transaction sees: node ids of targets; nodes; node_secrets.
    let seen = |setting: &str| -> String {
        let sql = format!(
            "BEGIN; {setting} SELECT concat_ws(';', \
               coalesce((SELECT string_agg(node_id || '/' || pending_id, ',' ORDER BY node_id, pending_id) FROM sealpass.targets), '-'), \
               coalesce((SELECT string_agg(node_id, ',' ORDER BY node_id) FROM sealpass.nodes), '-'), \
               coalesce((SELECT string_agg(node_id || ':v' || version, ',' ORDER BY node_id) FROM sealpass.node_secrets), '-')); COMMIT;"
        );
        let out = db
            .try_relay_sql(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        out.lines().last().unwrap_or("").to_owned()
    };
    let as_node = |n: &str| format!("SELECT set_config('app.current_node_id', '{n}', true);");
    assert_eq!(
        seen(&as_node("n1")),
        format!("n1/{pid};n1;n1:v1"),
        "n1 sees only its rows"
    );
    let mut n2_targets = [format!("n2/{pid}"), format!("n2/{pid2}")];
    n2_targets.sort();
    assert_eq!(
        seen(&as_node("n2")),
        format!("{};n2;n2:v1", n2_targets.join(",")),
        "n2 sees only its rows"
    );
    assert_eq!(
        seen(&as_node("nobody")),
        "-;-;-",
        "an unknown node sees nothing"
    );
    assert_eq!(seen(""), "-;-;-", "nothing set: nothing seen");
    let mut all_targets = [
        format!("n1/{pid}"),
        format!("n2/{pid}"),
        format!("n2/{pid2}"),
    ];
    all_targets.sort();
    assert_eq!(
        seen("SELECT set_config('app.scope', 'relay', true);"),
        format!("{};n1,n2;n1:v1,n2:v1", all_targets.join(",")),
        "the relay scope sees all"
    );
    // The setting ends with its transaction (set_config(…, true)).
    let after = db
        .try_relay_sql(&format!(
            "BEGIN; {} COMMIT; SELECT count(*) FROM sealpass.targets;",
            as_node("n1")
        ))
        .unwrap();
    assert_eq!(
        after.lines().last(),
        Some("0"),
        "the setting outlived its transaction"
    );

    // Changes: as n1, n2's rows are out of reach; with nothing set, all are.
    let changed = |setting: &str, stmt: &str| -> String {
        let sql = format!(
            "BEGIN; {setting} WITH c AS ({stmt} RETURNING 1) SELECT count(*) FROM c; COMMIT;"
        );
        let out = db
            .try_relay_sql(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        out.lines().last().unwrap_or("").to_owned()
    };
    assert_eq!(
        changed(
            &as_node("n1"),
            "UPDATE sealpass.targets SET state = 'consumed' WHERE node_id = 'n2'"
        ),
        "0"
    );
    assert_eq!(
        changed(
            &as_node("n1"),
            "DELETE FROM sealpass.node_secrets WHERE node_id = 'n2'"
        ),
        "0"
    );
    assert_eq!(changed("", "DELETE FROM sealpass.targets"), "0");
    assert_eq!(changed("", "UPDATE sealpass.nodes SET last_seen = 0"), "0");
    let err = db
        .try_relay_sql(&format!(
            "BEGIN; {} INSERT INTO sealpass.nodes (node_id, created_at) VALUES ('n2x', 0); COMMIT;",
            as_node("n1")
        ))
        .expect_err("n1 may not write another node's row");
    assert!(err.contains("row-level security"), "{err}");
    // Untouched, as the superuser sees it.
    assert_eq!(
        relays[0].sql(&format!(
            "SELECT state FROM targets WHERE pending_id = '{pid}' ORDER BY node_id"
        )),
        "consumed\nciphertext_received"
    );
    assert_eq!(relays[0].sql_i64("SELECT COUNT(*) FROM node_secrets"), 2);
    assert_eq!(
        relays[0].sql_i64("SELECT COUNT(*) FROM nodes WHERE node_id = 'n2x'"),
        0
    );
    // The relay still serves both nodes.
    assert_eq!(n2.pull(&relays[0]).len(), 1);

    // Owners and row security of the relay's tables.
    let role = db.server().relay_user().to_owned();
    let rows = relays[0].sql(
        "SELECT c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity, c.relforcerowsecurity \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'sealpass' AND c.relkind IN ('r', 'p') ORDER BY 1",
    );
    let mut names = BTreeSet::new();
    for line in rows.lines() {
        let f: Vec<&str> = line.split('|').collect();
        assert_eq!(f.len(), 4, "{line}");
        names.insert(f[0].to_owned());
        assert_eq!(f[1], role, "owner of {}", f[0]);
        if ["nodes", "node_secrets", "targets"].contains(&f[0]) {
            assert_eq!((f[2], f[3]), ("t", "t"), "row security of {}", f[0]);
        }
    }
    for t in [
        "nodes",
        "node_secrets",
        "pendings",
        "targets",
        "post_failures",
        "lockouts",
        "replay",
        "audit",
        "auth_failures",
        "shared_secrets",
        "schema_migrations",
    ] {
        assert!(names.contains(t), "table {t} missing: {names:?}");
    }
    assert_eq!(
        relays[0].sql("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'sealpass'"),
        role
    );
}

/// `sealpass-relay` on `db`, started by hand (a test that expects it to
/// refuse to start): the process, to wait for its exit.
fn spawn_relay_on(db: &Database, dir: &std::path::Path) -> Proc {
    let mut cmd = Command::new(bins::relay());
    cmd.env("SEALPASS_RELAY_STORE", db.relay_url())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--dev-insecure-kek",
            "--data-dir",
        ])
        .arg(dir)
        .env_remove("SEALPASS_KEK")
        .env_remove("SEALPASS_KEK_FILE")
        .env_remove("SEALPASS_KEK_PREVIOUS")
        .env_remove("SEALPASS_KEK_PREVIOUS_FILE")
        .env_remove("SEALPASS_ADMIN_TOKEN")
        .env_remove("SEALPASS_RELAY_DATA_DIR");
    Proc::spawn(cmd)
}

/// Migrations: two instances started at the same moment on a fresh
/// database both come up and the schema is migrated once (one row per
/// version, one instance says it migrated); a database whose schema is
/// newer than the binary is refused at start with 8508 FormatUnsupported.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn migrations_run_once_and_a_newer_schema_is_refused() {
    let db = Database::create();
    let gate = Barrier::new(2);
    // The migration's advisory lock (schema.rs, "sealpass" in ASCII) held
    // from outside for a few seconds: both instances must be seen waiting
    // for it, so they truly start together and the lock is what orders them.
    const MIGRATION_LOCK: i64 = 0x7365_616c_7061_7373;
    let waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    let mut saw_both_waiting = false;
    let relays: Vec<Relay> = thread::scope(|s| {
        let db_ref = &db;
        let holder = s.spawn(move || {
            db_ref.sql(&format!(
                "SELECT pg_advisory_lock({MIGRATION_LOCK}); SELECT pg_sleep(4); \
                 SELECT pg_advisory_unlock({MIGRATION_LOCK})"
            ))
        });
        // The holder has the lock before the instances start.
        let t0 = std::time::Instant::now();
        while db.sql(&format!(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND objid = ({MIGRATION_LOCK} & 4294967295)::oid"
        )) != "1"
        {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "the lock holder never got it"
            );
            thread::sleep(Duration::from_millis(20));
        }
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let (gate, db) = (&gate, &db);
                s.spawn(move || {
                    gate.wait();
                    Relay::start_on(db, &[])
                })
            })
            .collect();
        let t0 = std::time::Instant::now();
        while t0.elapsed() < Duration::from_secs(3) {
            if db.sql(waiting) == "2" {
                saw_both_waiting = true;
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        holder.join().unwrap();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        saw_both_waiting,
        "the two instances were never seen waiting for the migration lock together"
    );
    let migrated: Vec<usize> = relays
        .iter()
        .map(|r| {
            r.output()
                .matches("database schema migrated to version")
                .count()
        })
        .collect();
    let versions = db.sql("SELECT version, count(*) FROM sealpass.schema_migrations GROUP BY version ORDER BY version");
    let rows: Vec<&str> = versions.lines().collect();
    assert!(!rows.is_empty(), "no schema_migrations rows");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            *row,
            format!("{}|1", i + 1),
            "one row per version, 1..: {versions}"
        );
    }
    assert_eq!(
        migrated.iter().sum::<usize>(),
        rows.len(),
        "the migrations ran once in all: {migrated:?}"
    );
    assert!(
        migrated.contains(&0),
        "one of them found nothing to do: {migrated:?}"
    );
    assert_eq!(relays[0].token, relays[1].token, "one shared admin token");
    assert_eq!(db.sql("SELECT count(*) FROM sealpass.shared_secrets"), "1");
    // Both serve.
    let n = Node::register(&relays[0], "n1");
    n.heartbeat(&relays[1]);
    let pid = relays[1].create_pending(&["n1"], None);
    n.post_pubkey(&relays[0], &pid);
    assert_eq!(relays[1].status(&pid)["state"], "pubkey_posted");

    // A schema from the future: a new instance refuses to start.
    db.sql("INSERT INTO sealpass.schema_migrations (version, applied_at, description) VALUES (999, 0, 'from a newer sealpass-relay')");
    let tmp = tempfile::tempdir().unwrap();
    let mut p = spawn_relay_on(&db, &tmp.path().join("relay"));
    let st = p.wait_exit(Duration::from_secs(30));
    let out = p.out.all();
    assert!(!st.success(), "started on a newer schema: {out}");
    assert!(!out.contains("listening on"), "{out}");
    for want in ["8508", "FormatUnsupported", "newer", "999"] {
        assert!(out.contains(want), "stderr names {want}: {out}");
    }
    assert!(
        !out.contains(db.server().relay_password()),
        "the store URL's password in the output"
    );
    // Nothing was changed by the refused instance.
    assert_eq!(
        db.sql("SELECT string_agg(version::text, ',' ORDER BY version) FROM sealpass.schema_migrations"),
        format!(
            "{},999",
            (1..=rows.len()).map(|v| v.to_string()).collect::<Vec<_>>().join(",")
        )
    );
}
