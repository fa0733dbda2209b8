//! The ways an inject ends, with the real binaries against a real relay on
//! 127.0.0.1 (follow-up of the CLI dead-ends review):
//!
//! * a signal ends inject also when its stderr is gone (a closed pipe):
//!   the handler never panics, and the exit status is 128 + the signal;
//! * a signal while the envelopes are being posted says they may have been
//!   posted (never "nothing was sent");
//! * an admin's cancel ends the wait (8613), with no resume command;
//! * printed commands use `--flag=VALUE` (a value starting with `-`), none
//!   is printed for a value a paste would not reproduce, and `node accept`
//!   carries `--dev-insecure-kek` into its read command;
//! * a read command that may not look at the store says so (EACCES), not
//!   "no keystore";
//! * a TZ naming a FIFO does not hang inject (UTC);
//! * the first key-wait line says the relay does not answer when it does
//!   not, and the plain-HTTP probe for an `https://` relay runs once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cli_dead_ends::{pin, pinned_web1, resume_line, run_pasted, signal};
use sealpass_tests::agent::*;
use sealpass_tests::bins;
use sealpass_tests::cli::{random_kek, run, with_pins, write_ctx};
use sealpass_tests::proc::*;
use sealpass_tests::relay::Relay;

const T: Duration = Duration::from_secs(60);

/// A relay with web-1 registered and pinned in `known`, its agent stopped.
fn offline_node(tmp: &std::path::Path) -> (Relay, Node, std::path::PathBuf) {
    let relay = Relay::start_sealed(&tmp.join("relay"));
    let known = tmp.join("known_nodes");
    let mut node = Node::new(&relay, tmp, "web-1");
    node.start(&relay.url);
    pin(&node, &known);
    let mut agent = node.agent.take().unwrap();
    assert!(agent.terminate(T).success());
    (relay, node, known)
}

/// Wait at most `within` for `child` to exit.
fn exits_within(child: &mut std::process::Child, within: Duration) -> Option<i32> {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// SIGTERM and SIGHUP after the reader of inject's stderr went away (the
/// terminal hung up, the pipe closed): inject still ends at once, with
/// 128 + the signal, instead of a panicked handler and a process only
/// SIGKILL ends.
#[test]
fn a_signal_ends_inject_also_when_its_stderr_is_gone() {
    let tmp = tempdir();
    let (relay, _node, known) = offline_node(tmp.path());
    let token = relay.token_file(tmp.path());
    for (sig, status) in [("-TERM", 143), ("-HUP", 129)] {
        let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "no-stderr");
        cmd.env("SP_SECRET", "x")
            .args(["--secret-env", "SP_SECRET"]);
        with_pins(&mut cmd, &known, &[]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        while !seen.contains("to post a one-time key") {
            let mut l = String::new();
            assert!(err.read_line(&mut l).unwrap() > 0, "{seen}");
            seen.push_str(&l);
        }
        // The reader goes away: every later write to stderr is EPIPE.
        drop(err);
        std::thread::sleep(Duration::from_millis(300));
        signal(child.id(), sig);
        assert_eq!(
            exits_within(&mut child, Duration::from_secs(10)),
            Some(status),
            "{sig} with stderr gone"
        );
    }
}

/// A proxy in front of the relay that forwards everything but never
/// answers the envelope POST (it does forward it): a run stopped then is
/// stopped while sending. `seen` turns true when that POST went through.
fn holding_proxy(upstream: &str) -> (String, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicBool::new(false));
    let seen2 = seen.clone();
    let upstream = upstream.to_owned();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let hold = Arc::new(AtomicBool::new(false));
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (hold1, seen1) = (hold.clone(), seen2.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n) = c_in.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]);
                    let envelopes = text.contains("POST /api/v1/pending/")
                        && text.contains("/envelopes HTTP/1.1");
                    if envelopes {
                        hold1.store(true, Ordering::SeqCst);
                    }
                    if s_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    if envelopes {
                        seen1.store(true, Ordering::SeqCst);
                    }
                }
            });
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n) = s_in.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if hold.load(Ordering::SeqCst) {
                        // Keep the connection open, answer nothing.
                        continue;
                    }
                    if c_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                if hold.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_secs(120));
                }
            });
        }
    });
    (url, seen)
}

