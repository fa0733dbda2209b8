//! Connection and request limits against slow and idle clients: what can be
//! refused without a body is refused before it is read, a slow body gets
//! 408 after the body deadline, the request limit is one for the whole
//! relay, connections are capped and a half-sent header is cut off.
//!
//! Timing bounds are generous (a loaded 2-core CI box): each test only
//! asserts that an answer comes well inside the 30 s whole-request timeout,
//! or that something waited at least a fraction of a deadline.

use std::thread;
use std::time::{Duration, Instant};

use sealpass_native::signing::sign_request;
use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

/// Long enough on a loaded machine, well short of the 30 s request timeout
/// (which is what a relay that waits for the body would answer with).
const ANSWER_WITHIN: Duration = Duration::from_secs(15);

/// A request head announcing `content_length` bytes, followed by one byte.
fn slow_head(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    content_length: usize,
) -> Vec<u8> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {content_length}\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n{");
    req.into_bytes()
}

/// (method, path, headers, expected status, expected code)
type Case = (&'static str, String, Vec<(String, String)>, u16, u64);

fn signed_headers(n: &Node, method: &str, path: &str, ts: i64) -> Vec<(String, String)> {
    sign_request(&n.secret, &n.id, n.version, method, path, b"{}", ts)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn as_refs(h: &[(String, String)]) -> Vec<(&str, &str)> {
    h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Node routes check what the signing headers can prove before reading a
/// body (no signature, stale timestamp; an unknown caller is only found out
/// after the body, like a wrong MAC: tests/relay/enumeration.rs), and an envelope
/// post for an unknown pending id is refused before its body: a slow body
/// of 60 KB that never arrives gets its answer at once.
#[test]
fn what_needs_no_body_is_refused_before_the_body() {
    let relay = Relay::start();
    let n = Node::register(&relay, "n1");
    let t = now();
    let id = "AAAAAAAAAAAAAAAAAAAAAA";
    let ack = format!("/api/v1/node/pending/{id}/ack");
    let heartbeat = "/api/v1/node/heartbeat";
    let cases: Vec<Case> = vec![
        ("POST", heartbeat.to_owned(), vec![], 401, 8701),
        ("POST", ack.clone(), vec![], 401, 8701),
        (
            "POST",
            ack.clone(),
            signed_headers(&n, "POST", &ack, t - 1000),
            401,
            8703,
        ),
        (
            "POST",
            heartbeat.to_owned(),
            vec![("Authorization".to_owned(), "Bearer x".to_owned())],
            401,
            8701,
        ),
        (
            "POST",
            format!("/api/v1/pending/{id}/envelopes"),
            vec![],
            404,
            8602,
        ),
    ];
    for (method, path, h, status, code) in cases {
        let bytes = slow_head(&relay.addr, method, &path, &as_refs(&h), 60_000);
        let mut s = send_partial(&relay.addr, &bytes);
        let start = Instant::now();
        let r = read_response_within(&mut s, ANSWER_WITHIN).unwrap_or_else(|| {
            panic!(
                "{method} {path}: no answer after {:?} (body read first?)",
                start.elapsed()
            )
        });
        r.expect(status, code);
    }
}

/// A body that does not arrive within the body deadline is answered 408
/// with the JSON error shape (8601 BadRequest), on the envelope post and on
/// a node route whose headers passed the pre-checks.
#[test]
fn a_slow_body_gets_408_after_the_body_deadline() {
    let relay = Relay::start_with(&["--test-body-timeout-secs", "2"]);
    let n = Node::register(&relay, "n1");
    n.heartbeat(&relay);
    let pid = relay.create_pending(&["n1"], None);
    n.post_pubkey(&relay, &pid);
    let ack = format!("/api/v1/node/pending/{pid}/ack");
    let h = signed_headers(&n, "POST", &ack, now());
    let cases = [
        (format!("/api/v1/pending/{pid}/envelopes"), vec![]),
        (ack.clone(), h),
    ];
    for (path, h) in cases {
        let bytes = slow_head(&relay.addr, "POST", &path, &as_refs(&h), 1000);
        let mut s = send_partial(&relay.addr, &bytes);
        let r = read_response_within(&mut s, ANSWER_WITHIN)
            .unwrap_or_else(|| panic!("POST {path}: no answer"));
        r.expect(408, 8601);
    }
    // The pending is untouched and the relay serves.
    assert_eq!(relay.status(&pid)["state"], "pubkey_posted");
}

/// One request limit for the whole relay (it was one per route): with the
/// limit at 3, three slow posts to one route hold every permit, and a status
/// read on another route waits for them (until their body deadline).
#[test]
fn the_request_limit_is_one_for_the_whole_relay() {
    let relay = Relay::start_with(&["--test-max-requests", "3", "--test-body-timeout-secs", "5"]);
    let n = Node::register(&relay, "n1");
    n.heartbeat(&relay);
    let pid = relay.create_pending(&["n1"], None);
    n.post_pubkey(&relay, &pid);
    let path = format!("/api/v1/pending/{pid}/envelopes");
    let mut slow: Vec<_> = (0..3)
        .map(|_| {
            send_partial(
                &relay.addr,
                &slow_head(&relay.addr, "POST", &path, &[], 1000),
            )
        })
        .collect();
    // Let the relay take the three in (reading headers is quick even on a
    // loaded machine; the deadline still has seconds to run).
    thread::sleep(Duration::from_millis(1500));
    let start = Instant::now();
    let status = relay.status(&pid);
    let waited = start.elapsed();
    assert_eq!(status["state"], "pubkey_posted");
    assert!(
        waited >= Duration::from_secs(1),
        "the status read did not wait for the busy permits ({waited:?}): per-route limit?"
    );
    for s in &mut slow {
        read_response_within(s, ANSWER_WITHIN)
            .expect("slow post answered")
            .expect(408, 8601);
    }
}

/// More idle connections than the cap: the relay holds at most the cap
/// (plus its own files), closes idle ones after the header timeout, and a
/// real request still gets its answer.
#[test]
fn idle_connections_are_capped_and_closed() {
    const CAP: usize = 8;
    let relay = Relay::start_with(&[
        "--test-max-connections",
        &CAP.to_string(),
        "--test-header-timeout-secs",
        "2",
    ]);
    let pid = {
        Node::register(&relay, "n1");
        relay.create_pending(&["n1"], None)
    };
    let base = relay.open_fds();
    let mut idle: Vec<_> = (0..4 * CAP)
        .map(|_| send_partial(&relay.addr, b""))
        .collect();
    thread::sleep(Duration::from_millis(500));
    if let (Some(base), Some(held)) = (base, relay.open_fds()) {
        assert!(
            held <= base + CAP + 4,
            "relay holds {held} fds (baseline {base}, cap {CAP})"
        );
    }
    // A real client behind the idle ones is still served.
    assert_eq!(relay.status(&pid)["state"], "awaiting_pubkey");
    for (i, s) in idle.iter_mut().enumerate() {
        let (_, closed) = read_until_closed(s, Duration::from_secs(30));
        assert!(closed, "idle connection {i} still open");
    }
}

/// A client that sends half a request head is cut off after the header
/// timeout (default: 10 s).
#[test]
fn a_half_sent_header_is_closed_after_the_header_timeout() {
    let relay = Relay::start();
    let mut s = send_partial(
        &relay.addr,
        format!(
            "GET /api/v1/pending/AAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: {}\r\nX-Slow: ",
            relay.addr
        )
        .as_bytes(),
    );
    let start = Instant::now();
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(40));
    assert!(
        closed,
        "half a header held the connection for {:?}",
        start.elapsed()
    );
    let r = relay.req("GET", "/api/v1/pending/AAAAAAAAAAAAAAAAAAAAAA", &[], b"");
    r.expect(404, 8602);
}

/// Node routes read a body before they know who is calling, so anonymous
/// slow bodies there get their own few slots: with 8 request permits and
/// 2 node-body slots, of 8 slow node bodies 2 are read (and held), the
/// other 6 are refused at once (429/8605, Retry-After: 1), and an admin
/// request is answered while the 2 are still open. Without the slots the 8
/// would hold all 8 permits until their body deadline.
#[test]
fn anonymous_slow_node_bodies_cannot_take_every_request_permit() {
    let relay = Relay::start_with(&[
        "--test-max-requests",
        "8",
        "--test-node-body-slots",
        "2",
        "--test-node-body-timeout-secs",
        "60",
        "--test-body-timeout-secs",
        "60",
    ]);
    let ghost = Node {
        id: "ghost".into(),
        secret: vec![7u8; 32],
        version: 1,
    };
    let path = "/api/v1/node/heartbeat";
    let mut slow = Vec::new();
    for i in 0..8 {
        let h = signed_headers(&ghost, "POST", path, now() - i);
        let bytes = slow_head(&relay.addr, "POST", path, &as_refs(&h), 1000);
        slow.push(send_partial(&relay.addr, &bytes));
    }
    // Those beyond the 2 slots are refused without their body being read.
    let mut refused = 0;
    let mut open = Vec::new();
    for mut s in slow {
        match read_response_within(&mut s, Duration::from_secs(3)) {
            Some(r) => {
                r.expect(429, 8605);
                assert_eq!(r.header("retry-after"), Some("1"));
                refused += 1;
            }
            None => open.push(s),
        }
    }
    assert_eq!((refused, open.len()), (6, 2), "slots: 2");
    // The admin is served while the 2 slow bodies are still being read.
    let r = relay.admin("POST", "/api/v1/admin/nodes", r#"{"node_id":"n1"}"#);
    assert_eq!(r.status, 201, "{}", r.text());
    for s in &mut open {
        assert!(
            read_response_within(s, Duration::from_millis(200)).is_none(),
            "a slow node body was answered before the admin request"
        );
    }
    // A real node is served too once a slot is free.
    drop(open);
    let n = Node {
        id: "n1".into(),
        secret: sealpass::b64::decode(r.json()["secret"].as_str().unwrap()).unwrap(),
        version: 1,
    };
    sealpass_tests::proc::eventually(Duration::from_secs(30), "a node served", || {
        n.call(&relay, "POST", path, b"{}").status == 200
    });
}
