//! The keystore's public API: records, pending keys, consume-once accept,
//! secret metadata, Debug output, file modes.

use sealpass::{Code, Context};
use sealpass_native::keystore::{KekConfig, Keystore, Purpose, DB_FILE};

/// What the CLI passes to `accept`: the identity the key is bound to when
/// there is one, v1 only otherwise.
pub(crate) fn open_any(
    sk: &sealpass::SecretKey,
    isk: Option<&sealpass::SecretKey>,
    env: &[u8],
    ctx: &Context,
) -> sealpass::Result<zeroize::Zeroizing<Vec<u8>>> {
    match isk {
        Some(isk) => sealpass_open::open_json_with_identity(sk, isk, env, ctx),
        None => sealpass_open::open_json(sk, env, ctx),
    }
}

fn kek() -> KekConfig {
    KekConfig::new([0x5a; 32], None)
}

fn ctx(pending: &str, slug: &str) -> Context {
    Context::new(
        "node-a",
        pending,
        slug,
        "header",
        Some("Authorization"),
        Some("https://api.example/v1"),
    )
    .unwrap()
}

#[test]
fn handle_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Keystore>();
    assert_send_sync::<KekConfig>();
}

#[test]
fn records_round_trip_upsert_delete() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    for p in Purpose::ALL {
        assert_eq!(Purpose::from_name(p.name()), Some(p));
        assert_eq!(
            ks.get_record(p, "r").unwrap_err().code(),
            Code::RecordNotFound
        );
        ks.put_record(p, "r", b"one").unwrap();
        ks.put_record(p, "r", b"two").unwrap();
        assert_eq!(&ks.get_record(p, "r").unwrap()[..], b"two");
    }
    assert!(ks.delete_record(Purpose::NodeHmacSecret, "r").unwrap());
    assert!(!ks.delete_record(Purpose::NodeHmacSecret, "r").unwrap());
    assert_eq!(
        ks.get_record(Purpose::NodeHmacSecret, "r")
            .unwrap_err()
            .code(),
        Code::RecordNotFound
    );
    assert_eq!(
        &ks.get_record(Purpose::RelayHmacSecret, "r").unwrap()[..],
        b"two",
        "purposes are separate"
    );
    assert_eq!(
        ks.get_record(Purpose::PendingKey, "").unwrap_err().code(),
        Code::InvalidArgument
    );
    let too_big = vec![0u8; sealpass_native::keystore::MAX_RECORD_PLAINTEXT + 1];
    assert_eq!(
        ks.put_record(Purpose::NodeHmacSecret, "big", &too_big)
            .unwrap_err()
            .code(),
        Code::CiphertextTooLarge
    );
    let events = ks.audit().unwrap();
    assert!(events
        .iter()
        .any(|e| e.event == "record-get" && e.code == Some(8505)));
    assert!(events
        .iter()
        .any(|e| e.event == "record-delete" && e.record_id.as_deref() == Some("r")));
}

#[test]
fn pending_keys_are_idempotent_and_bound_to_their_context() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    let c1 = ctx("p1", "slug-1");
    let pk = ks.create_pending(&c1).unwrap();
    assert_eq!(ks.create_pending(&c1).unwrap(), pk);
    assert_eq!(
        ks.create_pending(&ctx("p1", "other")).unwrap_err().code(),
        Code::PendingConflict
    );
    let pk2 = ks.create_pending(&ctx("p2", "slug-2")).unwrap();
    assert_ne!(pk, pk2);
    assert_eq!(ks.pending_context("p1").unwrap(), c1);
    assert_eq!(
        ks.pending_context("nope").unwrap_err().code(),
        Code::RecordNotFound
    );
    let list = ks.list_pending().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list.iter()
            .find(|p| p.pending_id == "p1")
            .unwrap()
            .public_key,
        pk.public_key
    );
    assert_eq!(list[0].fingerprint, list[0].public_key.fingerprint());
    let st = ks.status().unwrap();
    assert_eq!(st.pending, 2);
    assert_eq!(st.format_version, 2);
    assert_eq!(st.kek_id, kek().kek_id());
}

