//! Request heads over the relay's limits (100 header fields, 16 KiB of
//! header fields) get 431 in the JSON error shape (code 8607); only a head
//! beyond hyper's own backstop (400 fields, or more than 64 KiB of head,
//! request line included) gets hyper's bare 431, which cannot carry a body,
//! or — when hyper stops reading mid-head — a closed connection.

use std::time::Duration;

use sealpass_tests::relay::*;

const PATH: &str = "/api/v1/pending/AAAAAAAAAAAAAAAAAAAAAA/status";

fn with_headers(relay: &Relay, headers: &[(String, String)]) -> Resp {
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    relay.req("GET", PATH, &h, b"")
}

fn many(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("x-h{i}"), "1".to_owned()))
        .collect()
}

fn one_big(len: usize) -> Vec<(String, String)> {
    vec![("x-big".to_owned(), "v".repeat(len))]
}

#[test]
fn oversized_heads_get_431_in_the_json_shape() {
    let relay = Relay::start();
    // Within the limits (the harness adds Host and Connection).
    with_headers(&relay, &many(90)).expect(404, 8602);
    with_headers(&relay, &one_big(15 * 1024)).expect(404, 8602);
    // Too many fields, too many bytes: our answer.
    for (what, h) in [
        ("fields", many(120)),
        ("bytes", one_big(20 * 1024)),
        (
            "bytes in many fields",
            many(50).into_iter().chain(one_big(17 * 1024)).collect(),
        ),
    ] {
        let r = with_headers(&relay, &h);
        r.expect(431, 8607);
        assert_eq!(r.header("content-type"), Some("application/json"), "{what}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    // hyper's backstop: a bare 431, and the relay keeps serving.
    let r = with_headers(&relay, &many(500));
    assert_eq!((r.status, r.body.len()), (431, 0));
    // Every head the router sees gets the JSON 431, up to hyper's limit:
    // exactly 64 KiB of head (request line and final blank line included).
    for total in [60 * 1024, 64 * 1024 - 1, 64 * 1024] {
        let mut s = send_partial_lossy(&relay.addr, &head_of(total));
        let r = read_response_within(&mut s, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no answer to a {total}-byte head"));
        r.expect(431, 8607);
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    // One byte more is hyper's: its bare 431 (no body), then it closes —
    // or, when it stopped reading with bytes still unread, the connection
    // is reset before the answer can be read. Never the router's JSON,
    // never left open.
    for total in [64 * 1024 + 1, 80 * 1024, 100 * 1024, 120 * 1024, 256 * 1024] {
        let mut s = send_partial_lossy(&relay.addr, &head_of(total));
        let (bytes, closed) = read_until_closed(&mut s, Duration::from_secs(10));
        assert!(closed, "{total}-byte head: connection left open");
        if !bytes.is_empty() {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                text.starts_with("HTTP/1.1 431 "),
                "{total}-byte head: {text}"
            );
            let body = &text[text.find("\r\n\r\n").expect("a whole head") + 4..];
            assert!(body.is_empty(), "{total}-byte head: a body: {text}");
            assert!(!text.contains("application/json"), "{total}: {text}");
        }
    }
    with_headers(&relay, &[]).expect(404, 8602);
}

/// A GET head of exactly `total` bytes (one big header field fills it).
fn head_of(total: usize) -> Vec<u8> {
    let frame = format!("GET {PATH} HTTP/1.1\r\nHost: x\r\nx-big: \r\n\r\n");
    let head = format!(
        "GET {PATH} HTTP/1.1\r\nHost: x\r\nx-big: {}\r\n\r\n",
        "v".repeat(total - frame.len())
    );
    assert_eq!(head.len(), total);
    head.into_bytes()
}

/// Connect and send what the relay takes of `bytes` (it may stop reading).
fn send_partial_lossy(addr: &str, bytes: &[u8]) -> std::net::TcpStream {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(bytes);
    s
}
