//! SIGKILL of the relay, the node agent or both at a random moment of a
//! real delivery (admin pending → agent key → `sealpass inject` seals and
//! posts → agent opens, stores, acks), then restart and let it finish.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use sealpass_tests::agent::{inject_cmd, Node};
use sealpass_tests::cli::{identity_fp, with_pins};
use sealpass_tests::proc::{assert_not_in_files, eventually, rand_hex, spawn, tempdir, Proc};
use sealpass_tests::relay::Relay;

use crate::config::{report, Config};

const T: Duration = Duration::from_secs(90);
/// Kill delays are spread over this window after the inject starts: the
/// whole flow (key post, seal, envelope post, open, ack) fits inside it at
/// the agents' 0.2 s poll interval, so kills land in every phase.
const WINDOW_MS: u64 = 1500;

#[derive(Clone, Copy, Debug)]
enum Victim {
    Relay,
    Agent,
    Both,
}

fn inject(
    relay: &Relay,
    dir: &Path,
    node: &Node,
    pin: &str,
    slug: &str,
    pending: &str,
    secret: &str,
) -> Proc {
    let token = relay.token_file(dir);
    let mut cmd = inject_cmd(relay, Some(&token), &[&node.id], slug);
    with_pins(&mut cmd, &dir.join("known_nodes"), &[pin.to_owned()]);
    cmd.env("SP_SECRET", secret)
        .args(["--secret-env", "SP_SECRET", "--pending", pending, "--yes"]);
    spawn(cmd)
}

/// `ok` accept events for `pending` in the node's audit trail: exactly one
/// per delivered secret, however often the envelope was fetched.
fn accepts(node: &Node, pending: &str) -> usize {
    node.keystore(&[("SEALPASS_KEK", &node.kek)], &["audit"])
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("audit JSON line"))
        .filter(|e| e["event"] == "accept" && e["outcome"] == "ok" && e["record_id"] == pending)
        .count()
}

#[test]
fn kill_relay_and_agent_at_random_points_of_the_flow() {
    let (cfg, mut rng) = Config::from_env("flow");
    let tmp = tempdir();
    let mut relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "fault-node");
    node.start(&relay.url);
    let pin = identity_fp(&node);

    let mut kills: BTreeMap<String, usize> = BTreeMap::new();
    let mut at_state: BTreeMap<String, usize> = BTreeMap::new();
    let mut sender_retries = 0usize;
    let mut delivered: Vec<(String, String, String)> = Vec::new();

    for i in 0..cfg.flow {
        let slug = format!("fault-{i}");
        let secret = format!("flow-secret-{i}-{}", rand_hex(12));
        let pending = relay.create_pending_slug(&[&node.id], &slug);
        let mut sender = inject(&relay, tmp.path(), &node, &pin, &slug, &pending, &secret);

        let victim = match rng.below(3) {
            0 => Victim::Relay,
            1 => Victim::Agent,
            _ => Victim::Both,
        };
        // Aim: anywhere in the window, early (key post, seal), or just
        // after the relay took the envelope (open, store, ack).
        match rng.below(3) {
            0 => std::thread::sleep(Duration::from_millis(rng.below(WINDOW_MS))),
            1 => std::thread::sleep(Duration::from_millis(rng.below(WINDOW_MS / 6))),
            _ => {
                let end = Instant::now() + T;
                while !matches!(
                    relay.target_state(&pending, &node.id).0.as_str(),
                    "ciphertext_received" | "ciphertext_queued" | "consumed" | "decrypt_failed"
                ) {
                    assert!(Instant::now() < end, "iteration {i}: no envelope arrived");
                    std::thread::sleep(Duration::from_millis(10));
                }
                std::thread::sleep(Duration::from_millis(rng.below(200)));
            }
        }
        // Where the kill lands, as the relay saw it just before.
        let state = relay.target_state(&pending, &node.id).0;
        if matches!(victim, Victim::Agent | Victim::Both) {
            node.agent.as_mut().expect("agent running").kill();
        }
        if matches!(victim, Victim::Relay | Victim::Both) {
            relay.crash_restart();
        }
        if matches!(victim, Victim::Agent | Victim::Both) {
            node.start(&relay.url);
        }
        *kills
            .entry(format!("{victim:?}").to_lowercase())
            .or_default() += 1;
        *at_state.entry(state).or_default() += 1;

        // The sender either saw it through or said it failed; a failed
        // sender retries with the same pending (only what is missing is sent).
        let st = sender.wait_exit(T);
        if !st.success() {
            sender_retries += 1;
            let mut again = inject(&relay, tmp.path(), &node, &pin, &slug, &pending, &secret);
            let st2 = again.wait_exit(T);
            assert!(
                st2.success(),
                "iteration {i} ({victim:?}): the retry failed too:\nfirst: {}\nretry: {}",
                sender.out.all(),
                again.out.all()
            );
        }
        eventually(T, &format!("secret {slug} delivered"), || {
            node.secret_get(&slug).stdout == secret.as_bytes()
        });
        assert_eq!(
            relay.target_state(&pending, &node.id).0,
            "consumed",
            "iteration {i}"
        );
        assert_eq!(
            accepts(&node, &pending),
            1,
            "iteration {i}: delivered more than once"
        );
        delivered.push((slug, pending, secret));
    }

    // The end state: every secret there, once, nothing in clear at rest.
    let verify = node.keystore(&[("SEALPASS_KEK", &node.kek)], &["verify"]);
    for (slug, pending, secret) in &delivered {
        assert_eq!(node.secret_get(slug).stdout, secret.as_bytes(), "{slug}");
        assert_eq!(accepts(&node, pending), 1, "{slug}");
        assert_not_in_files(&relay.data_dir, secret);
        assert_not_in_files(&node.data, secret);
    }
    report(
        "flow",
        &cfg,
        serde_json::json!({
            "iterations": cfg.flow,
            "kills": kills,
            "kill_landed_in_target_state": at_state,
            "sender_retries": sender_retries,
            "secrets_delivered_once": delivered.len(),
            "keystore_verify": verify.trim(),
        }),
    );
}
