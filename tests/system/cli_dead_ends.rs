//! The CLI without dead ends (#15 item 3, item 5's inject part), with the
//! real binaries against a real relay on 127.0.0.1:
//!
//! * an inject stopped early — SIGINT, SIGTERM, `--timeout`, the identity
//!   refused at the prompt (a real pty, through script(1)) or not
//!   confirmable without a terminal — prints the exact command that
//!   resumes it with `--pending`, and that command (run by a shell, as a
//!   person pastes it) finishes the delivery;
//! * the key wait says what it waits for, since when, and that a node may
//!   be offline, and says it again when that changes;
//! * unattended inject through the pinned identity, no terminal: no
//!   question, no line twice, local times;
//! * read commands never create a keystore and name the path they looked in;
//! * messages name the real cause (a `--pending` flag that differs, a
//!   rejected admin token, `https://` to a plain-HTTP relay, a missing KEK
//!   file, a KEK from the wrong file);
//! * `--help` of `node run` and of `sealpass-relay` names every environment
//!   variable their code reads.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use sealpass_native::keystore::DB_FILE;
use sealpass_tests::agent::*;
use sealpass_tests::bins;
use sealpass_tests::cli::{random_kek, run, sealpass, with_pins, write_ctx};
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

const T: Duration = Duration::from_secs(60);

/// The set-up of most inject tests: a sealed relay, node web-1 running and
/// pinned in `DIR/known_nodes`. Returns (relay, known_nodes path, node).
pub(crate) fn pinned_web1(dir: &Path) -> (Relay, PathBuf, Node) {
    let relay = Relay::start_sealed(&dir.join("relay"));
    let known = dir.join("known_nodes");
    let mut node = Node::new(&relay, dir, "web-1");
    node.start(&relay.url);
    pin(&node, &known);
    (relay, known, node)
}

/// Pin `node`'s identity in `known` (as the operator does once).
pub(crate) fn pin(node: &Node, known: &Path) {
    let id = node.identity_json();
    let o = sealpass(
        &[
            "nodes",
            "pin",
            &node.id,
            "--identity",
            id["identity"].as_str().unwrap(),
            "--known-nodes",
            known.to_str().unwrap(),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Send a signal with kill(1) (no unsafe code).
pub(crate) fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// The resume command an aborted inject printed: the indented line after
/// "run:" / "resume with:".
pub(crate) fn resume_line(out: &str) -> String {
    let mut lines = out.lines();
    while let Some(l) = lines.next() {
        if l.ends_with("run:") || l.ends_with("resume with:") {
            let cmd = lines.next().expect("a command after the hint");
            assert!(cmd.starts_with("  sealpass inject "), "{cmd}");
            return cmd.trim().to_owned();
        }
    }
    panic!("no resume hint in:\n{out}");
}

/// Run a printed command line through sh(1), `sealpass` found on PATH,
/// no SEALPASS_* variable but `env`, stdin closed; (status, stdout + stderr).
pub(crate) fn run_pasted(line: &str, env: &[(&str, &str)]) -> (ExitStatus, String) {
    let path = format!(
        "{}:{}",
        bins::bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The binary must be the one under test.
    bins::sealpass();
    let mut cmd = Command::new("sh");
    // Only what the caller gives: nothing of the test's own SEALPASS_* setup.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("SEALPASS_") {
            cmd.env_remove(k);
        }
    }
    let o = cmd
        .args(["-c", line])
        .env("PATH", path)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&o.stderr));
    (o.status, text)
}

/// Every line of `out` that occurs more than once (blank lines aside).
pub(crate) fn repeated_lines(out: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut twice = Vec::new();
    for l in out.lines().filter(|l| !l.trim().is_empty()) {
        if !seen.insert(l) {
            twice.push(l.to_owned());
        }
    }
    twice
}