#[test]
fn a_signal_while_posting_says_the_envelopes_may_have_been_posted() {
    let tmp = tempdir();
    let (relay, known, node) = pinned_web1(tmp.path());
    let token = relay.token_file(tmp.path());
    let (proxy, seen) = holding_proxy(&relay.addr);
    let mut cmd = inject_cmd_via(&proxy, &relay, Some(&token), &["web-1"], "in-flight");
    cmd.env("SP_SECRET", "posted-or-not")
        .args(["--secret-env", "SP_SECRET"]);
    with_pins(&mut cmd, &known, &[]);
    let mut inject = spawn(cmd);
    eventually(T, "inject posted its envelope", || {
        seen.load(Ordering::SeqCst)
    });
    // The POST's head may reach the relay before its body: signal only once
    // the relay holds the envelope (then the run is stopped while sending,
    // and the envelope did land).
    eventually(T, "the relay holds the envelope", || {
        let out = inject.out.all();
        out.contains(": created")
            && matches!(
                relay
                    .target_state(&created_pending_id(&out), "web-1")
                    .0
                    .as_str(),
                "ciphertext_received" | "ciphertext_queued" | "consumed"
            )
    });
    signal(inject.pid(), "-INT");
    assert_eq!(inject.wait_exit(T).code(), Some(130));
    let out = inject.out.all();
    let pending = created_pending_id(&out);
    assert!(
        out.contains(&format!(
            "pending {pending}: stopped while posting the envelope(s): they may have been posted"
        )),
        "{out}"
    );
    assert!(!out.contains("nothing was sealed or sent"), "{out}");
    // The printed command follows it to the end (the envelope did land).
    let line = resume_line(&out);
    let (st, text) = run_pasted(&line, &[("SP_SECRET", "posted-or-not")]);
    assert!(st.success(), "{text}");
    assert!(
        text.contains("no node is waiting for an envelope"),
        "{text}"
    );
    assert_eq!(node.secret_get("in-flight").stdout, b"posted-or-not");
}

/// An admin cancels the pending while inject waits (for the keys, and for
/// the browser): inject fails with 8613 and offers no resume command.
#[test]
fn a_cancel_by_an_admin_ends_inject_with_8613_and_no_resume_command() {
    let tmp = tempdir();
    let (relay, mut node, known) = offline_node(tmp.path());
    let token = relay.token_file(tmp.path());
    let cancel = |pending: &str| {
        let r = relay.admin(
            "POST",
            &format!("/api/v1/admin/pendings/{pending}/cancel"),
            "",
        );
        assert_eq!(r.status, 200, "{}", r.text());
    };
    let check = |out: &str| {
        // (stdout and stderr are collected together: the error line is
        // the last of stderr, the outcome lines go to stdout.)
        assert!(
            out.lines()
                .any(|l| l
                    .starts_with("error 8613 Cancelled: the pending was cancelled by an admin")),
            "{out}"
        );
        assert!(!out.contains("run:"), "no resume command: {out}");
        assert!(!out.contains("--pending"), "{out}");
    };

    // Waiting for the offline node's key.
    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "cancel-keys");
    cmd.env("SP_SECRET", "x")
        .args(["--secret-env", "SP_SECRET"]);
    with_pins(&mut cmd, &known, &[]);
    let mut inject = spawn(cmd);
    inject.out.wait_for("to post a one-time key (since ", T);
    cancel(&created_pending_id(&inject.out.all()));
    let st = inject.wait_exit(T);
    assert_eq!(st.code(), Some(1), "{}", inject.out.all());
    check(&inject.out.all());

    // Waiting for the browser (the status poll).
    node.start(&relay.url);
    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "cancel-browser");
    cmd.args(["--browser"]);
    with_pins(&mut cmd, &known, &[]);
    let mut inject = spawn(cmd);
    inject.out.wait_for("waiting for the browser", T);
    cancel(&created_pending_id(&inject.out.all()));
    let st = inject.wait_exit(T);
    let out = inject.out.all();
    assert_eq!(st.code(), Some(1), "{out}");
    check(&out);
}

