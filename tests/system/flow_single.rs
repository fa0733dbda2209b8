//! Full single-node flow with real processes: relay, `sealpass node run`,
//! `sealpass inject`; the secret arrives byte-exact and shows up nowhere else.

use std::time::Duration;

use sealpass_tests::agent::*;
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

const T: Duration = Duration::from_secs(60);

#[test]
fn inject_interactive_confirm_then_secret_get_and_no_leak() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "web-1");
    node.start(&relay.url);
    let secret = format!("tok-{}-END", rand_hex(16));
    let token = relay.token_file(tmp.path());

    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "api-token");
    cmd.env("SP_SECRET", &secret)
        .args(["--secret-env", "SP_SECRET"]);
    let mut inject = spawn_with_stdin(cmd);
    let created = inject.out.wait_for(": created", T);
    let pending_id = created_pending_id(&created);
    // The operator compares what inject shows with what the node printed.
    let shown = inject
        .out
        .wait_for("node web-1: one-time key fingerprint ", T);
    let node_fp = node.fingerprint(&pending_id);
    assert!(shown.ends_with(&node_fp), "{shown} vs {node_fp}");
    // (The "[y/N]" prompt has no newline; the answer is read after it.)
    inject.write_stdin("y\n");
    let st = inject.wait_exit(T);
    let inject_out = inject.out.all();
    assert!(st.success(), "inject failed:\n{inject_out}");
    assert!(inject_out.contains("node web-1: consumed"), "{inject_out}");
    assert!(inject_out.contains(&format!("pending {pending_id}: consumed")));

    node.out().wait_for(
        &format!("delivered slug=api-token pending={pending_id} stored in "),
        T,
    );
    let got = node.secret_get("api-token");
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(got.stdout, secret.as_bytes());

    // Nowhere else: relay files (db, WAL, SHM), relay and agent output,
    // inject output, the node's own keystore files (sealed at rest).
    assert_not_in_files(&relay.data_dir, &secret);
    assert_not_in_files(&node.data, &secret);
    assert!(!relay.output().contains(&secret));
    assert!(!node.out().all().contains(&secret));
    assert!(!inject_out.contains(&secret));

    // SIGTERM: a clean exit with status 0.
    let agent_out = node.out().clone();
    let status = node.agent.as_mut().unwrap().terminate(T);
    assert!(
        status.success(),
        "agent exit {status:?}:\n{}",
        agent_out.all()
    );
    assert!(agent_out.all().contains("stopping"));
}

#[test]
fn expect_fingerprint_mismatch_sends_nothing_then_match_delivers_exact_bytes() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "db.2");
    node.start(&relay.url);
    let token = relay.token_file(tmp.path());
    // Spaces, non-ASCII and newlines must survive byte for byte.
    let secret = format!("pä ss {}\nline two\n", rand_hex(8));

    let pending_id = relay.create_pending_slug(&["db.2"], "db-pass");
    let fp = node.fingerprint(&pending_id);
    relay.wait_keys(&pending_id);

    let wrong = "0000-0000-0000-0000-0000-0000-0000-0000";
    let mut cmd = inject_cmd(&relay, Some(&token), &["db.2"], "db-pass");
    cmd.env("SP_SECRET", &secret).args([
        "--secret-env",
        "SP_SECRET",
        "--pending",
        &pending_id,
        "--yes",
        "--expect-fingerprint",
        &format!("db.2={wrong}"),
    ]);
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("8612"), "{err}");
    assert_eq!(
        target_state(&relay.status(&pending_id), "db.2"),
        "pubkey_posted"
    );

    // --yes without an expectation for every node is refused.
    let mut cmd = inject_cmd(&relay, Some(&token), &["db.2"], "db-pass");
    cmd.env("SP_SECRET", &secret).args([
        "--secret-env",
        "SP_SECRET",
        "--pending",
        &pending_id,
        "--yes",
    ]);
    assert!(!cmd.output().unwrap().status.success());

    let mut cmd = inject_cmd(&relay, Some(&token), &["db.2"], "db-pass");
    cmd.env("SP_SECRET", &secret).args([
        "--secret-env",
        "SP_SECRET",
        "--pending",
        &pending_id,
        "--yes",
        "--expect-fingerprint",
        &fp,
    ]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = node.secret_get("db-pass");
    assert_eq!(got.stdout, secret.as_bytes());
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&secret));
    assert!(!node.out().all().contains(&secret));

    // The agent re-acks idempotently and keeps serving: a second run of
    // inject on the consumed pending posts nothing and reports consumed.
    let mut cmd = inject_cmd(&relay, Some(&token), &["db.2"], "db-pass");
    cmd.env("SP_SECRET", "other").args([
        "--secret-env",
        "SP_SECRET",
        "--pending",
        &pending_id,
        "--yes",
        "--expect-fingerprint",
        &fp,
    ]);
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    assert_eq!(node.secret_get("db-pass").stdout, secret.as_bytes());
}

#[test]
fn browser_mode_prints_the_accept_url_and_waits_for_the_result() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "web-2");
    node.start(&relay.url);
    // Admin token from the environment this time; no secret given at all.
    let mut cmd = inject_cmd(&relay, None, &["web-2"], "browser-key");
    cmd.arg("--browser");
    let mut inject = spawn(cmd);
    let line = inject.out.wait_for("/accept#", T);
    let pending_id = line.rsplit('#').next().unwrap().to_string();
    assert_eq!(line, format!("open {}/accept#{pending_id}", relay.url));

    // What the page does: read the key and context, seal, post.
    let view = relay.wait_keys(&pending_id);
    let t = &view["targets"][0];
    let pk = sealpass::PublicKey::from_b64u(t["public_key"].as_str().unwrap()).unwrap();
    assert_eq!(pk.fingerprint(), node.fingerprint(&pending_id));
    let ctx = sealpass::Context::from_json(t["context"].to_string().as_bytes()).unwrap();
    let secret = format!("from-the-browser-{}", rand_hex(6));
    let env = sealpass::seal(&pk, secret.as_bytes(), &ctx).unwrap();
    let (st, v) = relay.post_envelopes(&pending_id, &[("web-2", env.to_json())]);
    assert_eq!(st, 202, "{v}");
    let st = inject.wait_exit(T);
    assert!(st.success(), "{}", inject.out.all());
    assert!(inject.out.all().contains("node web-2: consumed"));
    assert_eq!(node.secret_get("browser-key").stdout, secret.as_bytes());
}
