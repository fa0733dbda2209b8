//! The real binary on a real format-1 store made by the previous build
//! (tests/fixtures/keystore-v1): the first command migrates it, the secrets
//! read back byte for byte, and afterwards an SQL edit of where a secret may
//! be used (no KEK needed) makes `node secret get`, `node secret list` and
//! `keystore verify` fail with 8504 and print nothing of the secret.

use std::path::Path;

use rusqlite::Connection;
use sealpass_native::keystore::DB_FILE;
use sealpass_tests::cli::{run, Out};

fn old_store(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keystore-v1/keystore.db");
    std::fs::copy(fixture, dir.join(DB_FILE)).unwrap();
}

fn sp(data: &Path, args: &[&str]) -> Out {
    let mut a = args.to_vec();
    a.push("--dev-insecure-kek");
    run(data, &[], &a, b"")
}

fn sql(data: &Path, stmt: &str) {
    let c = Connection::open(data.join(DB_FILE)).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c.execute_batch(stmt).unwrap();
}

fn assert_tampered(out: &Out, what: &str) {
    assert_ne!(out.code, 0, "{what} succeeded");
    assert!(out.stderr.contains("8504"), "{what}: {}", out.stderr);
    assert!(out.stdout.is_empty(), "{what} printed {:?}", out.text());
    assert!(
        !out.stderr.contains("tok-0123456789"),
        "{what} leaked the secret"
    );
}

#[test]
fn the_old_store_migrates_and_an_edited_target_url_is_refused_by_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    old_store(&data);
    let st = sp(&data, &["keystore", "status", "--json"]).ok();
    assert!(st.text().contains("\"format_version\":2"), "{}", st.text());
    assert_eq!(
        sp(&data, &["node", "secret", "get", "api-token"])
            .ok()
            .stdout,
        b"tok-0123456789"
    );
    assert_eq!(
        sp(&data, &["node", "secret", "get", "db-pass"]).ok().stdout,
        b"correct horse battery staple"
    );
    let list = sp(&data, &["node", "secret", "list"]).ok().text();
    assert!(
        list.contains("target \"https://api.example.com/v1\""),
        "{list}"
    );

    sql(
        &data,
        "UPDATE secrets SET target_url = 'https://evil.example/collect' WHERE slug = 'api-token'",
    );
    assert_tampered(
        &sp(&data, &["node", "secret", "get", "api-token"]),
        "secret get",
    );
    assert_tampered(&sp(&data, &["node", "secret", "list"]), "secret list");
    assert_tampered(&sp(&data, &["keystore", "verify"]), "verify");
    assert_tampered(&sp(&data, &["keystore", "rotate-dek"]), "rotate-dek");
    // The other secret is unaffected.
    assert_eq!(
        sp(&data, &["node", "secret", "get", "db-pass"]).ok().stdout,
        b"correct horse battery staple"
    );
}

#[test]
fn an_edit_made_before_the_upgrade_stops_the_migration_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    old_store(&data);
    sql(
        &data,
        "UPDATE secrets SET field_name = 'X-Leak' WHERE slug = 'api-token'",
    );
    let out = sp(&data, &["node", "secret", "get", "db-pass"]);
    assert_tampered(&out, "first open");
    assert!(
        out.stderr.contains("\"api-token\"") && out.stderr.contains("changed nothing"),
        "{}",
        out.stderr
    );
    let c = Connection::open(data.join(DB_FILE)).unwrap();
    let version: String = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'format_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let formats: Vec<u8> = {
        let mut st = c.prepare("SELECT blob FROM records").unwrap();
        let rows = st.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap();
        rows.map(|b| b.unwrap()[0]).collect()
    };
    assert_eq!((version.as_str(), formats), ("1", vec![1; 4]));
}
