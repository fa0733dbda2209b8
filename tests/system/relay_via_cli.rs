//! `sealpass relay ...` runs the separate `sealpass-relay` binary (built
//! without `open`) and shuts down cleanly on SIGINT.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn sealpass_relay_execs_the_relay_binary() {
    sealpass_tests::bins::relay();
    let cli = sealpass_tests::bins::sealpass();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(cli)
        .args([
            "relay",
            "--listen",
            "127.0.0.1:0",
            "--dev-insecure-kek",
            "--data-dir",
        ])
        .arg(dir.path().join("d"))
        .env_remove("SEALPASS_RELAY_BIN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .map(str::to_owned);
    let Some(addr) = addr else {
        let _ = child.kill();
        panic!("unexpected first line {line:?}");
    };
    // It answers with the relay's JSON errors.
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    assert!(resp.contains("\"code\":8602"), "{resp}");
    // SIGINT: graceful exit 0.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    for _ in 0..100 {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "{st:?}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("relay did not stop on SIGINT");
}

/// SIGINT sent the moment the relay announces its address is a graceful stop
/// (exit 0): the signal handlers are in place before the "listening on" line.
/// With handlers registered lazily this failed in most of these rounds.
#[test]
fn sigint_right_after_the_listening_line_is_a_graceful_stop() {
    let relay = sealpass_tests::bins::relay();
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&relay)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--dev-insecure-kek",
                "--data-dir",
            ])
            .arg(dir.path().join("d"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("listening on http://"), "{line:?}");
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let st = child.wait().unwrap();
        assert!(st.success(), "round {round}: {st:?}");
    }
}
