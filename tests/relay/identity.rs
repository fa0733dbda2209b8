//! The node identity key on the relay (docs/PINNING.md §1): stored with the
//! one-time key, shown in both pending views with its identity fingerprint,
//! never swapped by a re-post, checked like a public key; databases made
//! before it are migrated on start.

use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

fn put_pubkey(n: &Node, relay: &Relay, pid: &str, body: &str) -> Resp {
    n.call(
        relay,
        "PUT",
        &format!("/api/v1/node/pending/{pid}/pubkey"),
        body.as_bytes(),
    )
}

fn key() -> String {
    sealpass::SecretKey::generate()
        .unwrap()
        .public_key()
        .to_b64u()
}

fn setup() -> (Relay, Node, String) {
    let relay = Relay::start();
    let n = Node::register(&relay, "n1");
    n.heartbeat(&relay);
    let pid = relay.create_pending(&["n1"], None);
    (relay, n, pid)
}

fn target_of(v: &serde_json::Value) -> serde_json::Value {
    v["targets"][0].clone()
}

#[test]
fn posted_identity_shows_in_both_views_with_its_fingerprint() {
    let (relay, n, pid) = setup();
    let nik_sk = sealpass::SecretKey::generate().unwrap();
    let nik = nik_sk.public_key();
    let pk = key();
    let body = format!(
        r#"{{"public_key":"{pk}","identity_key":"{}"}}"#,
        nik.to_b64u()
    );
    let r = put_pubkey(&n, &relay, &pid, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    // The same pair again is idempotent.
    let r = put_pubkey(&n, &relay, &pid, &body);
    assert_eq!(r.status, 200, "{}", r.text());

    let public = relay.req("GET", &format!("/api/v1/pending/{pid}"), &[], b"");
    assert_eq!(public.status, 200, "{}", public.text());
    let admin = relay.admin("GET", &format!("/api/v1/admin/pending/{pid}"), "");
    assert_eq!(admin.status, 200, "{}", admin.text());
    for r in [&public, &admin] {
        let t = target_of(&r.json());
        assert_eq!(t["public_key"], pk.as_str());
        assert_eq!(t["identity_key"], nik.to_b64u().as_str());
        assert_eq!(
            t["identity_fingerprint"],
            nik.identity_fingerprint().as_str()
        );
        // The identity fingerprint is its own hash, not the key fingerprint.
        assert_ne!(
            t["identity_fingerprint"].as_str(),
            Some(nik.fingerprint().as_str())
        );
        // Field order of PINNING.md §1: after "fingerprint", before "context".
        let text = r.text();
        let at = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
        assert!(at("fingerprint") < at("identity_key"), "{text}");
        assert!(at("identity_key") < at("identity_fingerprint"), "{text}");
        assert!(at("identity_fingerprint") < at("context"), "{text}");
    }
    // A v2 envelope sealed to that identity is accepted as usual.
    let t = target_of(&public.json());
    let ctx = sealpass::Context::from_json(&serde_json::to_vec(&t["context"]).unwrap()).unwrap();
    let otk = sealpass::PublicKey::from_b64u(&pk).unwrap();
    let env = sealpass::seal_v2(&otk, &nik, b"pw", &ctx).unwrap();
    let r = post_envelopes(
        &relay,
        &pid,
        &envelopes_body(&[("n1".to_owned(), env.to_json())]),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let pulled = n.pull(&relay);
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0]["envelope"]["v"], 2);
}

