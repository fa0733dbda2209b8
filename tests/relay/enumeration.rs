//! Registered node ids and key versions cannot be enumerated: an unknown
//! caller, an unknown key version, a version retired by rotation and a
//! wrong MAC for a registered node all get the same answer (status, code,
//! body), on a route with a body and on one without.

use sealpass_native::signing::sign_request;
use sealpass_tests::proc::eventually;
use sealpass_tests::relay::*;
use sealpass_tests::signed::*;
use std::time::Duration;

/// Send a request signed with `secret` as (caller, version).
fn send_as(
    relay: &Relay,
    secret: &[u8],
    caller: &str,
    version: u32,
    (method, path, body): (&str, &str, &[u8]),
    ts: i64,
) -> Resp {
    let h = sign_request(secret, caller, version, method, path, body, ts);
    let mut headers: Vec<(&str, &str)> = h.iter().map(|(n, v)| (*n, v.as_str())).collect();
    if !body.is_empty() {
        headers.push(("Content-Type", "application/json"));
    }
    relay.req(method, path, &headers, body)
}

#[test]
fn unknown_callers_and_versions_answer_like_a_wrong_mac() {
    let relay = Relay::start();
    let n1 = Node::register(&relay, "n1");
    // Rotate twice: v1 is retired at once by the second rotation, v2 is in
    // its grace, v3 is current.
    for _ in 0..2 {
        relay
            .admin("POST", "/api/v1/admin/nodes/n1/rotate-secret", "")
            .json();
    }
    let pid = "AAAAAAAAAAAAAAAAAAAAAA";
    let pubkey_path = format!("/api/v1/node/pending/{pid}/pubkey");
    let routes: [(&str, &str, &[u8]); 3] = [
        ("POST", "/api/v1/node/heartbeat", b"{}"),
        ("GET", "/api/v1/node/envelopes", b""),
        ("PUT", &pubkey_path, br#"{"public_key":"x"}"#),
    ];
    let wrong = [7u8; 32];
    let t = now();
    for (i, route) in routes.into_iter().enumerate() {
        let ts = t - i64::try_from(i).unwrap();
        let answers = [
            ("wrong MAC", send_as(&relay, &wrong, "n1", 3, route, ts)),
            (
                "unknown caller",
                send_as(&relay, &wrong, "ghost", 1, route, ts),
            ),
            (
                "unknown version",
                send_as(&relay, &wrong, "n1", 9, route, ts),
            ),
            // The real v1 secret, retired: still only "does not verify".
            (
                "retired version",
                send_as(&relay, &n1.secret, "n1", 1, route, ts),
            ),
        ];
        let (_, first) = &answers[0];
        first.expect(401, 8702);
        for (what, r) in &answers {
            assert_eq!(
                (r.status, &r.body),
                (first.status, &first.body),
                "{} {}: {what} answered differently: {}",
                route.0,
                route.1,
                r.text()
            );
            let ct = |r: &Resp| r.header("content-type").map(str::to_owned);
            assert_eq!(ct(r), ct(first), "{what}");
        }
    }
}

/// Rows in the relay's keystore audit trail (every keystore read of a
/// sealed node secret writes one). SQLite only: on PostgreSQL the secrets
/// are sealed in the database, there is no keystore file.
fn keystore_audit_rows(relay: &Relay) -> i64 {
    rusqlite::Connection::open_with_flags(
        relay.data_dir.join("keystore.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
    .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
    .unwrap()
}

/// What the probes may leave behind (either store): the relay's audit
/// events (`id|event|actor`) and the counted node-auth failures per actor
/// (`actor|count`).
fn traces(relay: &Relay) -> (String, String) {
    (
        relay.sql("SELECT id, event, actor FROM audit ORDER BY id"),
        relay.sql(
            "SELECT actor, SUM(count) FROM auth_failures WHERE event = 'node_auth_failed' \
             GROUP BY actor ORDER BY actor",
        ),
    )
}

/// The request path never reads the keystore: every valid secret is opened
/// at start, so after a restart an unauthenticated probe for a registered
/// node nobody has used yet does the same work as one for an unknown id —
/// no keystore read, no keystore audit row (the timing oracle of a cache
/// miss, and a write per probe, are gone). SQLite checks the keystore.db
/// audit; PostgreSQL has no keystore file (secrets sealed in the database,
/// opened on a cache miss), so there, as on SQLite, the probes for the
/// registered and the unknown id get identical answers and write no audit
/// event, only counted failures with a bounded actor (the registered id,
/// or "unknown" for an id that is not one).
#[test]
fn probes_for_idle_registered_nodes_never_touch_the_keystore() {
    let relay = Relay::start();
    let n1 = Node::register(&relay, "n1");
    let n2 = Node::register(&relay, "n2");
    let relay = relay.restart();
    let sqlite = relay.store_kind() == "sqlite";
    let before = sqlite.then(|| keystore_audit_rows(&relay));
    let (events, failures) = traces(&relay);
    assert_eq!(failures, "", "no failure counted yet");
    let hb: (&str, &str, &[u8]) = ("POST", "/api/v1/node/heartbeat", b"{}");
    let wrong = [7u8; 32];
    let t = now();
    const PROBES: i64 = 5;
    for i in 0..PROBES {
        let known = send_as(&relay, &wrong, "n1", 1, hb, t - i);
        let ghost = send_as(&relay, &wrong, "ghost", 1, hb, t - i);
        known.expect(401, 8702);
        let ct = |r: &Resp| r.header("content-type").map(str::to_owned);
        assert_eq!(
            (known.status, &known.body, ct(&known)),
            (ghost.status, &ghost.body, ct(&ghost)),
            "a registered and an unknown id answered differently: {} / {}",
            known.text(),
            ghost.text()
        );
    }
    if let Some(before) = before {
        assert_eq!(
            keystore_audit_rows(&relay),
            before,
            "an unauthenticated probe read the keystore"
        );
    }
    let (events_after, failures_after) = traces(&relay);
    assert_eq!(events_after, events, "a probe wrote an audit event");
    assert_eq!(
        failures_after,
        format!("n1|{PROBES}\nunknown|{PROBES}"),
        "probes counted, actors bounded (no \"ghost\")"
    );
    // The nodes themselves authenticate (SQLite: from the cache filled at
    // start).
    n1.heartbeat(&relay);
    n2.heartbeat(&relay);
    if let Some(before) = before {
        assert_eq!(keystore_audit_rows(&relay), before);
    }
    assert_eq!(traces(&relay), (events, failures_after));
}

/// A node added (or rotated) by the ops CLI beside the running relay is
/// picked up by the next sweep; until then its secret verifies like an
/// unknown one (8702), never by a keystore read on the request path.
#[test]
fn a_node_added_by_the_ops_cli_works_after_a_sweep() {
    let relay = Relay::start_with(&["--sweep-interval-secs", "1"]);
    let ops = |args: &[&str]| -> Node {
        let v = relay.ops(args);
        Node {
            id: v["node_id"].as_str().unwrap().to_owned(),
            secret: sealpass::b64::decode(v["secret"].as_str().unwrap()).unwrap(),
            version: u32::try_from(v["key_version"].as_u64().unwrap()).unwrap(),
        }
    };
    let works = |n: &Node| {
        let r = n.call(&relay, "POST", "/api/v1/node/heartbeat", b"{}");
        match r.status {
            200 => true,
            _ => {
                r.expect(401, 8702);
                false
            }
        }
    };
    let cli = ops(&["add", "clinode"]);
    eventually(Duration::from_secs(30), "CLI-added node accepted", || {
        works(&cli)
    });
    let rotated = ops(&["rotate-secret", "clinode"]);
    assert_eq!(rotated.version, 2);
    eventually(
        Duration::from_secs(30),
        "CLI-rotated secret accepted",
        || works(&rotated),
    );
    // The previous version is still in its grace.
    assert!(works(&cli));
}