#[test]
fn sigint_while_a_node_is_offline_prints_the_resume_command_and_it_delivers() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let known = tmp.path().join("known_nodes");
    let mut web1 = Node::new(&relay, tmp.path(), "web-1");
    let mut web2 = Node::new(&relay, tmp.path(), "web-2");
    web1.start(&relay.url);
    web2.start(&relay.url);
    pin(&web1, &known);
    pin(&web2, &known);
    // Both go offline before the request; web-1 comes back during the wait.
    for n in [&mut web1, &mut web2] {
        let mut a = n.agent.take().unwrap();
        assert!(a.terminate(T).success());
    }

    let token = relay.token_file(tmp.path());
    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1", "web-2"], "db-pass");
    cmd.env("SP_SECRET", "s3cret-fan")
        .args(["--secret-env", "SP_SECRET"]);
    with_pins(&mut cmd, &known, &[]);
    let mut inject = spawn(cmd);
    let created = inject
        .out
        .wait_for(": created for node(s) web-1, web-2; expires ", T);
    let pending = created_pending_id(&created);
    // What it waits for and since when, then the change: web-1 posted.
    let first = inject.out.wait_for("to post a one-time key (since ", T);
    assert!(
        first.contains("waiting for node(s) web-1, web-2 to post"),
        "{first}"
    );
    assert!(
        first.contains("a node that is offline posts it when it is back"),
        "{first}"
    );
    web1.start(&relay.url);
    let update = inject
        .out
        .wait_for("still waiting for node(s) web-2 to post", T);
    assert!(update.contains("it may be offline"), "{update}");
    assert!(!update.contains("web-1"), "{update}");
    signal(inject.pid(), "-INT");
    let st = inject.wait_exit(T);
    let out = inject.out.all();
    assert_eq!(st.code(), Some(130), "SIGINT: 128 + 2: {out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("error 8404 Interrupted: "),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "pending {pending}: still open at the relay until "
        )),
        "{out}"
    );
    assert!(out.contains("nothing was sealed or sent"), "{out}");
    let line = resume_line(&out);
    assert!(line.contains(&format!("--pending={pending}")), "{line}");
    assert!(line.contains("--node=web-1 --node=web-2"), "{line}");
    assert!(
        line.contains("--slug=db-pass --method=env --field-name=API_TOKEN"),
        "{line}"
    );
    assert!(line.contains("--secret-env=SP_SECRET"), "{line}");
    assert!(!line.contains("--admin-token-file"), "not needed: {line}");
    assert_eq!(
        target_state(&relay.status(&pending), "web-2"),
        "awaiting_pubkey"
    );

    // web-2 comes back; the pasted command (no admin token in the
    // environment) finishes the same pending for both nodes.
    web2.start(&relay.url);
    let (st, text) = run_pasted(&line, &[("SP_SECRET", "s3cret-fan")]);
    assert!(st.success(), "{text}");
    assert!(
        text.contains(&format!("pending {pending}: consumed")),
        "{text}"
    );
    for n in [&web1, &web2] {
        assert_eq!(n.secret_get("db-pass").stdout, b"s3cret-fan");
    }
}

#[test]
fn sigterm_and_timeout_print_the_resume_command() {
    let tmp = tempdir();
    let (relay, known, mut node) = pinned_web1(tmp.path());
    let mut agent = node.agent.take().unwrap();
    assert!(agent.terminate(T).success());
    let token = relay.token_file(tmp.path());

    // SIGTERM while waiting for the offline node's key.
    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "term");
    cmd.env("SP_SECRET", "x")
        .args(["--secret-env", "SP_SECRET"]);
    with_pins(&mut cmd, &known, &[]);
    let mut inject = spawn(cmd);
    inject.out.wait_for("to post a one-time key (since ", T);
    let pending = created_pending_id(&inject.out.all());
    signal(inject.pid(), "-TERM");
    let st = inject.wait_exit(T);
    let out = inject.out.all();
    assert_eq!(st.code(), Some(143), "SIGTERM: 128 + 15: {out}");
    assert!(out.contains("error 8404 Interrupted"), "{out}");
    assert!(
        resume_line(&out).contains(&format!("--pending={pending}")),
        "{out}"
    );

    // --timeout runs out: 8603, and the hint (without the short timeout).
    let mut cmd = Command::new(bins::sealpass());
    cmd.args(["inject", "--relay", &relay.url, "--admin-token-file"])
        .arg(&token)
        .args(["--node", "web-1", "--slug", "slow", "--method", "env"])
        .args(["--secret-env", "SP_SECRET", "--timeout", "2"])
        .env("SP_SECRET", "late-secret");
    with_pins(&mut cmd, &known, &[]);
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{err}");
    assert!(o.stdout.is_empty());
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("error 8603 Expired: timed out waiting for the node keys (--timeout)"),
        "{err}"
    );
    let pending = created_pending_id(&err);
    let line = resume_line(&err);
    assert!(line.contains(&format!("--pending={pending}")), "{line}");
    assert!(!line.contains("--timeout"), "{line}");
    // Printed once, before the error line, on stderr.
    assert_eq!(err.matches("To resume it").count(), 1, "{err}");

    node.start(&relay.url);
    let (st, text) = run_pasted(&line, &[("SP_SECRET", "late-secret")]);
    assert!(st.success(), "{text}");
    assert_eq!(node.secret_get("slow").stdout, b"late-secret");

    // --browser: Ctrl-C while the browser has the link.
    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "by-browser");
    cmd.args(["--browser", "--page-url", "https://pages.example/sealpass/"]);
    with_pins(&mut cmd, &known, &[]);
    let mut inject = spawn(cmd);
    inject.out.wait_for("waiting for the browser", T);
    signal(inject.pid(), "-INT");
    assert_eq!(inject.wait_exit(T).code(), Some(130));
    let out = inject.out.all();
    assert!(out.contains(": the accept link was printed;"), "{out}");
    let line = resume_line(&out);
    assert!(
        line.contains("--page-url=https://pages.example/sealpass/") && line.ends_with(" --browser"),
        "{line}"
    );
}

