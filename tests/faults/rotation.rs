//! SIGKILL of `sealpass keystore rotate-dek` / `rotate-kek` at a random
//! moment. Each rotation is one SQLite transaction, so after the kill the
//! store is either wholly rotated or wholly as before: exactly one of the
//! two KEKs opens it, and every record opens with it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sealpass_tests::bins;
use sealpass_tests::cli::{random_kek, run};
use sealpass_tests::proc::{assert_not_in_files, rand_hex, run_with_stdin, spawn, tempdir};

use crate::config::{report, Config};

/// One-time keys in the store (records re-sealed by rotate-dek), so a
/// rotation runs long enough for kills to land inside its transaction.
const PENDING_KEYS: usize = 120;
const SECRETS: usize = 4;

fn sealpass(dir: &Path, kek: &str, prev: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(bins::sealpass());
    cmd.env_remove("SEALPASS_KEK_FILE")
        .env_remove("SEALPASS_KEK_PREVIOUS")
        .env_remove("SEALPASS_KEK_PREVIOUS_FILE")
        .env("SEALPASS_DATA_DIR", dir)
        .env("SEALPASS_KEK", kek)
        .args(args);
    if let Some(p) = prev {
        cmd.env("SEALPASS_KEK_PREVIOUS", p);
    }
    cmd
}

fn ok(dir: &Path, kek: &str, args: &[&str], stdin: &[u8]) -> String {
    let out = run(dir, &[("SEALPASS_KEK", kek)], args, stdin);
    assert_eq!(out.code, 0, "sealpass {args:?}: {}", out.stderr);
    out.text()
}

fn active_dek(dir: &Path, kek: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&ok(dir, kek, &["keystore", "status", "--json"], b"")).unwrap();
    v["deks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["state"] == "active")
        .expect("an active DEK")["dek_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Does `kek` open the store? (`keystore verify`: every record.)
fn verify_with(dir: &Path, kek: &str) -> Option<String> {
    let out = run(dir, &[("SEALPASS_KEK", kek)], &["keystore", "verify"], b"");
    (out.code == 0).then(|| out.text())
}

/// A store with one-time keys and delivered secrets, made by the CLI.
fn populate(dir: &Path, kek: &str) -> Vec<(String, String)> {
    let mut secrets = Vec::new();
    for i in 0..PENDING_KEYS + SECRETS {
        let pending = format!("p-{i}");
        let ctx = serde_json::json!({"node_id": "n1", "pending_id": pending,
            "slug": format!("slug-{i}"), "injection_method": "env"});
        let ctx_file = dir.with_extension(format!("ctx-{i}.json"));
        std::fs::write(&ctx_file, ctx.to_string()).unwrap();
        let ctx_arg = ctx_file.to_str().unwrap();
        let key: serde_json::Value = serde_json::from_str(&ok(
            dir,
            kek,
            &["node", "pending", "new", "--context", ctx_arg, "--json"],
            b"",
        ))
        .unwrap();
        if i < SECRETS {
            let secret = format!("rotation-secret-{i}-{}", rand_hex(10));
            let mut seal = Command::new(bins::sealpass());
            seal.args(["seal", "--to", key["public_key"].as_str().unwrap()])
                .args(["--identity", key["identity_key"].as_str().unwrap()])
                .args(["--context", ctx_arg]);
            let env = run_with_stdin(seal, &secret);
            assert!(
                env.status.success(),
                "{}",
                String::from_utf8_lossy(&env.stderr)
            );
            ok(
                dir,
                kek,
                &["node", "accept", "--pending", &pending],
                &env.stdout,
            );
            secrets.push((format!("slug-{i}"), secret));
        }
    }
    secrets
}

#[test]
fn kill_rotations_at_random_points() {
    let (cfg, mut rng) = Config::from_env("rotation");
    let tmp = tempdir();
    let dir = tmp.path().join("keystore");
    let (mut kek, _) = random_kek();
    let secrets = populate(&dir, &kek);
    let records = verify_with(&dir, &kek).expect("fresh store opens");

    // How long an uninterrupted rotation takes here: the kill window.
    let t0 = Instant::now();
    ok(&dir, &kek, &["keystore", "rotate-dek"], b"");
    let window_us = (t0.elapsed().as_micros() as u64).max(1000) * 3 / 2;

    let (mut committed, mut rolled_back) = (0usize, 0usize);
    let (mut dek_runs, mut kek_runs) = (0usize, 0usize);
    for i in 0..cfg.rotations {
        let dek_before = active_dek(&dir, &kek);
        let new_kek = random_kek().0;
        let kek_rotation = rng.below(2) == 1;
        let cmd = if kek_rotation {
            kek_runs += 1;
            sealpass(&dir, &new_kek, Some(&kek), &["keystore", "rotate-kek"])
        } else {
            dek_runs += 1;
            sealpass(&dir, &kek, None, &["keystore", "rotate-dek"])
        };
        let mut p = spawn(cmd);
        std::thread::sleep(Duration::from_micros(rng.below(window_us)));
        p.kill();

        // Exactly one KEK opens the store, and it opens every record.
        let with_new = kek_rotation.then(|| verify_with(&dir, &new_kek)).flatten();
        let with_old = verify_with(&dir, &kek);
        let done = match (kek_rotation, with_new, with_old) {
            (true, Some(v), None) => {
                kek = new_kek;
                assert_eq!(v, records, "iteration {i}");
                true
            }
            (true, None, Some(v)) => {
                assert_eq!(v, records, "iteration {i}");
                false
            }
            (false, None, Some(v)) => {
                assert_eq!(v, records, "iteration {i}");
                active_dek(&dir, &kek) != dek_before
            }
            (_, n, o) => panic!("iteration {i}: new KEK opens: {n:?}, old KEK opens: {o:?}"),
        };
        if done {
            committed += 1;
        } else {
            rolled_back += 1;
        }
        for (slug, secret) in &secrets {
            assert_eq!(
                ok(&dir, &kek, &["node", "secret", "get", slug], b""),
                *secret,
                "iteration {i}: {slug}"
            );
        }
    }
    for (_, secret) in &secrets {
        assert_not_in_files(&dir, secret);
    }
    report(
        "rotation",
        &cfg,
        serde_json::json!({
            "iterations": cfg.rotations,
            "rotate_dek": dek_runs,
            "rotate_kek": kek_runs,
            "committed_before_kill": committed,
            "rolled_back_by_kill": rolled_back,
            "records_checked_each_time": records.trim(),
            "kill_window_us": window_us,
        }),
    );
}
