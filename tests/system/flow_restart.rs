//! Restarts with real processes: an agent killed while holding a sealed
//! one-time key, a node that goes offline and comes back, and a relay
//! crash with an envelope queued — nothing is lost.

use std::time::Duration;

use sealpass_tests::agent::*;
use sealpass_tests::cli::{identity_fp, with_pins};
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

const T: Duration = Duration::from_secs(60);

fn in_flight(state: &str) -> bool {
    matches!(state, "ciphertext_received" | "ciphertext_queued")
}

/// Inject with --pending/--yes and the node's identity pinned, in the background (it waits for the result).
fn background_inject(
    relay: &Relay,
    tmp: &std::path::Path,
    node: &Node,
    slug: &str,
    pending: &str,
    fp: &str,
    secret: &str,
) -> Proc {
    let token = relay.token_file(tmp);
    let mut cmd = inject_cmd(relay, Some(&token), &[&node.id], slug);
    // The agent publishes its identity: inject seals v2 to the pin.
    with_pins(&mut cmd, &tmp.join("known_nodes"), &[identity_fp(node)]);
    cmd.env("SP_SECRET", secret).args([
        "--secret-env",
        "SP_SECRET",
        "--pending",
        pending,
        "--yes",
        "--expect-fingerprint",
        fp,
    ]);
    spawn(cmd)
}

#[test]
fn node_restart_holding_a_sealed_one_time_key() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "app");
    node.start(&relay.url);
    let pending_id = relay.create_pending_slug(&["app"], "restart-key");
    let fp = node.fingerprint(&pending_id);
    relay.wait_keys(&pending_id);
    // Crash the agent: the private key exists only sealed in its keystore.
    node.agent.as_mut().unwrap().kill();

    let secret = format!("kept-{}", rand_hex(10));
    let mut inject = background_inject(
        &relay,
        tmp.path(),
        &node,
        "restart-key",
        &pending_id,
        &fp,
        &secret,
    );
    relay.wait_status(&pending_id, T, |v| in_flight(&target_state(v, "app")));

    node.start(&relay.url);
    // After the restart the agent shows the same key it still holds.
    let again = node.out().wait_for(
        &format!("pending {pending_id}: one-time key fingerprint"),
        T,
    );
    assert!(again.contains(&fp), "{again}");
    node.out().wait_for(
        &format!("delivered slug=restart-key pending={pending_id}"),
        T,
    );
    let st = inject.wait_exit(T);
    assert!(st.success(), "{}", inject.out.all());
    assert_eq!(node.secret_get("restart-key").stdout, secret.as_bytes());
}

#[test]
fn node_offline_then_reconnecting_gets_the_queued_envelope() {
    let tmp = tempdir();
    // The relay calls a node offline after 2 s without a signed request.
    let relay = Relay::start_sealed_with(
        &tmp.path().join("relay"),
        &["--test-offline-after-secs", "2"],
    );
    let mut node = Node::new(&relay, tmp.path(), "edge");
    node.start(&relay.url);
    let pending_id = relay.create_pending_slug(&["edge"], "offline-key");
    let fp = node.fingerprint(&pending_id);
    relay.wait_keys(&pending_id);
    // A clean stop (SIGTERM), then the relay sees no heartbeat any more.
    let st = node.agent.as_mut().unwrap().terminate(T);
    assert!(st.success());

    let secret = format!("queued-{}", rand_hex(10));
    std::thread::sleep(Duration::from_secs(4));
    let mut inject = background_inject(
        &relay,
        tmp.path(),
        &node,
        "offline-key",
        &pending_id,
        &fp,
        &secret,
    );
    let v = relay.wait_status(&pending_id, T, |v| {
        target_state(v, "edge") == "ciphertext_queued"
    });
    assert_eq!(target_state(&v, "edge"), "ciphertext_queued");

    node.start(&relay.url);
    node.out().wait_for(
        &format!("delivered slug=offline-key pending={pending_id}"),
        T,
    );
    let st = inject.wait_exit(T);
    assert!(st.success(), "{}", inject.out.all());
    assert!(inject.out.all().contains("node edge: consumed"));
    assert_eq!(node.secret_get("offline-key").stdout, secret.as_bytes());
}