/// A shell word for the script(1) command line.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[test]
fn refusing_the_identity_at_the_prompt_or_without_a_terminal_says_how_to_resume() {
    let tmp = tempdir();
    let relay = Relay::start_sealed(&tmp.path().join("relay"));
    let known = tmp.path().join("known_nodes");
    let mut node = Node::new(&relay, tmp.path(), "web-1");
    node.start(&relay.url);
    let fp = sealpass_tests::cli::identity_fp(&node);
    let token = relay.token_file(tmp.path());

    // A person at a terminal (a pty from script(1)) answers "n".
    let mut args: Vec<String> = vec![bins::sealpass().display().to_string()];
    args.extend(
        [
            "inject",
            "--relay",
            &relay.url,
            "--admin-token-file",
            token.to_str().unwrap(),
            "--node",
            "web-1",
            "--slug",
            "prompted",
            "--method",
            "env",
            "--secret-env",
            "SP_SECRET",
            "--known-nodes",
            known.to_str().unwrap(),
        ]
        .map(String::from),
    );
    let line: Vec<String> = args.iter().map(|a| sh_quote(a)).collect();
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line.join(" "), "/dev/null"])
        .env("SP_SECRET", "typed-later");
    let mut p = spawn_with_stdin(cmd);
    // (The question itself ends without a newline: wait for the line before.)
    p.out.wait_for(
        &format!("node web-1: identity fingerprint {fp} (NOT pinned yet)"),
        T,
    );
    p.write_stdin("n\n");
    let st = p.wait_exit(T);
    let out = p.out.all();
    assert!(!st.success(), "{out}");
    assert!(out.contains("error 8902 IdentityNotPinned"), "{out}");
    assert!(out.contains("--pin FINGERPRINT"), "{out}");
    let pending = created_pending_id(&out);
    let resume = resume_line(&out);
    assert!(resume.contains(&format!("--pending={pending}")), "{resume}");
    assert!(!known.exists(), "nothing may be pinned");

    // No terminal: 8902 at once, the same kind of hint.
    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "scripted");
    cmd.env("SP_SECRET", "x")
        .args(["--secret-env", "SP_SECRET"]);
    with_pins(&mut cmd, &known, &[]);
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.lines().last().unwrap().starts_with("error 8902 "),
        "{err}"
    );
    assert!(resume_line(&err).contains("--pending="), "{err}");

    // After comparing the fingerprint, the hinted command plus --pin delivers.
    let (st, text) = run_pasted(
        &format!("{resume} --pin {fp}"),
        &[("SP_SECRET", "typed-later")],
    );
    assert!(st.success(), "{text}");
    assert_eq!(node.secret_get("prompted").stdout, b"typed-later");
}

