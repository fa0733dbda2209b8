//! The one place that finds the binaries under test. They are built before
//! the tests run (`./build.sh test`, or `cargo build --workspace --bins`);
//! a missing binary fails the test with that command, never skips it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The build that produces every binary the tests run.
pub const BUILD: &str = "cargo build --workspace --bins";

/// The cargo target dir: `CARGO_TARGET_DIR`, else the workspace's target/.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"))
}

/// Directory of binaries built with the same profile as this test.
pub fn bin_dir() -> PathBuf {
    target_dir().join(if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    })
}

/// Path to a built binary; panics with how to build it when it is missing
/// or older than the sources (cargo does not rebuild another package's
/// binaries for these tests, so a stale one would test old code).
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    let build = format!(
        "{BUILD}{}",
        if cfg!(debug_assertions) {
            ""
        } else {
            " --release"
        }
    );
    assert!(
        p.is_file(),
        "{} is missing: build it first with `{build}` (build.sh does this before cargo test)",
        p.display()
    );
    if std::env::var_os("SEALPASS_TEST_ALLOW_STALE_BINS").is_none() {
        let built = modified(&p);
        if let Some((src, _)) = newest_source(name).filter(|(_, t)| *t > built) {
            panic!(
                "{} is older than {}: rebuild with `{build}` (or set SEALPASS_TEST_ALLOW_STALE_BINS=1)",
                p.display(),
                src.display()
            );
        }
    }
    p
}

fn modified(p: &Path) -> SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The crate directories a binary is built from (its crate and every
/// workspace crate below it; docs/ARCHITECTURE.md has the graph). Cargo
/// relinks a binary only when one of these changes.
fn source_dirs(name: &str) -> &'static [&'static str] {
    match name {
        "sealpass" => &["src", "crates/native", "crates/open", "crates/cli"],
        "sealpass-relay" => &["src", "crates/native", "crates/relay"],
        "hostile-relay" => &["src", "tests/bin"],
        _ => &[],
    }
}

/// The most recently modified Rust source or manifest `name` is built from
/// (tests and benches left out).
fn newest_source(name: &str) -> Option<(PathBuf, SystemTime)> {
    let root = crate::root();
    let mut newest: Option<(PathBuf, SystemTime)> = None;
    let mut consider = |p: PathBuf| {
        let t = modified(&p);
        if newest.as_ref().map_or(true, |(_, n)| t > *n) {
            newest = Some((p, t));
        }
    };
    let mut stack: Vec<PathBuf> = source_dirs(name).iter().map(|d| root.join(d)).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name()
                    .is_some_and(|n| n != "tests" && n != "benches")
                {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") || p.ends_with("Cargo.toml") {
                consider(p);
            }
        }
    }
    newest
}

/// The hostile relay proxy (tests/bin/hostile_relay.rs).
pub fn hostile_relay() -> PathBuf {
    bin("hostile-relay")
}

/// The `sealpass` CLI.
pub fn sealpass() -> PathBuf {
    bin("sealpass")
}

/// The relay under test; `SEALPASS_TEST_RELAY_BIN` overrides (the load test
/// runs a release relay from a quick-to-build debug test).
pub fn relay() -> PathBuf {
    if let Some(p) = std::env::var_os("SEALPASS_TEST_RELAY_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "SEALPASS_TEST_RELAY_BIN={} is not a file",
            p.display()
        );
        return p;
    }
    bin("sealpass-relay")
}
