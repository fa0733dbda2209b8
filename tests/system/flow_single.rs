//! Full single-node flow with real processes: relay, `sealpass node run`,
//! `sealpass inject`; the secret arrives byte-exact and shows up nowhere else.

use std::time::Duration;

use sealpass_tests::agent::*;
use sealpass_tests::cli::{identity_fp, with_pins};
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

const T: Duration = Duration::from_secs(60);

#[test]
fn inject_pinned_node_then_secret_get_and_no_leak() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "web-1");
    node.start(&relay.url);
    let secret = format!("tok-{}-END", rand_hex(16));
    let token = relay.token_file(tmp.path());
    // The operator pins the node's identity once, out of band.
    let id = node.identity_json();
    let known = tmp.path().join("known_nodes");
    let pin = sealpass_tests::cli::sealpass(
        &[
            "nodes",
            "pin",
            "web-1",
            "--identity",
            id["identity"].as_str().unwrap(),
            "--fingerprint",
            id["identity_fingerprint"].as_str().unwrap(),
            "--known-nodes",
            known.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        pin.status.success(),
        "{}",
        String::from_utf8_lossy(&pin.stderr)
    );

    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "api-token");
    cmd.env("SP_SECRET", &secret)
        .args(["--secret-env", "SP_SECRET"]);
    with_pins(&mut cmd, &known, &[]);
    // No question is asked for a pinned node: stdin stays closed.
    let mut inject = spawn(cmd);
    let created = inject.out.wait_for(": created", T);
    let pending_id = created_pending_id(&created);
    let st = inject.wait_exit(T);
    let inject_out = inject.out.all();
    assert!(st.success(), "inject failed:\n{inject_out}");
    assert!(
        inject_out.contains(&format!(
            "node web-1: identity {} matches the pin",
            id["identity_fingerprint"].as_str().unwrap()
        )),
        "{inject_out}"
    );
    assert!(!inject_out.contains("[y/N]"), "{inject_out}");
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

    // --yes with an unpinned node and no --pin: 8902, nothing sent.
    let known = tmp.path().join("known_nodes");
    let mut cmd = inject_cmd(&relay, Some(&token), &["db.2"], "db-pass");
    cmd.env("SP_SECRET", &secret).args([
        "--secret-env",
        "SP_SECRET",
        "--pending",
        &pending_id,
        "--yes",
    ]);
    with_pins(&mut cmd, &known, &[]);
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("error 8902 IdentityNotPinned"));
    assert_eq!(
        target_state(&relay.status(&pending_id), "db.2"),
        "pubkey_posted"
    );
    let id_fp = identity_fp(&node);

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
    with_pins(&mut cmd, &known, std::slice::from_ref(&id_fp));
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
    with_pins(&mut cmd, &known, &[]);
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
    let id = node.identity_json();
    let nik = id["identity"].as_str().unwrap().to_string();
    let mut cmd = inject_cmd(&relay, None, &["web-2"], "browser-key");
    cmd.arg("--browser");
    with_pins(
        &mut cmd,
        &tmp.path().join("known_nodes"),
        &[id["identity_fingerprint"].as_str().unwrap().to_string()],
    );
    let mut inject = spawn(cmd);
    let line = inject.out.wait_for("/accept#", T);
    let pending_id = line
        .split("#p=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    // The pinned link of docs/PINNING.md §4: relay origin and the pin.
    let origin: String = relay.url.replace(':', "%3A").replace('/', "%2F");
    assert_eq!(
        line,
        format!(
            "open {}/accept#p={pending_id}&r={origin}&n=web-2%3A{nik}",
            relay.url
        )
    );

    // What the page does: read the key and context, seal v2 to the pin, post.
    let view = relay.wait_keys(&pending_id);
    let t = &view["targets"][0];
    assert_eq!(t["identity_key"].as_str(), Some(nik.as_str()));
    let pk = sealpass::PublicKey::from_b64u(t["public_key"].as_str().unwrap()).unwrap();
    assert_eq!(pk.fingerprint(), node.fingerprint(&pending_id));
    let ctx = sealpass::Context::from_json(t["context"].to_string().as_bytes()).unwrap();
    let secret = format!("from-the-browser-{}", rand_hex(6));
    let nik_pk = sealpass::PublicKey::from_b64u(&nik).unwrap();
    let env = sealpass::seal_v2(&pk, &nik_pk, secret.as_bytes(), &ctx).unwrap();
    let (st, v) = relay.post_envelopes(&pending_id, &[("web-2", env.to_json())]);
    assert_eq!(st, 202, "{v}");
    let st = inject.wait_exit(T);
    assert!(st.success(), "{}", inject.out.all());
    assert!(inject.out.all().contains("node web-2: consumed"));
    assert_eq!(node.secret_get("browser-key").stdout, secret.as_bytes());
}
