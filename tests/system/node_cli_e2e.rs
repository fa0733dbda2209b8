//! End to end through the real binary: `node pending new` → `sealpass seal`
//! → `node accept` → restart → `keystore rotate-kek` (with the previous KEK)
//! → `rotate-dek` → `node secret get` returns the exact bytes. Every output,
//! the audit trail, Debug output and the raw database/WAL bytes are searched
//! for the secret and the KEKs.

use std::path::Path;

use rusqlite::Connection;
use sealpass_native::keystore::{KekConfig, Keystore, DB_FILE};
use sealpass_tests::cli::{contains, random_hex, random_kek, run, write_ctx, Out};

struct Transcript(Vec<u8>);

impl Transcript {
    fn add(&mut self, o: &Out) {
        self.0.extend_from_slice(&o.stdout);
        self.0.extend_from_slice(o.stderr.as_bytes());
    }
    fn keep(&mut self, o: Out) -> Out {
        self.add(&o);
        o
    }
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn pending_seal_accept_restart_rotate_read() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node-data");
    let marker = format!("TOPSECRET{}", random_hex(16));
    let mut secret = marker.clone().into_bytes();
    secret.extend_from_slice(b"\n\x00\xff tail ");
    let (k1, k1_raw) = random_kek();
    let (k2, k2_raw) = random_kek();
    let e1 = [("SEALPASS_KEK", k1.as_str())];
    let mut t = Transcript(Vec::new());