#[test]
fn unattended_inject_through_the_pinned_identity_prints_each_line_once() {
    let tmp = tempdir();
    let (relay, known, node) = pinned_web1(tmp.path());
    let token = relay.token_file(tmp.path());
    // No terminal, no --pin, --yes or --expect-fingerprint: only the pin.
    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "unattended");
    cmd.env("SP_SECRET", "cron-secret")
        .env("TZ", "Asia/Kolkata")
        .args(["--secret-env", "SP_SECRET"]);
    with_pins(&mut cmd, &known, &[]);
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{err}");
    let pending = created_pending_id(&err);
    let all = format!("{err}\n{stdout}");
    assert_eq!(repeated_lines(&all), Vec::<String>::new(), "{all}");
    assert_eq!(
        all.matches(&format!("pending {pending}: consumed")).count(),
        1,
        "{all}"
    );
    assert_eq!(all.matches("matches the pin").count(), 1, "{all}");
    assert!(!all.contains("[y/N]"), "{all}");
    // The expiry as a local date and time (this TZ is +05:30), not unix.
    let created = err.lines().find(|l| l.contains(": created")).unwrap();
    assert!(created.contains(" +05:30"), "{created}");
    assert!(!created.contains("unix"), "{created}");
    assert_eq!(
        stdout,
        format!("node web-1: consumed\npending {pending}: consumed\n")
    );
    assert_eq!(node.secret_get("unattended").stdout, b"cron-secret");

    // Human lists: local times, no empty fields; --json keeps unix values.
    let list = Command::new(bins::sealpass())
        .args(["node", "secret", "list", "--data-dir"])
        .arg(&node.data)
        .env("SEALPASS_KEK", &node.kek)
        .env("TZ", "Asia/Kolkata")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(text.contains("field \"API_TOKEN\""), "{text}");
    assert!(!text.contains("target \"\""), "empty target shown: {text}");
    assert!(!text.contains("\"\""), "{text}");
    let stored = text.split("stored ").nth(1).unwrap().trim();
    assert_eq!(stored.len(), "2026-12-02 14:13:29 +05:30".len(), "{text}");
    assert!(stored.ends_with("+05:30"), "{text}");
    let json = node.node_cmd(&["secret", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v["stored_at"].as_i64().unwrap() > 1_700_000_000, "{v}");
    let status = node.keystore(
        &[("SEALPASS_KEK", &node.kek), ("TZ", "Asia/Kolkata")],
        &["status"],
    );
    assert!(status.contains("+05:30"), "{status}");
}

/// Every read (or change-what-is-there) command, with and without a KEK.
#[test]
fn read_commands_never_create_a_keystore_and_name_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("no-such-store");
    let db = data.join(DB_FILE);
    let (kek, _) = random_kek();
    let ctx = write_ctx(tmp.path(), "pend-x", "slug-x");
    let commands: Vec<Vec<&str>> = vec![
        vec!["node", "secret", "get", "slug-x"],
        vec!["node", "secret", "list"],
        vec!["node", "secret", "list", "--json"],
        vec!["node", "secret", "delete", "slug-x"],
        vec!["node", "pending", "list"],
        vec!["node", "identity", "rotate"],
        vec!["node", "accept", "--pending", "pend-x"],
        vec!["keystore", "status"],
        vec!["keystore", "verify"],
        vec!["keystore", "audit"],
        vec!["keystore", "rotate-kek"],
        vec!["keystore", "rotate-dek"],
    ];
    for env in [vec![("SEALPASS_KEK", kek.as_str())], vec![]] {
        for args in &commands {
            let o = run(&data, &env, args, b"{}");
            assert_eq!(o.code, 1, "{args:?}: {}", o.stderr);
            assert!(o.stdout.is_empty(), "{args:?}");
            assert!(
                o.stderr
                    .starts_with("error 8506 StoreUnavailable: no keystore at "),
                "{args:?}: {}",
                o.stderr
            );
            assert!(
                o.stderr.contains(&db.display().to_string()),
                "{args:?} must name {}: {}",
                db.display(),
                o.stderr
            );
            assert!(o.stderr.contains("nothing was created"), "{}", o.stderr);
            assert!(!data.exists(), "{args:?} created {}", data.display());
        }
    }
    // The default data dir, by HOME: named, and not created either.
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let o = Command::new(bins::sealpass())
        .args(["node", "secret", "get", "slug-x"])
        .env_remove("SEALPASS_DATA_DIR")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", &home)
        .env("SEALPASS_KEK", &kek)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let want = home.join(".local/share/sealpass").join(DB_FILE);
    assert!(err.contains(&want.display().to_string()), "{err}");
    assert!(err.contains("the default; give --data-dir"), "{err}");
    assert_eq!(std::fs::read_dir(&home).unwrap().count(), 0, "{err}");
    // nodes list reads the known-nodes file without making one.
    let kn = tmp.path().join("cfg").join("known_nodes");
    let o = sealpass(
        &["nodes", "list", "--known-nodes", kn.to_str().unwrap()],
        b"",
    );
    assert!(o.status.success());
    assert!(!kn.parent().unwrap().exists());
    // `node identity` makes the identity on first use (to pin it before the
    // agent first runs) and says where, on stderr.
    let o = run(&data, &[("SEALPASS_KEK", &kek)], &["node", "identity"], b"").ok();
    assert!(o.text().starts_with("identity: "), "{}", o.text());
    assert!(
        o.stderr.contains(&format!(
            "no keystore at {} yet: made a new one",
            db.display()
        )),
        "{}",
        o.stderr
    );
    let o = run(&data, &[("SEALPASS_KEK", &kek)], &["node", "identity"], b"").ok();
    assert!(!o.stderr.contains("made a new one"), "{}", o.stderr);
    std::fs::remove_dir_all(&data).unwrap();
    // The command that makes keys still makes the store.
    run(
        &data,
        &[("SEALPASS_KEK", &kek)],
        &["node", "pending", "new", "--context", ctx.to_str().unwrap()],
        b"",
    )
    .ok();
    assert!(db.is_file());
    run(
        &data,
        &[("SEALPASS_KEK", &kek)],
        &["node", "pending", "list"],
        b"",
    )
    .ok();
}

