//! Envelope v2 through a real node agent: the agent makes its identity key
//! on first start and prints it; `sealpass node identity` shows the same key
//! after restarts and both keystore rotations; a v2 envelope sealed to that
//! identity is delivered, one sealed to any other identity is reported
//! decrypt_failed (so the credential is not stuck) and a retry delivers.

use std::process::Command;
use std::time::Duration;

use sealpass::{Context, PublicKey, SecretKey};
use sealpass_tests::agent::*;
use sealpass_tests::bins;
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

const T: Duration = Duration::from_secs(60);

/// `sealpass node identity` on the node's store: (public key, fingerprint).
fn identity_of(node: &Node) -> (String, String) {
    let out = Command::new(bins::sealpass())
        .args(["node", "identity", "--data-dir"])
        .arg(&node.data)
        .env("SEALPASS_KEK", &node.kek)
        .env_remove("SEALPASS_DATA_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}: ")).map(str::to_owned))
            .unwrap_or_else(|| panic!("no {k} in {text}"))
    };
    (field("identity"), field("identity_fingerprint"))
}

fn target(relay: &Relay, pending_id: &str) -> (PublicKey, Context) {
    let view = relay.wait_keys(pending_id);
    let t = &view["targets"][0];
    (
        PublicKey::from_b64u(t["public_key"].as_str().unwrap()).unwrap(),
        Context::from_json(t["context"].to_string().as_bytes()).unwrap(),
    )
}

#[test]
fn v2_envelopes_open_only_with_the_agents_identity_which_survives_restarts_and_rotations() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "solo");
    node.start(&relay.url);
    let line = node.out().wait_for("identity fingerprint", T);
    let (nik, fp) = identity_of(&node);
    assert!(line.contains(&fp) && line.contains(&nik), "{line}");
    let nik_key = PublicKey::from_b64u(&nik).unwrap();
    assert_eq!(nik_key.identity_fingerprint(), fp);

    // Sealed to another identity: the agent cannot open it and says so.
    let p1 = relay.create_pending_slug(&["solo"], "v2-key");
    let (pk, ctx) = target(&relay, &p1);
    let stranger = SecretKey::from_bytes([7; 32]).public_key();
    let bad = sealpass::seal_v2(&pk, &stranger, b"never-opened", &ctx).unwrap();
    let (st, v) = relay.post_envelopes(&p1, &[("solo", bad.to_json())]);
    assert_eq!(st, 202, "{v}");
    relay.wait_status(&p1, T, |v| target_state(v, "solo") == "decrypt_failed");
    node.out()
        .wait_for(&format!("pending {p1}: envelope rejected (8006"), T);
    // The retry, sealed to the node's identity, is delivered.
    let secret = format!("v2-{}", rand_hex(8));
    let good = sealpass::seal_v2(&pk, &nik_key, secret.as_bytes(), &ctx).unwrap();
    let (st, v) = relay.post_envelopes(&p1, &[("solo", good.to_json())]);
    assert_eq!(st, 202, "{v}");
    relay.wait_status(&p1, T, |v| target_state(v, "solo") == "consumed");
    assert_eq!(node.secret_get("v2-key").stdout, secret.as_bytes());

    // The identity survives an agent restart and both rotations.
    node.agent.take().unwrap().kill();
    node.rotate_dek_and_kek();
    assert_eq!(identity_of(&node), (nik.clone(), fp.clone()));
    node.start(&relay.url);
    let line = node.out().wait_for("identity fingerprint", T);
    assert!(line.contains(&fp), "{line}");

    // Its keys are bound to that identity: a v1 envelope is a downgrade
    // (8308), reported decrypt_failed with the key kept; v2 then delivers.
    let p2 = relay.create_pending_slug(&["solo"], "v1-key");
    let (pk2, ctx2) = target(&relay, &p2);
    let v1 = sealpass::seal(&pk2, b"plain-v1", &ctx2).unwrap();
    let (st, v) = relay.post_envelopes(&p2, &[("solo", v1.to_json())]);
    assert_eq!(st, 202, "{v}");
    relay.wait_status(&p2, T, |v| target_state(v, "solo") == "decrypt_failed");
    node.out()
        .wait_for(&format!("pending {p2}: refused a v1 envelope"), T);
    assert!(!node.secret_get("v1-key").status.success());
    let v2 = sealpass::seal_v2(&pk2, &nik_key, b"plain-v2", &ctx2).unwrap();
    let (st, v) = relay.post_envelopes(&p2, &[("solo", v2.to_json())]);
    assert_eq!(st, 202, "{v}");
    relay.wait_status(&p2, T, |v| target_state(v, "solo") == "consumed");
    assert_eq!(node.secret_get("v1-key").stdout, b"plain-v2");
    assert_not_in_files(&relay.data_dir, &secret);
    assert!(!relay.output().contains(&secret));
}