    // 1. One-time key for a context.
    let ctx = write_ctx(tmp.path(), "pend-e2e", "api-token");
    let ctx_s = ctx.to_str().unwrap();
    let created = t.keep(
        run(
            &data,
            &e1,
            &["node", "pending", "new", "--context", ctx_s],
            b"",
        )
        .ok(),
    );
    let pk = created.field("public_key");
    let fp = created.field("fingerprint");
    assert_eq!(created.field("pending_id"), "pend-e2e");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join(DB_FILE)), 0o600);
    // Keep a connection open so the WAL file stays on disk for the byte search.
    let holder = Connection::open(data.join(DB_FILE)).unwrap();
    let n: i64 = holder
        .query_row("SELECT count(*) FROM deks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    let again = t.keep(
        run(
            &data,
            &e1,
            &["node", "pending", "new", "--context", ctx_s],
            b"",
        )
        .ok(),
    );
    assert_eq!(
        again.field("public_key"),
        pk,
        "idempotent for the same pending id"
    );
    let listed = t.keep(run(&data, &e1, &["node", "pending", "list"], b"").ok());
    assert!(listed.text().contains(&fp) && listed.text().contains("pend-e2e"));

    // The key is bound to the node's identity (v2 only; PINNING.md §6).
    let nik = again.field("identity_key");
    let id = t.keep(run(&data, &e1, &["node", "identity"], b"").ok());
    assert_eq!(id.field("identity"), nik);
    assert_eq!(
        again.field("identity_fingerprint"),
        id.field("identity_fingerprint")
    );

    // 2. Seal to it (core CLI, no keystore involved).
    let env = run(
        &data,
        &[],
        &["seal", "--to", &pk, "--identity", &nik, "--context", ctx_s],
        &secret,
    )
    .ok();
    let envelope = env.stdout.clone();
    assert!(!contains(&envelope, marker.as_bytes()));

    // 3. A corrupted envelope is refused with 8006 and the key is kept.
    let mut bad = String::from_utf8(envelope.clone()).unwrap();
    let i = bad.find("\"ct\":\"").unwrap() + 8;
    let c = if &bad[i..i + 1] == "A" { "B" } else { "A" };
    bad.replace_range(i..i + 1, c);
    let r = t.keep(run(
        &data,
        &e1,
        &["node", "accept", "--pending", "pend-e2e"],
        bad.as_bytes(),
    ));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error 8006 DecryptFailed"),
        "{}",
        r.stderr
    );
    // Oversized input is refused before it is read in full.
    let big = vec![b' '; 64 * 1024 + 1];
    let r = t.keep(run(
        &data,
        &e1,
        &["node", "accept", "--pending", "pend-e2e"],
        &big,
    ));
    assert!(
        r.stderr.starts_with("error 8008 CiphertextTooLarge"),
        "{}",
        r.stderr
    );

    // 4. Accept: consumed once.
    let acc = t.keep(
        run(
            &data,
            &e1,
            &["node", "accept", "--pending", "pend-e2e"],
            &envelope,
        )
        .ok(),
    );
    assert!(
        acc.text().contains("api-token")
            && acc.text().contains(&format!("({} bytes)", secret.len()))
    );
    let r = t.keep(run(
        &data,
        &e1,
        &["node", "accept", "--pending", "pend-e2e"],
        &envelope,
    ));
    assert!(
        r.stderr.starts_with("error 8507 AlreadyConsumed"),
        "{}",
        r.stderr
    );
    let r = t.keep(run(
        &data,
        &e1,
        &["node", "pending", "new", "--context", ctx_s],
        b"",
    ));
    assert!(
        r.stderr.starts_with("error 8507 AlreadyConsumed"),
        "{}",
        r.stderr
    );
    let listed = t.keep(run(&data, &e1, &["node", "pending", "list"], b"").ok());
    assert!(listed.stdout.is_empty());

    // 5. Restart (new process) and read.
    let got = run(&data, &e1, &["node", "secret", "get", "api-token"], b"").ok();
    assert_eq!(got.stdout, secret);
    t.add(&Out {
        code: 0,
        stdout: Vec::new(),
        stderr: got.stderr,
    });
    let list = t.keep(run(&data, &e1, &["node", "secret", "list", "--json"], b"").ok());
    let meta: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(meta["slug"], "api-token");
    assert_eq!(meta["size"], secret.len());
    assert_eq!(meta["field_name"], "API_TOKEN");

    // 6. rotate-kek: new KEK current, old one previous.
    let e21 = [
        ("SEALPASS_KEK", k2.as_str()),
        ("SEALPASS_KEK_PREVIOUS", k1.as_str()),
    ];
    let r = t.keep(run(
        &data,
        &[("SEALPASS_KEK", k2.as_str())],
        &["keystore", "status"],
        b"",
    ));
    assert!(
        r.stderr.starts_with("error 8502 KekMismatch"),
        "{}",
        r.stderr
    );
    let rot = t.keep(run(&data, &e21, &["keystore", "rotate-kek"], b"").ok());
    assert!(rot.text().contains("1 DEK(s) re-wrapped"), "{}", rot.text());
    let e2 = [("SEALPASS_KEK", k2.as_str())];
    let r = t.keep(run(
        &data,
        &e1,
        &["node", "secret", "get", "api-token"],
        b"",
    ));
    assert!(
        r.stderr.starts_with("error 8502 KekMismatch") && r.stdout.is_empty(),
        "{}",
        r.stderr
    );

    // 7. rotate-dek with the new KEK alone (the secret and the identity).
    let rot = t.keep(run(&data, &e2, &["keystore", "rotate-dek"], b"").ok());
    assert!(
        rot.text().contains("2 record(s) re-sealed"),
        "{}",
        rot.text()
    );
    let st = t.keep(run(&data, &e2, &["keystore", "status", "--json"], b"").ok());
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    let k2_id = KekConfig::new(k2_raw, None).kek_id().to_owned();
    assert_eq!(st["kek_id"], k2_id.as_str());
    assert_eq!(st["deks"].as_array().unwrap().len(), 1);
    assert_eq!(st["deks"][0]["kek_id"], k2_id.as_str());
    assert_eq!(st["deks"][0]["records"], 2, "the secret and the identity");
    assert_eq!(st["secrets"], 1);
    t.keep(run(&data, &e2, &["keystore", "verify"], b"").ok());

    // 8. The secret, byte-exact, after restart and both rotations.
    let got = run(&data, &e2, &["node", "secret", "get", "api-token"], b"").ok();
    assert_eq!(got.stdout, secret);
    assert!(got.stderr.is_empty());

    // 9. Audit trail: every kind of event, metadata only.
    let audit = t.keep(run(&data, &e2, &["keystore", "audit"], b"").ok());
    let events: Vec<serde_json::Value> = audit
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for ev in [
        "init",
        "open",
        "pending-new",
        "accept",
        "secret-get",
        "rotate-kek",
        "rotate-dek",
        "kek-mismatch",
        "verify",
    ] {
        assert!(events.iter().any(|e| e["event"] == ev), "audit lacks {ev}");
    }
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "accept" && e["code"] == 8006),
        "decrypt failure audited"
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "accept" && e["code"] == 8507),
        "replay audited"
    );

    // 10. Debug output of everything the library hands out.
    let ks = Keystore::open(&data, &KekConfig::new(k2_raw, Some(k1_raw))).unwrap();
    let dbg = format!(
        "{ks:?} {:?} {:?} {:?} {:?} {:?}",
        ks.status().unwrap(),
        ks.secret_list().unwrap(),
        ks.audit().unwrap(),
        KekConfig::new(k2_raw, Some(k1_raw)),
        ks.secret_get("api-token").unwrap_err_or_redacted(),
    );
    drop(ks);

    // 11. No secret and no KEK anywhere.
    let mut files = Vec::new();
    for name in [
        DB_FILE.to_string(),
        format!("{DB_FILE}-wal"),
        format!("{DB_FILE}-shm"),
    ] {
        let p = data.join(&name);
        if p.exists() {
            files.push((name, std::fs::read(&p).unwrap()));
        }
    }
    assert!(
        files
            .iter()
            .any(|(n, b)| n.ends_with("-wal") && !b.is_empty()),
        "WAL file present for the search"
    );
    let k1_hex: String = k1_raw.iter().map(|b| format!("{b:02x}")).collect();
    let needles: Vec<(&str, Vec<u8>)> = vec![
        ("secret", marker.as_bytes().to_vec()),
        ("KEK1 b64", k1.as_bytes().to_vec()),
        ("KEK2 b64", k2.as_bytes().to_vec()),
        ("KEK1 raw", k1_raw.to_vec()),
        ("KEK2 raw", k2_raw.to_vec()),
        ("KEK1 hex", k1_hex.into_bytes()),
    ];
    for (what, needle) in &needles {
        assert!(!contains(&t.0, needle), "{what} in command output");
        assert!(!contains(dbg.as_bytes(), needle), "{what} in Debug output");
        for (name, bytes) in &files {
            assert!(!contains(bytes, needle), "{what} in {name}");
        }
    }
    assert!(
        contains(&t.0, b"api-token"),
        "sanity: the transcript is searched"
    );
    drop(holder);
}