#[test]
fn relay_restart_with_a_queued_envelope() {
    let tmp = tempdir();
    let mut relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut a = Node::new(&relay, tmp.path(), "node-a");
    let mut b = Node::new(&relay, tmp.path(), "node-b");
    a.start(&relay.url);
    b.start(&relay.url);
    let pending_id = relay.create_pending_slug(&["node-a"], "queued");
    let fp = a.fingerprint(&pending_id);
    relay.wait_keys(&pending_id);
    a.agent.as_mut().unwrap().kill();

    let secret = format!("survives-{}", rand_hex(10));
    let mut inject = background_inject(&relay, tmp.path(), &a, "queued", &pending_id, &fp, &secret);
    relay.wait_status(&pending_id, T, |v| in_flight(&target_state(v, "node-a")));

    // Crash the relay with the envelope stored, start it on the same port.
    relay.crash_restart();
    let v = relay.status(&pending_id);
    assert!(in_flight(&target_state(&v, "node-a")), "{v}");

    a.start(&relay.url);
    a.out()
        .wait_for(&format!("delivered slug=queued pending={pending_id}"), T);
    let st = inject.wait_exit(T);
    assert!(
        st.success(),
        "inject did not ride out the restart:\n{}",
        inject.out.all()
    );
    assert_eq!(a.secret_get("queued").stdout, secret.as_bytes());

    // node-b's agent kept running through the crash and still works.
    let p2 = relay.create_pending_slug(&["node-b"], "after");
    let fp2 = b.fingerprint(&p2);
    relay.wait_keys(&p2);
    let secret2 = format!("after-{}", rand_hex(10));
    let mut inject2 = background_inject(&relay, tmp.path(), &b, "after", &p2, &fp2, &secret2);
    assert!(inject2.wait_exit(T).success(), "{}", inject2.out.all());
    assert_eq!(b.secret_get("after").stdout, secret2.as_bytes());
    assert_not_in_files(&relay.data_dir, &secret);
    assert_not_in_files(&relay.data_dir, &secret2);
}

#[test]
fn lost_ack_is_repeated_after_a_crash_between_open_and_ack() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "solo");
    node.start(&relay.url);
    let pending_id = relay.create_pending_slug(&["solo"], "acked-twice");
    let fp = node.fingerprint(&pending_id);
    relay.wait_keys(&pending_id);
    node.agent.as_mut().unwrap().kill();

    let secret = format!("once-{}", rand_hex(10));
    let mut inject = background_inject(
        &relay,
        tmp.path(),
        &node,
        "acked-twice",
        &pending_id,
        &fp,
        &secret,
    );
    relay.wait_status(&pending_id, T, |v| in_flight(&target_state(v, "solo")));

    // The node opened the envelope and stored the secret, then crashed
    // before acknowledging: done here by hand, with the node's own key.
    let list = node.signed_get(&relay, "/api/v1/node/envelopes");
    let env = list["envelopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["pending_id"] == pending_id.as_str())
        .expect("envelope queued for the node")["envelope"]
        .to_string();
    let out = node.accept_by_hand(&pending_id, &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(in_flight(&target_state(&relay.status(&pending_id), "solo")));

    // The restarted agent finds the key consumed and the secret stored for
    // this pending id, and acknowledges again instead of failing it.
    node.start(&relay.url);
    node.out().wait_for(
        &format!("pending {pending_id}: already delivered here; acknowledging again"),
        T,
    );
    let st = inject.wait_exit(T);
    assert!(st.success(), "{}", inject.out.all());
    assert_eq!(target_state(&relay.status(&pending_id), "solo"), "consumed");
    assert_eq!(node.secret_get("acked-twice").stdout, secret.as_bytes());
}
