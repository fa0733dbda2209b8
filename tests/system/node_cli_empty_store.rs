//! A keystore file truncated to 0 bytes (a crash, a bad copy, an operator)
//! stops every command and the agent with 8506 and a hint, and is never
//! overwritten by a fresh store: that would drop every delivered secret and
//! the node identity without a word. Only a missing file means a new store.

use sealpass_native::keystore::DB_FILE;
use sealpass_tests::cli::{random_kek, run, write_ctx};

#[test]
fn an_empty_keystore_file_fails_closed_for_every_command_and_the_agent() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let (kek, _) = random_kek();
    let env = [("SEALPASS_KEK", kek.as_str())];
    let ctx = write_ctx(tmp.path(), "pend-empty", "slug-empty");
    let ctx_s = ctx.to_str().unwrap();
    run(
        &data,
        &env,
        &["node", "pending", "new", "--context", ctx_s],
        b"",
    )
    .ok();
    let db = data.join(DB_FILE);
    std::fs::File::create(&db).unwrap();

    let commands: Vec<Vec<&str>> = vec![
        vec!["keystore", "status"],
        vec!["keystore", "verify"],
        vec!["node", "pending", "new", "--context", ctx_s],
        vec!["node", "pending", "list"],
        vec!["node", "secret", "list"],
        vec!["node", "identity"],
        // The agent opens its store before it talks to any relay.
        vec![
            "node",
            "run",
            "--relay",
            "http://127.0.0.1:9",
            "--node-id",
            "n1",
            "--once",
        ],
    ];
    for args in &commands {
        let out = run(&data, &env, args, b"");
        assert_ne!(out.code, 0, "{args:?} succeeded on an empty store");
        assert!(
            out.stderr.contains("8506") && out.stderr.contains("empty (0 bytes)"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(
            std::fs::metadata(&db).unwrap().len(),
            0,
            "{args:?} wrote the file"
        );
    }
}

/// SQLite takes a file of a few bytes as an empty database: such a
/// keystore (here 1 and 50 bytes) fails closed the same way, untouched.
#[test]
fn a_keystore_file_of_a_few_bytes_fails_closed_and_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let (kek, _) = random_kek();
    let env = [("SEALPASS_KEK", kek.as_str())];
    let ctx = write_ctx(tmp.path(), "pend-few", "slug-few");
    run(
        &data,
        &env,
        &["node", "pending", "new", "--context", ctx.to_str().unwrap()],
        b"",
    )
    .ok();
    let db = data.join(DB_FILE);
    let real = std::fs::read(&db).unwrap();
    for len in [1, 50] {
        std::fs::write(&db, &real[..len]).unwrap();
        for args in [&["keystore", "status"][..], &["node", "secret", "list"][..]] {
            let out = run(&data, &env, args, b"");
            assert_ne!(out.code, 0, "{args:?} succeeded on a {len}-byte store");
            assert!(
                out.stderr.contains("8506") && out.stderr.contains("not an SQLite database"),
                "{args:?}: {}",
                out.stderr
            );
            assert!(out.stdout.is_empty(), "{args:?}");
            assert_eq!(
                std::fs::read(&db).unwrap(),
                &real[..len],
                "{args:?} wrote the file"
            );
        }
    }
}