/// Format a secret read for Debug without ever formatting the value itself.
trait Redacted {
    fn unwrap_err_or_redacted(self) -> String;
}

impl Redacted for sealpass::Result<zeroize::Zeroizing<Vec<u8>>> {
    fn unwrap_err_or_redacted(self) -> String {
        match self {
            Ok(v) => format!("<{} bytes>", v.len()),
            Err(e) => format!("{e:?}"),
        }
    }
}

#[test]
fn dev_insecure_kek_warns_on_every_start() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("dev");
    // `keystore status` reads an existing store only.
    drop(
        sealpass_native::keystore::Keystore::open(
            &data,
            &sealpass_native::keystore::KekConfig::dev_insecure(),
        )
        .unwrap(),
    );
    for _ in 0..2 {
        let o = run(
            &data,
            &[],
            &["keystore", "status", "--dev-insecure-kek"],
            b"",
        )
        .ok();
        assert!(o.stderr.matches("WARNING").count() >= 4, "{}", o.stderr);
        assert!(
            o.stderr.contains("--dev-insecure-kek")
                && o.stderr.contains("NEVER use this in production")
        );
        assert!(o.text().contains("DEV-INSECURE"));
    }
    let (k, _) = random_kek();
    let o = run(
        &data,
        &[("SEALPASS_KEK", k.as_str())],
        &["keystore", "status", "--dev-insecure-kek"],
        b"",
    );
    assert!(
        o.stderr.starts_with("error 8503 KekInvalid"),
        "{}",
        o.stderr
    );
    let o = run(
        &data,
        &[("SEALPASS_KEK", k.as_str())],
        &["keystore", "status"],
        b"",
    );
    assert!(
        o.stderr.starts_with("error 8502 KekMismatch"),
        "a dev store never opens with a real KEK: {}",
        o.stderr
    );
}
