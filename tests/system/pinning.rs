//! Pinning node identities (docs/PINNING.md §2–§3) with a real relay and
//! real agents: `sealpass nodes` and `sealpass inject` against the
//! known-nodes file (always a temp file, never the user's config dir).

use std::path::Path;
use std::process::{Command, Output};

use sealpass_tests::agent::*;
use sealpass_tests::cli::{identity_fp, sealpass, with_pins};
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure by the CLI contract: non-zero, nothing on stdout, the last
/// stderr line `error <code> <Name>: ...`.
fn assert_fails(o: &Output, code: u16) {
    assert!(!o.status.success(), "expected {code}: {}", err(o));
    assert!(
        o.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let e = err(o);
    let last = e.lines().last().unwrap_or("");
    assert!(
        last.starts_with(&format!("error {code} ")),
        "want {code}, got: {e}"
    );
}

fn nodes(known: &Path, args: &[&str]) -> Output {
    let mut all = vec!["nodes"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--known-nodes", known.to_str().unwrap()]);
    sealpass(&all, b"")
}

/// inject on an existing pending id, the secret from the environment.
fn inject(relay: &Relay, dir: &Path, node: &str, slug: &str, pending: &str) -> Command {
    let token = relay.token_file(dir);
    let mut cmd = inject_cmd(relay, Some(&token), &[node], slug);
    cmd.env("SP_SECRET", format!("s3cret-{slug}")).args([
        "--secret-env",
        "SP_SECRET",
        "--pending",
        pending,
    ]);
    cmd
}

fn key(b: u8) -> sealpass::PublicKey {
    sealpass::SecretKey::from_bytes([b; 32]).public_key()
}

#[test]
fn pin_once_then_inject_twice_without_questions_and_seal_v2() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "web-1");
    node.start(&relay.url);
    let known = tmp.path().join("cfg").join("known_nodes");
    let id = node.identity_json();
    let nik = id["identity"].as_str().unwrap();
    let fp = id["identity_fingerprint"].as_str().unwrap();
    let o = nodes(
        &known,
        &["pin", "web-1", "--identity", nik, "--fingerprint", fp],
    );
    assert!(o.status.success(), "{}", err(&o));
    for slug in ["first", "second"] {
        let pending = relay.create_pending_slug(&["web-1"], slug);
        relay.wait_keys(&pending);
        // No --yes, no --expect-fingerprint, stdin closed: nothing to ask.
        let mut cmd = inject(&relay, tmp.path(), "web-1", slug, &pending);
        with_pins(&mut cmd, &known, &[]);
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", err(&o));
        assert!(!err(&o).contains("[y/N]"), "{}", err(&o));
        assert!(err(&o).contains(&format!("node web-1: identity {fp} matches the pin")));
        assert!(err(&o).contains("sealed (v2"), "{}", err(&o));
        assert_eq!(
            node.secret_get(slug).stdout,
            format!("s3cret-{slug}").as_bytes()
        );
    }
    // The file was never rewritten by inject: still the one pin.
    let o = nodes(&known, &["list"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("web-1  {fp}  {nik}\n")
    );
}

#[test]
fn unpinned_non_interactive_is_8902_and_nothing_is_posted() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "web-1");
    node.start(&relay.url);
    let known = tmp.path().join("known_nodes");
    let pending = relay.create_pending_slug(&["web-1"], "k");
    relay.wait_keys(&pending);
    for yes in [false, true] {
        let mut cmd = inject(&relay, tmp.path(), "web-1", "k", &pending);
        with_pins(&mut cmd, &known, &[]);
        if yes {
            cmd.arg("--yes");
        }
        let o = cmd.output().unwrap();
        assert_fails(&o, 8902);
        assert!(err(&o).contains(&identity_fp(&node)), "{}", err(&o));
        assert_eq!(
            target_state(&relay.status(&pending), "web-1"),
            "pubkey_posted"
        );
        assert!(!known.exists(), "nothing may be pinned");
    }
    // A new request is refused the same way, before any envelope.
    let token = relay.token_file(tmp.path());
    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "fresh");
    cmd.env("SP_SECRET", "x")
        .args(["--secret-env", "SP_SECRET"]);
    with_pins(&mut cmd, &known, &[]);
    let o = cmd.output().unwrap();
    assert_fails(&o, 8902);
    let p2 = created_pending_id(&err(&o));
    assert_eq!(target_state(&relay.status(&p2), "web-1"), "pubkey_posted");
}