#[test]
fn messages_name_the_real_cause() {
    let tmp = tempdir();
    let (relay, known, mut node) = pinned_web1(tmp.path());
    let token = relay.token_file(tmp.path());

    // --pending with another --slug: the field and both values, 8403, not
    // "tampering", nothing posted.
    let pending = relay.create_pending_slug(&["web-1"], "created-slug");
    let mut cmd = inject_cmd(&relay, None, &["web-1"], "other-slug");
    cmd.env("SP", "x")
        .args(["--secret-env", "SP", "--pending", &pending]);
    with_pins(&mut cmd, &known, &[]);
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let last = err.lines().last().unwrap();
    assert!(last.starts_with("error 8403 Usage: "), "{err}");
    assert!(
        last.contains(r#"slug "created-slug" (--slug gave "other-slug")"#),
        "{err}"
    );
    assert!(!last.contains("field name"), "{err}");
    assert!(!err.to_lowercase().contains("tamper"), "{err}");
    assert!(!err.contains("To resume"), "{err}");
    // The relay's value is reported, never presented as the one to give.
    assert!(last.contains("the relay reports"), "{err}");
    assert!(
        last.contains("the relay may have changed it: do not copy its value; start a new inject without --pending"),
        "{err}"
    );
    assert!(!last.contains("exactly as"), "{err}");
    assert_eq!(
        target_state(&relay.status(&pending), "web-1"),
        "pubkey_posted"
    );

    // A wrong admin token: rejected (401), naming where it came from.
    let bad = tmp.path().join("bad.token");
    std::fs::write(&bad, "not-the-token\n").unwrap();
    let o = inject_cmd(&relay, Some(&bad), &["web-1"], "s")
        .args(["--known-nodes", known.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.starts_with(
            "error 8609 Unauthorized: the relay rejected the admin token from --admin-token-file "
        ),
        "{err}"
    );
    assert!(err.contains("HTTP 401"), "{err}");
    assert!(!err.contains("required"), "{err}");
    assert!(!err.contains("not-the-token"), "{err}");
    let o = Command::new(bins::sealpass())
        .args([
            "inject", "--relay", &relay.url, "--node", "web-1", "--slug", "s", "--method", "env",
        ])
        .arg("--known-nodes")
        .arg(&known)
        .env("SEALPASS_ADMIN_TOKEN", "also-wrong")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains("rejected the admin token from SEALPASS_ADMIN_TOKEN"),
        "{err}"
    );

    // https:// to the plain-HTTP relay: a TLS hint with the http:// URL.
    let https = relay.url.replace("http://", "https://");
    let o = inject_cmd_via(&https, &relay, Some(&token), &["web-1"], "s")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.starts_with("error 8611 RelayUnreachable: "), "{err}");
    assert!(err.contains("Is the relay serving plain HTTP?"), "{err}");
    assert!(err.contains(&format!("--relay {}", relay.url)), "{err}");
    // A closed port stays a plain "cannot reach".
    let o = inject_cmd_via("https://127.0.0.1:1", &relay, Some(&token), &["web-1"], "s")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("plain HTTP"), "{err}");

    // A missing KEK file names the path; a KEK from the wrong file says
    // "Wrong KEK file?" before it mentions rotation.
    let mut agent = node.agent.take().unwrap();
    assert!(agent.terminate(T).success());
    let secret_list = |env: &[(&str, &str)]| {
        Command::new(bins::sealpass())
            .args(["node", "secret", "list", "--data-dir"])
            .arg(&node.data)
            .env_remove("SEALPASS_KEK")
            .env_remove("SEALPASS_DATA_DIR")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let absent: PathBuf = tmp.path().join("absent.kek");
    let o = secret_list(&[("SEALPASS_KEK_FILE", absent.to_str().unwrap())]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.starts_with("error 8501 KekMissing: "), "{err}");
    assert!(err.contains(&absent.display().to_string()), "{err}");
    let other = tmp.path().join("other.kek");
    std::fs::write(&other, format!("{}\n", random_kek().0)).unwrap();
    let o = secret_list(&[("SEALPASS_KEK_FILE", other.to_str().unwrap())]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.starts_with("error 8502 KekMismatch: "), "{err}");
    assert!(
        err.contains(&format!("SEALPASS_KEK_FILE={}", other.display())),
        "{err}"
    );
    let wrong = err.find("Wrong KEK file?").expect(&err);
    let rotate = err.find("rotate-kek").expect(&err);
    assert!(wrong < rotate, "{err}");
    let o = secret_list(&[("SEALPASS_KEK", &random_kek().0)]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("(from SEALPASS_KEK) has id"), "{err}");
    assert!(err.contains("Wrong KEK?"), "{err}");
}

