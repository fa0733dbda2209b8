//! Registered node ids and key versions cannot be enumerated: an unknown
//! caller, an unknown key version, a version retired by rotation and a
//! wrong MAC for a registered node all get the same answer (status, code,
//! body), on a route with a body and on one without.

use sealpass_native::signing::sign_request;
use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

/// Send a request signed with `secret` as (caller, version).
fn send_as(
    relay: &Relay,
    secret: &[u8],
    caller: &str,
    version: u32,
    (method, path, body): (&str, &str, &[u8]),
    ts: i64,
) -> Resp {
    let h = sign_request(secret, caller, version, method, path, body, ts);
    let mut headers: Vec<(&str, &str)> = h.iter().map(|(n, v)| (*n, v.as_str())).collect();
    if !body.is_empty() {
        headers.push(("Content-Type", "application/json"));
    }
    relay.req(method, path, &headers, body)
}

#[test]
fn unknown_callers_and_versions_answer_like_a_wrong_mac() {
    let relay = Relay::start();
    let n1 = Node::register(&relay, "n1");
    // Rotate twice: v1 is retired at once by the second rotation, v2 is in
    // its grace, v3 is current.
    for _ in 0..2 {
        relay
            .admin("POST", "/api/v1/admin/nodes/n1/rotate-secret", "")
            .json();
    }
    let pid = "AAAAAAAAAAAAAAAAAAAAAA";
    let pubkey_path = format!("/api/v1/node/pending/{pid}/pubkey");
    let routes: [(&str, &str, &[u8]); 3] = [
        ("POST", "/api/v1/node/heartbeat", b"{}"),
        ("GET", "/api/v1/node/envelopes", b""),
        ("PUT", &pubkey_path, br#"{"public_key":"x"}"#),
    ];
    let wrong = [7u8; 32];
    let t = now();
    for (i, route) in routes.into_iter().enumerate() {
        let ts = t - i64::try_from(i).unwrap();
        let answers = [
            ("wrong MAC", send_as(&relay, &wrong, "n1", 3, route, ts)),
            (
                "unknown caller",
                send_as(&relay, &wrong, "ghost", 1, route, ts),
            ),
            (
                "unknown version",
                send_as(&relay, &wrong, "n1", 9, route, ts),
            ),
            // The real v1 secret, retired: still only "does not verify".
            (
                "retired version",
                send_as(&relay, &n1.secret, "n1", 1, route, ts),
            ),
        ];
        let (_, first) = &answers[0];
        first.expect(401, 8702);
        for (what, r) in &answers {
            assert_eq!(
                (r.status, &r.body),
                (first.status, &first.body),
                "{} {}: {what} answered differently: {}",
                route.0,
                route.1,
                r.text()
            );
            let ct = |r: &Resp| r.header("content-type").map(str::to_owned);
            assert_eq!(ct(r), ct(first), "{what}");
        }
    }
}
