//! Real node agents (`sealpass node run`) and `sealpass inject` runs for
//! the whole-system tests, each node in its own temp dir with its own KEK,
//! against a [`Relay`] from the one relay harness.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::bins;
use crate::proc::{new_kek, rand_hex, run_with_stdin, Lines, Proc};
use crate::relay::Relay;

/// Poll interval the agents under test use (seconds).
pub const POLL: &str = "0.2";

/// State of one target in a status/pending answer.
pub fn target_state(v: &serde_json::Value, node: &str) -> String {
    v["targets"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["node_id"] == node))
        .and_then(|t| t["state"].as_str())
        .unwrap_or("")
        .to_string()
}

/// One node: its data dir, KEK and (while running) its agent process.
pub struct Node {
    pub id: String,
    pub data: PathBuf,
    pub kek: String,
    pub secret_file: PathBuf,
    /// The relay's registration answer (node_id, key_version, secret).
    pub registration: serde_json::Value,
    pub agent: Option<Proc>,
}

impl Node {
    /// Register at the relay and write the relay's answer to a file.
    pub fn new(relay: &Relay, root: &Path, id: &str) -> Node {
        let data = root.join(format!("node-{id}"));
        std::fs::create_dir_all(&data).unwrap();
        let secret_file = root.join(format!("{id}.secret.json"));
        let answer = relay.add_node_json(id);
        std::fs::write(&secret_file, &answer).unwrap();
        Node {
            id: id.to_string(),
            data,
            kek: new_kek(),
            secret_file,
            registration: serde_json::from_str(&answer).unwrap(),
            agent: None,
        }
    }

    /// Start `sealpass node run` (registering the secret on first start).
    pub fn start(&mut self, relay_url: &str) -> &Proc {
        self.start_with(relay_url, &[])
    }

    /// [`Node::start`] with extra `node run` flags.
    pub fn start_with(&mut self, relay_url: &str, extra: &[&str]) -> &Proc {
        let cmd = self.run_command(relay_url, &[], extra);
        let p = Proc::spawn(cmd);
        p.out.wait_for("agent started", Duration::from_secs(30));
        self.started(p)
    }

    /// The `sealpass node run` command [`Node::start_with`] spawns, run
    /// through `wrapper` (a program and its arguments, e.g. a resource
    /// limit) when one is given. With the registration file while it exists.
    pub fn run_command(&self, relay_url: &str, wrapper: &[&str], extra: &[&str]) -> Command {
        let mut cmd = match wrapper.split_first() {
            Some((prog, args)) => {
                let mut c = Command::new(prog);
                c.args(args).arg(bins::sealpass());
                c
            }
            None => Command::new(bins::sealpass()),
        };
        cmd.args([
            "node",
            "run",
            "--relay",
            relay_url,
            "--node-id",
            &self.id,
            "--poll-interval",
            POLL,
            "--data-dir",
        ])
        .arg(&self.data)
        .args(extra)
        .env("SEALPASS_KEK", &self.kek)
        .env_remove("SEALPASS_DATA_DIR");
        if self.secret_file.exists() {
            cmd.arg("--register-secret-file").arg(&self.secret_file);
        }
        cmd
    }

    /// Adopt a running agent process (from [`Node::run_command`]); the
    /// registration file is gone once an agent stored it.
    pub fn started(&mut self, p: Proc) -> &Proc {
        if self.secret_file.exists() {
            std::fs::remove_file(&self.secret_file).unwrap();
        }
        self.agent = Some(p);
        self.agent.as_ref().unwrap()
    }

    pub fn out(&self) -> &Lines {
        &self.agent.as_ref().expect("agent not running").out
    }

