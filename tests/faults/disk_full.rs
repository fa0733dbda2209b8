//! The node's keystore runs out of space: the agent runs under a file-size
//! limit (RLIMIT_FSIZE via prlimit(1), SIGXFSZ ignored, so writes past it
//! fail with EFBIG as on a full disk) a little above the store's current
//! size while envelopes arrive. Nothing may be lost: an envelope the agent
//! cannot store stays at the relay, and is delivered once space is back.

use std::time::Duration;

use sealpass_tests::agent::{seal_cli, target_state, Node};
use sealpass_tests::proc::{assert_not_in_files, eventually, files_under, rand_hex, tempdir, Proc};
use sealpass_tests::relay::Relay;

use crate::config::{report, Config};

const T: Duration = Duration::from_secs(90);
/// Envelopes sent per round, each with a secret of up to `SECRET_MAX`
/// bytes: some fit in the limit's slack, the rest do not.
const PER_ROUND: usize = 3;
const SECRET_MAX: u64 = 12 * 1024;

/// `sh -c` that ignores SIGXFSZ (inherited through exec) and execs the
/// agent under prlimit with the given file-size limit.
fn limited(limit: u64) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!("trap '' XFSZ; exec prlimit --fsize={limit} -- \"$@\""),
        "sh".into(),
    ]
}

fn largest_file(node: &Node) -> u64 {
    files_under(&node.data)
        .iter()
        .map(|(_, b)| b.len() as u64)
        .max()
        .unwrap_or(0)
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
    let mut limits = Vec::new();
    let mut delivered: Vec<(String, String, String)> = Vec::new();
    for round in 0..cfg.disk {
        // A limit just above today's largest file (db or WAL); the first
        // round tight, so the fault surely happens.
        let slack = if round == 0 { 4096 } else { 64 * 1024 };
        let limit = largest_file(&node) + rng.below(slack);
        limits.push(limit);
        let wrapper = limited(limit);
        let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
        node.started(Proc::spawn(node.run_command(&relay.url, &wrapper, &[])));

        let mut sent = Vec::new();
        for k in 0..PER_ROUND {
            let slug = format!("full-{round}-{k}");
            let len = 256 + rng.below(SECRET_MAX) as usize;
            let secret = format!("{}{}", rand_hex(8), "x".repeat(len));
            let pending = relay.create_pending_slug(&[&node.id], &slug);
            // The agent may not even manage to store a one-time key now:
            // then it posts none, and the envelope is sealed once it has.
            sent.push((slug, pending, secret));
        }
        // Seal each envelope as soon as the agent has posted its key.
        let mut unsealed: Vec<usize> = (0..PER_ROUND).collect();
        let until = std::time::Instant::now() + Duration::from_secs(15);
        while !unsealed.is_empty() && std::time::Instant::now() < until {
            unsealed.retain(|&k| {
                let (_, pending, secret) = &sent[k];
                let (st, view) =
                    relay.http("GET", &format!("/api/v1/pending/{pending}"), false, None);
                if st != 200 {
                    return true;
                }
                let t = &view["targets"][0];
                let env = seal_cli(
                    tmp.path(),
                    t["public_key"].as_str().unwrap(),
                    t["identity_key"].as_str(),
                    &t["context"],
                    secret,
                );
                let (st, v) = relay.post_envelopes(pending, &[(&node.id, env)]);
                assert_eq!(st, 202, "{v}");
                false
            });
            std::thread::sleep(Duration::from_millis(200));
        }
        // Give the limited agent a few polls at what it has, then see.
        std::thread::sleep(Duration::from_secs(2));
        let out = node.out().all();
        if std::env::var_os("SEALPASS_FAULT_VERBOSE").is_some() {
            println!("round {round} (limit {limit} B), agent output:\n{out}");
        }
        refused += out.matches("envelope kept at the relay").count();
        stored_under_limit += out.matches("delivered slug=full-").count();
        if !node.agent.as_mut().unwrap().is_running() {
            agent_exits += 1;
        }
        node.agent.as_mut().unwrap().kill();

        // Space is back: everything still owed arrives, exactly once.
        node.start(&relay.url);
        for k in unsealed {
            let (_, pending, secret) = &sent[k];
            let view = relay.wait_keys(pending);
            let t = &view["targets"][0];
            let env = seal_cli(
                tmp.path(),
                t["public_key"].as_str().unwrap(),
                t["identity_key"].as_str(),
                &t["context"],
                secret,
            );
            let (st, v) = relay.post_envelopes(pending, &[(&node.id, env)]);
            assert_eq!(st, 202, "{v}");
        }
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
            "file_size_limits": limits,
            "envelopes": delivered.len(),
            "stores_refused_under_limit": refused,
            "stored_under_limit": stored_under_limit,
            "agent_exited_under_limit": agent_exits,
            "keystore_verify": verify.trim(),
        }),
    );
}