#[test]
fn pin_flag_wrong_is_8901_right_pins_and_delivers() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "db.2");
    node.start(&relay.url);
    let known = tmp.path().join("known_nodes");
    let pending = relay.create_pending_slug(&["db.2"], "pw");
    relay.wait_keys(&pending);
    let fp = identity_fp(&node);

    let wrong = key(3).identity_fingerprint();
    let mut cmd = inject(&relay, tmp.path(), "db.2", "pw", &pending);
    with_pins(&mut cmd, &known, &[wrong]);
    let o = cmd.output().unwrap();
    assert_fails(&o, 8901);
    assert!(err(&o).contains("NODE IDENTITY MISMATCH"), "{}", err(&o));
    assert!(err(&o).contains(&fp), "{}", err(&o));
    assert_eq!(
        target_state(&relay.status(&pending), "db.2"),
        "pubkey_posted"
    );
    assert!(!known.exists());

    // Right (typed in upper case with spaces around it): pinned, delivered.
    let mut cmd = inject(&relay, tmp.path(), "db.2", "pw", &pending);
    with_pins(&mut cmd, &known, &[format!(" {} ", fp.to_uppercase())]);
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains(&format!("node db.2: pinned identity {fp}")));
    assert_eq!(node.secret_get("pw").stdout, b"s3cret-pw");
    let nik = node.identity_json()["identity"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = nodes(&known, &["list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"nodes":[{"node_id":"db.2","identity_key":nik,"identity_fingerprint":fp}]})
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&known).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn pinned_to_another_identity_is_8901_and_nothing_is_posted() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "web-1");
    node.start(&relay.url);
    let known = tmp.path().join("known_nodes");
    let other = key(4);
    let o = nodes(&known, &["pin", "web-1", "--identity", &other.to_b64u()]);
    assert!(o.status.success(), "{}", err(&o));
    let pending = relay.create_pending_slug(&["web-1"], "k");
    relay.wait_keys(&pending);
    let real = identity_fp(&node);
    // Neither a matching --pin nor --yes overrides an existing pin.
    for extra in [vec![], vec![real.clone()]] {
        let mut cmd = inject(&relay, tmp.path(), "web-1", "k", &pending);
        with_pins(&mut cmd, &known, &extra);
        cmd.arg("--yes");
        let o = cmd.output().unwrap();
        assert_fails(&o, 8901);
        let e = err(&o);
        assert!(e.contains("NODE IDENTITY MISMATCH"), "{e}");
        assert!(e.contains("web-1"), "{e}");
        assert!(e.contains(&other.identity_fingerprint()), "pinned fp: {e}");
        assert!(e.contains(&real), "reported fp: {e}");
        assert_eq!(
            target_state(&relay.status(&pending), "web-1"),
            "pubkey_posted"
        );
    }
    // The browser link is not printed either.
    let mut cmd = inject(&relay, tmp.path(), "web-1", "k", &pending);
    cmd.env_remove("SP_SECRET");
    let mut args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let i = args.iter().position(|a| a == "--secret-env").unwrap();
    args.drain(i..i + 2);
    let mut cmd = Command::new(sealpass_tests::bins::sealpass());
    cmd.args(&args).arg("--browser");
    with_pins(&mut cmd, &known, &[]);
    let o = cmd.output().unwrap();
    assert_fails(&o, 8901);
    assert!(!err(&o).contains("#p="), "{}", err(&o));
    // The pin is untouched.
    let o = nodes(&known, &["list"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains(&other.to_b64u()));
}

#[test]
fn malformed_known_nodes_file_is_8903_before_anything_is_created() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let known = tmp.path().join("known_nodes");
    std::fs::write(
        &known,
        format!("# ok\nweb-1 {}\nbroken line\n", key(1).to_b64u()),
    )
    .unwrap();
    let token = relay.token_file(tmp.path());
    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "k");
    cmd.env("SP_SECRET", "x")
        .args(["--secret-env", "SP_SECRET"]);
    with_pins(&mut cmd, &known, &[]);
    let o = cmd.output().unwrap();
    assert_fails(&o, 8903);
    assert!(err(&o).contains("line 3"), "{}", err(&o));
    assert!(!err(&o).contains(": created"), "{}", err(&o));
}

