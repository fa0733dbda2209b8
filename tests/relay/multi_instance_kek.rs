//! KEK rotation on the PostgreSQL store (docs/OPERATIONS.md, "Rotating the
//! KEK"): instances open under the current or previous KEK, nothing is
//! re-sealed until `sealpass-relay reseal`, and an instance whose KEK
//! cannot open the shared admin token refuses to start. Real server
//! (tests/pg/run.sh), real relay processes.

use std::process::{Command, Output};
use std::time::Duration;

use sealpass_tests::bins;
use sealpass_tests::pg::Database;
use sealpass_tests::proc::{new_kek, Proc};

/// `sealpass-relay ARGS` on `db` with `kek` (and `previous`), data dir `dir`.
fn relay(db: &Database, dir: &std::path::Path, kek: &str, previous: Option<&str>) -> Command {
    let mut c = Command::new(bins::relay());
    c.arg("--data-dir")
        .arg(dir)
        .env("SEALPASS_RELAY_STORE", db.relay_url())
        .env("SEALPASS_KEK", kek)
        .env_remove("SEALPASS_KEK_FILE")
        .env_remove("SEALPASS_KEK_PREVIOUS_FILE")
        .env_remove("SEALPASS_ADMIN_TOKEN");
    match previous {
        Some(p) => c.env("SEALPASS_KEK_PREVIOUS", p),
        None => c.env_remove("SEALPASS_KEK_PREVIOUS"),
    };
    c
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Start serving; the output once it listens (or the refusal, when it
/// exits first), then stop it.
fn start(mut cmd: Command) -> (bool, String) {
    cmd.args(["--listen", "127.0.0.1:0", "--www", "/nonexistent"]);
    let mut p = Proc::spawn(cmd);
    let end = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let all = p.out.all();
        if all.contains("listening on http://") {
            // The start-up refresh has run before the address is printed.
            p.terminate(Duration::from_secs(5));
            return (true, p.out.all());
        }
        if !p.is_running() {
            return (false, p.out.all());
        }
        assert!(
            std::time::Instant::now() < end,
            "neither listened nor exited: {all}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The KEK id a sealed secret names (bytes 1..9 of the blob, hex).
fn kek_ids(db: &Database) -> Vec<String> {
    db.sql(
        "SELECT node_id || ':' || encode(substring(sealed from 2 for 8), 'hex') \
         FROM sealpass.node_secrets ORDER BY node_id",
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn kek_rotation_in_steps_and_reseal() {
    let db = Database::create();
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (new_kek(), new_kek());
    let dir = |n: &str| tmp.path().join(n);

    // Before: one KEK; a node, and the shared admin token made at start.
    ok(
        relay(&db, &dir("a"), &old, None)
            .args(["node", "add", "n1"])
            .output()
            .unwrap(),
        "node add n1",
    );
    let (up, log) = start(relay(&db, &dir("a"), &old, None));
    assert!(up, "{log}");

    // Step 1 (old current, new previous): starts, opens everything.
    let (up, log) = start(relay(&db, &dir("b"), &old, Some(&new)));
    assert!(up && !log.contains("cannot open"), "{log}");

    // Step 2 (new current, old previous): a new secret is sealed under
    // the new KEK; nothing old was re-sealed by starting.
    let (up, log) = start(relay(&db, &dir("c"), &new, Some(&old)));
    assert!(up && !log.contains("cannot open"), "{log}");
    ok(
        relay(&db, &dir("c"), &new, Some(&old))
            .args(["node", "add", "n2"])
            .output()
            .unwrap(),
        "node add n2",
    );
    let ids = kek_ids(&db);
    let id = |n: &str| {
        ids.iter()
            .find_map(|l| l.strip_prefix(&format!("{n}:")))
            .unwrap()
            .to_owned()
    };
    let (old_id, new_id) = (id("n1"), id("n2"));
    assert_ne!(old_id, new_id, "n1 re-sealed before reseal: {ids:?}");
    // A step-1 instance still opens the new one.
    let (up, log) = start(relay(&db, &dir("b"), &old, Some(&new)));
    assert!(up && !log.contains("cannot open"), "{log}");

    // Skipping the reseal: an instance on the new KEK alone must refuse to
    // start (the admin token is still under the old one).
    let (up, log) = start(relay(&db, &dir("d"), &new, None));
    assert!(
        !up,
        "started with a KEK that cannot open the admin token: {log}"
    );
    assert!(log.contains("8502"), "{log}");

    // Step 3: reseal, once; a second run has nothing to do.
    let out = ok(
        relay(&db, &dir("c"), &new, Some(&old))
            .arg("reseal")
            .output()
            .unwrap(),
        "reseal",
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["resealed_node_secrets"], 1, "{out}");
    assert_eq!(v["resealed_admin_token"], true, "{out}");
    let out = ok(
        relay(&db, &dir("c"), &new, Some(&old))
            .arg("reseal")
            .output()
            .unwrap(),
        "second reseal",
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["resealed_node_secrets"], 0, "{out}");
    assert_eq!(v["resealed_admin_token"], false, "{out}");
    assert!(
        kek_ids(&db).iter().all(|l| l.ends_with(&new_id)),
        "{:?}",
        kek_ids(&db)
    );

    // Step 4: the new KEK alone opens everything; the old alone nothing.
    let (up, log) = start(relay(&db, &dir("d"), &new, None));
    assert!(up && !log.contains("cannot open"), "{log}");
    let (up, log) = start(relay(&db, &dir("e"), &old, None));
    assert!(!up && log.contains("8502"), "{log}");

    // The SQLite store has no reseal: a usage error, not a silent no-op.
    let out = Command::new(bins::relay())
        .args(["reseal", "--dev-insecure-kek", "--data-dir"])
        .arg(dir("sqlite"))
        .env_remove("SEALPASS_RELAY_STORE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("8403"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
