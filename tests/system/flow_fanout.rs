//! Fan-out to three real agents; one envelope is tampered with on the way
//! (posted by hand), that node reports decrypt_failed, and `sealpass inject
//! --pending` retries only the failed node until all three have it.

use std::time::Duration;

use sealpass::{Context, PublicKey};
use sealpass_tests::agent::*;
use sealpass_tests::cli::{identity_fp, with_pins};
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

const T: Duration = Duration::from_secs(60);

#[test]
fn fan_out_three_nodes_one_tampered_then_retry_subset() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let ids = ["n1", "n2", "n3"];
    let mut nodes: Vec<Node> = ids
        .iter()
        .map(|id| Node::new(&relay, tmp.path(), id))
        .collect();
    for n in &mut nodes {
        n.start(&relay.url);
    }
    let secret = format!("fan-{}-out", rand_hex(12));
    let pending_id = relay.create_pending_slug(&ids, "shared-key");
    let view = relay.wait_keys(&pending_id);
    let fps: Vec<String> = nodes.iter().map(|n| n.fingerprint(&pending_id)).collect();

    // Seal by hand: n1 and n2 correctly, n3 under a context the node never
    // agreed to (a relay rewriting the slug), which its AEAD must refuse.
    let mut envs = Vec::new();
    for t in view["targets"].as_array().unwrap() {
        let node = t["node_id"].as_str().unwrap();
        let pk = PublicKey::from_b64u(t["public_key"].as_str().unwrap()).unwrap();
        let fp = &fps[ids.iter().position(|i| *i == node).unwrap()];
        assert_eq!(&pk.fingerprint(), fp, "relay key differs from the node's");
        let mut ctx = Context::from_json(t["context"].to_string().as_bytes()).unwrap();
        if node == "n3" {
            ctx = Context::new(
                node,
                &pending_id,
                "other-slug",
                "env",
                Some("API_TOKEN"),
                None,
            )
            .unwrap();
        }
        // The agents bind their keys to their identities: v2 (v1 is 8308).
        let nik = PublicKey::from_b64u(t["identity_key"].as_str().unwrap()).unwrap();
        let env = sealpass::seal_v2(&pk, &nik, secret.as_bytes(), &ctx).unwrap();
        envs.push((node, env.to_json()));
    }
    let (st, v) = relay.post_envelopes(&pending_id, &envs);
    assert_eq!(st, 202, "{v}");

    let v = relay.wait_status(&pending_id, T, |v| {
        ids.iter()
            .all(|n| matches!(target_state(v, n).as_str(), "consumed" | "decrypt_failed"))
    });
    assert_eq!(target_state(&v, "n1"), "consumed");
    assert_eq!(target_state(&v, "n2"), "consumed");
    assert_eq!(target_state(&v, "n3"), "decrypt_failed");
    assert_eq!(v["state"], "partial_decrypted", "{v}");
    nodes[2]
        .out()
        .wait_for(&format!("pending {pending_id}: envelope rejected"), T);
    assert_eq!(nodes[2].secret_get("shared-key").stdout, b"");

    // Retry through the CLI: only n3 gets a new envelope (the relay would
    // refuse a second one for the consumed nodes).
    let token = relay.token_file(tmp.path());
    let mut cmd = inject_cmd(&relay, Some(&token), &ids, "shared-key");
    cmd.env("SP_SECRET", &secret).args([
        "--secret-env",
        "SP_SECRET",
        "--pending",
        &pending_id,
        "--yes",
    ]);
    for (n, fp) in ids.iter().zip(&fps) {
        cmd.args(["--expect-fingerprint", &format!("{n}={fp}")]);
    }
    // Every agent publishes its identity: pin all three (v2 to each pin).
    let id_fps: Vec<String> = nodes.iter().map(identity_fp).collect();
    with_pins(&mut cmd, &tmp.path().join("known_nodes"), &id_fps);
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("posted 1 envelope(s)"), "{text}");
    for n in ids {
        assert!(text.contains(&format!("node {n}: consumed")), "{text}");
    }
    assert!(
        text.contains(&format!("pending {pending_id}: consumed")),
        "{text}"
    );
    for n in &nodes {
        assert_eq!(
            n.secret_get("shared-key").stdout,
            secret.as_bytes(),
            "{}",
            n.id
        );
        assert!(!n.out().all().contains(&secret));
    }
    // n1/n2 were delivered exactly once.
    assert_eq!(nodes[0].out().count("delivered slug=shared-key"), 1);
    assert_not_in_files(&relay.data_dir, &secret);
    assert!(!relay.output().contains(&secret));
    assert!(!text.contains(&secret));
}
