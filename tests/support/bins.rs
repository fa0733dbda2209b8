//! The one place that finds the binaries under test. They are built before
//! the tests run (`./build.sh test`, or `cargo build --workspace --bins`);
//! a missing binary fails the test with that command, never skips it.

use std::path::PathBuf;

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

/// Path to a built binary; panics with how to build it when missing.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.is_file(),
        "{} is missing: build it first with `{BUILD}{}` (build.sh does this before cargo test)",
        p.display(),
        if cfg!(debug_assertions) {
            ""
        } else {
            " --release"
        }
    );
    p
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
