//! Rotation: KEK rotation with a previous KEK, DEK rotation, an injected
//! failure inside the rotation transaction (nothing may change), a 10,000
//! record store, and fail-closed opening with a wrong KEK.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use rusqlite::Connection;
use sealpass::Code;
use sealpass_native::keystore::{KekConfig, Keystore, Purpose, DB_FILE};

const K1: [u8; 32] = [0x21; 32];
const K2: [u8; 32] = [0x42; 32];
const K3: [u8; 32] = [0x63; 32];

fn only(k: [u8; 32]) -> KekConfig {
    KekConfig::new(k, None)
}

type Row = (String, String, String, Vec<u8>);

/// deks + records tables, byte for byte (to prove nothing changed).
fn snapshot(dir: &Path) -> (Vec<Row>, Vec<Row>) {
    let c = Connection::open(dir.join(DB_FILE)).unwrap();
    let q = |sql: &str| -> Vec<Row> {
        let mut st = c.prepare(sql).unwrap();
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    };
    (
        q("SELECT dek_id, kek_id, state, wrapped FROM deks ORDER BY dek_id"),
        q("SELECT purpose, record_id, dek_id, blob FROM records ORDER BY purpose, record_id"),
    )
}

fn fill(ks: &Keystore, n: usize) -> BTreeMap<(Purpose, String), Vec<u8>> {
    let mut want = BTreeMap::new();
    for (pi, p) in [
        Purpose::DeliveredSecret,
        Purpose::RelayHmacSecret,
        Purpose::NodeHmacSecret,
        Purpose::PendingKey,
    ]
    .into_iter()
    .enumerate()
    {
        let items: Vec<(String, Vec<u8>)> = (0..n / 4)
            .map(|i| {
                (
                    format!("rec-{pi}-{i}"),
                    format!("value {pi}/{i} {}", "x".repeat(i % 50)).into_bytes(),
                )
            })
            .collect();
        ks.put_records_bulk(p, &items).unwrap();
        for (id, v) in items {
            want.insert((p, id), v);
        }
    }
    want
}

fn check_all(ks: &Keystore, want: &BTreeMap<(Purpose, String), Vec<u8>>) {
    for ((p, id), v) in want {
        assert_eq!(&ks.get_record(*p, id).unwrap()[..], &v[..], "{p:?} {id}");
    }
}

#[test]
fn interrupted_dek_rotation_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &only(K1)).unwrap();
    let want = fill(&ks, 200);
    let before = snapshot(dir.path());
    for fail_after in [0, 1, 100, 199, 200] {
        let err = ks.rotate_dek_with_fault(fail_after).unwrap_err();
        assert_eq!(err.code(), Code::StoreUnavailable, "{err}");
        assert_eq!(
            snapshot(dir.path()),
            before,
            "fault after {fail_after} records left changes behind"
        );
    }
    // A new process with the old keys reads everything.
    drop(ks);
    let ks = Keystore::open(dir.path(), &only(K1)).unwrap();
    check_all(&ks, &want);
    let st = ks.status().unwrap();
    assert_eq!(st.deks.len(), 1);
    assert_eq!(st.deks[0].records, 200);
    let failures = ks
        .audit()
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "rotate-dek" && e.outcome == "error")
        .count();
    assert_eq!(failures, 5);
    // And the real rotation then works.
    let r = ks.rotate_dek().unwrap();
    assert_eq!(r.records_resealed, 200);
    assert_eq!(r.dropped_dek_ids, vec![before.0[0].0.clone()]);
    check_all(&ks, &want);
    assert_ne!(snapshot(dir.path()).1, before.1);
}

#[test]
fn interrupted_kek_rotation_keeps_the_old_kek_working() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &only(K1)).unwrap();
    let want = fill(&ks, 40);
    drop(ks);
    let before = snapshot(dir.path());
    let ks = Keystore::open(dir.path(), &KekConfig::new(K2, Some(K1))).unwrap();
    for fail_after in [0, 1] {
        ks.rotate_kek_with_fault(fail_after).unwrap_err();
        assert_eq!(snapshot(dir.path()), before);
    }
    drop(ks);
    let ks = Keystore::open(dir.path(), &only(K1)).unwrap();
    check_all(&ks, &want);
    drop(ks);
    // Complete it: afterwards only K2 opens the store, K1 is refused.
    let ks = Keystore::open(dir.path(), &KekConfig::new(K2, Some(K1))).unwrap();
    check_all(&ks, &want); // reads during the rotation window use the previous KEK
    assert_eq!(ks.rotate_kek().unwrap().deks_rewrapped, 1);
    assert_eq!(ks.rotate_kek().unwrap().deks_rewrapped, 0, "idempotent");
    drop(ks);
    let err = Keystore::open(dir.path(), &only(K1)).unwrap_err();
    assert_eq!(err.code(), Code::KekMismatch);
    assert!(
        err.detail().contains(only(K2).kek_id()),
        "names the expected KEK id: {err}"
    );
    let ks = Keystore::open(dir.path(), &only(K2)).unwrap();
    check_all(&ks, &want);
    assert_eq!(ks.status().unwrap().deks[0].kek_id, only(K2).kek_id());
}

#[test]
fn wrong_kek_fails_closed_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &only(K1)).unwrap();
    let want = fill(&ks, 8);
    drop(ks);
    let before = snapshot(dir.path());
    for cfg in [
        only(K3),
        KekConfig::new(K3, Some(K2)),
        KekConfig::dev_insecure(),
    ] {
        let err = Keystore::open(dir.path(), &cfg).unwrap_err();
        assert_eq!(err.code(), Code::KekMismatch, "{err}");
        assert!(err.detail().contains(only(K1).kek_id()), "{err}");
        assert!(err.detail().contains(cfg.kek_id()), "{err}");
        assert_eq!(snapshot(dir.path()), before);
    }
    let ks = Keystore::open(dir.path(), &only(K1)).unwrap();
    check_all(&ks, &want);
    let mismatches: Vec<_> = ks
        .audit()
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "kek-mismatch")
        .collect();
    assert_eq!(mismatches.len(), 3);
    assert!(mismatches
        .iter()
        .all(|e| e.outcome == "error" && e.code == Some(8502)));
}

#[test]
fn rotation_of_10000_records() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path(), &only(K1)).unwrap();
    let t = Instant::now();
    let want = fill(&ks, 10_000);
    eprintln!("insert 10000: {:?}", t.elapsed());
    drop(ks);
    let ks = Keystore::open(dir.path(), &KekConfig::new(K2, Some(K1))).unwrap();
    assert_eq!(ks.rotate_kek().unwrap().deks_rewrapped, 1);
    let t = Instant::now();
    let r = ks.rotate_dek().unwrap();
    eprintln!("rotate-dek 10000: {:?}", t.elapsed());
    assert_eq!(r.records_resealed, 10_000);
    drop(ks);
    let ks = Keystore::open(dir.path(), &only(K2)).unwrap();
    let t = Instant::now();
    assert_eq!(ks.verify().unwrap(), 10_000);
    eprintln!("verify 10000: {:?}", t.elapsed());
    let st = ks.status().unwrap();
    assert_eq!(st.deks.len(), 1);
    assert_eq!(st.deks[0].records, 10_000);
    assert_eq!(Some(st.deks[0].dek_id.clone()), r.new_dek_id);
    // Spot-check plaintexts (every 97th record) through the audited API.
    for ((p, id), v) in want.iter().step_by(97) {
        assert_eq!(&ks.get_record(*p, id).unwrap()[..], &v[..]);
    }
}