#[test]
fn store_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a").join("b");
    let ks = Keystore::open(&data, &kek()).unwrap();
    ks.put_record(Purpose::NodeHmacSecret, "x", b"y").unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for f in [DB_FILE, "keystore.db-wal", "keystore.db-shm"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    assert_eq!(ks.db_path(), data.join(DB_FILE));
    // A directory others can write to is refused (they could swap the file).
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(
        Keystore::open(&open, &kek()).unwrap_err().code(),
        Code::StoreUnavailable
    );
}

/// Only a missing file is a new store: an empty (truncated) one would
/// otherwise be re-created, losing every secret and the node identity.
#[test]
fn an_empty_store_file_fails_closed_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    ks.put_record(Purpose::NodeHmacSecret, "n", b"hmac")
        .unwrap();
    drop(ks);
    let path = dir.path().join(DB_FILE);
    std::fs::File::create(&path).unwrap();
    for _ in 0..2 {
        let err = Keystore::open(dir.path(), &kek()).unwrap_err();
        assert_eq!(err.code(), Code::StoreUnavailable, "{err}");
        assert!(err.detail().contains("empty (0 bytes)"), "{err}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    }
    assert!(Keystore::expected_kek_ids(dir.path())
        .unwrap_or_default()
        .is_empty());
    // Deleting it is the operator's explicit choice: then a new store.
    std::fs::remove_file(&path).unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    assert_eq!(
        ks.get_record(Purpose::NodeHmacSecret, "n")
            .unwrap_err()
            .code(),
        Code::RecordNotFound
    );
    // No temporary file is left behind by the creation.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".new-"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

/// SQLite takes a file of a byte or a few as an empty database: the
/// keystore must not re-initialise it (that drops every secret and the
/// node identity). It must start with SQLite's header, else 8506, untouched.
#[test]
fn a_short_or_foreign_store_file_fails_closed_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    ks.put_record(Purpose::NodeHmacSecret, "n", b"hmac")
        .unwrap();
    drop(ks);
    let path = dir.path().join(DB_FILE);
    let real = std::fs::read(&path).unwrap();
    let mut foreign = real.clone();
    foreign[..16].copy_from_slice(b"not a database!\0");
    for contents in [&real[..1], &real[..50], &real[..99], &foreign[..]] {
        std::fs::write(&path, contents).unwrap();
        let err = Keystore::open(dir.path(), &kek()).unwrap_err();
        assert_eq!(err.code(), Code::StoreUnavailable, "{err}");
        assert!(
            err.detail().contains("not an SQLite database")
                && err.detail().contains("Restore it from a backup"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), contents, "file changed");
    }
    std::fs::write(&path, &real).unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    assert_eq!(
        &ks.get_record(Purpose::NodeHmacSecret, "n").unwrap()[..],
        b"hmac"
    );
}

/// A crash between linking a new store into place and removing its
/// temporary name leaves a second name of the live file: the next open
/// removes exactly such names and nothing else.
#[cfg(unix)]
#[test]
fn a_stale_second_name_of_the_store_is_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    drop(Keystore::open(dir.path(), &kek()).unwrap());
    let path = dir.path().join(DB_FILE);
    let stale = dir.path().join("keystore.db.new-4242-0123456789abcdef");
    let other_name = dir.path().join("keystore.db.new-4242-0123456789abcdeX");
    let other_file = dir.path().join("keystore.db.new-4243-0123456789abcdef");
    std::fs::hard_link(&path, &stale).unwrap();
    std::fs::hard_link(&path, &other_name).unwrap();
    std::fs::write(&other_file, b"a racing first open's file").unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    assert!(!stale.exists(), "the stale name was kept");
    assert!(other_name.exists() && other_file.exists());
    ks.put_record(Purpose::NodeHmacSecret, "n", b"hmac")
        .unwrap();
}

/// The store is created by linking a finished file into place, so first
/// opens racing each other never see an empty file: all share one store.
#[test]
fn racing_first_opens_make_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh");
    let go = std::sync::Barrier::new(4);
    let deks: Vec<Vec<String>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    go.wait();
                    let ks = Keystore::open(&data, &kek()).unwrap();
                    ks.status()
                        .unwrap()
                        .deks
                        .into_iter()
                        .map(|d| d.dek_id)
                        .collect()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(deks[0].len(), 1);
    assert!(deks.iter().all(|d| d == &deks[0]), "{deks:?}");
}

