//! A breached relay against `sealpass inject` with a pinned node: the
//! `hostile-relay` proxy (a real process on loopback) sits between inject
//! and the real relay and swaps the one-time key, the identity, both, or
//! the whole view. Each attempt is refused before anything is sealed, or
//! yields an envelope the attacker's keys cannot open; the secret is in
//! none of the attacker's files and never in the relay's.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use sealpass_tests::agent::*;
use sealpass_tests::bins;
use sealpass_tests::hostile::Hostile;
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

const T: Duration = Duration::from_secs(60);

struct Setup {
    tmp: tempfile::TempDir,
    relay: Relay,
    node: Node,
    known_nodes: std::path::PathBuf,
    hostile: Hostile,
}

/// Relay, a real agent for `web-1`, its identity pinned (out of band: read
/// from the node itself) in a known-nodes file, and the proxy in `mode`.
fn setup(mode: &str) -> Setup {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "web-1");
    node.start(&relay.url);
    let ident = node.identity_json();
    let nik = ident["identity"].as_str().unwrap().to_owned();
    let known_nodes = tmp.path().join("known_nodes");
    let out = Command::new(bins::sealpass())
        .args(["nodes", "pin", "web-1", "--identity", &nik, "--known-nodes"])
        .arg(&known_nodes)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nodes pin: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hostile = Hostile::start(&relay.url, mode, &tmp.path().join("proxy"));
    Setup {
        tmp,
        relay,
        node,
        known_nodes,
        hostile,
    }
}

/// inject through the proxy, non-interactive, secret from the environment.
fn inject(s: &Setup, slug: &str, secret: &str) -> (bool, String) {
    let token = s.relay.token_file(s.tmp.path());
    let mut cmd = inject_cmd_via(&s.hostile.url, &s.relay, Some(&token), &["web-1"], slug);
    cmd.env("SP_SECRET", secret)
        .args(["--secret-env", "SP_SECRET", "--known-nodes"])
        .arg(&s.known_nodes);
    let mut p = spawn(cmd);
    let st = p.wait_exit(Duration::from_secs(150));
    (st.success(), p.out.all())
}

/// The secret is nowhere the attacker (proxy, relay files) keeps anything.
fn assert_not_leaked(s: &Setup, secret: &str, inject_out: &str) {
    assert_not_in_files(&s.hostile.dir, secret);
    assert_not_in_files(&s.relay.data_dir, secret);
    assert!(!contains(&s.hostile.log(), secret.as_bytes()));
    assert!(!s.relay.output().contains(secret));
    assert!(!inject_out.contains(secret));
}

/// Refused before sealing: the pinned identity does not match what the
/// (hostile) relay reports; nothing is posted and the real target still
/// waits for an envelope.
fn refused(mode: &str, codes: &[&str]) {
    let s = setup(mode);
    let secret = format!("hostile-{mode}-{}", rand_hex(12));
    let (ok, out) = inject(&s, "api-token", &secret);
    assert!(!ok, "inject through {mode} must fail:\n{out}");
    let last = out
        .lines()
        .rev()
        .find(|l| l.starts_with("error "))
        .unwrap_or_else(|| panic!("no error line:\n{out}"));
    assert!(
        codes
            .iter()
            .any(|c| last.starts_with(&format!("error {c} "))),
        "{mode}: expected one of {codes:?}, got {last}\n{out}"
    );
    assert!(
        s.hostile.envelope_posts().is_empty(),
        "{mode}: something was posted"
    );
    let pid = created_pending_id(&out);
    assert_eq!(s.relay.target_state(&pid, "web-1").0, "pubkey_posted");
    assert_not_leaked(&s, &secret, &out);
}

#[test]
fn swapped_identity_is_refused_before_sealing() {
    refused("swap-identity", &["8901"]);
}

#[test]
fn swapped_one_time_key_and_identity_are_refused_before_sealing() {
    refused("swap-both", &["8901"]);
}

#[test]
fn a_different_view_is_refused_before_sealing() {
    // Another node id in the view: not the node asked for (8612), and not
    // the pinned identity (8901); either refusal is before sealing.
    refused("swap-view", &["8901", "8612"]);
}

#[test]
fn swapped_one_time_key_yields_an_envelope_the_attacker_cannot_open() {
    let s = setup("swap-pubkey");
    let secret = format!("hostile-otk-{}", rand_hex(12));
    let (ok, out) = inject(&s, "api-token", &secret);
    // Sealed to the attacker's one-time key and the node's pinned identity:
    // the node cannot open it either, and says so.
    assert!(
        !ok,
        "the node cannot open it, so inject reports failure:\n{out}"
    );
    let pid = created_pending_id(&out);
    s.relay
        .wait_status(&pid, T, |v| v["targets"][0]["state"] == "decrypt_failed");
    let posts = s.hostile.envelope_posts();
    assert_eq!(posts.len(), 1, "{out}");
    let envelope = &posts[0]["envelopes"][0]["envelope"];
    assert_eq!(envelope["v"], 2, "inject seals v2");
    let view = s.relay.wait_keys(&pid);
    let ctx = s.tmp.path().join("ctx.json");
    std::fs::write(&ctx, view["targets"][0]["context"].to_string()).unwrap();
    let attempt = |key: &Path, identity: &Path| {
        let mut cmd = Command::new(bins::sealpass());
        cmd.args(["open", "--key"])
            .arg(key)
            .arg("--identity-key")
            .arg(identity)
            .arg("--context")
            .arg(&ctx);
        run_with_stdin(cmd, &envelope.to_string())
    };
    let got = attempt(&s.hostile.otk_key(), &s.hostile.identity_key());
    assert!(got.stdout.is_empty());
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(err.starts_with("error 8006 DecryptFailed"), "{err}");
    assert!(!s.node.secret_get("api-token").status.success());
    assert_not_leaked(&s, &secret, &out);
}

#[test]
fn an_honest_proxy_delivers() {
    let s = setup("pass");
    let secret = format!("honest-{}", rand_hex(12));
    let (ok, out) = inject(&s, "api-token", &secret);
    assert!(ok, "{out}");
    let got = s.node.secret_get("api-token");
    assert_eq!(got.stdout, secret.as_bytes());
    assert_eq!(s.hostile.envelope_posts().len(), 1);
    assert_not_leaked(&s, &secret, &out);
}

#[test]
fn an_extra_identity_less_copy_of_the_target_is_refused_before_sealing() {
    // The real target plus a second `web-1` with the attacker's key and no
    // identity: a sender that checked pins per node id but sealed per
    // target would seal v1 to the attacker.
    refused("add-target", &["8612", "8901"]);
}
