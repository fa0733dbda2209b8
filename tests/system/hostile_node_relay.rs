//! A breached relay against the node agent (#14 findings 4 and 7): the
//! `hostile-relay` proxy (a real process on loopback) sits between a real
//! agent and the real relay and floods the agent's pending list with
//! invalid ids, ever-new pendings, ever-new slugs or an oversize list,
//! keeps asking for posted keys, replays envelopes, or answers with
//! redirects. The agent stores nothing it did not validate, its memory,
//! keystore and audit log stay within the budgets, junk keys are pruned
//! once the relay stops listing them, and a real pending through the real
//! relay is still delivered.

use std::collections::HashSet;
use std::time::Duration;

use sealpass_tests::agent::*;
use sealpass_tests::cli::with_pins;
use sealpass_tests::hostile::Hostile;
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

/// Generous: the machine running the tests may be busy.
const T: Duration = Duration::from_secs(120);

struct Setup {
    tmp: tempfile::TempDir,
    relay: Relay,
    node: Node,
    hostile: Hostile,
    known: std::path::PathBuf,
}

/// A relay, a registered `web-1` pinned in a known-nodes file, and the
/// proxy in `mode` (agent not started yet).
fn setup(mode: &str, proxy_flags: &[&str]) -> Setup {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let node = Node::new(&relay, tmp.path(), "web-1");
    let id = node.identity_json();
    let known = tmp.path().join("known_nodes");
    let pin = sealpass_tests::cli::sealpass(
        &[
            "nodes",
            "pin",
            "web-1",
            "--identity",
            id["identity"].as_str().unwrap(),
            "--known-nodes",
            known.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        pin.status.success(),
        "{}",
        String::from_utf8_lossy(&pin.stderr)
    );
    let hostile = Hostile::start_with(&relay.url, mode, &tmp.path().join("proxy"), proxy_flags);
    Setup {
        tmp,
        relay,
        node,
        hostile,
        known,
    }
}

impl Setup {
    /// `sealpass inject` to the real relay (not through the proxy).
    fn inject(&self, slug: &str, secret: &str) -> Proc {
        let token = self.relay.token_file(self.tmp.path());
        let mut cmd = inject_cmd(&self.relay, Some(&token), &["web-1"], slug);
        cmd.env("SP_SECRET", secret)
            .args(["--secret-env", "SP_SECRET"]);
        with_pins(&mut cmd, &self.known, &[]);
        spawn(cmd)
    }

    /// Inject and check the secret arrived byte-exact.
    fn delivered(&self, slug: &str) {
        let secret = format!("real-{}", rand_hex(12));
        let mut p = self.inject(slug, &secret);
        let st = p.wait_exit(T + T);
        assert!(
            st.success(),
            "inject failed:\n{}\nagent:\n{}",
            p.out.all(),
            self.node.out().all()
        );
        assert_eq!(self.node.secret_get(slug).stdout, secret.as_bytes());
    }

    fn wait_floods(&self, n: u64) {
        eventually(T, &format!("{n} flooded pending lists"), || {
            self.hostile.floods() >= n
        });
    }

    /// Ids of the keys the node holds (read with `node pending list`).
    fn key_ids(&self) -> Vec<String> {
        self.node
            .pending_keys()
            .iter()
            .map(|k| k["pending_id"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn agent_log(s: &Setup) -> String {
    s.node.out().all()
}

/// Resident memory of a process in KiB (Linux /proc).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn invalid_pending_ids_are_rejected_without_being_kept_or_stored() {
    let mut s = setup("flood-bad-ids", &[]);
    s.node.start_with(&s.hostile.url, &[]);
    // Every flooded list carries 20 ever-new invalid ids (four of them
    // 100 KiB long), the envelope list 5 more.
    s.wait_floods(10);
    let pid = s.node.agent.as_ref().unwrap().pid();
    let before = rss_kib(pid);
    let seen = s.hostile.floods();
    s.wait_floods(seen + 60);
    let after = rss_kib(pid);
    // 60 polls × 4 long ids would be ≥ 24 MiB if any set kept them.
    assert!(
        after < before + 12 * 1024,
        "agent memory grew from {before} KiB to {after} KiB under the flood"
    );
    // Logged once for the whole flood, escaped, never once per id or poll.
    let log = agent_log(&s);
    let lines = log
        .lines()
        .filter(|l| l.contains("is not 1..=64 chars of"))
        .count();
    assert_eq!(lines, 1, "{log}");
    // Valid ids, but contexts for another node: refused, logged once too.
    let lines = log.matches("context names another node").count();
    assert_eq!(lines, 1, "{log}");
    assert!(!log.contains('\u{1b}'), "raw ESC reached the log");
    // A real pending through the real relay is delivered meanwhile.
    s.delivered("api-token");
    // Nothing invented was stored: no key at all is left (the real one
    // was consumed), and no secret but the real one.
    assert!(s.key_ids().is_empty(), "{:?}", s.key_ids());
    let list = s.node.node_cmd(&["secret", "list", "--json"]);
    let text = String::from_utf8(list.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
fn ever_new_pendings_are_rate_limited_pruned_and_real_ones_still_delivered() {
    // 40 lists × 50 new pendings, against a budget of 360 new keys/hour.
    let mut s = setup("flood-pendings", &["--flood-polls", "40"]);
    // A real pending made before the flood: listed first, it gets its key
    // and is served throughout.
    let early_secret = format!("early-{}", rand_hex(12));
    let mut early = s.inject("early-token", &early_secret);
    early.out.wait_for(": created", T);
    s.node.start_with(
        &s.hostile.url,
        &[
            "--max-new-keys-per-hour",
            "360",
            "--unlisted-grace-secs",
            "2",
            "--prune-above-keys",
            "0",
        ],
    );
    let mut most = 0;
    while s.hostile.floods() < 40 {
        most = most.max(s.key_ids().len());
        std::thread::sleep(Duration::from_millis(200));
    }
    most = most.max(s.key_ids().len());
    // Keys made for the flood (each is announced once): the burst (360)
    // plus what refilled meanwhile (one per 10 s); never all 2,000.
    let made = agent_log(&s).matches("(slug=flood,").count();
    assert!(made <= 380, "the node made {made} keys for the flood");
    // Keys of pendings the relay stopped listing are kept for the grace
    // (2 s and 10 complete listings here, and pruned whatever the number
    // held), then pruned: never more held than the budget let it make.
    assert!(most <= 380, "the node held {most} one-time keys");
    eventually(T, "flood keys pruned after the grace", || {
        agent_log(&s).contains("has not listed its pending for")
    });
    let st = early.wait_exit(T + T);
    assert!(st.success(), "early inject:\n{}", early.out.all());
    assert_eq!(
        s.node.secret_get("early-token").stdout,
        early_secret.as_bytes()
    );
    let log = agent_log(&s);
    assert_eq!(
        log.matches("--max-new-keys-per-hour").count(),
        1,
        "logged once per episode:\n{log}"
    );
    // The flood is over: its keys are pruned (the relay no longer lists
    // them), and a new real pending gets a key within the refill.
    eventually(T, "junk keys pruned", || {
        s.key_ids().iter().all(|id| !id.starts_with("flood-"))
    });
    s.delivered("late-token");
}

#[test]
fn junk_kept_behind_an_unreadable_item_is_bounded_and_pruned_once_the_flood_stops() {
    // The unreadable item makes every flooded list incomplete: absence
    // from it proves nothing, so no key is pruned while the flood lasts.
    let mut s = setup(
        "flood-pendings",
        &["--flood-polls", "30", "--unreadable-item"],
    );
    s.node.start_with(
        &s.hostile.url,
        &[
            "--max-new-keys-per-hour",
            "200",
            "--unlisted-grace-secs",
            "2",
            "--prune-above-keys",
            "0",
        ],
    );
    let mut most = 0;
    while s.hostile.floods() < 30 {
        most = most.max(s.key_ids().len());
        std::thread::sleep(Duration::from_millis(200));
    }
    // Held (not pruned) while the listing was incomplete, but never more
    // than the budget: the burst plus one per 18 s.
    assert!(
        (150..=220).contains(&most),
        "the node held at most {most} keys"
    );
    let log = agent_log(&s);
    assert_eq!(
        log.matches("skipped unreadable item(s)").count(),
        1,
        "{log}"
    );
    eventually(T, "junk keys pruned", || {
        s.key_ids().iter().all(|id| !id.starts_with("flood-"))
    });
    s.delivered("after-sticky-flood");
}

#[test]
fn ever_new_slugs_are_rate_limited() {
    let mut s = setup("flood-slugs", &["--flood-polls", "40"]);
    s.node.start_with(
        &s.hostile.url,
        &[
            "--max-new-keys-per-hour",
            "100000",
            "--max-new-slugs-per-hour",
            "360",
            "--unlisted-grace-secs",
            "2",
            "--prune-above-keys",
            "0",
        ],
    );
    let mut most = 0;
    while s.hostile.floods() < 40 {
        let slugs: HashSet<String> = s
            .node
            .pending_keys()
            .iter()
            .map(|k| k["slug"].as_str().unwrap().to_owned())
            .collect();
        most = most.max(slugs.len());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(most <= 380, "the node awaited {most} distinct slugs");
    let made = agent_log(&s).matches("(slug=flood-slug-").count();
    assert!(made <= 380, "the node took {made} new slugs from the flood");
    let log = agent_log(&s);
    assert_eq!(log.matches("--max-new-slugs-per-hour").count(), 1, "{log}");
    eventually(T, "junk keys pruned", || {
        s.key_ids().iter().all(|id| !id.starts_with("flood-"))
    });
    s.delivered("after-slug-flood");
}

#[test]
fn a_relay_that_keeps_asking_for_a_posted_key_costs_no_keystore_work() {
    asked_again("ask-again");
}

#[test]
fn a_pending_that_comes_and_goes_asking_for_its_key_costs_no_keystore_work() {
    // Left out of every other listing: its note goes, what was posted stays.
    asked_again("ask-alternate");
}

fn asked_again(mode: &str) {
    let mut s = setup(mode, &[]);
    let pid = s.relay.create_pending_slug(&["web-1"], "asked-again");
    s.node.start_with(&s.hostile.url, &[]);
    s.node.fingerprint(&pid);
    let seen = s.hostile.floods();
    s.wait_floods(seen + 30);
    // Re-posts re-send the first post: no keystore access, no audit row
    // (each used to open the sealed key and audit it, every poll).
    let audit = s
        .node
        .keystore(&[("SEALPASS_KEK", &s.node.kek)], &["audit"]);
    let reuse = audit.matches("\"pending-reuse\"").count();
    assert_eq!(reuse, 0, "{audit}");
    // And not one post per poll: at most one a minute.
    let log = String::from_utf8_lossy(&s.hostile.log()).into_owned();
    let puts = log
        .lines()
        .filter(|l| l.starts_with(">> PUT /api/v1/node/pending/"))
        .count();
    assert!((1..=15).contains(&puts), "{puts} key posts in 30+ polls");
    assert_eq!(s.relay.target_state(&pid, "web-1").0, "pubkey_posted");
}

#[test]
fn a_replayed_envelope_is_acknowledged_again_not_reopened_every_poll() {
    let mut s = setup("replay-envelopes", &[]);
    s.node.start_with(&s.hostile.url, &[]);
    s.delivered("replayed");
    // The proxy lists the consumed envelope again in every envelope list.
    let seen = s.hostile.floods();
    s.wait_floods(seen + 30);
    // One open of the replay (8507, audited) and one acknowledgement, not
    // one per poll: each re-open would add an audit row.
    let audit = s
        .node
        .keystore(&[("SEALPASS_KEK", &s.node.kek)], &["audit"]);
    let failed_accepts = audit
        .lines()
        .filter(|l| l.contains("\"event\":\"accept\"") && l.contains("\"outcome\":\"error\""))
        .count();
    assert!(
        failed_accepts <= 1,
        "{failed_accepts} failed accepts:\n{audit}"
    );
    let log = agent_log(&s);
    assert!(log.matches("already delivered here").count() <= 1, "{log}");
}

#[test]
fn an_oversize_pending_list_is_refused_whole() {
    let mut s = setup("flood-oversize", &[]);
    s.node.start_with(&s.hostile.url, &[]);
    s.wait_floods(4);
    s.node
        .out()
        .wait_for("list has more than 1000 items: refused whole", T);
    assert!(s.key_ids().is_empty(), "{:?}", s.key_ids());
    let log = agent_log(&s);
    assert!(!log.contains("one-time key fingerprint"), "{log}");
}

#[test]
fn a_redirect_is_an_error_not_a_success() {
    let s = setup("redirect", &[]);
    let out = s.node.node_cmd(&[
        "run",
        "--relay",
        &s.hostile.url,
        "--node-id",
        "web-1",
        "--once",
        "--register-secret-file",
        s.node.secret_file.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a 302 was taken as success:\n{err}");
    assert!(
        err.contains("error 8612 RelayProtocol") && err.contains("HTTP 302, a redirect"),
        "{err}"
    );
}

#[test]
fn budget_flags_are_range_checked() {
    for (flag, v) in [
        ("--max-new-keys-per-hour", "0"),
        ("--max-new-keys-per-hour", "100001"),
        ("--max-new-keys-per-hour", "18446744073709551616"),
        ("--max-new-slugs-per-hour", "0"),
        ("--max-new-slugs-per-hour", "10001"),
        ("--max-new-slugs-per-hour", "many"),
    ] {
        let out = std::process::Command::new(sealpass_tests::bins::sealpass())
            .args(["node", "run", "--relay", "http://127.0.0.1:9", "--node-id"])
            .args(["n1", flag, v])
            .env_remove("SEALPASS_DATA_DIR")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {v}: {err}");
        assert!(err.starts_with("error 8403 Usage:"), "{flag} {v}: {err}");
        assert!(err.contains(flag) && !err.contains("panicked"), "{err}");
    }
}

/// A relay that leaves a live pending out of `polls` complete listings
/// (an honest relay's restore, failover or flaky proxy can) after its key
/// was posted: the key must survive, or the envelope finds no key and the
/// pending is dead (the relay takes no second key for it).
fn a_pending_left_out_of_listings_keeps_its_key(polls: &str) {
    let mut s = setup("omit-listed", &["--flood-polls", polls]);
    s.node.start_with(&s.hostile.url, &[]);
    s.delivered("omitted-for-a-while");
    let n: u64 = polls.parse().unwrap();
    assert!(s.hostile.floods() >= n, "the omission did not happen");
    let log = agent_log(&s);
    assert!(!log.contains("one-time key deleted"), "{log}");
}

#[test]
fn a_pending_left_out_of_one_listing_keeps_its_key_and_is_delivered() {
    a_pending_left_out_of_listings_keeps_its_key("1");
}

#[test]
fn a_pending_left_out_of_a_few_listings_keeps_its_key_and_is_delivered() {
    a_pending_left_out_of_listings_keeps_its_key("5");
}

#[test]
fn a_flood_of_ever_new_ids_does_not_keep_the_notes_full() {
    // 12 lists × 999 new ids (no key asked), more than the 8,192 notes the
    // agent keeps, each list incomplete (an unreadable item); the real
    // pending is left out of them meanwhile.
    let mut s = setup("flood-known", &["--flood-polls", "12", "--unreadable-item"]);
    let secret = format!("real-{}", rand_hex(12));
    let mut p = s.inject("after-known-flood", &secret);
    p.out.wait_for(": created", T);
    s.node.start_with(&s.hostile.url, &[]);
    s.wait_floods(12);
    // Once the flood stops the real pending is listed alone: it gets its
    // key (a full map used to refuse it for as long as it was listed).
    let st = p.wait_exit(T + T);
    assert!(
        st.success(),
        "inject failed:\n{}\nagent:\n{}",
        p.out.all(),
        s.node.out().all()
    );
    assert_eq!(
        s.node.secret_get("after-known-flood").stdout,
        secret.as_bytes()
    );
}

/// Requests the proxy saw whose start line begins with `prefix`.
fn requests(s: &Setup, prefix: &str) -> usize {
    String::from_utf8_lossy(&s.hostile.log())
        .lines()
        .filter(|l| l.starts_with(prefix))
        .count()
}

#[test]
fn envelopes_for_ever_new_unknown_ids_cost_bounded_log_lines_and_acks() {
    // 200 envelopes for ever-new valid ids (no key for any) in every list.
    let mut s = setup("flood-envelopes", &[]);
    s.node.start_with(&s.hostile.url, &[]);
    s.wait_floods(30);
    // 6,000 such envelopes: one log line for the episode, and no more
    // acknowledgements than the answer budget (120 per hour).
    let log = agent_log(&s);
    let lines = log.lines().filter(|l| l.contains("flood-env-")).count();
    assert!(lines <= 1, "{lines} log lines:\n{log}");
    let acks = requests(&s, ">> POST /api/v1/node/pending/flood-env-");
    assert!(acks <= 125, "{acks} acknowledgements");
    assert!(acks >= 1, "the first ones are still answered");
    // A real pending through the real relay is delivered meanwhile.
    s.delivered("after-unknown-envelopes");
}

#[test]
fn a_consumed_envelope_listed_every_other_poll_is_not_reopened() {
    let mut s = setup("replay-alternate", &[]);
    s.node.start_with(&s.hostile.url, &[]);
    s.delivered("alternated-1");
    s.delivered("alternated-2");
    let seen = s.hostile.floods();
    s.wait_floods(seen + 40);
    // The ids come and go with the listing (their notes with them), but
    // what was answered is remembered: no accept (an audit row each).
    let audit = s
        .node
        .keystore(&[("SEALPASS_KEK", &s.node.kek)], &["audit"]);
    let failed_accepts = audit
        .lines()
        .filter(|l| l.contains("\"event\":\"accept\"") && l.contains("\"outcome\":\"error\""))
        .count();
    assert_eq!(failed_accepts, 0, "{audit}");
    let log = agent_log(&s);
    assert!(log.matches("already delivered here").count() <= 1, "{log}");
}

#[test]
fn auth_errors_every_other_heartbeat_do_not_reload_the_secret_each_time() {
    let mut s = setup("flap-auth", &[]);
    s.node.start_with(&s.hostile.url, &[]);
    s.wait_floods(20);
    // 20 failed cycles or more; the sealed HMAC secret (an audited
    // record-get each) is reloaded at most once per 5 minutes.
    let audit = s
        .node
        .keystore(&[("SEALPASS_KEK", &s.node.kek)], &["audit"]);
    let gets = audit
        .lines()
        .filter(|l| l.contains("\"record-get\"") && l.contains("node-hmac"))
        .count();
    assert!(gets <= 3, "{gets} record-get rows:\n{audit}");
}

#[test]
fn a_delivered_secret_can_be_deleted_to_free_its_slug() {
    // Slugs of delivered secrets count toward the 4096-slug cap: junk a
    // relay delivered is removed by hand, audited.
    let mut s = setup("pass", &[]);
    s.node.start_with(&s.hostile.url, &[]);
    s.delivered("junk-slug");
    let del = s.node.node_cmd(&["secret", "delete", "junk-slug"]);
    assert!(
        del.status.success(),
        "{}",
        String::from_utf8_lossy(&del.stderr)
    );
    let list = s.node.node_cmd(&["secret", "list", "--json"]);
    assert!(
        list.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&list.stdout)
    );
    let again = s.node.node_cmd(&["secret", "delete", "junk-slug"]);
    assert!(!again.status.success());
    let audit = s
        .node
        .keystore(&[("SEALPASS_KEK", &s.node.kek)], &["audit"]);
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"record-delete\"") && l.contains("junk-slug")),
        "{audit}"
    );
}