#[test]
fn debug_output_never_shows_keys() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = KekConfig::new([0xab; 32], Some([0xcd; 32]));
    let ks = Keystore::open(dir.path(), &cfg).unwrap();
    ks.put_record(Purpose::NodeHmacSecret, "n", b"VERY-SECRET-HMAC")
        .unwrap();
    let dbg = format!(
        "{cfg:?} {ks:?} {:?} {:?}",
        ks.status().unwrap(),
        ks.audit().unwrap()
    );
    assert!(dbg.contains(cfg.kek_id()));
    for bad in [
        "171, 171",
        "205, 205",
        "abababab",
        "cdcdcdcd",
        "VERY-SECRET",
        "q6ur",
        "zc3N",
    ] {
        assert!(!dbg.contains(bad), "{bad} in {dbg}");
    }
}

mod accept {
    use super::*;
    use sealpass_native::keystore::KeyStatus;

    #[test]
    fn key_status_reads_metadata_only_and_writes_no_audit_row() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::open(dir.path(), &kek()).unwrap();
        assert_eq!(ks.key_status("p-st").unwrap(), KeyStatus::Missing);
        let c = ctx("p-st", "api");
        let keys = ks.create_pending(&c).unwrap();
        assert_eq!(ks.key_status("p-st").unwrap(), KeyStatus::Waiting);
        let env = sealpass::seal_v2(&keys.public_key, &keys.identity_key.unwrap(), b"v", &c)
            .unwrap()
            .to_json();
        ks.accept("p-st", env.as_bytes(), open_any).unwrap();
        let rows = ks.audit().unwrap().len();
        assert_eq!(
            ks.key_status("p-st").unwrap(),
            KeyStatus::Consumed { stored: true }
        );
        // Another delivery under the same slug replaces the secret.
        let c2 = ctx("p-st2", "api");
        let k2 = ks.create_pending(&c2).unwrap();
        let env = sealpass::seal_v2(&k2.public_key, &k2.identity_key.unwrap(), b"w", &c2)
            .unwrap()
            .to_json();
        ks.accept("p-st2", env.as_bytes(), open_any).unwrap();
        let rows2 = ks.audit().unwrap().len();
        assert_eq!(
            ks.key_status("p-st").unwrap(),
            KeyStatus::Consumed { stored: false }
        );
        assert_eq!(ks.audit().unwrap().len(), rows2);
        assert!(rows2 > rows);
    }

    #[test]
    fn accept_consumes_once_and_keeps_the_key_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::open(dir.path(), &kek()).unwrap();
        let c = ctx("p-acc", "api");
        let keys = ks.create_pending(&c).unwrap();
        let (pk, nik) = (keys.public_key, keys.identity_key.unwrap());
        assert_eq!(nik, ks.node_identity().unwrap().public_key());
        // Sealed for a different context (the relay lied about the slug): 8006, key kept.
        let wrong = sealpass::seal_v2(&pk, &nik, b"s3cret", &ctx("p-acc", "elsewhere")).unwrap();
        let err = ks
            .accept("p-acc", wrong.to_json().as_bytes(), open_any)
            .unwrap_err();
        assert_eq!(err.code(), Code::DecryptFailed);
        assert_eq!(ks.list_pending().unwrap().len(), 1);
        assert_eq!(
            ks.accept("p-acc", b"not json", open_any)
                .unwrap_err()
                .code(),
            Code::EnvelopeNotJson
        );
        let big = vec![b' '; sealpass::envelope::MAX_ENVELOPE_JSON + 1];
        assert_eq!(
            ks.accept("p-acc", &big, open_any).unwrap_err().code(),
            Code::CiphertextTooLarge
        );
        assert_eq!(
            ks.accept("nope", b"{}", open_any).unwrap_err().code(),
            Code::RecordNotFound
        );

        let env = sealpass::seal_v2(&pk, &nik, b"s3cret", &c)
            .unwrap()
            .to_json();
        let a = ks.accept("p-acc", env.as_bytes(), open_any).unwrap();
        assert_eq!(
            (
                a.slug.as_str(),
                a.pending_id.as_str(),
                a.node_id.as_str(),
                a.size
            ),
            ("api", "p-acc", "node-a", 6)
        );
        assert_eq!(&ks.secret_get("api").unwrap()[..], b"s3cret");
        assert_eq!(
            ks.accept("p-acc", env.as_bytes(), open_any)
                .unwrap_err()
                .code(),
            Code::AlreadyConsumed
        );
        assert_eq!(
            ks.get_record(Purpose::PendingKey, "p-acc")
                .unwrap_err()
                .code(),
            Code::RecordNotFound
        );
        assert!(ks.list_pending().unwrap().is_empty());
        assert_eq!(ks.pending_context("p-acc").unwrap(), c);
        assert_eq!(
            ks.create_pending(&c).unwrap_err().code(),
            Code::AlreadyConsumed
        );
        let meta = ks.secret_list().unwrap();
        assert_eq!(meta.len(), 1);
        assert_eq!(
            (meta[0].size, meta[0].field_name.as_str()),
            (6, "Authorization")
        );
        assert_eq!(meta[0].target_url, "https://api.example/v1");
        assert!(!format!("{meta:?} {a:?}").contains("s3cret"));
        let codes: Vec<_> = ks
            .audit()
            .unwrap()
            .into_iter()
            .filter(|e| e.event == "accept")
            .map(|e| e.code)
            .collect();
        assert!(
            codes.contains(&Some(8006)) && codes.contains(&None) && codes.contains(&Some(8507))
        );
    }
}

