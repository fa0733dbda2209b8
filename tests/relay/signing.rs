//! Request signing against the real relay: bad signatures, stale and future
//! timestamps, replays (also across a restart), body/path tampering, header
//! smuggling, rotation grace and bounded counting of failures.

use sealpass_native::signing::sign_request;
use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

const PATH: &str = "/api/v1/node/heartbeat";

fn signed(node: &Node, method: &str, path: &str, body: &[u8], ts: i64) -> Vec<(String, String)> {
    sign_request(&node.secret, &node.id, node.version, method, path, body, ts)
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect()
}

fn send(relay: &Relay, method: &str, path: &str, h: &[(String, String)], body: &[u8]) -> Resp {
    let mut headers: Vec<(&str, &str)> = h.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    if !body.is_empty() {
        headers.push(("Content-Type", "application/json"));
    }
    relay.req(method, path, &headers, body)
}

/// Node-auth failure counters: (event, actor, code, count) per bucket.
fn failure_rows(relay: &Relay) -> Vec<(String, String, Option<i64>, i64)> {
    relay
        .sql("SELECT event, actor, code, count FROM auth_failures WHERE event = 'node_auth_failed'")
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('|').collect();
            assert_eq!(c.len(), 4, "auth_failures row {l:?}");
            let code = (!c[2].is_empty()).then(|| c[2].parse().expect("code"));
            (
                c[0].to_owned(),
                c[1].to_owned(),
                code,
                c[3].parse().expect("count"),
            )
        })
        .collect()
}

#[test]
fn signature_failures_are_401_with_their_code() {
    let relay = Relay::start();
    let n = Node::register(&relay, "n1");
    let t = now();

    // Good request works once; the exact same bytes again are a replay.
    let h = signed(&n, "POST", PATH, b"{}", t);
    assert_eq!(send(&relay, "POST", PATH, &h, b"{}").status, 200);
    send(&relay, "POST", PATH, &h, b"{}").expect(401, 8704);

    // Stale and future timestamps (±300 s is the window).
    let h = signed(&n, "POST", PATH, b"{}", t - 301 - 2);
    send(&relay, "POST", PATH, &h, b"{}").expect(401, 8703);
    let h = signed(&n, "POST", PATH, b"{}", t + 400);
    send(&relay, "POST", PATH, &h, b"{}").expect(401, 8703);
    let h = signed(&n, "POST", PATH, b"{}", t - 250);
    assert_eq!(
        send(&relay, "POST", PATH, &h, b"{}").status,
        200,
        "inside the window"
    );

    // Body tampering: signed {} but sent { }.
    let h = signed(&n, "POST", PATH, b"{}", t - 1);
    send(&relay, "POST", PATH, &h, b"{ }").expect(401, 8702);
    // Path/query tampering.
    let h = signed(&n, "GET", "/api/v1/node/envelopes", b"", t - 2);
    send(&relay, "GET", "/api/v1/node/envelopes?x=1", &h, b"").expect(401, 8702);
    let h = signed(&n, "GET", "/api/v1/node/envelopes?x=1", b"", t - 2);
    assert_eq!(
        send(&relay, "GET", "/api/v1/node/envelopes?x=1", &h, b"").status,
        200,
        "query is signed as sent"
    );
    // Method tampering.
    let h = signed(&n, "GET", "/api/v1/node/pending", b"", t - 3);
    send(&relay, "POST", "/api/v1/node/pending", &h, b"").expect_status_any(&[401, 405]);

    // Wrong secret; unknown caller; unknown key version: all three are
    // 8702, so registered ids and versions cannot be told apart.
    let wrong = Node {
        secret: vec![1; 32],
        ..n.clone()
    };
    send(
        &relay,
        "POST",
        PATH,
        &signed(&wrong, "POST", PATH, b"{}", t),
        b"{}",
    )
    .expect(401, 8702);
    let ghost = Node {
        id: "ghost".into(),
        ..n.clone()
    };
    send(
        &relay,
        "POST",
        PATH,
        &signed(&ghost, "POST", PATH, b"{}", t),
        b"{}",
    )
    .expect(401, 8702);
    let v9 = Node {
        version: 9,
        ..n.clone()
    };
    send(
        &relay,
        "POST",
        PATH,
        &signed(&v9, "POST", PATH, b"{}", t),
        b"{}",
    )
    .expect(401, 8702);

    // Garbled signature value, missing header.
    let mut h = signed(&n, "POST", PATH, b"{}", t - 4);
    h[3].1 = "not-base64!".into();
    send(&relay, "POST", PATH, &h, b"{}").expect(401, 8701);
    let h = signed(&n, "POST", PATH, b"{}", t - 5);
    send(&relay, "POST", PATH, &h[..3], b"{}").expect(401, 8701);
    // No signature at all on a node route.
    relay
        .req("POST", PATH, &[("Content-Type", "application/json")], b"{}")
        .expect(401, 8701);

    // Failures counted (not audit events), caller ids bounded to
    // registered nodes.
    let rows = failure_rows(&relay);
    assert!(rows.iter().map(|r| r.3).sum::<i64>() >= 10, "{rows:?}");
    for (_, actor, _, _) in &rows {
        assert!(
            actor == "n1" || actor == "unknown",
            "unbounded actor {actor}"
        );
    }
    assert!(
        rows.iter()
            .any(|(_, a, c, _)| a == "unknown" && *c == Some(8702)),
        "ghost counted as unknown"
    );
    assert!(rows
        .iter()
        .any(|(_, a, c, _)| a == "n1" && *c == Some(8704)));
    // Nothing secret in the audit or failure tables.
    let dump = relay.sql(
        "SELECT event, actor, route FROM audit
         UNION ALL SELECT event, actor, route FROM auth_failures",
    );
    assert!(dump.contains("node_auth_failed"), "{dump}");
    assert!(!dump.contains(&h[3].1));
}