#[test]
fn nodes_commands_table() {
    let tmp = tempdir();
    let known = tmp.path().join("d").join("known_nodes");
    let (a, b) = (key(1), key(2));
    let (ak, bk) = (a.to_b64u(), b.to_b64u());
    let (afp, bfp) = (a.identity_fingerprint(), b.identity_fingerprint());
    let low = sealpass::PublicKey::from_bytes([0; 32]).to_b64u();
    // (args, expected code or 0, expected stdout substring)
    let steps: Vec<(Vec<&str>, u16, String)> = vec![
        (vec!["list"], 0, String::new()),
        (vec!["forget", "web-1"], 8902, String::new()),
        (
            vec!["pin", "web-1", "--identity", &ak, "--fingerprint", &bfp],
            8901,
            String::new(),
        ),
        (
            vec!["pin", "web-1", "--identity", &ak, "--fingerprint", &afp],
            0,
            format!("node web-1: pinned identity {afp}"),
        ),
        (
            vec!["pin", "web-1", "--identity", &ak],
            0,
            "already pinned".into(),
        ),
        (vec!["pin", "web-1", "--identity", &bk], 8901, String::new()),
        (vec!["list"], 0, format!("web-1  {afp}  {ak}\n")),
        (
            vec!["pin", "web-1", "--identity", &bk, "--replace"],
            0,
            format!("re-pinned identity {bfp}"),
        ),
        (vec!["pin", "db.2", "--identity", &ak], 0, "pinned".into()),
        (
            vec!["list"],
            0,
            format!("web-1  {bfp}  {bk}\ndb.2  {afp}  {ak}\n"),
        ),
        (
            vec!["pin", "bad/id", "--identity", &ak],
            8403,
            String::new(),
        ),
        (vec!["pin", "x", "--identity", "short"], 8301, String::new()),
        (vec!["pin", "x", "--identity", &low], 8302, String::new()),
        (vec!["forget", "web-1"], 0, "node web-1: pin removed".into()),
        (vec!["forget", "web-1"], 8902, String::new()),
        (vec!["list"], 0, format!("db.2  {afp}  {ak}\n")),
    ];
    for (args, code, want) in steps {
        let o = nodes(&known, &args);
        if code == 0 {
            assert!(o.status.success(), "{args:?}: {}", err(&o));
            assert!(
                String::from_utf8_lossy(&o.stdout).contains(&want),
                "{args:?}: {}",
                String::from_utf8_lossy(&o.stdout)
            );
        } else {
            assert_fails(&o, code);
        }
    }
    let o = nodes(&known, &["list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["nodes"][0]["node_id"], "db.2");
    assert_eq!(v["nodes"][0]["identity_fingerprint"], afp.as_str());

    // A malformed file: 8903 with its line number, and never rewritten.
    let bad = format!("db.2 {ak}\ndb.2 {bk}\n");
    std::fs::write(&known, &bad).unwrap();
    for args in [
        vec!["list"],
        vec!["pin", "z", "--identity", &ak],
        vec!["forget", "db.2"],
    ] {
        let o = nodes(&known, &args);
        assert_fails(&o, 8903);
        assert!(err(&o).contains("line 2"), "{}", err(&o));
        assert_eq!(std::fs::read_to_string(&known).unwrap(), bad);
    }
    std::fs::write(&known, format!("db.2 {ak}\r\n")).unwrap();
    let o = nodes(&known, &["list"]);
    assert_fails(&o, 8903);
    assert!(err(&o).contains("line 1"), "{}", err(&o));
}
