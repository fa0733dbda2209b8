//! `sealpass sign` / `sealpass verify` as subprocesses, plus the pinned
//! example from docs/SIGNING.md (checked independently with Python's hmac
//! when python3 is available).

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    sealpass_tests::cli::sealpass(args, b"")
}

const SECRET: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
const EXAMPLE_SIG: &str = "Dt6RLEXhn8dCP4IkYnUiwhgx69gmV9XWUuO4hfIBy_I";

fn headers_of(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn sign_matches_pinned_example_and_library() {
    let dir = tempfile::tempdir().unwrap();
    let sec = dir.path().join("secret");
    std::fs::write(&sec, format!("{SECRET}\n")).unwrap();
    let s = sec.to_str().unwrap();
    let out = run(&[
        "sign",
        "--secret-file",
        s,
        "--caller",
        "n1",
        "--key-version",
        "1",
        "--method",
        "GET",
        "--path",
        "/api/v1/node/envelopes",
        "--timestamp",
        "1700000000",
    ]);
    let h = headers_of(&out);
    assert_eq!(
        h,
        vec![
            "X-Sealpass-Caller: n1".to_owned(),
            "X-Sealpass-Timestamp: 1700000000".to_owned(),
            "X-Sealpass-Key-Version: 1".to_owned(),
            format!("X-Sealpass-Signature: {EXAMPLE_SIG}"),
        ]
    );
    let lib = sealpass_native::signing::sign_request(
        &[1u8; 32],
        "n1",
        1,
        "GET",
        "/api/v1/node/envelopes",
        b"",
        1_700_000_000,
    );
    assert_eq!(lib[3].1, EXAMPLE_SIG);
    // Independent implementation.
    let py = Command::new("python3")
        .args([
            "-c",
            "import hmac,hashlib,base64;m=b'sealpass-hmac-v1\\nGET\\n/api/v1/node/envelopes\\nn1\\n1\\n'+hashlib.sha256(b'').hexdigest().encode()+b'\\n1700000000';print(base64.urlsafe_b64encode(hmac.new(b'\\x01'*32,m,hashlib.sha256).digest()).rstrip(b'=').decode())",
        ])
        .output();
    if let Ok(py) = py {
        if py.status.success() {
            assert_eq!(String::from_utf8_lossy(&py.stdout).trim(), EXAMPLE_SIG);
        }
    }
}

#[test]
fn verify_accepts_good_and_rejects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let sec = dir.path().join("secret");
    std::fs::write(&sec, SECRET).unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, br#"{"result":"consumed"}"#).unwrap();
    let (s, b) = (sec.to_str().unwrap(), body.to_str().unwrap());
    let path = "/api/v1/node/pending/abc/ack";
    let h = headers_of(&run(&[
        "sign",
        "--secret-file",
        s,
        "--caller",
        "n1",
        "--key-version",
        "2",
        "--method",
        "post",
        "--path",
        path,
        "--body-file",
        b,
        "--timestamp",
        "1700000000",
    ]));
    let verify = |extra: &[&str], body_file: &str, now: &str, hs: &[String]| {
        let mut args: Vec<String> = [
            "verify",
            "--secret-file",
            s,
            "--method",
            "POST",
            "--body-file",
            body_file,
            "--now",
            now,
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        args.extend(extra.iter().map(|x| x.to_string()));
        for x in hs {
            args.push("-H".into());
            args.push(x.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    };
    let ok = verify(&["--path", path], b, "1700000100", &h);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        "ok caller=n1 key_version=2"
    );

    let fails = |out: Output, code: &str| {
        assert!(!out.status.success());
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains(code), "expected {code}: {e}");
    };
    let other = dir.path().join("other.json");
    std::fs::write(&other, br#"{"result":"decrypt_failed"}"#).unwrap();
    fails(
        verify(&["--path", path], other.to_str().unwrap(), "1700000100", &h),
        "8702",
    );
    fails(
        verify(
            &["--path", "/api/v1/node/pending/abd/ack"],
            b,
            "1700000100",
            &h,
        ),
        "8702",
    );
    fails(verify(&["--path", path], b, "1700000301", &h), "8703");
    fails(verify(&["--path", path], b, "1699999699", &h), "8703");
    fails(
        verify(&["--path", path, "--key-version", "1"], b, "1700000100", &h),
        "8705",
    );
    fails(
        verify(&["--path", path, "--caller", "n2"], b, "1700000100", &h),
        "8705",
    );
    let mut dup = h.clone();
    dup.push("X-Sealpass-Caller: n1".into());
    fails(verify(&["--path", path], b, "1700000100", &dup), "8701");
    fails(verify(&["--path", path], b, "1700000100", &h[..3]), "8701");
    fails(verify(&["--path", path], b, "1700000100", &[]), "8701");
    // Usage errors carry a code too.
    fails(
        run(&[
            "sign",
            "--secret-file",
            s,
            "--caller",
            "bad id",
            "--method",
            "GET",
            "--path",
            "/",
        ]),
        "8403",
    );
}