#[test]
fn node_identity_is_made_once_sealed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    assert!(ks.existing_node_identity().unwrap().is_none());
    let a = ks.node_identity().unwrap();
    let b = ks.node_identity().unwrap();
    assert_eq!(a.as_bytes(), b.as_bytes(), "made once");
    drop(ks);
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    let c = ks
        .existing_node_identity()
        .unwrap()
        .expect("kept across opens");
    assert_eq!(a.public_key(), c.public_key());
    // Sealed like every record: the raw key bytes are nowhere in the files.
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(
            !bytes.windows(32).any(|w| w == a.as_bytes()),
            "identity key in the clear in {}",
            entry.path().display()
        );
    }
    // Accept opens a v2 envelope sealed to it when given the identity key.
    let c2 = ctx("p-v2", "api");
    let pk = ks.create_pending(&c2).unwrap().public_key;
    let env = sealpass::seal_v2(&pk, &a.public_key(), b"v2-secret", &c2).unwrap();
    let json = env.to_json();
    assert_eq!(
        ks.accept("p-v2", json.as_bytes(), |sk, _, e, cx| {
            sealpass_open::open_json(sk, e, cx)
        })
        .unwrap_err()
        .code(),
        Code::IdentityKeyRequired
    );
    let accepted = ks.accept("p-v2", json.as_bytes(), open_any).unwrap();
    assert_eq!(accepted.size, 9);
    assert_eq!(&ks.secret_get("api").unwrap()[..], b"v2-secret");
}

/// `open_existing` (read commands) opens a store that is there and makes
/// nothing when there is none: no directory, no file, also when the file
/// is gone; any other failure to look is an error, not "no store".
#[test]
fn open_existing_never_creates_a_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a").join("store");
    assert!(Keystore::open_existing(&dir, &kek()).unwrap().is_none());
    assert!(!tmp.path().join("a").exists(), "a directory was created");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(Keystore::open_existing(&dir, &kek()).unwrap().is_none());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "a file was created"
    );
    // An existing store opens, with what it holds.
    drop(Keystore::open(&dir, &kek()).unwrap());
    let ks = Keystore::open_existing(&dir, &kek()).unwrap().unwrap();
    ks.put_record(Purpose::NodeHmacSecret, "n", b"v").unwrap();
    drop(ks);
    let ks = Keystore::open_existing(&dir, &kek()).unwrap().unwrap();
    assert_eq!(
        &ks.get_record(Purpose::NodeHmacSecret, "n").unwrap()[..],
        b"v"
    );
    drop(ks);
    // Not a directory: an error, not "none".
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let e = Keystore::open_existing(&file.join("sub"), &kek()).unwrap_err();
    assert_eq!(e.code(), Code::StoreUnavailable, "{e}");
    // A wrong KEK still fails closed.
    let e = Keystore::open_existing(&dir, &KekConfig::new([1; 32], None)).unwrap_err();
    assert_eq!(e.code(), Code::KekMismatch);
    assert!(!dir.join(format!("{DB_FILE}-journal")).exists());
}
