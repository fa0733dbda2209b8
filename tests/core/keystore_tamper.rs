//! Every stored blob type, edited on disk with rusqlite: flipped bytes in
//! the nonce, ciphertext and tag, blobs swapped between records and
//! purposes, and wrapped DEKs edited or swapped. Each must fail with 8504
//! RecordTampered, leave the stored bytes as they were, and read again once
//! the original bytes are restored.

use std::path::Path;

use rusqlite::{params, Connection};
use sealpass::{Code, Context};
use sealpass_native::keystore::{KekConfig, Keystore, Purpose, DB_FILE};

const HEADER: usize = 1 + 8 + 24;
const TAG: usize = 16;

fn kek() -> KekConfig {
    KekConfig::new([0x11; 32], None)
}

fn db(dir: &Path) -> Connection {
    let c = Connection::open(dir.join(DB_FILE)).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c
}

fn blob(c: &Connection, purpose: Purpose, id: &str) -> Vec<u8> {
    c.query_row(
        "SELECT blob FROM records WHERE purpose = ?1 AND record_id = ?2",
        params![purpose.name(), id],
        |r| r.get(0),
    )
    .unwrap()
}

fn set_blob(c: &Connection, purpose: Purpose, id: &str, b: &[u8]) {
    let n = c
        .execute(
            "UPDATE records SET blob = ?3 WHERE purpose = ?1 AND record_id = ?2",
            params![purpose.name(), id, b],
        )
        .unwrap();
    assert_eq!(n, 1);
}

/// Read a record the way its users do (pending keys through their context).
fn read(ks: &Keystore, purpose: Purpose, id: &str) -> Result<Vec<u8>, sealpass::Error> {
    match purpose {
        Purpose::PendingKey => ks.pending_context(id).map(|c| c.to_json().into_bytes()),
        Purpose::DeliveredSecret => ks.secret_get(id).map(|v| v.to_vec()),
        _ => ks.get_record(purpose, id).map(|v| v.to_vec()),
    }
}

fn setup(dir: &Path) -> (Keystore, Vec<(Purpose, String, Vec<u8>)>) {
    let ks = Keystore::open(dir, &kek()).unwrap();
    let ctx = Context::new("n1", "pend-1", "slug-a", "env", Some("TOKEN"), None).unwrap();
    ks.create_pending(&ctx).unwrap();
    let ctx2 = Context::new("n1", "pend-2", "slug-b", "env", None, None).unwrap();
    ks.create_pending(&ctx2).unwrap();
    let mut items = vec![
        (
            Purpose::PendingKey,
            "pend-1".to_string(),
            ctx.to_json().into_bytes(),
        ),
        (
            Purpose::PendingKey,
            "pend-2".to_string(),
            ctx2.to_json().into_bytes(),
        ),
        // The identity the two keys are bound to (made by the first one).
        (
            Purpose::NodeIdentityKey,
            "identity".to_string(),
            ks.node_identity().unwrap().as_bytes().to_vec(),
        ),
    ];
    for (p, id, v) in [
        (
            Purpose::DeliveredSecret,
            "slug-a",
            &b"delivered secret A"[..],
        ),
        (Purpose::DeliveredSecret, "slug-b", b"delivered secret B"),
        (
            Purpose::RelayHmacSecret,
            "node-1",
            b"relay hmac 1 bytes........",
        ),
        (
            Purpose::RelayHmacSecret,
            "node-2",
            b"relay hmac 2 bytes........",
        ),
        (
            Purpose::NodeHmacSecret,
            "node-1",
            b"node hmac 1 bytes.........",
        ),
        (
            Purpose::NodeHmacSecret,
            "node-2",
            b"node hmac 2 bytes.........",
        ),
    ] {
        ks.put_record(p, id, v).unwrap();
        items.push((p, id.to_string(), v.to_vec()));
    }
    for (p, id, v) in &items {
        assert_eq!(&read(&ks, *p, id).unwrap(), v, "{p:?} {id}");
    }
    (ks, items)
}

#[test]
fn flipped_bytes_in_every_record_blob_are_refused_and_left_intact() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, items) = setup(dir.path());
    let c = db(dir.path());
    let mut checked = 0;
    for (p, id, want) in &items {
        let orig = blob(&c, *p, id);
        let len = orig.len();
        let offsets = [
            ("dek id", 1),
            ("dek id", 8),
            ("nonce", 9),
            ("nonce", 20),
            ("nonce", HEADER - 1),
            ("ciphertext", HEADER),
            ("ciphertext", len - TAG - 1),
            ("tag", len - TAG),
            ("tag", len - 1),
        ];
        for (region, off) in offsets {
            let mut bad = orig.clone();
            bad[off] ^= 0x01;
            set_blob(&c, *p, id, &bad);
            let err = read(&ks, *p, id).unwrap_err();
            assert_eq!(
                err.code(),
                Code::RecordTampered,
                "{p:?} {id} {region} @{off}: {err}"
            );
            assert_eq!(
                blob(&c, *p, id),
                bad,
                "a failed read must not change the stored bytes"
            );
            set_blob(&c, *p, id, &orig);
            assert_eq!(
                &read(&ks, *p, id).unwrap(),
                want,
                "{p:?} {id} after restore"
            );
            checked += 1;
        }
        // Truncation, an unknown format version and the old format
        // (only the migration reads it) are refused too.
        set_blob(&c, *p, id, &orig[..HEADER + TAG - 1]);
        assert_eq!(read(&ks, *p, id).unwrap_err().code(), Code::RecordTampered);
        for (v, code) in [(3, Code::FormatUnsupported), (1, Code::RecordTampered)] {
            let mut other = orig.clone();
            other[0] = v;
            set_blob(&c, *p, id, &other);
            assert_eq!(
                read(&ks, *p, id).unwrap_err().code(),
                code,
                "{p:?} {id} v{v}"
            );
        }
        set_blob(&c, *p, id, &orig);
    }
    assert_eq!(checked, items.len() * 9);
    assert_eq!(ks.verify().unwrap(), items.len());
}