    /// The fingerprint the agent printed for a pending id.
    pub fn fingerprint(&self, pending_id: &str) -> String {
        let line = self.out().wait_for(
            &format!("pending {pending_id}: one-time key fingerprint "),
            Duration::from_secs(30),
        );
        line.split("fingerprint ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }

    /// A signed node request made by hand (as the agent would), for tests
    /// that need to act as the node without its agent.
    pub fn signed_get(&self, relay: &Relay, path: &str) -> serde_json::Value {
        let secret = sealpass::b64::decode(self.registration["secret"].as_str().unwrap()).unwrap();
        let version = self.registration["key_version"].as_u64().unwrap() as u32;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let target = format!("{path}?n={}", rand_hex(8));
        let headers = sealpass_native::signing::sign_request(
            &secret, &self.id, version, "GET", &target, b"", now,
        );
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = relay.req("GET", &target, &headers, b"");
        assert_eq!(r.status, 200, "signed GET {target}: {}", r.text());
        r.json()
    }

    /// `sealpass node accept --pending ID` with the envelope on stdin.
    pub fn accept_by_hand(&self, pending_id: &str, envelope_json: &str) -> Output {
        let mut cmd = Command::new(bins::sealpass());
        cmd.args(["node", "accept", "--pending", pending_id, "--data-dir"])
            .arg(&self.data)
            .env("SEALPASS_KEK", &self.kek)
            .env_remove("SEALPASS_DATA_DIR");
        run_with_stdin(cmd, envelope_json)
    }

    /// `sealpass node ARGS... --data-dir D` with this node's KEK (e.g.
    /// `["identity", "rotate", "--json"]`).
    pub fn node_cmd(&self, args: &[&str]) -> Output {
        Command::new(bins::sealpass())
            .arg("node")
            .args(args)
            .arg("--data-dir")
            .arg(&self.data)
            .env("SEALPASS_KEK", &self.kek)
            .env_remove("SEALPASS_DATA_DIR")
            .output()
            .unwrap()
    }

    /// `sealpass keystore ARGS... --data-dir D` with only `env` for the KEK
    /// (e.g. `SEALPASS_KEK_PREVIOUS` during a rotation); its stdout.
    pub fn keystore(&self, env: &[(&str, &str)], args: &[&str]) -> String {
        let out = Command::new(bins::sealpass())
            .arg("keystore")
            .args(args)
            .arg("--data-dir")
            .arg(&self.data)
            .env_remove("SEALPASS_KEK")
            .env_remove("SEALPASS_DATA_DIR")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "keystore {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `keystore rotate-dek`, then `rotate-kek` to a fresh KEK, which this
    /// node uses from then on (the agent must be stopped).
    pub fn rotate_dek_and_kek(&mut self) {
        self.keystore(&[("SEALPASS_KEK", &self.kek)], &["rotate-dek"]);
        let new_kek = crate::proc::new_kek();
        self.keystore(
            &[
                ("SEALPASS_KEK", &new_kek),
                ("SEALPASS_KEK_PREVIOUS", &self.kek),
            ],
            &["rotate-kek"],
        );
        self.kek = new_kek;
    }

    /// `sealpass node identity --json`, parsed (fails the test on error).
    pub fn identity_json(&self) -> serde_json::Value {
        let out = self.node_cmd(&["identity", "--json"]);
        assert!(
            out.status.success(),
            "node identity: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `sealpass node pending list --json`: the one-time keys it holds.
    pub fn pending_keys(&self) -> Vec<serde_json::Value> {
        let out = self.node_cmd(&["pending", "list", "--json"]);
        assert!(
            out.status.success(),
            "node pending list: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `sealpass node secret get SLUG`: the delivered bytes.
    pub fn secret_get(&self, slug: &str) -> Output {
        Command::new(bins::sealpass())
            .args(["node", "secret", "get", "--data-dir"])
            .arg(&self.data)
            .arg(slug)
            .env("SEALPASS_KEK", &self.kek)
            .env_remove("SEALPASS_DATA_DIR")
            .output()
            .expect("run sealpass node secret get")
    }
}

/// Command for `sealpass inject` against `relay` (method env, field
/// API_TOKEN). The admin token comes from `token_file`, or from
/// SEALPASS_ADMIN_TOKEN when `None`.
pub fn inject_cmd(relay: &Relay, token_file: Option<&Path>, nodes: &[&str], slug: &str) -> Command {
    inject_cmd_via(&relay.url, relay, token_file, nodes, slug)
}

/// [`inject_cmd`] talking to `url` (a proxy in front of `relay`) instead.
pub fn inject_cmd_via(
    url: &str,
    relay: &Relay,
    token_file: Option<&Path>,
    nodes: &[&str],
    slug: &str,
) -> Command {
    let mut cmd = Command::new(bins::sealpass());
    cmd.args(["inject", "--relay", url])
        .args([
            "--slug",
            slug,
            "--method",
            "env",
            "--field-name",
            "API_TOKEN",
        ])
        .args(["--timeout", "120"]);
    match token_file {
        Some(f) => {
            cmd.arg("--admin-token-file")
                .arg(f)
                .env_remove("SEALPASS_ADMIN_TOKEN");
        }
        None => {
            cmd.env("SEALPASS_ADMIN_TOKEN", &relay.token);
        }
    }
    for n in nodes {
        cmd.args(["--node", n]);
    }
    cmd
}

/// The pending id an inject run announced ("pending <id>: created ...").
pub fn created_pending_id(text: &str) -> String {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("pending ")
                .filter(|r| r.contains(": created"))
                .and_then(|r| r.split(':').next())
        })
        .unwrap_or_else(|| panic!("no 'pending <id>: created' line in:\n{text}"))
        .to_string()
}

/// Seal with the real CLI as a sender does: `sealpass seal --to PK
/// [--identity NIK] --context CTX.json`, the secret on stdin, the target's
/// context from a relay view written to a file in `dir`. Returns the
/// envelope JSON.
pub fn seal_cli(
    dir: &Path,
    public_key: &str,
    identity: Option<&str>,
    context: &serde_json::Value,
    secret: &str,
) -> String {
    let ctx_file = dir.join(format!("ctx-{}.json", rand_hex(6)));
    std::fs::write(&ctx_file, context.to_string()).unwrap();
    let mut cmd = Command::new(bins::sealpass());
    cmd.args(["seal", "--to", public_key]);
    if let Some(nik) = identity {
        cmd.args(["--identity", nik]);
    }
    cmd.arg("--context").arg(&ctx_file);
    let out = run_with_stdin(cmd, secret);
    assert!(
        out.status.success(),
        "sealpass seal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