/// Every `"SEALPASS_…"` string literal in the Rust sources under `dirs`.
fn env_vars_in(dirs: &[&str]) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for d in dirs {
        for (p, bytes) in files_under(&sealpass_tests::root().join(d)) {
            if p.extension().map_or(true, |x| x != "rs") {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            for (i, _) in text.match_indices("\"SEALPASS_") {
                let name: String = text[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if text[i + 1 + name.len()..].starts_with('"') {
                    out.insert(name);
                }
            }
        }
    }
    out
}

/// The help must name every variable the binary's code reads. The list
/// comes from the sources, so a new variable without help fails here; the
/// only exceptions are spelled out (variables of other commands that the
/// same crates hold).
#[test]
fn help_names_every_environment_variable_the_code_reads() {
    let help = |bin: PathBuf, args: &[&str]| {
        let o = Command::new(bin).args(args).output().unwrap();
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let cases: [(&str, String, Vec<&str>, &[&str]); 3] = [
        (
            "sealpass node run",
            help(bins::sealpass(), &["node", "run", "--help"]),
            vec!["crates/cli/src", "crates/native/src"],
            // inject's admin token; `sealpass relay`'s binary override.
            &["SEALPASS_ADMIN_TOKEN", "SEALPASS_RELAY_BIN"],
        ),
        (
            "sealpass-relay",
            help(bins::relay(), &["--help"]),
            vec!["crates/relay/src", "crates/native/src"],
            // The node keystore's directory variable (the relay has its own).
            &["SEALPASS_DATA_DIR"],
        ),
        (
            // `sealpass relay` runs sealpass-relay (its help follows a note
            // naming the variable that picks the binary).
            "sealpass relay",
            help(bins::sealpass(), &["relay", "--help"]),
            vec!["crates/relay/src", "crates/native/src"],
            &["SEALPASS_DATA_DIR"],
        ),
    ];
    let relay_cmd = help(bins::sealpass(), &["relay", "--help"]);
    assert!(
        env_vars_in(&["crates/cli/src"]).contains("SEALPASS_RELAY_BIN"),
        "the variable is read in crates/cli/src"
    );
    assert!(
        relay_cmd.contains("SEALPASS_RELAY_BIN"),
        "`sealpass relay --help` does not name SEALPASS_RELAY_BIN:\n{relay_cmd}"
    );
    for (what, text, dirs, others) in cases {
        let vars = env_vars_in(&dirs);
        assert!(vars.contains("SEALPASS_KEK_FILE"), "{vars:?}");
        for v in vars.iter().filter(|v| !others.contains(&v.as_str())) {
            assert!(
                text.contains(v.as_str()),
                "`{what} --help` does not name {v}:\n{text}"
            );
        }
    }
}

/// Ctrl-C at the no-echo secret prompt: the hint, and the terminal put
/// back exactly as it was (the prompt turned off echo, canonical mode and
/// signals; its own guard cannot run when the signal ends inject).
#[test]
fn sigint_at_the_secret_prompt_restores_the_terminal() {
    let tmp = tempdir();
    let (relay, known, _node) = pinned_web1(tmp.path());
    let token = relay.token_file(tmp.path());
    // In the pty: its name to a file, inject (its pid to a file), then
    // `stty -a` on the same terminal.
    let pidfile = tmp.path().join("inject.pid");
    let ttyfile = tmp.path().join("tty.name");
    let wrapper = tmp.path().join("run.sh");
    std::fs::write(
        &wrapper,
        format!(
            "tty > {}\nsh -c 'echo $$ > \"$0\"; exec \"$@\"' \"$@\"\necho; echo STTY-AFTER; stty -a\n",
            sh_quote(&ttyfile.display().to_string())
        ),
    )
    .unwrap();
    let mut args: Vec<String> = vec![
        "sh".into(),
        wrapper.display().to_string(),
        pidfile.display().to_string(),
        bins::sealpass().display().to_string(),
    ];
    args.extend(
        [
            "inject",
            "--relay",
            &relay.url,
            "--admin-token-file",
            token.to_str().unwrap(),
            "--node",
            "web-1",
            "--slug",
            "typed",
            "--method",
            "env",
            "--known-nodes",
            known.to_str().unwrap(),
        ]
        .map(String::from),
    );
    let line: Vec<String> = args.iter().map(|a| sh_quote(a)).collect();
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line.join(" "), "/dev/null"]);
    let mut p = spawn_with_stdin(cmd);
    // The prompt itself (no newline after it), then the terminal in the
    // prompt's state (-icanon: set by the prompt after it printed).
    p.out
        .wait_for_text("Secret for slug typed (not echoed): ", T);
    let tty = std::fs::read_to_string(&ttyfile).unwrap().trim().to_owned();
    assert!(tty.starts_with("/dev/"), "{tty}");
    let flags = |tty: &str| {
        let o = Command::new("stty")
            .args(["-a", "-F", tty])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    eventually(T, "the prompt turned canonical mode off", || {
        flags(&tty).split_whitespace().any(|f| f == "-icanon")
    });
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    signal(pid, "-INT");
    p.wait_exit(T);
    let out = p.out.all();
    assert!(out.contains("error 8404 Interrupted"), "{out}");
    assert!(resume_line(&out).contains("--pending"), "{out}");
    let after = out.rsplit("STTY-AFTER").next().unwrap();
    let stty: Vec<&str> = after
        .split(|c: char| c.is_whitespace() || c == ';')
        .collect();
    for f in ["echo", "icanon", "isig"] {
        assert!(stty.contains(&f), "{f} still off after inject:\n{out}");
        assert!(!stty.contains(&format!("-{f}").as_str()), "{out}");
    }
}

/// `node accept` says how to read the secret, and that command (pasted in
/// a shell without SEALPASS_DATA_DIR) finds the same store.
#[test]
fn the_read_command_node_accept_prints_finds_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node store");
    let (kek, _) = random_kek();
    let env = [("SEALPASS_KEK", kek.as_str())];
    let ctx = write_ctx(tmp.path(), "pend-read", "read-me");
    let keys = run(
        &data,
        &env,
        &[
            "node",
            "pending",
            "new",
            "--json",
            "--context",
            ctx.to_str().unwrap(),
        ],
        b"",
    )
    .ok();
    let v: serde_json::Value = serde_json::from_slice(&keys.stdout).unwrap();
    let envelope = seal_cli(
        tmp.path(),
        v["public_key"].as_str().unwrap(),
        v["identity_key"].as_str(),
        &serde_json::from_str(&std::fs::read_to_string(&ctx).unwrap()).unwrap(),
        "the-value",
    );
    let o = run(
        &data,
        &env,
        &["node", "accept", "--pending", "pend-read"],
        envelope.as_bytes(),
    )
    .ok();
    let text = o.text();
    assert_eq!(repeated_lines(&text), Vec::<String>::new(), "{text}");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("read it with: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("--data-dir='"), "{line}");
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let (st, out) = run_pasted(
        line,
        &[("SEALPASS_KEK", &kek), ("HOME", home.to_str().unwrap())],
    );
    assert!(st.success(), "{out}");
    assert_eq!(out, "the-value");
}
