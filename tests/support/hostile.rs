//! A breached relay in front of the real one: the `hostile-relay` proxy
//! (tests/bin/hostile_relay.rs) as a process on loopback, with the paths of
//! what it keeps (attacker keys, log, captured envelope posts).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::bins;
use crate::proc::Proc;

/// A running `hostile-relay`; killed by PID when dropped.
pub struct Hostile {
    proc: Proc,
    /// `http://127.0.0.1:PORT`: give this to the sender instead of the relay.
    pub url: String,
    /// Its state dir.
    pub dir: PathBuf,
}

impl Hostile {
    /// Start one in `mode` (the modes of tests/bin/hostile_relay.rs) in
    /// front of `upstream`, keeping its state in `dir`.
    pub fn start(upstream: &str, mode: &str, dir: &Path) -> Hostile {
        Self::start_with(upstream, mode, dir, &[])
    }

    /// [`Hostile::start`] with extra flags (e.g. `--flood-polls 20`).
    pub fn start_with(upstream: &str, mode: &str, dir: &Path, extra: &[&str]) -> Hostile {
        std::fs::create_dir_all(dir).unwrap();
        let mut cmd = Command::new(bins::hostile_relay());
        cmd.args(["--upstream", upstream, "--mode", mode, "--state-dir"])
            .arg(dir)
            .args(["--max-lifetime", "600"])
            .args(extra);
        let proc = Proc::spawn(cmd);
        let line = proc
            .out
            .wait_for("listening on http://", Duration::from_secs(20));
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_owned();
        Hostile {
            proc,
            url,
            dir: dir.to_path_buf(),
        }
    }

    /// The attacker's one-time secret key file.
    pub fn otk_key(&self) -> PathBuf {
        self.dir.join("attacker_otk.key")
    }

    /// The attacker's identity secret key file.
    pub fn identity_key(&self) -> PathBuf {
        self.dir.join("attacker_identity.key")
    }

    /// Every envelope post the proxy saw, as JSON bodies.
    pub fn envelope_posts(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.join("envelopes.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// How many node pending lists it has flooded so far.
    pub fn floods(&self) -> u64 {
        std::fs::read_to_string(self.dir.join("floods"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Everything it logged.
    pub fn log(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("log")).unwrap_or_default()
    }

    /// Stop it now.
    pub fn stop(&mut self) {
        self.proc.kill();
    }
}
