//! Request heads over the relay's limits (100 header fields, 16 KiB of
//! header fields) get 431 in the JSON error shape (code 8607); only a head
//! beyond hyper's own backstop (400 fields, 64 KiB buffer) gets hyper's bare
//! 431, which cannot carry a body.

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
    // Over hyper's buffer: hyper stops reading, answers and closes, so the
    // unread rest of the head may reset the connection before the answer
    // is read; if one arrives, it is the 431.
    let head = format!(
        "GET {PATH} HTTP/1.1\r\nHost: x\r\nx-big: {}\r\n\r\n",
        "v".repeat(80 * 1024)
    );
    let mut s = send_partial_lossy(&relay.addr, head.as_bytes());
    if let Some(r) = read_response_within(&mut s, std::time::Duration::from_secs(10)) {
        assert_eq!(r.status, 431);
    }
    with_headers(&relay, &[]).expect(404, 8602);
}

/// Connect and send what the relay takes of `bytes` (it may stop reading).
fn send_partial_lossy(addr: &str, bytes: &[u8]) -> std::net::TcpStream {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_write_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let _ = s.write_all(bytes);
    s
}
