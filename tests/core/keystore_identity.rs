//! Identity generations in the keystore (docs/PINNING.md §6): every one-time
//! key is bound, inside its sealed record, to the identity current when it
//! was made; a rotation retires the old identity, which opens only its own
//! keys' envelopes and is deleted once none is left; v1 for a bound key is a
//! downgrade; both key rotations carry every identity.

use sealpass::{Code, Context, PublicKey, SecretKey};
use sealpass_native::keystore::{KekConfig, Keystore, Purpose, DB_FILE};

use super::keystore_api::open_any;

fn kek() -> KekConfig {
    KekConfig::new([0x33; 32], None)
}

fn ctx(pending: &str, slug: &str) -> Context {
    Context::new("node-a", pending, slug, "env", Some("TOKEN"), None).unwrap()
}

fn v2(ks: &Keystore, pending: &str, nik: &PublicKey, pt: &[u8]) -> String {
    let c = ks.pending_context(pending).unwrap();
    let pk = ks
        .list_pending()
        .unwrap()
        .into_iter()
        .find(|m| m.pending_id == pending)
        .unwrap()
        .public_key;
    sealpass::seal_v2(&pk, nik, pt, &c).unwrap().to_json()
}

fn identity_records(ks: &Keystore) -> usize {
    let st = ks.status().unwrap();
    st.records_by_purpose
        .iter()
        .find(|(p, _)| p == Purpose::NodeIdentityKey.name())
        .map_or(0, |(_, n)| *n as usize)
}

#[test]
fn keys_open_with_the_identity_they_were_bound_to() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    let before = ks.create_pending(&ctx("p-old", "old")).unwrap();
    let old = before.identity_key.unwrap();
    assert_eq!(old, ks.node_identity().unwrap().public_key());

    let r = ks.rotate_node_identity().unwrap();
    let new = r.new.public_key;
    assert_ne!(new, old);
    assert_eq!(r.previous, Some(old));
    assert_eq!(r.previous_pending_keys, 1);
    assert!(r.deleted.is_empty(), "the old identity is still in use");
    assert_eq!(ks.node_identity().unwrap().public_key(), new);
    // Idempotent re-create still reports the old binding.
    assert_eq!(ks.create_pending(&ctx("p-old", "old")).unwrap(), before);

    let after = ks.create_pending(&ctx("p-new", "new")).unwrap();
    assert_eq!(after.identity_key, Some(new));
    let list = ks.list_pending().unwrap();
    let bound = |id: &str| {
        list.iter()
            .find(|m| m.pending_id == id)
            .unwrap()
            .identity_key
    };
    assert_eq!(bound("p-old"), Some(old));
    assert_eq!(bound("p-new"), Some(new));

    let ids = ks.node_identities().unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[1].current && !ids[0].current);
    assert_eq!((ids[0].pending_keys, ids[1].pending_keys), (1, 1));
    assert_eq!(ids[0].public_key, old);

    // The new key does not open an envelope sealed to the old identity,
    // the old key not one sealed to the new identity: 8006, keys kept.
    let e = ks
        .accept("p-new", v2(&ks, "p-new", &old, b"x").as_bytes(), open_any)
        .unwrap_err();
    assert_eq!(e.code(), Code::DecryptFailed);
    let e = ks
        .accept("p-old", v2(&ks, "p-old", &new, b"x").as_bytes(), open_any)
        .unwrap_err();
    assert_eq!(e.code(), Code::DecryptFailed);
    assert_eq!(ks.list_pending().unwrap().len(), 2);

    // Each opens with its own.
    ks.accept(
        "p-new",
        v2(&ks, "p-new", &new, b"new!").as_bytes(),
        open_any,
    )
    .unwrap();
    assert_eq!(identity_records(&ks), 2, "old identity still has a key");
    ks.accept(
        "p-old",
        v2(&ks, "p-old", &old, b"old!").as_bytes(),
        open_any,
    )
    .unwrap();
    assert_eq!(&ks.secret_get("old").unwrap()[..], b"old!");
    assert_eq!(&ks.secret_get("new").unwrap()[..], b"new!");

    // Its last key consumed, the retired identity's secret is gone (audited).
    assert_eq!(identity_records(&ks), 1);
    let ids = ks.node_identities().unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].public_key, new);
    let audit = ks.audit().unwrap();
    let del: Vec<_> = audit
        .iter()
        .filter(|e| e.event == "identity-delete")
        .collect();
    assert_eq!(del.len(), 1, "{audit:?}");
    assert_eq!(del[0].record_id.as_deref(), Some("identity"));
    assert!(del[0]
        .detail
        .as_deref()
        .unwrap()
        .contains(&old.identity_fingerprint()));
    assert!(audit.iter().any(|e| e.event == "identity-rotate"));
}