trait AnyStatus {
    fn expect_status_any(&self, allowed: &[u16]);
}
impl AnyStatus for Resp {
    fn expect_status_any(&self, allowed: &[u16]) {
        assert!(
            allowed.contains(&self.status),
            "status {} body {}",
            self.status,
            self.text()
        );
    }
}

#[test]
fn header_smuggling_is_refused() {
    let relay = Relay::start();
    let n = Node::register(&relay, "n1");
    let t = now();
    // Duplicate signing header (two callers).
    let mut h = signed(&n, "POST", PATH, b"{}", t);
    h.push(("X-Sealpass-Caller".into(), "other".into()));
    send(&relay, "POST", PATH, &h, b"{}").expect(401, 8701);
    // Duplicate with the same value, different case.
    let mut h = signed(&n, "POST", PATH, b"{}", t - 1);
    h.push(("x-sealpass-timestamp".into(), h[1].1.clone()));
    send(&relay, "POST", PATH, &h, b"{}").expect(401, 8701);
    // Unknown X-Sealpass- header.
    let mut h = signed(&n, "POST", PATH, b"{}", t - 2);
    h.push(("X-Sealpass-Debug".into(), "1".into()));
    send(&relay, "POST", PATH, &h, b"{}").expect(401, 8701);
    // Bearer + signature on a node route: no mixing.
    let mut h = signed(&n, "POST", PATH, b"{}", t - 3);
    h.push(("Authorization".into(), format!("Bearer {}", relay.token)));
    send(&relay, "POST", PATH, &h, b"{}").expect(401, 8701);
    // Signature headers on an admin route commit to HMAC: even a valid
    // bearer does not get through.
    let body = br#"{"node_id":"sneaky"}"#;
    let mut h = signed(&n, "POST", "/api/v1/admin/nodes", body, t);
    h.push(("Authorization".into(), format!("Bearer {}", relay.token)));
    send(&relay, "POST", "/api/v1/admin/nodes", &h, body).expect(401, 8701);
    // Any X-Sealpass- header (even a junk one) on the sealing side too.
    relay
        .req(
            "GET",
            "/api/v1/pending/AAAAAAAAAAAAAAAAAAAAAA/status",
            &[("X-Sealpass-Anything", "1")],
            b"",
        )
        .expect(401, 8701);
    // Nothing was created.
    let r = relay.admin("POST", "/api/v1/admin/nodes/sneaky/rotate-secret", "");
    r.expect(404, 8602);
    // A valid request after all that still works.
    n.heartbeat(&relay);
}