/// The resume command uses `--flag=VALUE`, so a value starting with `-`
/// parses when pasted; a value a paste would not reproduce (a backslash)
/// gets no command, and the reason.
#[test]
fn resume_commands_paste_back_exactly_or_are_not_printed() {
    let tmp = tempdir();
    let (relay, mut node, known) = offline_node(tmp.path());
    let token = relay.token_file(tmp.path());
    let mut cmd = Command::new(bins::sealpass());
    cmd.args(["inject", "--relay", &relay.url, "--admin-token-file"])
        .arg(&token)
        .args(["--node", "web-1", "--slug=-dash slug", "--method", "env"])
        .args(["--field-name=-API-TOKEN", "--secret-env", "SP_SECRET"])
        .args(["--timeout", "2"])
        .env("SP_SECRET", "dash-secret");
    with_pins(&mut cmd, &known, &[]);
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("error 8603 Expired"), "{err}");
    let line = resume_line(&err);
    assert!(line.contains("--slug='-dash slug'"), "{line}");
    assert!(line.contains("--field-name=-API-TOKEN"), "{line}");
    node.start(&relay.url);
    let (st, text) = run_pasted(&line, &[("SP_SECRET", "dash-secret")]);
    assert!(st.success(), "{text}");
    assert_eq!(node.secret_get("-dash slug").stdout, b"dash-secret");

    // A backslash in a value: no command (it would be shown escaped).
    let mut agent = node.agent.take().unwrap();
    assert!(agent.terminate(T).success());
    let mut cmd = Command::new(bins::sealpass());
    cmd.args(["inject", "--relay", &relay.url, "--admin-token-file"])
        .arg(&token)
        .args([
            "--node",
            "web-1",
            "--slug",
            r"back\slash",
            "--method",
            "env",
        ])
        .args(["--secret-env", "SP_SECRET", "--timeout", "2"])
        .env("SP_SECRET", "x");
    with_pins(&mut cmd, &known, &[]);
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let pending = created_pending_id(&err);
    assert!(
        err.contains(&format!(
            "(no command is printed: the value of --slug holds a backslash or a control or format character, which a pasted command would not reproduce; run this inject again with --pending {pending})"
        )),
        "{err}"
    );
    assert!(!err.contains("  sealpass inject"), "{err}");
}

/// `node accept` with `--dev-insecure-kek`: its read command says so too,
/// and works pasted (no SEALPASS_KEK); a slug starting with `-` comes
/// after `--`.
#[test]
fn the_read_command_carries_dev_insecure_kek() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("dev store");
    let ctx = write_ctx(tmp.path(), "pend-dev", "-dev-slug");
    let store = |args: &[&str], stdin: &[u8]| {
        let mut full: Vec<&str> = args.to_vec();
        full.push("--dev-insecure-kek");
        run(&data, &[], &full, stdin).ok()
    };
    let keys = store(
        &[
            "node",
            "pending",
            "new",
            "--json",
            "--context",
            ctx.to_str().unwrap(),
        ],
        b"",
    );
    let v: serde_json::Value = serde_json::from_slice(&keys.stdout).unwrap();
    let envelope = seal_cli(
        tmp.path(),
        v["public_key"].as_str().unwrap(),
        v["identity_key"].as_str(),
        &serde_json::from_str(&std::fs::read_to_string(&ctx).unwrap()).unwrap(),
        "dev-value",
    );
    let o = store(
        &["node", "accept", "--pending", "pend-dev"],
        envelope.as_bytes(),
    );
    let text = o.text();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("read it with: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("--data-dir='"), "{line}");
    assert!(line.contains(" --dev-insecure-kek "), "{line}");
    assert!(line.ends_with(" -- -dev-slug"), "{line}");
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let (st, out) = run_pasted(line, &[("HOME", home.to_str().unwrap())]);
    assert!(st.success(), "{out}");
    assert!(out.starts_with("dev-value"), "{out}");
}

