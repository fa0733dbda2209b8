//! A v2 (identity-bound) envelope posted for a node agent that has no
//! identity key: the agent reports decrypt_failed (it can never open it),
//! so the credential is not stuck and a v1 retry delivers.

use std::time::Duration;

use sealpass::{Context, PublicKey, SecretKey};
use sealpass_tests::agent::*;
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

const T: Duration = Duration::from_secs(60);

#[test]
fn a_v2_envelope_the_node_cannot_open_is_reported_and_a_retry_delivers() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "solo");
    node.start(&relay.url);
    let pending_id = relay.create_pending_slug(&["solo"], "v2-key");
    let view = relay.wait_keys(&pending_id);
    let t = &view["targets"][0];
    let pk = PublicKey::from_b64u(t["public_key"].as_str().unwrap()).unwrap();
    let ctx = Context::from_json(t["context"].to_string().as_bytes()).unwrap();
    let some_identity = SecretKey::from_bytes([7; 32]).public_key();
    let v2 = sealpass::seal_v2(&pk, &some_identity, b"never-opened", &ctx).unwrap();
    let (st, v) = relay.post_envelopes(&pending_id, &[("solo", v2.to_json())]);
    assert_eq!(st, 202, "{v}");
    relay.wait_status(&pending_id, T, |v| {
        target_state(v, "solo") == "decrypt_failed"
    });
    node.out()
        .wait_for(&format!("pending {pending_id}: envelope rejected (8307"), T);

    // The sender retries with an envelope the node can open.
    let secret = format!("v1-{}", rand_hex(8));
    let v1 = sealpass::seal(&pk, secret.as_bytes(), &ctx).unwrap();
    let (st, v) = relay.post_envelopes(&pending_id, &[("solo", v1.to_json())]);
    assert_eq!(st, 202, "{v}");
    relay.wait_status(&pending_id, T, |v| target_state(v, "solo") == "consumed");
    assert_eq!(node.secret_get("v2-key").stdout, secret.as_bytes());
}
