//! Two OS processes writing the same keystore at once lose nothing: two
//! workers each run `sealpass node pending new` many times while a third
//! rotates the DEK; afterwards every key is listed and every record opens.

use std::collections::BTreeSet;
use std::thread;

use sealpass_native::keystore::{KekConfig, Keystore};
use sealpass_tests::cli::{random_kek, run, write_ctx};

const PER_WORKER: usize = 25;

#[test]
fn concurrent_writers_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shared");
    let (kek, kek_raw) = random_kek();
    // The store exists before the workers start: `keystore rotate-dek`
    // never creates one.
    drop(Keystore::open(&data, &KekConfig::new(kek_raw, None)).unwrap());
    let mut ctxs = Vec::new();
    for w in 0..2 {
        for i in 0..PER_WORKER {
            ctxs.push((
                w,
                write_ctx(tmp.path(), &format!("p-{w}-{i}"), &format!("s-{w}-{i}")),
            ));
        }
    }
    let results: Vec<Vec<(String, String)>> = thread::scope(|s| {
        let mut handles = Vec::new();
        for w in 0..2 {
            let (data, kek, ctxs) = (&data, &kek, &ctxs);
            handles.push(s.spawn(move || {
                let mut out = Vec::new();
                for (_, ctx) in ctxs.iter().filter(|(ww, _)| *ww == w) {
                    let o = run(
                        data,
                        &[("SEALPASS_KEK", kek)],
                        &["node", "pending", "new", "--context", ctx.to_str().unwrap()],
                        b"",
                    )
                    .ok();
                    out.push((o.field("pending_id"), o.field("public_key")));
                }
                out
            }));
        }
        let (data, kek) = (&data, &kek);
        handles.push(s.spawn(move || {
            for _ in 0..4 {
                run(
                    data,
                    &[("SEALPASS_KEK", kek)],
                    &["keystore", "rotate-dek"],
                    b"",
                )
                .ok();
            }
            Vec::new()
        }));
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let made: BTreeSet<(String, String)> = results.into_iter().flatten().collect();
    assert_eq!(made.len(), 2 * PER_WORKER);

    let ks = Keystore::open(&data, &KekConfig::new(kek_raw, None)).unwrap();
    let listed: BTreeSet<(String, String)> = ks
        .list_pending()
        .unwrap()
        .into_iter()
        .map(|p| (p.pending_id, p.public_key.to_b64u()))
        .collect();
    assert_eq!(
        listed, made,
        "every key created by either process is there, with its key"
    );
    for (id, _) in &made {
        let ctx = ks.pending_context(id).unwrap();
        assert_eq!(ctx.pending_id(), id);
    }
    // Plus the one identity every key is bound to (made once, by whichever
    // process came first).
    assert_eq!(ks.node_identities().unwrap().len(), 1);
    assert_eq!(ks.verify().unwrap(), 2 * PER_WORKER + 1);
    let st = ks.status().unwrap();
    assert_eq!(st.deks.len(), 1, "retired DEKs dropped once unused");
    assert_eq!(st.deks[0].records as usize, 2 * PER_WORKER + 1);
    let rotations = ks
        .audit()
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "rotate-dek" && e.outcome == "ok")
        .count();
    assert_eq!(rotations, 4);
}