/// A store the user may not look at is reported as that (EACCES), not as
/// "no keystore" (which would send them to make a new one).
#[test]
fn a_store_that_cannot_be_looked_at_is_not_called_missing() {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if !is_root {
        eprintln!("skipped: needs root (runs the command as nobody)");
        return;
    }
    let tmp = tempdir();
    // The test dir is traversable; the store dir is root's, 0700.
    let open = |p: &std::path::Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    open(tmp.path(), 0o755);
    let data = tmp.path().join("store");
    let (kek, _) = random_kek();
    let ctx = write_ctx(tmp.path(), "pend-perm", "perm");
    open(&ctx, 0o644);
    run(
        &data,
        &[("SEALPASS_KEK", &kek)],
        &["node", "pending", "new", "--context", ctx.to_str().unwrap()],
        b"",
    )
    .ok();
    for args in [
        vec!["keystore", "status"],
        vec!["node", "secret", "list"],
        vec!["node", "pending", "list"],
    ] {
        let o = Command::new("runuser")
            .args(["-u", "nobody", "--"])
            .arg(bins::sealpass())
            .args(&args)
            .arg("--data-dir")
            .arg(&data)
            .env("SEALPASS_KEK", &kek)
            .env("HOME", "/nonexistent")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("error 8506 StoreUnavailable: cannot look at the keystore "),
            "{args:?}: {err}"
        );
        assert!(err.contains("permission denied"), "{args:?}: {err}");
        assert!(!err.contains("no keystore"), "{args:?}: {err}");
    }
}

/// TZ naming a FIFO: reading it would block for ever; inject uses UTC.
#[test]
fn a_tz_that_names_a_fifo_does_not_hang_inject() {
    let tmp = tempdir();
    let (relay, _node, known) = offline_node(tmp.path());
    let token = relay.token_file(tmp.path());
    let fifo = tmp.path().join("tz.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let mut cmd = inject_cmd(&relay, Some(&token), &["web-1"], "tz");
    cmd.env("SP_SECRET", "x")
        .env("TZ", &fifo)
        .args(["--secret-env", "SP_SECRET"]);
    with_pins(&mut cmd, &known, &[]);
    let mut inject = spawn(cmd);
    let created = inject
        .out
        .wait_for(": created for node(s) web-1; expires ", T);
    assert!(created.ends_with(" +00:00"), "{created}");
    signal(inject.pid(), "-INT");
    assert_eq!(inject.wait_exit(T).code(), Some(130));
    let out = inject.out.all();
    assert!(out.contains(" until "), "{out}");
}

/// The first line of the key wait, with the relay not answering, says so
/// (not that the node has not posted its key yet).
#[test]
fn the_key_wait_says_when_the_relay_does_not_answer() {
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = Command::new(bins::sealpass())
        .args(["inject", "--relay", &format!("http://127.0.0.1:{port}")])
        .args(["--node", "web-1", "--slug", "s", "--method", "env"])
        .args(["--pending", "AAAAAAAAAAAAAAAAAAAAAA", "--secret-env", "SP"])
        .args(["--timeout", "2"])
        .env("SP", "x")
        .env_remove("SEALPASS_ADMIN_TOKEN")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{err}");
    let first = err.lines().next().unwrap();
    assert!(
        first.starts_with("pending AAAAAAAAAAAAAAAAAAAAAA: the relay does not answer (since "),
        "{err}"
    );
    assert!(!err.contains("waiting for node(s) web-1 to post"), "{err}");
}

/// `https://` to something that speaks plain HTTP, polled by the key wait
/// (which retries a relay that does not answer): the plain-HTTP probe
/// behind the hint is made once per run, not on every failed poll.
#[test]
fn the_plain_http_probe_is_made_once_per_run() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let probes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (p2, t2) = (probes.clone(), tls.clone());
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
            let mut first = [0u8; 5];
            if c.read_exact(&mut first).is_err() {
                continue;
            }
            if &first == b"HEAD " {
                p2.fetch_add(1, Ordering::SeqCst);
                let _ = c.write_all(
                    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            } else if first[0] == 0x16 {
                // A TLS ClientHello: answer as a plain-HTTP server would.
                t2.fetch_add(1, Ordering::SeqCst);
                let _ = c.write_all(
                    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        }
    });
    let o = Command::new(bins::sealpass())
        .args(["inject", "--relay", &format!("https://{addr}")])
        .args(["--node", "web-1", "--slug", "s", "--method", "env"])
        .args(["--pending", "AAAAAAAAAAAAAAAAAAAAAA", "--secret-env", "SP"])
        .args(["--timeout", "5"])
        .env("SP", "x")
        .env_remove("SEALPASS_ADMIN_TOKEN")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{err}");
    assert!(
        tls.load(Ordering::SeqCst) >= 3,
        "polled several times: {} TLS attempts\n{err}",
        tls.load(Ordering::SeqCst)
    );
    assert_eq!(probes.load(Ordering::SeqCst), 1, "{err}");
}
