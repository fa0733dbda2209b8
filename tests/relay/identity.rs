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
    assert_eq!(
        relay.sql_i64(&format!(
            "SELECT COUNT(*) FROM targets WHERE pending_id = '{pid}' AND identity_key IS NULL"
        )),
        1,
        "an identity key was stored"
    );
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

const SQLITE_IDENTITY_COLUMN: &str =
    "SELECT COUNT(*) FROM pragma_table_info('targets') WHERE name = 'identity_key'";

/// An SQLite relay.db (the relay stopped) before and after the rewrite.
fn sqlite_has_identity_column(c: &rusqlite::Connection) -> bool {
    c.query_row(SQLITE_IDENTITY_COLUMN, [], |r| r.get::<_, i64>(0))
        .unwrap()
        > 0
}

/// The running relay's `targets` table has the identity column (either store).
fn has_identity_column(relay: &Relay) -> bool {
    let sql = match relay.store_kind() {
        "postgres" => {
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'sealpass' \
             AND table_name = 'targets' AND column_name = 'identity_key'"
        }
        _ => SQLITE_IDENTITY_COLUMN,
    };
    relay.sql_i64(sql) > 0
}

/// The PostgreSQL schema's versions (`version|applied_at|description`).
fn pg_migrations(relay: &Relay) -> String {
    relay.sql("SELECT version, applied_at, description FROM schema_migrations ORDER BY version")
}

/// SQLite: a relay.db rewritten to the schema before envelope v2 (no
/// identity column) is migrated on start. PostgreSQL has no such older
/// schema (its first version has the column): there the equivalent is that
/// the schema is at version 1, recorded once, and a restart migrates
/// nothing; the rows and the identity behaviour are checked the same way.
#[test]
fn an_old_database_is_migrated_on_start() {
    let (relay, n, pid) = setup();
    let pk = key();
    let r = put_pubkey(&n, &relay, &pid, &format!(r#"{{"public_key":"{pk}"}}"#));
    assert_eq!(r.status, 200, "{}", r.text());
    let pid2 = relay.create_pending(&["n1"], None);
    let pg = relay.store_kind() == "postgres";
    let migrations = pg.then(|| pg_migrations(&relay));
    if let Some(m) = &migrations {
        let cols: Vec<&str> = m.split('|').collect();
        assert!(
            m.lines().count() == 1 && cols.len() == 3 && cols[0] == "1",
            "schema_migrations: one row, version 1: {m:?}"
        );
        assert!(has_identity_column(&relay), "no identity column in v1");
        assert_eq!(
            relay
                .output()
                .matches("database schema migrated to version 1")
                .count(),
            1,
            "{}",
            relay.output()
        );
    }
    // SQLite: rewrite the database to the old schema (its rows kept), as
    // an older relay left it.
    let relay = relay.restart_with(|dir| {
        if pg {
            return;
        }
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
            !sqlite_has_identity_column(&c),
            "the old schema has no identity column"
        );
    });
    assert!(has_identity_column(&relay), "not migrated");
    if let Some(m) = &migrations {
        assert_eq!(&pg_migrations(&relay), m, "a restart migrated again");
    }
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
    assert!(has_identity_column(&relay));
    if let Some(m) = &migrations {
        assert_eq!(&pg_migrations(&relay), m, "a restart migrated again");
        assert_eq!(
            relay.output().matches("database schema migrated").count(),
            1,
            "only the first start migrates: {}",
            relay.output()
        );
    }
    let r = relay.req("GET", &format!("/api/v1/pending/{pid2}"), &[], b"");
    assert_eq!(target_of(&r.json())["identity_key"], nik.to_b64u().as_str());
}
