//! Identity rotation and downgrade refusal with real processes: a relay, a
//! node agent, `sealpass node identity [rotate]`, and envelopes sealed with
//! the real `sealpass seal` CLI (docs/PINNING.md §6).

use std::time::Duration;

use sealpass_tests::agent::*;
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

const T: Duration = Duration::from_secs(60);

/// The relay's public view of the one target: (public_key, identity_key, context).
fn target(relay: &Relay, pending_id: &str) -> (String, Option<String>, serde_json::Value) {
    let view = relay.wait_keys(pending_id);
    let t = &view["targets"][0];
    if let Some(nik) = t["identity_key"].as_str() {
        let fp = sealpass::PublicKey::from_b64u(nik)
            .unwrap()
            .identity_fingerprint();
        assert_eq!(t["identity_fingerprint"], fp.as_str());
    }
    (
        t["public_key"].as_str().unwrap().to_owned(),
        t["identity_key"].as_str().map(str::to_owned),
        t["context"].clone(),
    )
}

fn post(relay: &Relay, pending_id: &str, envelope: String) {
    let (st, v) = relay.post_envelopes(pending_id, &[("solo", envelope)]);
    assert_eq!(st, 202, "{v}");
}

fn wait_state(relay: &Relay, pending_id: &str, state: &str) {
    relay.wait_status(pending_id, T, |v| target_state(v, "solo") == state);
}

fn rotate(node: &Node) -> serde_json::Value {
    let out = node.node_cmd(&["identity", "rotate", "--json"]);
    assert!(
        out.status.success(),
        "rotate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn audit(node: &Node) -> Vec<serde_json::Value> {
    node.keystore(&[("SEALPASS_KEK", &node.kek)], &["audit"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn keys_keep_the_identity_they_were_made_with_across_a_rotation() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "solo");
    node.start(&relay.url);
    node.out().wait_for(": identity fingerprint", T);
    let nik1 = node.identity_json()["identity"]
        .as_str()
        .unwrap()
        .to_owned();

    // A key made before the rotation is posted with the first identity.
    let p_old = relay.create_pending_slug(&["solo"], "old-key");
    let (pk_old, id_old, ctx_old) = target(&relay, &p_old);
    assert_eq!(id_old.as_deref(), Some(nik1.as_str()));

    // Rotate while the agent runs.
    let r = rotate(&node);
    let nik2 = r["identity"].as_str().unwrap().to_owned();
    let fp2 = r["identity_fingerprint"].as_str().unwrap().to_owned();
    assert_ne!(nik2, nik1);
    assert_eq!(r["previous_identity"], nik1.as_str());
    assert_eq!(r["previous_pending_keys"], 1);
    node.out().wait_for(
        &format!("identity rotated; new keys are bound to identity fingerprint {fp2}"),
        T,
    );
    let id = node.identity_json();
    assert_eq!(id["identity"], nik2.as_str());
    assert_eq!(id["retired"][0]["identity"], nik1.as_str());
    assert_eq!(id["retired"][0]["pending_keys"], 1);
    let human = String::from_utf8(node.node_cmd(&["identity"]).stdout).unwrap();
    assert!(
        human.contains(&format!("retired: {nik1}")) && human.contains("1 pending key"),
        "{human}"
    );

    // A key made after it is posted with the new identity; the old one keeps its own.
    let p_new = relay.create_pending_slug(&["solo"], "new-key");
    let (pk_new, id_new, ctx_new) = target(&relay, &p_new);
    assert_eq!(id_new.as_deref(), Some(nik2.as_str()));
    assert_eq!(target(&relay, &p_old).1.as_deref(), Some(nik1.as_str()));

    // The new key does not open an envelope sealed to the old identity.
    let dir = tmp.path();
    post(
        &relay,
        &p_new,
        seal_cli(dir, &pk_new, Some(&nik1), &ctx_new, "wrong-identity"),
    );
    wait_state(&relay, &p_new, "decrypt_failed");
    node.out()
        .wait_for(&format!("pending {p_new}: envelope rejected (8006"), T);
    // ... but does open one sealed to the new identity.
    let s_new = format!("new-{}", rand_hex(8));
    post(
        &relay,
        &p_new,
        seal_cli(dir, &pk_new, Some(&nik2), &ctx_new, &s_new),
    );
    wait_state(&relay, &p_new, "consumed");
    assert_eq!(node.secret_get("new-key").stdout, s_new.as_bytes());

    // The old key still opens an envelope sealed to the old identity.
    let s_old = format!("old-{}", rand_hex(8));
    post(
        &relay,
        &p_old,
        seal_cli(dir, &pk_old, Some(&nik1), &ctx_old, &s_old),
    );
    wait_state(&relay, &p_old, "consumed");
    assert_eq!(node.secret_get("old-key").stdout, s_old.as_bytes());

    // Its last key consumed, the retired identity's secret is gone.
    let id = node.identity_json();
    assert_eq!(id["identity"], nik2.as_str());
    assert_eq!(id["retired"], serde_json::json!([]));
    let rows = audit(&node);
    assert!(
        rows.iter()
            .any(|e| e["event"] == "identity-delete" && e["record_id"] == "identity"),
        "{rows:?}"
    );
    assert_eq!(node.out().count("identity rotated"), 1, "announced once");
}

#[test]
fn a_v1_envelope_for_a_bound_key_is_refused_and_audited() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "solo");
    node.start(&relay.url);
    let p = relay.create_pending_slug(&["solo"], "v1-key");
    let (pk, nik, ctx) = target(&relay, &p);
    let nik = nik.expect("the agent posts an identity");
    let secret = format!("v1-{}", rand_hex(8));
    post(&relay, &p, seal_cli(tmp.path(), &pk, None, &ctx, &secret));
    wait_state(&relay, &p, "decrypt_failed");
    node.out().wait_for(
        &format!("pending {p}: refused a v1 envelope for a key bound to this node's identity"),
        T,
    );
    assert!(
        !node.secret_get("v1-key").status.success(),
        "nothing stored"
    );
    let rows = audit(&node);
    assert!(
        rows.iter().any(|e| e["event"] == "accept"
            && e["outcome"] == "error"
            && e["code"] == 8308
            && e["record_id"] == p.as_str()),
        "{rows:?}"
    );
    // The key was kept: the sender's v2 retry is delivered.
    post(
        &relay,
        &p,
        seal_cli(tmp.path(), &pk, Some(&nik), &ctx, &secret),
    );
    wait_state(&relay, &p, "consumed");
    assert_eq!(node.secret_get("v1-key").stdout, secret.as_bytes());
}

