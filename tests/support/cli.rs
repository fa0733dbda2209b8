//! One-shot `sealpass` CLI runs for the node/keystore command tests: a
//! clean SEALPASS_* environment, stdin fed in, exit code and output kept.

use std::io::Write;
use std::path::{Path, PathBuf};

use std::process::{Command, Stdio};

/// One finished command.
pub struct Out {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Out {
    pub fn ok(self) -> Out {
        assert_eq!(self.code, 0, "command failed: {}", self.stderr);
        self
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// Value of a `key: value` line on stdout.
    pub fn field(&self, key: &str) -> String {
        let prefix = format!("{key}: ");
        self.text()
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .unwrap_or_else(|| panic!("no {key} in {}", self.text()))
    }
}

/// Run `sealpass args...` with only the given SEALPASS_* variables set
/// (none are inherited), `stdin` as input.
pub fn run(data_dir: &Path, env: &[(&str, &str)], args: &[&str], stdin: &[u8]) -> Out {
    let mut cmd = Command::new(crate::bins::sealpass());
    for (k, _) in std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))) {
        if k.starts_with("SEALPASS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("SEALPASS_DATA_DIR", data_dir)
        .envs(env.iter().copied())
        .args(args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn sealpass");
    let mut sin = child.stdin.take().expect("stdin");
    // A command may exit before reading everything (size limits): ignore EPIPE.
    let _ = sin.write_all(stdin);
    drop(sin);
    let o = child.wait_with_output().expect("wait");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// A fresh random KEK, as the operator would put in SEALPASS_KEK.
pub fn random_kek() -> (String, [u8; 32]) {
    crate::proc::new_kek_bytes()
}

/// Random lower-case hex.
pub use crate::proc::rand_hex as random_hex;

pub use crate::proc::contains;

/// Write a context JSON file and return its path.
pub fn write_ctx(dir: &Path, pending_id: &str, slug: &str) -> PathBuf {
    let p = dir.join(format!("ctx-{pending_id}.json"));
    let json = format!(
        r#"{{"node_id":"node-1","pending_id":"{pending_id}","slug":"{slug}","injection_method":"env","field_name":"API_TOKEN"}}"#
    );
    std::fs::write(&p, json).unwrap();
    p
}

/// Run `sealpass args...` (environment inherited) with `stdin` fed in and
/// closed; the CLI may stop reading early (size limits), so a broken pipe
/// is not an error here.
pub fn sealpass(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(crate::bins::sealpass())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sealpass");
    if let Some(mut si) = child.stdin.take() {
        let _ = si.write_all(stdin);
    }
    child.wait_with_output().expect("wait for sealpass")
}

/// Make an inject command pin-aware: use the known-nodes file `known`
/// (never the user's config dir) and `--pin` each identity fingerprint.
pub fn with_pins<'a>(
    cmd: &'a mut Command,
    known: &Path,
    identity_fps: &[String],
) -> &'a mut Command {
    cmd.arg("--known-nodes").arg(known);
    for fp in identity_fps {
        cmd.args(["--pin", fp]);
    }
    cmd
}

/// The identity fingerprint a node agent publishes (`sealpass node identity --json`).
pub fn identity_fp(node: &crate::agent::Node) -> String {
    node.identity_json()["identity_fingerprint"]
        .as_str()
        .expect("identity_fingerprint")
        .to_owned()
}
