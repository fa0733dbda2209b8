//! Where a delivered secret may be used is authenticated at rest (record
//! format 2): every column of its `secrets` row is bound into the record's
//! AAD, so an SQL edit of any of them (no KEK needed) makes every read path
//! fail with 8504 — `secret_get`, `get_record`, the listing, verify, and DEK
//! rotation (which must not seal an edit in). A real format-1 store made by
//! the previous build (tests/fixtures/keystore-v1, see its README) is
//! migrated on its first open with the KEK, in one transaction.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};
use sealpass::{Code, Context};
use sealpass_native::keystore::{KekConfig, Keystore, Purpose, DB_FILE};

use super::keystore_api::open_any;

/// The `secrets` columns and an edit for each (SQL expression; each
/// changes the value whatever it was).
const EDITS: [(&str, &str); 8] = [
    ("slug", "'renamed'"),
    ("pending_id", "pending_id || '-x'"),
    ("node_id", "node_id || '-evil'"),
    ("injection_method", "injection_method || '-x'"),
    ("field_name", "field_name || 'X'"),
    ("target_url", "'https://evil.example/collect'"),
    ("stored_at", "stored_at + 1"),
    ("size", "size + 1"),
];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keystore-v1/keystore.db")
}

/// A private copy of the format-1 fixture (never opened in place).
fn old_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture(), dir.path().join(DB_FILE)).unwrap();
    dir
}

fn db(dir: &Path) -> Connection {
    let c = Connection::open(dir.join(DB_FILE)).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c
}

type Rows = Vec<Vec<String>>;

/// Every table but the audit trail, as text (to prove nothing changed).
fn snapshot(dir: &Path) -> Vec<Rows> {
    let c = db(dir);
    [
        "SELECT key, value FROM meta ORDER BY 1",
        "SELECT dek_id, kek_id, state, hex(wrapped) FROM deks ORDER BY 1",
        "SELECT purpose, record_id, dek_id, hex(blob), updated_at FROM records ORDER BY 1, 2",
        "SELECT * FROM secrets ORDER BY 1",
        "SELECT pending_id, state, context_json, public_key, identity_key FROM pending ORDER BY 1",
    ]
    .iter()
    .map(|sql| {
        let mut st = c.prepare(sql).unwrap();
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                (0..n)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect()
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    })
    .collect()
}

fn format_bytes(dir: &Path) -> Vec<u8> {
    let c = db(dir);
    let mut st = c.prepare("SELECT blob FROM records").unwrap();
    let rows = st.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap();
    rows.map(|b| b.unwrap()[0]).collect()
}

fn code<T>(r: sealpass::Result<T>) -> Code {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.code(),
    }
}

