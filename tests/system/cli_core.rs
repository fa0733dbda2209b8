//! The CLI contract of docs/PROTOCOL.md §10, exercised on the real binary.

use std::process::Output;

fn run(args: &[&str], stdin: &[u8]) -> Output {
    sealpass_tests::cli::sealpass(args, stdin)
}

fn ok(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let out = run(args, stdin);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "stderr on success: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Failure contract: nothing on stdout, non-zero exit, one stderr line `error CODE Name: ...`.
fn fails(args: &[&str], stdin: &[u8], code: u16) -> String {
    let out = run(args, stdin);
    assert!(!out.status.success(), "{args:?} unexpectedly succeeded");
    assert!(out.stdout.is_empty(), "stdout on failure: {:?}", out.stdout);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "exactly one stderr line: {err:?}");
    let name = sealpass::Code::from_number(code).unwrap().name();
    assert!(
        err.starts_with(&format!("error {code} {name}")),
        "want {code} {name}, got {err:?}"
    );
    err
}

struct Dir(tempfile::TempDir);
impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }
    fn p(&self, name: &str) -> String {
        self.0.path().join(name).to_str().unwrap().to_string()
    }
    fn write(&self, name: &str, data: &[u8]) -> String {
        std::fs::write(self.0.path().join(name), data).unwrap();
        self.p(name)
    }
}

const CTX: &str = r#"{"node_id":"node-1","pending_id":"p-9","slug":"db-pass","injection_method":"env","field_name":"DB_PASSWORD"}"#;

fn keypair(d: &Dir) -> (String, String) {
    let key = d.p("node.key");
    let pk = String::from_utf8(ok(&["keygen", "--out", &key], b"")).unwrap();
    (key, pk.trim_end().to_string())
}

#[test]
fn keygen_writes_0600_refuses_overwrite_and_prints_pubkey() {
    let d = Dir::new();
    let (key, pk) = keypair(&d);
    assert_eq!(pk.len(), 43);
    let meta = std::fs::metadata(&key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let file = std::fs::read_to_string(&key).unwrap();
    assert_eq!(file.len(), 44);
    assert!(file.ends_with('\n'));
    let before = file.clone();
    fails(&["keygen", "--out", &key], b"", 8402);
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        before,
        "existing key untouched"
    );
    assert_eq!(
        String::from_utf8(ok(&["pubkey", "--key", &key], b"")).unwrap(),
        format!("{pk}\n")
    );
    let fp = String::from_utf8(ok(&["fingerprint", &pk], b"")).unwrap();
    let want = sealpass::PublicKey::from_b64u(&pk).unwrap().fingerprint();
    assert_eq!(fp, format!("{want}\n"));
}

#[test]
fn seal_open_round_trip_is_byte_exact() {
    let d = Dir::new();
    let (key, pk) = keypair(&d);
    let ctx = d.write("ctx.json", CTX.as_bytes());
    for pt in [
        &b"x"[..],
        b"line\n",
        b"\0\x01\xff\r\n\n",
        "pässwörd 🔑".as_bytes(),
        &vec![b'a'; 16368][..],
    ] {
        let env = ok(&["seal", "--to", &pk, "--context", &ctx], pt);
        assert!(env.ends_with(b"}\n"));
        let back = ok(&["open", "--key", &key, "--context", &ctx], &env);
        assert_eq!(back, pt);
    }
}

#[test]
fn failures_follow_the_contract() {
    let d = Dir::new();
    let (key, pk) = keypair(&d);
    let ctx = d.write("ctx.json", CTX.as_bytes());
    let env = ok(&["seal", "--to", &pk, "--context", &ctx], b"secret");
    // Wrong context → 8006.
    let other = d.write("other.json", CTX.replace("db-pass", "db-pasz").as_bytes());
    fails(&["open", "--key", &key, "--context", &other], &env, 8006);
    // Wrong key → 8006.
    let (key2, _) = {
        let k = d.p("k2");
        ok(&["keygen", "--out", &k], b"");
        (k, ())
    };
    fails(&["open", "--key", &key2, "--context", &ctx], &env, 8006);
    // v=3 → 8007; v=2 with the v1 suite → 8106 (each version its own suite).
    let v3 = String::from_utf8(env.clone())
        .unwrap()
        .replace("\"v\":1", "\"v\":3");
    fails(
        &["open", "--key", &key, "--context", &ctx],
        v3.as_bytes(),
        8007,
    );
    let v2 = String::from_utf8(env.clone())
        .unwrap()
        .replace("\"v\":1", "\"v\":2");
    fails(
        &["open", "--key", &key, "--context", &ctx],
        v2.as_bytes(),
        8106,
    );
    // Plaintext too large / empty.
    fails(
        &["seal", "--to", &pk, "--context", &ctx],
        &vec![0u8; 16369],
        8008,
    );
    fails(&["seal", "--to", &pk, "--context", &ctx], b"", 8304);
    // 10 MB of input is refused without being read in full.
    fails(
        &["open", "--key", &key, "--context", &ctx],
        &vec![b' '; 10 * 1024 * 1024],
        8008,
    );
    fails(
        &["seal", "--to", &pk, "--context", &ctx],
        &vec![b'a'; 10 * 1024 * 1024],
        8008,
    );
    // Bad inputs.
    fails(&["open", "--key", &key, "--context", &ctx], b"", 8101);
    fails(
        &["open", "--key", &key, "--context", &ctx],
        b"not json",
        8101,
    );
    fails(&["seal", "--to", "short", "--context", &ctx], b"x", 8301);
    fails(
        &[
            "seal",
            "--to",
            &sealpass::b64::encode(&[0u8; 32]),
            "--context",
            &ctx,
        ],
        b"x",
        8302,
    );
    fails(&["fingerprint", &format!("{pk}=")], b"", 8301);
    let bad_key = d.write("bad.key", b"not a key\n");
    fails(&["pubkey", "--key", &bad_key], b"", 8303);
    fails(&["pubkey", "--key", &d.p("missing.key")], b"", 8401);
    let bad_ctx = d.write(
        "bad.json",
        br#"{"node_id":"n","pending_id":"p","slug":"s","injection_method":"env","version":"1"}"#,
    );
    fails(&["seal", "--to", &pk, "--context", &bad_ctx], b"x", 8201);
    let bad_method = d.write(
        "m.json",
        CTX.replace("\"env\"", "\"query_param\"").as_bytes(),
    );
    fails(&["seal", "--to", &pk, "--context", &bad_method], b"x", 8204);
    // Usage errors are one line too, exit 2.
    let out = run(&["seal", "--to", &pk], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error 8403 Usage:"));
}

/// B64U keys and ids start with `-` one time in 64: they must still parse as
/// values, never as unknown flags (8403).
#[test]
fn values_may_start_with_a_hyphen() {
    let d = Dir::new();
    let key = format!("-{}", "A".repeat(42));
    let dir = d.p("");
    let cases: [&[&str]; 3] = [
        &[
            "release",
            "verify",
            "--manifest",
            "/nonexistent/m.json",
            "--pubkey",
            &key,
            "--dir",
            &dir,
        ],
        &["node", "accept", "--pending", "-abc", "--data-dir", &dir],
        &["seal", "--to", &key, "--context", "/nonexistent/ctx.json"],
    ];
    for args in cases {
        let out = run(args, b"");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            !err.contains("error 8403"),
            "{args:?} was refused as usage: {err}"
        );
    }
}