#[test]
fn a_v1_envelope_for_a_bound_key_is_a_downgrade() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    let k = ks.create_pending(&ctx("p1", "s")).unwrap();
    let v1 = sealpass::seal(&k.public_key, b"pw", &ks.pending_context("p1").unwrap())
        .unwrap()
        .to_json();
    let mut opened = false;
    let e = ks
        .accept("p1", v1.as_bytes(), |sk, isk, env, c| {
            opened = true;
            open_any(sk, isk, env, c)
        })
        .unwrap_err();
    assert_eq!(e.code(), Code::VersionDowngrade);
    assert!(!opened, "refused before any opening");
    assert_eq!(ks.list_pending().unwrap().len(), 1, "key kept");
    assert!(ks.secret_list().unwrap().is_empty());
    let last = ks
        .audit()
        .unwrap()
        .into_iter()
        .rev()
        .find(|e| e.event == "accept")
        .unwrap();
    assert_eq!((last.outcome.as_str(), last.code), ("error", Some(8308)));
    // The real v2 envelope still opens afterwards.
    let nik = k.identity_key.unwrap();
    ks.accept("p1", v2(&ks, "p1", &nik, b"pw").as_bytes(), open_any)
        .unwrap();
}

#[test]
fn rotating_with_no_bound_keys_deletes_the_old_identity_and_sweeps_prune() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    let first = ks.node_identity().unwrap().public_key();
    let r = ks.rotate_node_identity().unwrap();
    assert_eq!(r.previous_pending_keys, 0);
    assert_eq!(r.deleted, vec![first]);
    assert_eq!(identity_records(&ks), 1);
    assert_eq!(r.new.record_id, "identity-2");

    // A retired identity whose last key is swept (deleted unused) goes too.
    ks.create_pending(&ctx("p1", "s")).unwrap();
    let r2 = ks.rotate_node_identity().unwrap();
    assert_eq!(r2.previous_pending_keys, 1);
    assert_eq!(identity_records(&ks), 2);
    assert!(ks.delete_record(Purpose::PendingKey, "p1").unwrap());
    assert_eq!(identity_records(&ks), 1);
    assert_eq!(
        ks.node_identities().unwrap()[0].public_key,
        r2.new.public_key
    );
    assert_eq!(r2.new.record_id, "identity-3");
}

#[test]
fn kek_and_dek_rotation_carry_every_identity() {
    let dir = tempfile::tempdir().unwrap();
    let old_kek = kek();
    let ks = Keystore::open(dir.path(), &old_kek).unwrap();
    let k_old = ks.create_pending(&ctx("p-old", "old")).unwrap();
    ks.rotate_node_identity().unwrap();
    let k_new = ks.create_pending(&ctx("p-new", "new")).unwrap();
    let before = ks.node_identities().unwrap();
    assert_eq!(before.len(), 2);
    drop(ks);

    let new_kek = KekConfig::new([0x44; 32], Some([0x33; 32]));
    let ks = Keystore::open(dir.path(), &new_kek).unwrap();
    ks.rotate_kek().unwrap();
    let r = ks.rotate_dek().unwrap();
    assert!(r.records_resealed >= 4, "{r:?}");
    drop(ks);
    let ks = Keystore::open(dir.path(), &KekConfig::new([0x44; 32], None)).unwrap();
    assert_eq!(ks.node_identities().unwrap(), before);
    assert_eq!(ks.verify().unwrap(), 4);
    let nik_old = k_old.identity_key.unwrap();
    let nik_new = k_new.identity_key.unwrap();
    ks.accept(
        "p-old",
        v2(&ks, "p-old", &nik_old, b"o").as_bytes(),
        open_any,
    )
    .unwrap();
    ks.accept(
        "p-new",
        v2(&ks, "p-new", &nik_new, b"n").as_bytes(),
        open_any,
    )
    .unwrap();
    assert_eq!(ks.node_identities().unwrap().len(), 1);
}