#[test]
fn blobs_swapped_between_records_and_purposes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, items) = setup(dir.path());
    let c = db(dir.path());
    let mut pairs = 0;
    for (pa, ida, _) in &items {
        for (pb, idb, want_b) in &items {
            if (pa, ida) == (pb, idb) {
                continue;
            }
            let a = blob(&c, *pa, ida);
            let b = blob(&c, *pb, idb);
            set_blob(&c, *pb, idb, &a);
            let err = read(&ks, *pb, idb).unwrap_err();
            assert_eq!(
                err.code(),
                Code::RecordTampered,
                "{pa:?}/{ida} into {pb:?}/{idb}"
            );
            set_blob(&c, *pb, idb, &b);
            assert_eq!(&read(&ks, *pb, idb).unwrap(), want_b);
            pairs += 1;
        }
    }
    assert_eq!(pairs, items.len() * (items.len() - 1));
    // Moving a whole row to another purpose (blob and all) fails as well.
    c.execute(
        "UPDATE records SET purpose = 'node-hmac-secret' WHERE purpose = 'relay-hmac-secret' AND record_id = 'node-1'",
        [],
    )
    .unwrap_err(); // primary key clash: node-hmac-secret/node-1 exists
    c.execute(
        "DELETE FROM records WHERE purpose = 'node-hmac-secret' AND record_id = 'node-2'",
        [],
    )
    .unwrap();
    c.execute(
        "UPDATE records SET purpose = 'node-hmac-secret' WHERE purpose = 'relay-hmac-secret' AND record_id = 'node-2'",
        [],
    )
    .unwrap();
    assert_eq!(
        ks.get_record(Purpose::NodeHmacSecret, "node-2")
            .unwrap_err()
            .code(),
        Code::RecordTampered
    );
    assert_eq!(ks.verify().unwrap_err().code(), Code::RecordTampered);
}

fn wrapped(c: &Connection) -> (String, Vec<u8>) {
    c.query_row(
        "SELECT dek_id, wrapped FROM deks WHERE state = 'active'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[test]
fn edited_or_swapped_wrapped_deks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, items) = setup(dir.path());
    let c = db(dir.path());
    let (dek_id, orig) = wrapped(&c);
    assert_eq!(orig.len(), HEADER + 32 + TAG);
    let (p, id, want) = &items[2];
    for off in [
        1,
        9,
        HEADER - 1,
        HEADER,
        HEADER + 31,
        orig.len() - TAG,
        orig.len() - 1,
    ] {
        let mut bad = orig.clone();
        bad[off] ^= 0x80;
        c.execute(
            "UPDATE deks SET wrapped = ?2 WHERE dek_id = ?1",
            params![dek_id, bad],
        )
        .unwrap();
        let code = Keystore::open(dir.path(), &kek()).unwrap_err().code();
        // Bytes 1..9 are the KEK id: an unknown KEK id is a mismatch, not a forgery.
        let want_code = if (1..9).contains(&off) {
            Code::KekMismatch
        } else {
            Code::RecordTampered
        };
        assert_eq!(code, want_code, "open, wrapped DEK byte {off}");
        assert_eq!(
            read(&ks, *p, id).unwrap_err().code(),
            want_code,
            "read, wrapped DEK byte {off}"
        );
        let now: Vec<u8> = c
            .query_row("SELECT wrapped FROM deks", [], |r| r.get(0))
            .unwrap();
        assert_eq!(now, bad);
        c.execute(
            "UPDATE deks SET wrapped = ?2 WHERE dek_id = ?1",
            params![dek_id, orig],
        )
        .unwrap();
        assert_eq!(&read(&ks, *p, id).unwrap(), want);
    }
    // The wrapped DEK of another store under the same KEK: the DEK id in the AAD differs.
    let other = tempfile::tempdir().unwrap();
    drop(Keystore::open(other.path(), &kek()).unwrap());
    let (_, foreign) = wrapped(&db(other.path()));
    c.execute(
        "UPDATE deks SET wrapped = ?2 WHERE dek_id = ?1",
        params![dek_id, foreign],
    )
    .unwrap();
    assert_eq!(
        Keystore::open(dir.path(), &kek()).unwrap_err().code(),
        Code::RecordTampered
    );
    c.execute(
        "UPDATE deks SET wrapped = ?2 WHERE dek_id = ?1",
        params![dek_id, orig],
    )
    .unwrap();
    let ks2 = Keystore::open(dir.path(), &kek()).unwrap();
    assert_eq!(ks2.verify().unwrap(), items.len());
    let tampered = ks2
        .audit()
        .unwrap()
        .into_iter()
        .filter(|e| e.code == Some(8504))
        .count();
    assert!(tampered >= 8, "tamper failures are audited ({tampered})");
}

#[test]
fn audit_trail_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, _) = setup(dir.path());
    let c = db(dir.path());
    let before = ks.audit().unwrap();
    assert!(c.execute("UPDATE audit SET event = 'x'", []).is_err());
    assert!(c.execute("DELETE FROM audit", []).is_err());
    assert_eq!(ks.audit().unwrap(), before);
    for ev in [
        "init",
        "open",
        "pending-new",
        "record-put",
        "record-get",
        "secret-get",
        "pending-context",
    ] {
        assert!(before.iter().any(|e| e.event == ev), "audit has {ev}");
    }
}