#[test]
fn help_explains_commands() {
    let out = ok(&["--help"], b"");
    let text = String::from_utf8(out).unwrap();
    for cmd in ["keygen", "pubkey", "fingerprint", "seal", "open"] {
        assert!(text.contains(cmd), "--help mentions {cmd}");
    }
    let seal_help = String::from_utf8(ok(&["seal", "--help"], b"")).unwrap();
    assert!(seal_help.contains("16368"));
}

/// docs/PROTOCOL.md §15.6 on the real binary.
#[test]
fn v2_contract_seal_to_an_identity_open_with_its_key() {
    let d = Dir::new();
    let (key, pk) = keypair(&d);
    let ikey = d.p("identity.key");
    let nik = String::from_utf8(ok(&["keygen", "--out", &ikey], b"")).unwrap();
    let nik = nik.trim_end();
    let ctx = d.write("ctx.json", CTX.as_bytes());
    let env = ok(
        &["seal", "--to", &pk, "--identity", nik, "--context", &ctx],
        b"hunter2",
    );
    let text = String::from_utf8(env.clone()).unwrap();
    assert!(
        text.starts_with(r#"{"v":2,"suite":"x25519-x25519-hkdf-sha256-xchacha20poly1305","#)
            && text.ends_with("}\n"),
        "{text}"
    );
    let open = [
        "open",
        "--key",
        &key,
        "--identity-key",
        &ikey,
        "--context",
        &ctx,
    ];
    assert_eq!(ok(&open, &env), b"hunter2");
    // Without the identity key: 8307; with another key as identity: 8006.
    fails(&["open", "--key", &key, "--context", &ctx], &env, 8307);
    fails(
        &[
            "open",
            "--key",
            &key,
            "--identity-key",
            &key,
            "--context",
            &ctx,
        ],
        &env,
        8006,
    );
    // A v1 envelope opens with or without --identity-key.
    let v1 = ok(&["seal", "--to", &pk, "--context", &ctx], b"one");
    assert!(v1.starts_with(br#"{"v":1,"#));
    assert_eq!(ok(&open, &v1), b"one");
    // The identity fingerprint is the §15.1 one, not the one-time fingerprint.
    let fp = String::from_utf8(ok(&["fingerprint", "--identity", nik], b"")).unwrap();
    let id = sealpass::PublicKey::from_b64u(nik).unwrap();
    assert_eq!(fp, format!("{}\n", id.identity_fingerprint()));
    let one_time = String::from_utf8(ok(&["fingerprint", nik], b"")).unwrap();
    assert_ne!(fp, one_time);
    // `pubkey` reads identity key files too.
    assert_eq!(
        String::from_utf8(ok(&["pubkey", "--key", &ikey], b"")).unwrap(),
        format!("{nik}\n")
    );
    // Usage and input errors follow the v1 contract.
    fails(&["fingerprint", nik, "--identity", nik], b"", 8403);
    fails(&["fingerprint", "--identity", "short"], b"", 8301);
    fails(
        &[
            "seal",
            "--to",
            &pk,
            "--identity",
            &"A".repeat(43),
            "--context",
            &ctx,
        ],
        b"x",
        8302,
    );
    fails(
        &[
            "open",
            "--key",
            &key,
            "--identity-key",
            &d.p("missing.key"),
            "--context",
            &ctx,
        ],
        &env,
        8401,
    );
}

/// Numbers on the command line are range-checked before any arithmetic:
/// `inject --timeout 18446744073709551615` once overflowed `Instant + secs`
/// and panicked (issue #14 finding 7).
#[test]
fn huge_timeouts_are_usage_errors_not_panics() {
    for t in ["18446744073709551615", "0", "604801"] {
        let err = fails(
            &[
                "inject",
                "--relay",
                "http://127.0.0.1:9",
                "--node",
                "n1",
                "--slug",
                "s",
                "--method",
                "env",
                "--timeout",
                t,
            ],
            b"",
            8403,
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