#[test]
fn a_node_without_identity_has_no_identity_fields() {
    let (relay, n, pid) = setup();
    let r = put_pubkey(
        &n,
        &relay,
        &pid,
        &format!(r#"{{"public_key":"{}"}}"#, key()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = relay.req("GET", &format!("/api/v1/pending/{pid}"), &[], b"");
    let t = target_of(&r.json());
    assert!(t.get("identity_key").is_none(), "{t}");
    assert!(t.get("identity_fingerprint").is_none(), "{t}");
}

#[test]
fn a_repost_cannot_change_the_identity() {
    let (relay, n, pid) = setup();
    let (pk, nik1, nik2) = (key(), key(), key());
    let r = put_pubkey(
        &n,
        &relay,
        &pid,
        &format!(r#"{{"public_key":"{pk}","identity_key":"{nik1}"}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for body in [
        // Same one-time key, another identity.
        format!(r#"{{"public_key":"{pk}","identity_key":"{nik2}"}}"#),
        // Same one-time key, identity dropped.
        format!(r#"{{"public_key":"{pk}"}}"#),
        // Another one-time key with the same identity.
        format!(r#"{{"public_key":"{}","identity_key":"{nik1}"}}"#, key()),
    ] {
        put_pubkey(&n, &relay, &pid, &body).expect(409, 8608);
    }
    let r = relay.req("GET", &format!("/api/v1/pending/{pid}"), &[], b"");
    let t = target_of(&r.json());
    assert_eq!(t["identity_key"], nik1.as_str(), "the first identity stays");
    assert_eq!(t["public_key"], pk.as_str());

    // A key posted without identity cannot gain one afterwards either.
    let pid2 = relay.create_pending(&["n1"], None);
    let pk2 = key();
    let r = put_pubkey(&n, &relay, &pid2, &format!(r#"{{"public_key":"{pk2}"}}"#));
    assert_eq!(r.status, 200, "{}", r.text());
    put_pubkey(
        &n,
        &relay,
        &pid2,
        &format!(r#"{{"public_key":"{pk2}","identity_key":"{nik1}"}}"#),
    )
    .expect(409, 8608);
}

#[test]
fn malformed_identity_is_refused_and_nothing_is_stored() {
    let (relay, n, pid) = setup();
    let pk = key();
    let short = sealpass::b64::encode(&[7u8; 31]);
    let long = sealpass::b64::encode(&[7u8; 33]);
    let padded = format!("{}=", key());
    let std_alphabet = key().replace(['-', '_'], "+");
    let mut cases: Vec<(String, u64)> = vec![
        (format!(r#""{short}""#), 8301),
        (format!(r#""{long}""#), 8301),
        (format!(r#""{padded}""#), 8301),
        (r#""""#.to_owned(), 8301),
        (r#""not base64 at all!""#.to_owned(), 8301),
        // Wrong JSON types are a body-shape error.
        ("7".to_owned(), 8601),
        (format!(r#"["{pk}"]"#), 8601),
    ];
    if std_alphabet.contains('+') {
        cases.push((format!(r#""{std_alphabet}""#), 8301));
    }
    for (identity, code) in cases {
        let body = format!(r#"{{"public_key":"{pk}","identity_key":{identity}}}"#);
        let r = put_pubkey(&n, &relay, &pid, &body);
        r.expect(400, code);
    }
    // Still awaiting its key: nothing was stored.
    let (state, _) = relay.target_state(&pid, "n1");
    assert_eq!(state, "awaiting_pubkey");
    let stored: Option<String> = db(&relay)
        .query_row(
            "SELECT identity_key FROM targets WHERE pending_id = ?1",
            [&pid],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, None);
}

/// The `targets` table as relays before envelope v2 made it.
const OLD_TARGETS: &str = "CREATE TABLE targets (
    pending_id TEXT NOT NULL,
    node_id    TEXT NOT NULL,
    state      TEXT NOT NULL,
    public_key TEXT,
    envelope   TEXT,
    last_code  INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (pending_id, node_id)
);
CREATE INDEX targets_by_node ON targets (node_id, state);";

fn has_identity_column(c: &rusqlite::Connection) -> bool {
    c.query_row(
        "SELECT COUNT(*) FROM pragma_table_info('targets') WHERE name = 'identity_key'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        > 0
}

#[test]
fn an_old_database_is_migrated_on_start() {
    let (relay, n, pid) = setup();
    let pk = key();
    let r = put_pubkey(&n, &relay, &pid, &format!(r#"{{"public_key":"{pk}"}}"#));
    assert_eq!(r.status, 200, "{}", r.text());
    let pid2 = relay.create_pending(&["n1"], None);
    // Rewrite the database to the old schema (its rows kept), as an older
    // relay left it.
    let relay = relay.restart_with(|dir| {
        let c = rusqlite::Connection::open(dir.join("relay.db")).unwrap();
        c.execute_batch(&format!(
            "BEGIN;
             ALTER TABLE targets RENAME TO targets_v2;
             DROP INDEX targets_by_node;
             {OLD_TARGETS}
             INSERT INTO targets SELECT pending_id, node_id, state, public_key, envelope,
                 last_code, updated_at FROM targets_v2;
             DROP TABLE targets_v2;
             COMMIT;"
        ))
        .unwrap();
        assert!(
            !has_identity_column(&c),
            "the old schema has no identity column"
        );
    });
    assert!(has_identity_column(&db(&relay)), "not migrated");
    // The old row reads back without identity.
    let r = relay.req("GET", &format!("/api/v1/pending/{pid}"), &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let t = target_of(&r.json());
    assert_eq!(t["public_key"], pk.as_str());
    assert!(t.get("identity_key").is_none(), "{t}");
    // New posts store identities.
    let nik = sealpass::SecretKey::generate().unwrap().public_key();
    let r = put_pubkey(
        &n,
        &relay,
        &pid2,
        &format!(
            r#"{{"public_key":"{}","identity_key":"{}"}}"#,
            key(),
            nik.to_b64u()
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = relay.admin("GET", &format!("/api/v1/admin/pending/{pid2}"), "");
    assert_eq!(
        target_of(&r.json())["identity_fingerprint"],
        nik.identity_fingerprint().as_str()
    );
    // A second start on the migrated database is a no-op.
    let relay = relay.restart();
    assert!(has_identity_column(&db(&relay)));
    let r = relay.req("GET", &format!("/api/v1/pending/{pid2}"), &[], b"");
    assert_eq!(target_of(&r.json())["identity_key"], nik.to_b64u().as_str());
}
