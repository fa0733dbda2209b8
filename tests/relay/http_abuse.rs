//! Hostile HTTP: malformed JSON, oversized bodies, wrong content types, bad
//! admin tokens, unknown routes. Each gets a clear 4xx JSON error, nothing
//! is stored, and the relay keeps serving.

use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

/// (headers, body, expected status, expected code)
type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<u8>, u16, u64);

fn setup() -> (Relay, Node, String) {
    let relay = Relay::start();
    let n = Node::register(&relay, "n1");
    n.heartbeat(&relay);
    let pid = relay.create_pending(&["n1"], None);
    n.post_pubkey(&relay, &pid);
    (relay, n, pid)
}

#[test]
fn bad_envelope_posts_store_nothing_and_relay_keeps_serving() {
    let (mut relay, n, pid) = setup();
    let path = format!("/api/v1/pending/{pid}/envelopes");
    let good = envelopes_body(&seal_for(&relay, &pid, b"pw"));
    let mut cases: Vec<Case> = vec![
        // Wrong or missing content types.
        (
            vec![("Content-Type", "text/plain")],
            good.clone().into_bytes(),
            415,
            8606,
        ),
        (vec![], good.clone().into_bytes(), 415, 8606),
        (
            vec![("Content-Type", "application/json; charset=latin1")],
            good.clone().into_bytes(),
            415,
            8606,
        ),
        (
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            b"a=b".to_vec(),
            415,
            8606,
        ),
        // Oversized body (declared and actual).
        (
            vec![("Content-Type", "application/json")],
            vec![b' '; 600 * 1024],
            413,
            8607,
        ),
    ];
    // Locked-out posts would hide later codes: spread the JSON faults over
    // fresh pending ids (3 failures lock one id).
    let json_faults: Vec<(&[u8], u16, u64)> = vec![
        (b"{", 400, 8601),
        (b"", 400, 8601),
        (b"[]", 400, 8601),
        (b"{\"envelopes\":[]}", 400, 8601),
        (b"{\"envelopes\":[],\"envelopes\":[]}", 400, 8601),
        (b"{\"envelopes\":[{\"node_id\":\"n1\"}]}", 400, 8601),
        (b"{\"envelopes\":[{\"node_id\":\"n1\",\"envelope\":[1]}]}", 400, 8101),
        (b"{\"envelopes\":[{\"node_id\":\"n1\",\"envelope\":{\"v\":1,\"v\":1}}]}", 400, 8104),
        (b"\xff\xfe", 400, 8601),
        (b"{\"envelopes\":[{\"node_id\":\"n1\",\"envelope\":{\"v\":1,\"suite\":\"x\",\"epk\":\"\",\"nonce\":\"\",\"ct\":\"\",\"extra\":1}}]}", 400, 8103),
    ];
    for (h, body, status, code) in cases.drain(..) {
        let r = relay.req("POST", &path, &h, &body);
        r.expect(status, code);
    }
    for (i, (body, status, code)) in json_faults.into_iter().enumerate() {
        let p = relay.create_pending(&["n1"], None);
        n.post_pubkey(&relay, &p);
        let r = post_envelopes(&relay, &p, std::str::from_utf8(body).unwrap_or("\u{fffd}"));
        let r = if body == b"\xff\xfe" {
            relay.req(
                "POST",
                &format!("/api/v1/pending/{p}/envelopes"),
                &[("Content-Type", "application/json")],
                body,
            )
        } else {
            r
        };
        assert_eq!(
            (r.status, r.code()),
            (status, code),
            "case {i}: {}",
            r.text()
        );
        assert_eq!(relay.target_state(&p, "n1").0, "pubkey_posted");
    }
    assert_eq!(stored_envelopes(&relay), 0, "nothing stored");
    assert!(relay.is_running());
    // Content-type, size and lockout faults were not counted as failed posts
    // for `pid` beyond the limit: the good post still works.
    let r = post_envelopes(&relay, &pid, &good);
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(n.pull(&relay).len(), 1);
}

