#![cfg(feature = "relay")]
//! The relay cannot decrypt: its feature graph never enables `open`, and its
//! binary contains no `sealpass::open` code — while the CLI binary does (so
//! the symbol check is able to fail).

mod common_http;

use std::process::Command;

use common_http::{bin_dir, relay_binary};

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

#[test]
fn relay_feature_graph_has_no_open() {
    let out = Command::new(cargo())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--offline",
            "-e",
            "features",
            "--no-default-features",
            "--features",
            "relay",
            "-i",
            "sealpass",
            "--prefix",
            "none",
        ])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("sealpass feature \"relay\""),
        "unexpected cargo tree output (the check would be vacuous):\n{text}"
    );
    assert!(
        !text.contains("feature \"open\"") && !text.contains("feature \"cli\""),
        "the relay build enables decryption:\n{text}"
    );
    // Sanity: the same query for the CLI build does show `open`.
    let cli = Command::new(cargo())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--offline",
            "-e",
            "features",
            "--features",
            "cli",
            "-i",
            "sealpass",
            "--prefix",
            "none",
        ])
        .output()
        .expect("run cargo tree");
    assert!(String::from_utf8_lossy(&cli.stdout).contains("sealpass feature \"open\""));
}

fn has_open_code(path: &std::path::Path) -> bool {
    let bytes = std::fs::read(path).expect("read binary");
    // Debug binaries carry mangled symbol names and paths; `open.rs` source
    // path and the v0/legacy mangled module path both identify the module.
    let needles: [&[u8]; 3] = [b"sealpass4open", b"src/open.rs", b"sealpass::open::"];
    needles
        .iter()
        .any(|n| bytes.windows(n.len()).any(|w| w == *n))
}

#[test]
fn relay_binary_contains_no_open_code() {
    let relay = relay_binary();
    let cli = bin_dir().join("sealpass");
    assert!(
        cli.is_file(),
        "{} is missing: build it with `cargo build --features cli --bin sealpass` (build.sh does)",
        cli.display()
    );
    assert!(
        has_open_code(&cli),
        "the CLI binary should contain sealpass::open — otherwise this check proves nothing"
    );
    assert!(
        !has_open_code(&relay),
        "the relay binary contains sealpass::open code"
    );
}
