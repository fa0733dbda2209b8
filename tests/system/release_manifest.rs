//! The release manifest and `sealpass release` on the real binary: a signed
//! manifest of a page directory verifies, and a tampered file (8802), a
//! tampered or malformed manifest (8801 / 8803) and a wrong key (8801) fail.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

fn run(args: &[&str]) -> Output {
    sealpass_tests::cli::sealpass(args, b"")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Exit non-zero and stderr names `code`.
fn fails_with(args: &[&str], code: u16) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} unexpectedly succeeded");
    assert!(
        err.starts_with(&format!("error {code} ")),
        "{args:?}: want {code}, got {err}"
    );
}

struct Release {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    manifest: PathBuf,
    pubkey: String,
    key: PathBuf,
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn release() -> Release {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dist");
    fs::create_dir_all(dir.join("pkg")).unwrap();
    fs::write(dir.join("index.html"), "<!doctype html><title>x</title>").unwrap();
    fs::write(dir.join("app.js"), "console.log(1)").unwrap();
    fs::write(dir.join("pkg/sealpass_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let key = tmp.path().join("release.key");
    let pubkey = ok(&["release", "keygen", "--out", p(&key)])
        .trim()
        .to_owned();
    assert_eq!(
        ok(&["release", "pubkey", "--key", p(&key)]).trim(),
        pubkey.as_str()
    );
    let manifest = dir.join("releases.json");
    ok(&[
        "release",
        "sign",
        "--key",
        p(&key),
        "--dir",
        p(&dir),
        "--version",
        "1.2.3",
        "--out",
        p(&manifest),
    ]);
    Release {
        _tmp: tmp,
        dir,
        manifest,
        pubkey,
        key,
    }
}

fn verify_dir(r: &Release, manifest: &Path, pubkey: &str) -> Vec<String> {
    vec![
        "release".into(),
        "verify".into(),
        "--manifest".into(),
        p(manifest).into(),
        "--pubkey".into(),
        pubkey.into(),
        "--dir".into(),
        p(&r.dir).into(),
    ]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn signed_release_verifies() {
    let r = release();
    let out = ok(&args(&verify_dir(&r, &r.manifest, &r.pubkey)));
    assert!(
        out.contains("signature ok: release 1.2.3 (3 files)"),
        "{out}"
    );
    assert!(out.contains("ok index.html sha384-"), "{out}");
    // The key file works as --pubkey too, and the manifest lists URLs.
    let pk_file = r.dir.parent().unwrap().join("release.pub");
    fs::write(&pk_file, format!("{}\n", r.pubkey)).unwrap();
    ok(&args(&verify_dir(&r, &r.manifest, p(&pk_file))));
    let text = fs::read_to_string(&r.manifest).unwrap();
    assert!(text.contains("\"url\": \"/accept\""), "{text}");
    assert!(text.contains("\"url\": \"/static/app.js\""), "{text}");
    assert!(!text.contains(fs::read_to_string(&r.key).unwrap().trim()));
}

#[test]
fn tampered_file_is_8802() {
    let r = release();
    let js = r.dir.join("app.js");
    let mut b = fs::read(&js).unwrap();
    b[0] ^= 1;
    fs::write(&js, b).unwrap();
    fails_with(&args(&verify_dir(&r, &r.manifest, &r.pubkey)), 8802);
}

#[test]
fn missing_or_extra_file_is_8802() {
    let r = release();
    fs::write(r.dir.join("extra.js"), "x").unwrap();
    fails_with(&args(&verify_dir(&r, &r.manifest, &r.pubkey)), 8802);
    fs::remove_file(r.dir.join("extra.js")).unwrap();
    fs::remove_file(r.dir.join("app.js")).unwrap();
    fails_with(&args(&verify_dir(&r, &r.manifest, &r.pubkey)), 8802);
}

#[test]
fn tampered_manifest_is_8801_and_malformed_is_8803() {
    let r = release();
    let text = fs::read_to_string(&r.manifest).unwrap();
    // A re-pointed hash (as if the attacker updated the manifest to match a
    // swapped file) breaks the signature.
    let js = fs::read(r.dir.join("app.js")).unwrap();
    let old = sealpass_native::release::sha384_b64(&js);
    let new = sealpass_native::release::sha384_b64(b"evil");
    let forged = r.dir.parent().unwrap().join("forged.json");
    fs::write(&forged, text.replace(&old, &new)).unwrap();
    fails_with(&args(&verify_dir(&r, &forged, &r.pubkey)), 8801);
    fs::write(&forged, text.replace("1.2.3", "1.2.4")).unwrap();
    fails_with(&args(&verify_dir(&r, &forged, &r.pubkey)), 8801);
    // Broken JSON, unknown key, bad hash: malformed.
    for bad in [
        text.replace('{', "["),
        text.replacen("\"version\"", "\"extra\": 1, \"version\"", 1),
        text.replace(&old, "AAAA"),
        text[..text.len() / 2].to_owned(),
    ] {
        fs::write(&forged, bad).unwrap();
        fails_with(&args(&verify_dir(&r, &forged, &r.pubkey)), 8803);
    }
}

#[test]
fn wrong_key_is_8801() {
    let r = release();
    let other_key = r.dir.parent().unwrap().join("other.key");
    let other = ok(&["release", "keygen", "--out", p(&other_key)])
        .trim()
        .to_owned();
    fails_with(&args(&verify_dir(&r, &r.manifest, &other)), 8801);
    // An all-zero (small-order) key is refused by verify_strict.
    let zero = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    fails_with(&args(&verify_dir(&r, &r.manifest, zero)), 8801);
}

#[test]
fn keygen_never_overwrites() {
    let r = release();
    fails_with(&["release", "keygen", "--out", p(&r.key)], 8402);
}
