//! A missing, wrong or malformed KEK gives the same clear error, naming the
//! KEK id the store expects, for every keystore and node command — before
//! anything is printed or any key or record is written.

use std::path::Path;

use rusqlite::Connection;
use sealpass_native::keystore::{KekConfig, DB_FILE};
use sealpass_tests::cli::{random_kek, run, write_ctx};

type Rows = Vec<Vec<String>>;
/// (name, env, expected stderr prefix, KEK id the error must name)
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, Option<&'a str>);

/// Everything but the audit table, as text.
fn snapshot(data: &Path) -> Vec<Rows> {
    let c = Connection::open(data.join(DB_FILE)).unwrap();
    [
        "SELECT dek_id, kek_id, state, hex(wrapped) FROM deks ORDER BY 1",
        "SELECT purpose, record_id, dek_id, hex(blob) FROM records ORDER BY 1, 2",
        "SELECT pending_id, state, public_key, context_json FROM pending ORDER BY 1",
        "SELECT slug, pending_id, size, stored_at FROM secrets ORDER BY 1",
        "SELECT key, value, '', '' FROM meta ORDER BY 1",
    ]
    .iter()
    .map(|sql| {
        let mut st = c.prepare(sql).unwrap();
        let rows = st
            .query_map([], |r| {
                (0..4)
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

#[test]
fn every_command_fails_closed_with_the_same_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let (good, good_raw) = random_kek();
    let expected_id = KekConfig::new(good_raw, None).kek_id().to_owned();
    let ctx = write_ctx(tmp.path(), "pend-kek", "slug-kek");
    let ctx_s = ctx.to_str().unwrap();
    run(
        &data,
        &[("SEALPASS_KEK", &good)],
        &["node", "pending", "new", "--context", ctx_s],
        b"",
    )
    .ok();
    let ctx2 = write_ctx(tmp.path(), "pend-other", "slug-other");
    let ctx2_s = ctx2.to_str().unwrap();
    let before = snapshot(&data);

    let kek_file = tmp.path().join("wrong.kek");
    let (wrong, wrong_raw) = random_kek();
    std::fs::write(&kek_file, format!("{wrong}\n")).unwrap();
    let wrong_id = KekConfig::new(wrong_raw, None).kek_id().to_owned();
    let kf = kek_file.to_str().unwrap();
    let missing_file = tmp.path().join("absent.kek");
    let mf = missing_file.to_str().unwrap();

    let commands: Vec<Vec<&str>> = vec![
        vec!["keystore", "status"],
        vec!["keystore", "status", "--json"],
        vec!["keystore", "rotate-kek"],
        vec!["keystore", "rotate-dek"],
        vec!["keystore", "verify"],
        vec!["keystore", "audit"],
        vec!["node", "pending", "new", "--context", ctx2_s],
        vec!["node", "pending", "list"],
        vec!["node", "accept", "--pending", "pend-kek"],
        vec!["node", "secret", "get", "slug-kek"],
        vec!["node", "secret", "list"],
    ];
    let cases: Vec<Case> = vec![
        (
            "missing",
            vec![],
            "error 8501 KekMissing:",
            Some(&expected_id),
        ),
        (
            "empty",
            vec![("SEALPASS_KEK", "")],
            "error 8501 KekMissing:",
            Some(&expected_id),
        ),
        (
            "wrong",
            vec![("SEALPASS_KEK", &wrong)],
            "error 8502 KekMismatch:",
            Some(&expected_id),
        ),
        (
            "wrong file",
            vec![("SEALPASS_KEK_FILE", kf)],
            "error 8502 KekMismatch:",
            Some(&wrong_id),
        ),
        (
            "wrong+wrong prev",
            vec![("SEALPASS_KEK", &wrong), ("SEALPASS_KEK_PREVIOUS", &wrong)],
            "error 8502 KekMismatch:",
            Some(&expected_id),
        ),
        (
            "missing file",
            vec![("SEALPASS_KEK_FILE", mf)],
            "error 8501 KekMissing:",
            None,
        ),
        (
            "malformed",
            vec![("SEALPASS_KEK", "not-a-key")],
            "error 8503 KekInvalid:",
            None,
        ),
        (
            "both",
            vec![("SEALPASS_KEK", &good), ("SEALPASS_KEK_FILE", kf)],
            "error 8503 KekInvalid:",
            None,
        ),
        ("dev", vec![], "error 8502 KekMismatch:", Some(&expected_id)),
    ];
    let mut n = 0;
    for (name, env, prefix, must_name) in &cases {
        for args in &commands {
            let mut a = args.clone();
            if *name == "dev" {
                a.push("--dev-insecure-kek");
            }
            let o = run(&data, env, &a, b"{}");
            assert_eq!(o.code, 1, "{name} {a:?}: {}", o.stderr);
            assert!(o.stdout.is_empty(), "{name} {a:?} printed to stdout");
            let last = o.stderr.lines().last().unwrap_or("");
            assert!(last.starts_with(prefix), "{name} {a:?}: {}", o.stderr);
            if let Some(id) = must_name {
                assert!(
                    last.contains(id),
                    "{name} {a:?} must name KEK id {id}: {last}"
                );
            }
            assert!(!o.stderr.contains(&good) && !o.stderr.contains(&wrong));
            n += 1;
        }
    }
    assert_eq!(n, cases.len() * commands.len());
    assert_eq!(
        snapshot(&data),
        before,
        "a refused start wrote keys or records"
    );
    // The right KEK still opens everything.
    let o = run(
        &data,
        &[("SEALPASS_KEK", &good)],
        &["node", "pending", "list"],
        b"",
    )
    .ok();
    assert!(o.text().contains("pend-kek"));
    // ... from a file too, and as the previous KEK of a rotation.
    let good_file = tmp.path().join("good.kek");
    std::fs::write(&good_file, format!("{good}\n")).unwrap();
    let gf = good_file.to_str().unwrap();
    let o = run(
        &data,
        &[("SEALPASS_KEK_FILE", gf)],
        &["node", "pending", "list"],
        b"",
    )
    .ok();
    assert!(o.text().contains("pend-kek"));
    let env = [
        ("SEALPASS_KEK", wrong.as_str()),
        ("SEALPASS_KEK_PREVIOUS_FILE", gf),
    ];
    let o = run(&data, &env, &["keystore", "rotate-kek"], b"").ok();
    assert!(o.text().contains(&wrong_id), "{}", o.text());
    let o = run(
        &data,
        &[("SEALPASS_KEK", &wrong)],
        &["node", "pending", "list"],
        b"",
    )
    .ok();
    assert!(o.text().contains("pend-kek"));
}

#[test]
fn missing_kek_on_a_fresh_store_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("fresh");
    // A command that would make the store: the KEK is missing.
    let ctx = write_ctx(tmp.path(), "pend-fresh", "slug-fresh");
    let o = run(
        &data,
        &[],
        &["node", "pending", "new", "--context", ctx.to_str().unwrap()],
        b"",
    );
    assert!(
        o.stderr.starts_with("error 8501 KekMissing:"),
        "{}",
        o.stderr
    );
    assert!(!data.join(DB_FILE).exists());
    // A command that only reads: there is no store (the more useful answer).
    let o = run(&data, &[], &["keystore", "status"], b"");
    assert!(
        o.stderr
            .starts_with("error 8506 StoreUnavailable: no keystore at "),
        "{}",
        o.stderr
    );
    assert!(!data.exists());
}