#[test]
fn legacy_unbound_keys_still_open_v1() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    let nik = ks.node_identity().unwrap();
    // A record as stores made before binding hold it: sk || context JSON,
    // with its metadata row and no identity column value.
    let sk = SecretKey::generate().unwrap();
    let c = ctx("p-legacy", "legacy");
    let mut pt = sk.as_bytes().to_vec();
    pt.extend_from_slice(c.to_json().as_bytes());
    ks.put_record(Purpose::PendingKey, "p-legacy", &pt).unwrap();
    let db = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    db.execute(
        "INSERT INTO pending (pending_id, node_id, slug, context_json, public_key, state, created_at)
         VALUES ('p-legacy', 'node-a', 'legacy', ?1, ?2, 'pending', 0)",
        [c.to_json(), sk.public_key().to_b64u()],
    )
    .unwrap();
    let meta = ks.list_pending().unwrap();
    assert_eq!(meta[0].identity_key, None);
    assert_eq!(
        ks.create_pending(&c).unwrap().identity_key,
        None,
        "re-create reports no binding"
    );
    // It still counts for generation 1, which is kept while it waits.
    let r = ks.rotate_node_identity().unwrap();
    assert_eq!(r.previous_pending_keys, 1);
    assert!(r.deleted.is_empty());
    let v1 = sealpass::seal(&sk.public_key(), b"legacy-pw", &c).unwrap();
    ks.accept("p-legacy", v1.to_json().as_bytes(), open_any)
        .unwrap();
    assert_eq!(&ks.secret_get("legacy").unwrap()[..], b"legacy-pw");
    assert!(ks
        .node_identities()
        .unwrap()
        .iter()
        .all(|i| i.public_key != nik.public_key()));
}

#[test]
fn an_old_store_without_the_identity_column_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    drop(Keystore::open(dir.path(), &kek()).unwrap());
    {
        let db = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        db.execute_batch("ALTER TABLE pending DROP COLUMN identity_key")
            .unwrap();
    }
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    let k = ks.create_pending(&ctx("p1", "s")).unwrap();
    assert!(k.identity_key.is_some());
    assert_eq!(ks.list_pending().unwrap()[0].identity_key, k.identity_key);
}

#[test]
fn a_re_post_reports_the_sealed_binding_not_an_edited_plain_copy() {
    // Someone with write access to the file (no KEK) points the plain
    // identity column at a key of their own: the agent must not post it.
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &kek()).unwrap();
    let made = ks.create_pending(&ctx("p-1", "s")).unwrap();
    let evil = SecretKey::from_bytes([9; 32]).public_key();
    let db = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    db.execute(
        "UPDATE pending SET identity_key = ?1 WHERE pending_id = 'p-1'",
        [evil.to_b64u()],
    )
    .unwrap();
    let err = ks.create_pending(&ctx("p-1", "s")).unwrap_err();
    assert_eq!(err.code(), Code::RecordTampered);
    // Put back, the same keys as when it was made.
    db.execute(
        "UPDATE pending SET identity_key = ?1 WHERE pending_id = 'p-1'",
        [made.identity_key.unwrap().to_b64u()],
    )
    .unwrap();
    assert_eq!(ks.create_pending(&ctx("p-1", "s")).unwrap(), made);
}
