//! The node's keystore runs out of space: while the agent runs, its
//! file-size limit (RLIMIT_FSIZE, set on the running process with
//! prlimit(1); SIGXFSZ ignored, so writes past it fail with EFBIG as on a
//! full disk) is lowered to a little above the size of the store's
//! write-ahead log, then envelopes arrive. Nothing may be lost: an envelope
//! the agent cannot store stays at the relay and is delivered once space is
//! back, exactly once.

use std::process::Command;
use std::time::Duration;

use sealpass_tests::agent::{seal_cli, target_state, Node};
use sealpass_tests::proc::{assert_not_in_files, eventually, rand_hex, tempdir, Proc};
use sealpass_tests::relay::Relay;

use crate::config::{report, Config};

const T: Duration = Duration::from_secs(90);
/// Envelopes per round, each with a secret of `SECRET_MIN..SECRET_MAX`
/// bytes: in the first round the log's slack is below `SECRET_MIN`, so the
/// fault surely happens; later rounds are random (some fit, some do not).
const PER_ROUND: usize = 3;
const SECRET_MIN: u64 = 4 * 1024;
const SECRET_MAX: u64 = 12 * 1024;

/// `sh -c` that ignores SIGXFSZ (the ignored disposition survives exec)
/// and execs the agent.
const IGNORE_XFSZ: [&str; 4] = ["sh", "-c", "trap '' XFSZ; exec \"$@\"", "sh"];

fn wal_size(node: &Node) -> u64 {
    std::fs::metadata(node.data.join("keystore.db-wal")).map_or(0, |m| m.len())
}

fn set_fsize(pid: u32, limit: &str) {
    let st = Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--fsize={limit}")])
        .status()
        .expect("run prlimit(1)");
    assert!(st.success(), "prlimit --pid {pid} --fsize={limit}");
}

fn seal_and_post(relay: &Relay, node: &Node, dir: &std::path::Path, pending: &str, secret: &str) {
    let view = relay.wait_keys(pending);
    let t = &view["targets"][0];
    let env = seal_cli(
        dir,
        t["public_key"].as_str().unwrap(),
        t["identity_key"].as_str(),
        &t["context"],
        secret,
    );
    let (st, v) = relay.post_envelopes(pending, &[(&node.id, env)]);
    assert_eq!(st, 202, "{v}");
}

#[test]
fn keystore_out_of_space_loses_nothing() {
    let (cfg, mut rng) = Config::from_env("disk_full");
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let mut node = Node::new(&relay, tmp.path(), "full-node");
    node.start(&relay.url);
    node.agent.as_mut().unwrap().terminate(T);

    let (mut refused, mut stored_under_limit, mut agent_exits) = (0usize, 0usize, 0usize);
    let mut slacks = Vec::new();
    let mut delivered: Vec<(String, String, String)> = Vec::new();
    for round in 0..cfg.disk {
        let cmd = node.run_command(&relay.url, &IGNORE_XFSZ, &[]);
        let p = Proc::spawn(cmd);
        p.out.wait_for("agent started", T);
        node.started(p);

        // The one-time keys are made with space to spare; then the space
        // runs out, just above what the log holds now.
        let mut sent = Vec::new();
        for k in 0..PER_ROUND {
            let slug = format!("full-{round}-{k}");
            let len = (SECRET_MIN + rng.below(SECRET_MAX - SECRET_MIN)) as usize;
            let secret = format!("{}{}", rand_hex(8), "x".repeat(len));
            let pending = relay.create_pending_slug(&[&node.id], &slug);
            relay.wait_keys(&pending);
            sent.push((slug, pending, secret));
        }
        let slack = if round == 0 {
            rng.below(SECRET_MIN / 2)
        } else {
            rng.below(96 * 1024)
        };
        slacks.push(slack);
        let pid = node.agent.as_ref().unwrap().pid();
        set_fsize(pid, &(wal_size(&node) + slack).to_string());
        for (_, pending, secret) in &sent {
            seal_and_post(&relay, &node, tmp.path(), pending, secret);
        }
        // Every envelope was either stored or kept at the relay.
        let outcome = |out: &str, pending: &str| {
            out.contains(&format!("pending={pending} stored"))
                || out.contains(&format!("pending {pending}: envelope kept at the relay"))
        };
        eventually(T, "the agent dealt with every envelope", || {
            let out = node.out().all();
            sent.iter().all(|(_, p, _)| outcome(&out, p))
        });
        let out = node.out().all();
        if std::env::var_os("SEALPASS_FAULT_VERBOSE").is_some() {
            println!("round {round} (slack {slack} B), agent output:\n{out}");
        }
        refused += out.matches("envelope kept at the relay").count();
        stored_under_limit += out.matches("delivered slug=full-").count();
        if !node.agent.as_mut().unwrap().is_running() {
            agent_exits += 1;
        }
        node.agent.as_mut().unwrap().kill();

        // Space is back: everything still owed arrives, exactly once.
        node.start(&relay.url);
        for (slug, pending, secret) in &sent {
            eventually(
                T,
                &format!("{slug} delivered after the space came back"),
                || node.secret_get(slug).stdout == secret.as_bytes(),
            );
            relay.wait_status(pending, T, |v| target_state(v, &node.id) == "consumed");
        }
        node.agent.as_mut().unwrap().terminate(T);
        delivered.extend(sent);
    }

    assert!(
        cfg.disk == 0 || refused > 0,
        "no store was refused: the file-size limit did not bite"
    );
    assert_eq!(agent_exits, 0, "the agent exited when its store was full");
    let verify = node.keystore(&[("SEALPASS_KEK", &node.kek)], &["verify"]);
    let audit = node.keystore(&[("SEALPASS_KEK", &node.kek)], &["audit"]);
    for (slug, pending, secret) in &delivered {
        assert_eq!(node.secret_get(slug).stdout, secret.as_bytes(), "{slug}");
        let accepts = audit
            .lines()
            .filter(|l| l.contains("\"event\":\"accept\"") && l.contains("\"outcome\":\"ok\""))
            .filter(|l| l.contains(&format!("\"record_id\":\"{pending}\"")))
            .count();
        assert_eq!(accepts, 1, "{slug}: delivered {accepts} times");
        assert_not_in_files(&relay.data_dir, secret);
        assert_not_in_files(&node.data, secret);
    }
    report(
        "disk_full",
        &cfg,
        serde_json::json!({
            "rounds": cfg.disk,
            "wal_slack_bytes": slacks,
            "envelopes": delivered.len(),
            "stores_refused_under_limit": refused,
            "stored_under_limit": stored_under_limit,
            "agent_exited_under_limit": agent_exits,
            "keystore_verify": verify.trim(),
        }),
    );
}