#[test]
fn identities_and_bindings_survive_restart_and_both_keystore_rotations() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "solo");
    node.start(&relay.url);
    let p1 = relay.create_pending_slug(&["solo"], "first");
    let (pk1, nik1, ctx1) = target(&relay, &p1);
    let nik2 = rotate(&node)["identity"].as_str().unwrap().to_owned();
    let p2 = relay.create_pending_slug(&["solo"], "second");
    let (pk2, id2, ctx2) = target(&relay, &p2);
    assert_eq!(id2.as_deref(), Some(nik2.as_str()));
    let before = node.identity_json();

    node.agent.take().unwrap().kill();
    node.rotate_dek_and_kek();
    assert_eq!(node.identity_json(), before);
    node.start(&relay.url);
    let fp2 = sealpass::PublicKey::from_b64u(&nik2)
        .unwrap()
        .identity_fingerprint();
    let banner = node.out().wait_for(": identity fingerprint", T);
    assert!(banner.contains(&fp2) && banner.contains(&nik2), "{banner}");

    let s1 = format!("one-{}", rand_hex(8));
    let s2 = format!("two-{}", rand_hex(8));
    post(
        &relay,
        &p1,
        seal_cli(tmp.path(), &pk1, nik1.as_deref(), &ctx1, &s1),
    );
    post(
        &relay,
        &p2,
        seal_cli(tmp.path(), &pk2, Some(&nik2), &ctx2, &s2),
    );
    wait_state(&relay, &p1, "consumed");
    wait_state(&relay, &p2, "consumed");
    assert_eq!(node.secret_get("first").stdout, s1.as_bytes());
    assert_eq!(node.secret_get("second").stdout, s2.as_bytes());
    assert_eq!(node.identity_json()["retired"], serde_json::json!([]));
    assert_not_in_files(&relay.data_dir, &s1);
}

#[test]
fn rotate_cli_prints_the_new_identity_counts_old_keys_and_fails_cleanly() {
    use sealpass_tests::cli::{random_kek, run, write_ctx};
    let tmp = tempdir();
    let data = tmp.path().join("ks");
    let (kek, _) = random_kek();
    let env = [("SEALPASS_KEK", kek.as_str())];
    let first = run(&data, &env, &["node", "identity"], b"").ok();
    let nik1 = first.field("identity");
    let ctx = write_ctx(tmp.path(), "pend-rot", "rot");
    run(
        &data,
        &env,
        &["node", "pending", "new", "--context", ctx.to_str().unwrap()],
        b"",
    )
    .ok();
    let r = run(&data, &env, &["node", "identity", "rotate"], b"").ok();
    let nik2 = r.field("identity");
    let fp2 = r.field("identity_fingerprint");
    assert_ne!(nik2, nik1);
    assert_eq!(
        sealpass::PublicKey::from_b64u(&nik2)
            .unwrap()
            .identity_fingerprint(),
        fp2
    );
    let fp1 = sealpass::PublicKey::from_b64u(&nik1)
        .unwrap()
        .identity_fingerprint();
    assert!(
        r.text().contains(&format!(
            "previous identity {fp1}: still used by 1 pending key(s)"
        )),
        "{}",
        r.text()
    );
    assert!(r.text().contains("re-pin"), "{}", r.text());
    // `node identity` keeps its first two lines and lists the retired one.
    let now = run(&data, &env, &["node", "identity"], b"").ok();
    assert_eq!(now.field("identity"), nik2);
    assert!(
        now.text().contains(&format!("retired: {nik1}")),
        "{}",
        now.text()
    );

    // --help tells what it means for senders.
    let help = run(&data, &[], &["node", "identity", "rotate", "--help"], b"").ok();
    assert!(
        help.text().contains("re-pin") && help.text().contains("8901"),
        "{}",
        help.text()
    );

    // Failure: nothing on stdout, one `error <code> <Name>:` line, nothing rotated.
    let bad = run(&data, &[], &["node", "identity", "rotate"], b"");
    assert_ne!(bad.code, 0);
    assert!(bad.stdout.is_empty());
    assert_eq!(bad.stderr.lines().count(), 1, "{}", bad.stderr);
    assert!(
        bad.stderr.starts_with("error 8501 KekMissing:"),
        "{}",
        bad.stderr
    );
    let after = run(&data, &env, &["node", "identity"], b"").ok();
    assert_eq!(after.field("identity"), nik2);
}