#[test]
fn rotation_grace_and_replay_survive_restart() {
    // Short sweeps: a secret the ops CLI issues is served from the next one.
    let relay = Relay::start_with(&["--sweep-interval-secs", "1"]);
    let n1 = Node::register(&relay, "n1");
    let t = now();
    let replayable = signed(&n1, "POST", PATH, b"{}", t - 10);
    assert_eq!(send(&relay, "POST", PATH, &replayable, b"{}").status, 200);

    // Rotate: v2 works, v1 still works (24 h grace).
    let r = relay.admin("POST", "/api/v1/admin/nodes/n1/rotate-secret", "");
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["key_version"], 2);
    let n2 = Node {
        secret: sealpass::b64::decode(v["secret"].as_str().unwrap()).unwrap(),
        version: 2,
        ..n1.clone()
    };
    assert_ne!(n2.secret, n1.secret);
    n2.heartbeat(&relay);
    n1.heartbeat(&relay);
    // v2's secret under the v1 label fails.
    let mixed = Node {
        version: 1,
        ..n2.clone()
    };
    send(
        &relay,
        "POST",
        PATH,
        &signed(&mixed, "POST", PATH, b"{}", t - 7),
        b"{}",
    )
    .expect(401, 8702);

    // Restart: the replay cache and secrets persist (sealed in the keystore).
    let relay = relay.restart();
    send(&relay, "POST", PATH, &replayable, b"{}").expect(401, 8704);
    n2.heartbeat(&relay);

    // A second rotation (via the ops CLI, while the relay runs) ends v1 at once; v2 keeps its grace.
    let v = relay.ops(&["rotate-secret", "n1"]);
    assert_eq!(v["key_version"], 3);
    let n3 = Node {
        secret: sealpass::b64::decode(v["secret"].as_str().unwrap()).unwrap(),
        version: 3,
        ..n1.clone()
    };
    // v1 ends at once (validity is read from the database on every
    // request); v3 is served from the relay's next sweep on.
    n1.call(&relay, "POST", PATH, b"{}").expect(401, 8702);
    sealpass_tests::proc::eventually(
        std::time::Duration::from_secs(30),
        "the CLI-rotated v3 is served",
        || n3.call(&relay, "POST", PATH, b"{}").status == 200,
    );
    n2.heartbeat(&relay);
    n1.call(&relay, "POST", PATH, b"{}").expect(401, 8702);

    // The secrets are sealed: the raw bytes are not in any file of the data dir.
    for entry in std::fs::read_dir(&relay.data_dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for s in [&n1.secret, &n2.secret, &n3.secret] {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_slice()),
                "plain secret at rest"
            );
            let b64 = sealpass::b64::encode(s);
            assert!(
                !bytes.windows(b64.len()).any(|w| w == b64.as_bytes()),
                "b64 secret at rest"
            );
        }
    }
    // PostgreSQL: nor in the database (each sealed under the KEK).
    if relay.store_kind() == "postgres" {
        let dump = relay.sql(
            "SELECT node_id, version, encode(sealed, 'hex') FROM node_secrets \
             UNION ALL SELECT name, 0, encode(sealed, 'hex') FROM shared_secrets",
        );
        assert!(dump.contains("n1|3|"), "{dump}");
        for s in [&n1.secret, &n2.secret, &n3.secret] {
            assert!(
                !dump.contains(&hex::encode(s)),
                "plain secret in the database"
            );
        }
    }
}

#[test]
fn ops_cli_node_add_matches_admin_api() {
    // Short sweeps: a node the ops CLI adds is served from the next one.
    let relay = Relay::start_with(&["--sweep-interval-secs", "1"]);
    let out = relay.ops_command(&["add", "opsnode"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["node_id"].as_str(), v["key_version"].as_u64()),
        (Some("opsnode"), Some(1))
    );
    let n = Node {
        id: "opsnode".into(),
        secret: sealpass::b64::decode(v["secret"].as_str().unwrap()).unwrap(),
        version: 1,
    };
    sealpass_tests::proc::eventually(
        std::time::Duration::from_secs(30),
        "the CLI-added node is served",
        || {
            n.call(&relay, "POST", "/api/v1/node/heartbeat", b"{}")
                .status
                == 200
        },
    );
    // Adding it again fails with a code; the API says the same.
    let out = relay.ops_command(&["add", "opsnode"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("8604"));
    relay
        .admin("POST", "/api/v1/admin/nodes", r#"{"node_id":"opsnode"}"#)
        .expect(409, 8604);
    // State files are private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["relay.db", "relay.db-wal", "keystore.db", "admin.token"] {
            let p = relay.data_dir.join(f);
            if p.exists() {
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{f} has mode {mode:o}");
            }
        }
        let mode = std::fs::metadata(&relay.data_dir)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        // Both stores create the data dir 0700 (PostgreSQL: admin_token.rs
        // when it writes the shared token; SQLite: its database file's
        // directory). Neither tightens a directory that already exists.
        assert_eq!(
            mode & 0o077,
            0,
            "data dir is {mode:o} (store {})",
            relay.store_kind()
        );
    }
    // On PostgreSQL the ops CLI, given the store, made no SQLite files.
    if relay.store_kind() == "postgres" {
        for f in ["relay.db", "keystore.db"] {
            assert!(!relay.data_dir.join(f).exists(), "{f} on PostgreSQL");
        }
    }
}