/// Every edit of every column of `slug`'s row fails every read path with
/// 8504, changes nothing, and the secret reads again once it is undone.
fn assert_every_column_edit_is_refused(dir: &Path, ks: &Keystore, slug: &str, want: &[u8]) {
    let c = db(dir);
    for (col, expr) in EDITS {
        let before = snapshot(dir);
        let orig: rusqlite::types::Value = c
            .query_row(
                &format!("SELECT {col} FROM secrets WHERE slug = ?1"),
                [slug],
                |r| r.get(0),
            )
            .unwrap();
        c.execute(
            &format!("UPDATE secrets SET {col} = {expr} WHERE slug = ?1"),
            [slug],
        )
        .unwrap();
        let read_slug = if col == "slug" { "renamed" } else { slug };
        assert_eq!(code(ks.secret_get(slug)), Code::RecordTampered, "{col}");
        assert_eq!(
            code(ks.secret_get(read_slug)),
            Code::RecordTampered,
            "{col}"
        );
        assert_eq!(
            code(ks.get_record(Purpose::DeliveredSecret, slug)),
            Code::RecordTampered,
            "{col}"
        );
        assert_eq!(code(ks.secret_list()), Code::RecordTampered, "{col}");
        assert_eq!(code(ks.verify()), Code::RecordTampered, "{col}");
        // Rotation re-seals with the row as stored: it must refuse, not
        // seal the edit into a fresh record.
        let edited = snapshot(dir);
        assert_eq!(code(ks.rotate_dek()), Code::RecordTampered, "{col}");
        assert_eq!(
            snapshot(dir),
            edited,
            "{col}: a refused rotation changed the store"
        );
        c.execute(
            &format!("UPDATE secrets SET {col} = ?2 WHERE slug = ?1"),
            params![read_slug, orig],
        )
        .unwrap();
        assert_eq!(snapshot(dir), before, "{col}");
        assert_eq!(&ks.secret_get(slug).unwrap()[..], want, "{col} undone");
    }
    // Deleting the row (the record would then bind "no context") too.
    c.execute_batch(&format!(
        "CREATE TEMP TABLE keep AS SELECT * FROM secrets WHERE slug = '{slug}';
         DELETE FROM secrets WHERE slug = '{slug}';"
    ))
    .unwrap();
    assert_eq!(code(ks.secret_get(slug)), Code::RecordTampered);
    assert_eq!(code(ks.verify()), Code::RecordTampered);
    c.execute_batch("INSERT INTO secrets SELECT * FROM keep; DROP TABLE keep;")
        .unwrap();
    assert_eq!(&ks.secret_get(slug).unwrap()[..], want);
    ks.verify().unwrap();
}

fn ctx(pending: &str, slug: &str) -> Context {
    Context::new(
        "node-a",
        pending,
        slug,
        "http-header",
        Some("Authorization"),
        Some("https://api.example/v1"),
    )
    .unwrap()
}

/// Deliver `secret` through a real one-time key and envelope.
fn deliver(ks: &Keystore, pending: &str, slug: &str, secret: &[u8]) {
    let c = ctx(pending, slug);
    let keys = ks.create_pending(&c).unwrap();
    let env = sealpass::seal_v2(&keys.public_key, &keys.identity_key.unwrap(), secret, &c)
        .unwrap()
        .to_json();
    ks.accept(pending, env.as_bytes(), open_any).unwrap();
}

#[test]
fn every_column_of_a_delivered_context_is_bound_through_both_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let k1 = KekConfig::new([0x51; 32], None);
    let ks = Keystore::open(dir.path(), &k1).unwrap();
    deliver(&ks, "p-1", "api", b"s3cret");
    deliver(&ks, "p-2", "other", b"other secret");
    // A generic record of the same purpose binds "no context"; giving it a
    // row is refused as well.
    ks.put_record(Purpose::DeliveredSecret, "bare", b"bare")
        .unwrap();
    assert_eq!(&ks.secret_get("bare").unwrap()[..], b"bare");
    // Both rotations keep the binding.
    ks.rotate_dek().unwrap();
    drop(ks);
    let k2 = KekConfig::new([0x52; 32], Some([0x51; 32]));
    let ks = Keystore::open(dir.path(), &k2).unwrap();
    ks.rotate_kek().unwrap();
    assert_eq!(&ks.secret_get("api").unwrap()[..], b"s3cret");
    assert_eq!(ks.verify().unwrap(), 4);
    assert_eq!(format_bytes(dir.path()), vec![2; 4]);

    assert_every_column_edit_is_refused(dir.path(), &ks, "api", b"s3cret");
    // The other secret is untouched by all that.
    assert_eq!(&ks.secret_get("other").unwrap()[..], b"other secret");
    db(dir.path())
        .execute(
            "INSERT INTO secrets SELECT 'bare', pending_id, node_id, injection_method, field_name, target_url, stored_at, 4 FROM secrets WHERE slug = 'other'",
            [],
        )
        .unwrap();
    assert_eq!(code(ks.secret_get("bare")), Code::RecordTampered);
    let fails: Vec<_> = ks
        .audit()
        .unwrap()
        .into_iter()
        .filter(|e| e.code == Some(8504))
        .map(|e| e.event)
        .collect();
    for ev in ["secret-get", "secret-list", "verify", "rotate-dek"] {
        assert!(fails.iter().any(|e| e == ev), "{ev} not audited: {fails:?}");
    }
}

