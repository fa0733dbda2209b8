//! The relay cannot decrypt: its crate graph has no `sealpass-open` (the only
//! crate that can open an envelope), and its binary contains no code from it
//! — while the CLI's graph and binary do (so both checks are able to fail).

use std::process::Command;

use sealpass_tests::{bins, root};

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Package names in the normal-dependency graph of `package` (this
/// platform) with every feature of every package turned on.
fn normal_deps(package: &str) -> Vec<String> {
    let out = Command::new(cargo())
        .current_dir(root())
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            package,
            "-e",
            "normal",
            "--all-features",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn relay_dependency_graph_has_no_decryption_crate() {
    let relay = normal_deps("sealpass-relay");
    assert!(
        relay.iter().any(|p| p == "sealpass-native") && relay.iter().any(|p| p == "sealpass"),
        "unexpected cargo tree output (the check would be vacuous): {relay:?}"
    );
    assert!(
        !relay.iter().any(|p| p == "sealpass-open"),
        "the relay's dependency graph contains sealpass-open: {relay:?}"
    );
    // The same query for the CLI does show it.
    let cli = normal_deps("sealpass-cli");
    assert!(
        cli.iter().any(|p| p == "sealpass-open"),
        "the CLI should depend on sealpass-open: {cli:?}"
    );
    // Nor does the shared native crate, which the relay links.
    let native = normal_deps("sealpass-native");
    assert!(
        !native.iter().any(|p| p == "sealpass-open"),
        "sealpass-native depends on sealpass-open: {native:?}"
    );
}

fn has_open_code(path: &std::path::Path) -> bool {
    let bytes = std::fs::read(path).expect("read binary");
    // Debug binaries carry mangled symbol names and source paths; the crate
    // name and its source path both identify decryption code.
    let needles: [&[u8]; 2] = [b"sealpass_open", b"crates/open/src/lib.rs"];
    needles
        .iter()
        .any(|n| bytes.windows(n.len()).any(|w| w == *n))
}

#[test]
fn relay_binary_contains_no_open_code() {
    let relay = bins::relay();
    let cli = bins::sealpass();
    assert!(
        has_open_code(&cli),
        "the CLI binary should contain sealpass_open — otherwise this check proves nothing"
    );
    assert!(
        !has_open_code(&relay),
        "the relay binary contains sealpass_open code"
    );
}