#[test]
fn oversized_body_without_content_length_is_cut_off() {
    let (relay, _n, pid) = setup();
    // Chunked transfer: no Content-Length to judge by; the reader stops at the cap.
    let mut req = format!(
        "POST /api/v1/pending/{pid}/envelopes HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..10 {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(&chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    raw(&relay.addr, &req).expect(413, 8607);
    // Still serving.
    assert_eq!(relay.status(&pid)["state"], "pubkey_posted");
}

#[test]
fn admin_and_node_bodies_are_checked() {
    let (relay, n, pid) = setup();
    // Admin: no token, wrong token, token with a different length.
    relay
        .req(
            "POST",
            "/api/v1/admin/nodes",
            &[("Content-Type", "application/json")],
            br#"{"node_id":"x"}"#,
        )
        .expect(401, 8609);
    for bad in ["Bearer wrong", "Basic abc", "bearer x", ""] {
        relay
            .req(
                "POST",
                "/api/v1/admin/nodes",
                &[("Content-Type", "application/json"), ("Authorization", bad)],
                br#"{"node_id":"x"}"#,
            )
            .expect(401, 8609);
    }
    // Two Authorization headers (one valid) are refused.
    let good = format!("Bearer {}", relay.token);
    relay
        .req(
            "POST",
            "/api/v1/admin/nodes",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", "Bearer nope"),
                ("Authorization", &good),
            ],
            br#"{"node_id":"x"}"#,
        )
        .expect(401, 8609);
    // Admin body faults.
    relay
        .admin("POST", "/api/v1/admin/nodes", r#"{"node_id":"a b"}"#)
        .expect(400, 8601);
    relay
        .admin(
            "POST",
            "/api/v1/admin/nodes",
            r#"{"node_id":"x","extra":1}"#,
        )
        .expect(400, 8601);
    relay
        .admin(
            "POST",
            "/api/v1/admin/nodes",
            r#"{"node_id":"x","node_id":"y"}"#,
        )
        .expect(400, 8601);
    relay
        .req(
            "POST",
            "/api/v1/admin/nodes",
            &[("Authorization", &good), ("Content-Type", "text/json")],
            br#"{"node_id":"x"}"#,
        )
        .expect(415, 8606);
    let big = format!(r#"{{"node_id":"{}"}}"#, "a".repeat(70 * 1024));
    relay
        .admin("POST", "/api/v1/admin/nodes", &big)
        .expect(413, 8607);
    let p = |body: &str| relay.admin("POST", "/api/v1/admin/pending", body);
    p(r#"{"node_ids":[],"slug":"s","injection_method":"env"}"#).expect(400, 8601);
    p(r#"{"node_ids":["n1","n1"],"slug":"s","injection_method":"env"}"#).expect(400, 8601);
    p(r#"{"node_ids":["nobody"],"slug":"s","injection_method":"env"}"#).expect(404, 8602);
    p(r#"{"node_ids":["n1"],"slug":"s","injection_method":"Env"}"#).expect(400, 8204);
    p(r#"{"node_ids":["n1"],"slug":"","injection_method":"env"}"#).expect(400, 8202);
    p(r#"{"node_ids":["n1"],"slug":"s","injection_method":"env","expires_in_secs":5}"#)
        .expect(400, 8601);
    p(r#"{"node_ids":["n1"],"slug":"s","injection_method":"env","expires_in_secs":90000}"#)
        .expect(400, 8601);
    let many: Vec<String> = (0..17).map(|i| format!("\"n{i}\"")).collect();
    p(&format!(
        r#"{{"node_ids":[{}],"slug":"s","injection_method":"env"}}"#,
        many.join(",")
    ))
    .expect(400, 8601);
    // Node body faults (signed correctly, bad content).
    let pk_path = format!("/api/v1/node/pending/{pid}/pubkey");
    n.call(&relay, "PUT", &pk_path, br#"{"public_key":"short"}"#)
        .expect(400, 8301);
    n.call(&relay, "PUT", &pk_path, br#"{"public_key":1}"#)
        .expect(400, 8601);
    n.call(&relay, "PUT", &pk_path, b"nope").expect(400, 8601);
    let ack = format!("/api/v1/node/pending/{pid}/ack");
    n.call(&relay, "POST", &ack, br#"{"result":"maybe"}"#)
        .expect(400, 8601);
    n.call(&relay, "POST", &ack, br#"{"result":"consumed"}"#)
        .expect(409, 8608);
    n.call(&relay, "POST", "/api/v1/node/heartbeat", br#"{"x":1}"#)
        .expect(400, 8601);
    n.call(
        &relay,
        "POST",
        "/api/v1/node/pending/AAAAAAAAAAAAAAAAAAAAAA/ack",
        br#"{"result":"consumed"}"#,
    )
    .expect(404, 8602);
    n.call(
        &relay,
        "PUT",
        "/api/v1/node/pending/not-an-id/pubkey",
        br#"{"public_key":"x"}"#,
    )
    .expect_any_4xx();
    // Another node cannot touch n1's pending credential.
    let other = Node::register(&relay, "other");
    let k = sealpass::SecretKey::generate()
        .unwrap()
        .public_key()
        .to_b64u();
    other
        .call(
            &relay,
            "PUT",
            &pk_path,
            format!(r#"{{"public_key":"{k}"}}"#).as_bytes(),
        )
        .expect(404, 8602);
    // Unknown ids and routes.
    relay
        .req("GET", "/api/v1/pending/AAAAAAAAAAAAAAAAAAAAAA", &[], b"")
        .expect(404, 8602);
    relay
        .req("GET", "/api/v1/pending/..%2f..%2fetc", &[], b"")
        .expect(404, 8602);
    relay.req("GET", "/nope", &[], b"").expect(404, 8602);
    // Framework-level faults still come back as our JSON errors.
    relay
        .req("DELETE", "/api/v1/admin/nodes", &[], b"")
        .expect(405, 8601);
    relay
        .req("GET", "/api/v1/pending/%ff%fe/status", &[], b"")
        .expect_any_4xx();
    assert!(
        relay
            .req("GET", "/api/v1/pending/%ff%fe/status", &[], b"")
            .code()
            > 8600
    );
    // Error bodies never echo input.
    let r = relay.admin(
        "POST",
        "/api/v1/admin/nodes",
        r#"{"node_id":"x","zzsecretzz":1}"#,
    );
    assert!(!r.text().contains("zzsecretzz"));
    // Nothing got created, and the relay still serves.
    assert_eq!(stored_envelopes(&relay), 0);
    let nodes = relay.sql_i64("SELECT COUNT(*) FROM nodes");
    assert_eq!(nodes, 2);
    assert_eq!(relay.status(&pid)["state"], "pubkey_posted");
}

trait Any4xx {
    fn expect_any_4xx(&self);
}
impl Any4xx for Resp {
    fn expect_any_4xx(&self) {
        assert!(
            (400..500).contains(&self.status),
            "{} {}",
            self.status,
            self.text()
        );
    }
}

#[test]
fn garbage_on_the_socket_does_not_hurt() {
    let relay = Relay::start();
    for junk in [
        &b"\x00\x01\x02\r\n\r\n"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"POST /api/v1/admin/nodes HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"GET /api/v1/pending/x HTTP/1.1\r\nHost: a\r\nX-Sealpass-Caller: \xff\r\n\r\n",
    ] {
        let mut s = std::net::TcpStream::connect(&relay.addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        use std::io::{Read, Write};
        let _ = s.write_all(junk);
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        if let Some(line) = buf.split(|b| *b == b'\n').next() {
            let line = String::from_utf8_lossy(line);
            assert!(!line.contains(" 5"), "server error for {junk:?}: {line}");
        }
    }
    let n = Node::register(&relay, "still-ok");
    n.heartbeat(&relay);
}