#[test]
fn a_format_1_store_is_migrated_on_first_open_and_then_bound() {
    let dir = old_store();
    let before = snapshot(dir.path());
    assert_eq!(format_bytes(dir.path()), vec![1; 4]);
    let secrets_before = before[3].clone();
    let identity_key: String = db(dir.path())
        .query_row(
            "SELECT identity_key FROM pending WHERE pending_id = 'p-103'",
            [],
            |r| r.get(0),
        )
        .unwrap();

    let ks = Keystore::open(dir.path(), &KekConfig::dev_insecure()).unwrap();
    assert_eq!(ks.status().unwrap().format_version, 2);
    assert_eq!(format_bytes(dir.path()), vec![2; 4]);
    let after = snapshot(dir.path());
    assert_eq!(after[0][1], vec!["Text(\"format_version\")", "Text(\"2\")"]);
    // Same rows; the blobs (and their updated_at) changed, and they are
    // sealed under one fresh DEK: the old one is gone.
    assert_eq!((&after[3], &after[4]), (&secrets_before, &before[4]));
    assert_eq!((before[1].len(), after[1].len()), (1, 1));
    let (old_dek, new_dek) = (&before[1][0], &after[1][0]);
    assert_ne!(old_dek[0], new_dek[0], "the migration keeps the old DEK");
    assert_eq!(
        (&old_dek[1], &new_dek[2]),
        (&new_dek[1], &"Text(\"active\")".to_owned())
    );
    assert!(after[2].iter().all(|r| r[2] == new_dek[0]));
    assert_eq!(&ks.secret_get("api-token").unwrap()[..], b"tok-0123456789");
    assert_eq!(
        &ks.secret_get("db-pass").unwrap()[..],
        b"correct horse battery staple"
    );
    let list = ks.secret_list().unwrap();
    assert_eq!(
        list.iter()
            .map(|m| (
                m.slug.as_str(),
                m.injection_method.as_str(),
                m.field_name.as_str(),
                m.target_url.as_str(),
                m.size
            ))
            .collect::<Vec<_>>(),
        vec![
            (
                "api-token",
                "http-header",
                "Authorization",
                "https://api.example.com/v1",
                14
            ),
            ("db-pass", "env", "DB_PASSWORD", "", 28),
        ]
    );
    assert_eq!(
        ks.node_identity().unwrap().public_key().to_b64u(),
        identity_key
    );
    assert_eq!(ks.pending_context("p-103").unwrap().field_name(), "LATER");
    assert_eq!(ks.verify().unwrap(), 4);
    let migrations = |ks: &Keystore| {
        ks.audit()
            .unwrap()
            .into_iter()
            .filter(|e| e.event == "migrate")
            .map(|e| (e.outcome, e.detail.unwrap_or_default()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        migrations(&ks),
        vec![(
            "ok".to_owned(),
            format!(
                "format 1 -> 2: 4 records re-sealed under a new DEK, delivered contexts bound; dropped {}",
                old_dek[0].trim_start_matches("Text(\"").trim_end_matches("\")")
            )
        )]
    );
    drop(ks);
    // Opened again: already format 2, nothing re-sealed.
    let migrated = snapshot(dir.path());
    let ks = Keystore::open(dir.path(), &KekConfig::dev_insecure()).unwrap();
    assert_eq!(snapshot(dir.path()), migrated);
    assert_eq!(migrations(&ks).len(), 1);

    assert_every_column_edit_is_refused(dir.path(), &ks, "api-token", b"tok-0123456789");
    // The waiting key still takes its envelope, and that secret is bound too.
    let c = ks.pending_context("p-103").unwrap();
    let keys = ks.create_pending(&c).unwrap();
    let env = sealpass::seal_v2(&keys.public_key, &keys.identity_key.unwrap(), b"later!", &c)
        .unwrap()
        .to_json();
    ks.accept("p-103", env.as_bytes(), open_any).unwrap();
    assert_every_column_edit_is_refused(dir.path(), &ks, "later", b"later!");
}

#[test]
fn a_format_1_record_written_back_after_the_migration_is_refused() {
    let dir = old_store();
    let old_blob: Vec<u8> = db(dir.path())
        .query_row(
            "SELECT blob FROM records WHERE record_id = 'db-pass'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let ks = Keystore::open(dir.path(), &KekConfig::dev_insecure()).unwrap();
    // Its DEK still exists and it authenticates under the old AAD, but it
    // binds no context: it must not open in a format-2 store.
    db(dir.path())
        .execute(
            "UPDATE records SET blob = ?1 WHERE record_id = 'db-pass'",
            [&old_blob],
        )
        .unwrap();
    assert_eq!(code(ks.secret_get("db-pass")), Code::RecordTampered);
    assert_eq!(code(ks.verify()), Code::RecordTampered);
}

#[test]
fn an_interrupted_migration_changes_nothing() {
    let dir = old_store();
    // The first open of the copy turns on WAL; compare from there.
    let before = snapshot(dir.path());
    for fail_after in [0, 1, 3, 4] {
        let err =
            Keystore::open_with_upgrade_fault(dir.path(), &KekConfig::dev_insecure(), fail_after)
                .unwrap_err();
        assert_eq!(err.code(), Code::StoreUnavailable, "{err}");
        assert_eq!(
            snapshot(dir.path()),
            before,
            "after a fault at {fail_after}"
        );
    }
    let ks = Keystore::open(dir.path(), &KekConfig::dev_insecure()).unwrap();
    assert_eq!(&ks.secret_get("api-token").unwrap()[..], b"tok-0123456789");
    assert_eq!(format_bytes(dir.path()), vec![2; 4]);
}

#[test]
fn a_record_that_does_not_open_stops_the_migration_and_is_named() {
    let dir = old_store();
    let c = db(dir.path());
    let orig: Vec<u8> = c
        .query_row(
            "SELECT blob FROM records WHERE record_id = 'api-token'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut bad = orig.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    c.execute(
        "UPDATE records SET blob = ?1 WHERE record_id = 'api-token'",
        [&bad],
    )
    .unwrap();
    let before = snapshot(dir.path());
    let err = Keystore::open(dir.path(), &KekConfig::dev_insecure()).unwrap_err();
    assert_eq!(err.code(), Code::RecordTampered);
    assert!(
        err.detail().contains("\"api-token\"") && err.detail().contains("changed nothing"),
        "{err}"
    );
    assert_eq!(
        snapshot(dir.path()),
        before,
        "nothing re-sealed, nothing dropped"
    );
    c.execute(
        "UPDATE records SET blob = ?1 WHERE record_id = 'api-token'",
        [&orig],
    )
    .unwrap();
    let ks = Keystore::open(dir.path(), &KekConfig::dev_insecure()).unwrap();
    assert_eq!(&ks.secret_get("api-token").unwrap()[..], b"tok-0123456789");
}

/// Format 1 never authenticated the row, so an edit made before the
/// migration is caught only where the store holds something to check it
/// against: the record's length, and the consumed pending key's plain
/// context copy. An edit of both copies is sealed in (not detectable).
#[test]
fn column_edits_before_the_migration_are_caught_where_the_store_can_tell() {
    for (sql, caught) in [
        ("UPDATE secrets SET target_url = 'https://evil.example' WHERE slug = 'api-token'", true),
        ("UPDATE secrets SET field_name = 'X-Leak' WHERE slug = 'api-token'", true),
        ("UPDATE secrets SET injection_method = 'env' WHERE slug = 'api-token'", true),
        ("UPDATE secrets SET node_id = 'node-2' WHERE slug = 'api-token'", true),
        ("UPDATE secrets SET pending_id = 'p-102' WHERE slug = 'api-token'", true),
        ("UPDATE secrets SET size = 13 WHERE slug = 'api-token'", true),
        // The consumed pending key a secret came through is never deleted:
        // a row naming none, one never consumed, or another slug's is an edit.
        (
            "UPDATE secrets SET pending_id = 'zzz', target_url = 'https://evil/' WHERE slug = 'api-token'",
            true,
        ),
        ("DELETE FROM pending WHERE pending_id = 'p-101'", true),
        ("UPDATE pending SET state = 'pending' WHERE pending_id = 'p-101'", true),
        ("UPDATE pending SET slug = 'db-pass' WHERE pending_id = 'p-101'", true),
        // Not caught: both copies edited alike, or a column nothing else holds.
        (
            "UPDATE secrets SET target_url = 'https://evil.example' WHERE slug = 'api-token';
             UPDATE pending SET context_json = replace(context_json, 'https://api.example.com/v1', 'https://evil.example') WHERE pending_id = 'p-101'",
            false,
        ),
        ("UPDATE secrets SET stored_at = 1 WHERE slug = 'api-token'", false),
    ] {
        let dir = old_store();
        db(dir.path()).execute_batch(sql).unwrap();
        let before = snapshot(dir.path());
        let r = Keystore::open(dir.path(), &KekConfig::dev_insecure());
        if caught {
            let err = r.unwrap_err();
            assert_eq!(err.code(), Code::RecordTampered, "{sql}: {err}");
            assert!(err.detail().contains("\"api-token\""), "{err}");
            assert_eq!(snapshot(dir.path()), before, "{sql}");
        } else {
            let ks = r.unwrap();
            assert_eq!(&ks.secret_get("api-token").unwrap()[..], b"tok-0123456789");
        }
    }
}

/// The migration is atomic, so a format-2 blob in a store whose
/// `format_version` says 1 means it was set back to have an edit sealed in
/// (here one of both plain copies alike, which a real format-1 store could
/// not be checked for): refused, nothing changes. Also after `rotate-dek`,
/// with the old DEK row put back as retired.
#[test]
fn setting_format_version_back_does_not_re_run_the_migration() {
    for rotate in [false, true] {
        let dir = old_store();
        let c = db(dir.path());
        let (old_blob, old_dek): (Vec<u8>, String) = c
            .query_row(
                "SELECT blob, dek_id FROM records WHERE record_id = 'api-token'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        c.execute_batch("CREATE TEMP TABLE old_deks AS SELECT * FROM deks")
            .unwrap();
        let ks = Keystore::open(dir.path(), &KekConfig::dev_insecure()).unwrap();
        if rotate {
            ks.rotate_dek().unwrap();
        }
        drop(ks);
        c.execute_batch(
            "UPDATE meta SET value = '1' WHERE key = 'format_version';
             INSERT OR IGNORE INTO deks SELECT dek_id, kek_id, 'retired', wrapped, created_at, 1 FROM old_deks;
             UPDATE secrets SET target_url = 'https://evil.example' WHERE slug = 'api-token';
             UPDATE pending SET context_json = replace(context_json, 'https://api.example.com/v1', 'https://evil.example') WHERE pending_id = 'p-101';",
        )
        .unwrap();
        c.execute(
            "UPDATE records SET blob = ?1, dek_id = ?2 WHERE record_id = 'api-token'",
            params![old_blob, old_dek],
        )
        .unwrap();
        let before = snapshot(dir.path());
        let err = Keystore::open(dir.path(), &KekConfig::dev_insecure()).unwrap_err();
        assert_eq!(err.code(), Code::RecordTampered, "{err}");
        assert!(
            err.detail().contains("already has record format 2")
                && err.detail().contains("changed")
                && !err.detail().contains("still format 1"),
            "{err}"
        );
        assert_eq!(snapshot(dir.path()), before, "rotate: {rotate}");
    }
}

/// The same slug twice in a `secrets` table rebuilt without its primary
/// key, the second row with an evil target: no read path shows or uses
/// either row (the listing opens each row it shows, with that very row),
/// and the next open refuses the changed schema.
#[test]
fn a_second_secrets_row_for_a_slug_is_never_shown_or_used() {
    let dir = tempfile::tempdir().unwrap();
    let k = KekConfig::new([0x53; 32], None);
    let ks = Keystore::open(dir.path(), &k).unwrap();
    deliver(&ks, "p-1", "api", b"s3cret");
    db(dir.path())
        .execute_batch(
            "CREATE TABLE s2 (slug TEXT, pending_id TEXT, node_id TEXT, injection_method TEXT,
               field_name TEXT, target_url TEXT, stored_at INTEGER, size INTEGER);
             INSERT INTO s2 SELECT * FROM secrets;
             INSERT INTO s2 SELECT slug, pending_id, node_id, injection_method, field_name,
               'https://evil.example/collect', stored_at, size FROM secrets;
             DROP TABLE secrets;
             ALTER TABLE s2 RENAME TO secrets;",
        )
        .unwrap();
    assert_eq!(code(ks.secret_list()), Code::RecordTampered);
    assert_eq!(code(ks.secret_get("api")), Code::RecordTampered);
    assert_eq!(
        code(ks.get_record(Purpose::DeliveredSecret, "api")),
        Code::RecordTampered
    );
    assert_eq!(code(ks.verify()), Code::RecordTampered);
    assert_eq!(code(ks.rotate_dek()), Code::RecordTampered);
    drop(ks);
    let err = Keystore::open(dir.path(), &k).unwrap_err();
    assert_eq!(err.code(), Code::RecordTampered);
    assert!(
        err.detail().contains("schema") && err.detail().contains("\"secrets\""),
        "{err}"
    );
}

/// A trigger added to the file could rewrite a row between `accept`
/// writing it and sealing it (the seal would then bind the edit): an open
/// refuses it, and so does an `accept` of a store opened before it came.
#[test]
fn a_trigger_added_to_the_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let k = KekConfig::new([0x54; 32], None);
    let ks = Keystore::open(dir.path(), &k).unwrap();
    let c = ctx("p-1", "api");
    let keys = ks.create_pending(&c).unwrap();
    db(dir.path())
        .execute_batch(
            "CREATE TRIGGER evil AFTER INSERT ON secrets BEGIN
               UPDATE secrets SET target_url = 'https://evil.example' WHERE slug = NEW.slug;
             END;",
        )
        .unwrap();
    let env = sealpass::seal_v2(&keys.public_key, &keys.identity_key.unwrap(), b"s", &c)
        .unwrap()
        .to_json();
    let err = ks.accept("p-1", env.as_bytes(), open_any).unwrap_err();
    assert_eq!(err.code(), Code::RecordTampered, "{err}");
    assert!(err.detail().contains("trigger \"evil\""), "{err}");
    assert_eq!(code(ks.secret_get("api")), Code::RecordNotFound);
    drop(ks);
    let err = Keystore::open(dir.path(), &k).unwrap_err();
    assert_eq!(err.code(), Code::RecordTampered);
    assert!(err.detail().contains("trigger \"evil\""), "{err}");
}

/// A value sealpass never writes (here a negative size) is an edit of the
/// file: 8504, not a local database problem to retry (8506).
#[test]
fn an_out_of_range_column_is_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &KekConfig::new([0x55; 32], None)).unwrap();
    deliver(&ks, "p-1", "api", b"s3cret");
    db(dir.path())
        .execute("UPDATE secrets SET size = -1 WHERE slug = 'api'", [])
        .unwrap();
    assert_eq!(code(ks.secret_get("api")), Code::RecordTampered);
    assert_eq!(code(ks.secret_list()), Code::RecordTampered);
    assert_eq!(code(ks.verify()), Code::RecordTampered);
    assert_eq!(code(ks.rotate_dek()), Code::RecordTampered);
}
