//! Admin actions on a node beyond add and rotate: revoking the previous
//! secret at once (no 24 h grace), and deleting a node (its secrets stop,
//! its live pendings end, its stored envelopes go) — over the admin API and
//! the ops CLI (`sealpass-relay node revoke-previous|delete`).

use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

const HB: &str = "/api/v1/node/heartbeat";

fn rotate(relay: &Relay, n: &Node) -> Node {
    let r = relay.admin(
        "POST",
        &format!("/api/v1/admin/nodes/{}/rotate-secret", n.id),
        "",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    Node {
        secret: sealpass::b64::decode(v["secret"].as_str().unwrap()).unwrap(),
        version: u32::try_from(v["key_version"].as_u64().unwrap()).unwrap(),
        ..n.clone()
    }
}

#[test]
fn revoke_previous_ends_the_rotation_grace_now() {
    let relay = Relay::start();
    let v1 = Node::register(&relay, "n1");
    let v2 = rotate(&relay, &v1);
    v1.heartbeat(&relay);
    let r = relay.admin("POST", "/api/v1/admin/nodes/n1/revoke-previous", "");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"node_id": "n1", "key_version": 2, "revoked": 1})
    );
    v1.call(&relay, "POST", HB, b"{}").expect(401, 8702);
    v2.heartbeat(&relay);
    // Nothing left to revoke; an empty object body is fine too.
    let r = relay.admin("POST", "/api/v1/admin/nodes/n1/revoke-previous", "{}");
    assert_eq!(r.json()["revoked"], 0, "{}", r.text());
    // The ops CLI does the same, while the relay runs.
    let v3 = rotate(&relay, &v2);
    v2.heartbeat(&relay);
    assert_eq!(
        relay.ops(&["revoke-previous", "n1"]),
        serde_json::json!({"node_id": "n1", "key_version": 3, "revoked": 1})
    );
    v2.call(&relay, "POST", HB, b"{}").expect(401, 8702);
    v3.heartbeat(&relay);
    // Unknown node; no admin token; a body that is not {}.
    relay
        .admin("POST", "/api/v1/admin/nodes/ghost/revoke-previous", "")
        .expect(404, 8602);
    relay
        .req("POST", "/api/v1/admin/nodes/n1/revoke-previous", &[], b"")
        .expect(401, 8609);
    relay
        .admin(
            "POST",
            "/api/v1/admin/nodes/n1/revoke-previous",
            r#"{"x":1}"#,
        )
        .expect(400, 8601);
    let events = relay.sql_i64(
        "SELECT COUNT(*) FROM audit WHERE event = 'previous_secret_revoked' AND actor = 'n1'",
    );
    assert_eq!(events, 3);
}

#[test]
fn deleting_a_node_ends_its_pendings_and_frees_its_id() {
    // Short sweeps: a node the ops CLI adds is served from the next one.
    let relay = Relay::start_with(&["--sweep-interval-secs", "1"]);
    let n1 = Node::register(&relay, "n1");
    let n2 = Node::register(&relay, "n2");
    n1.heartbeat(&relay);
    n2.heartbeat(&relay);
    // A live fan-out with envelopes stored, one awaiting keys, and one
    // that is done: only the live ones end.
    let live = relay.create_pending(&["n1", "n2"], None);
    n1.post_pubkey(&relay, &live);
    n2.post_pubkey(&relay, &live);
    let (st, _) = relay.post_envelopes(
        &live,
        &seal_for(&relay, &live, b"pw")
            .iter()
            .map(|(n, e)| (n.as_str(), e.clone()))
            .collect::<Vec<_>>(),
    );
    assert_eq!(st, 202);
    let waiting = relay.create_pending(&["n1"], None);
    let done = relay.create_pending(&["n1"], None);
    n1.post_pubkey(&relay, &done);
    let one = seal_for(&relay, &done, b"pw");
    assert_eq!(
        post_envelopes(&relay, &done, &envelopes_body(&one)).status,
        202
    );
    n1.pull(&relay);
    assert_eq!(n1.ack(&relay, &done, "consumed").status, 200);
    let other = relay.create_pending(&["n2"], None);

    let r = relay.admin("DELETE", "/api/v1/admin/nodes/n1", "");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"node_id": "n1", "pendings_ended": 2})
    );
    // Its secret stops, answered like any unknown caller.
    n1.call(&relay, "POST", HB, b"{}").expect(401, 8702);
    // Its pendings ended, envelopes gone (also n2's in the fan-out);
    // the consumed one stays consumed; n2's own pending is untouched.
    for p in [&live, &waiting] {
        assert_eq!(relay.status(p)["state"], "expired", "{p}");
        relay
            .req("GET", &format!("/api/v1/pending/{p}"), &[], b"")
            .expect(410, 8603);
    }
    assert_eq!(stored_envelopes(&relay), 0);
    assert!(n2.pull(&relay).is_empty());
    assert_eq!(relay.status(&done)["state"], "consumed");
    assert_eq!(relay.status(&other)["state"], "awaiting_pubkey");
    // It can no longer be named, nor deleted twice.
    relay
        .admin(
            "POST",
            "/api/v1/admin/pending",
            r#"{"node_ids":["n1"],"slug":"s","injection_method":"env","field_name":"F"}"#,
        )
        .expect(404, 8602);
    relay
        .admin("DELETE", "/api/v1/admin/nodes/n1", "")
        .expect(404, 8602);
    relay
        .req("DELETE", "/api/v1/admin/nodes/n2", &[], b"")
        .expect(401, 8609);
    // The id is free again, with a new secret under a new version (never
    // one the deleted node had); the old secret stays dead.
    let v: serde_json::Value = serde_json::from_str(&relay.add_node_json("n1")).unwrap();
    assert_eq!(v["key_version"], 2);
    let again = Node {
        secret: sealpass::b64::decode(v["secret"].as_str().unwrap()).unwrap(),
        version: 2,
        ..n1.clone()
    };
    again.heartbeat(&relay);
    n1.call(&relay, "POST", HB, b"{}").expect(401, 8702);
    // The ops CLI deletes too.
    assert_eq!(
        relay.ops(&["delete", "n2"]),
        serde_json::json!({"node_id": "n2", "pendings_ended": 1})
    );
    n2.call(&relay, "POST", HB, b"{}").expect(401, 8702);
    assert_eq!(relay.status(&other)["state"], "expired");
    // Re-added by the CLI beside the running relay (which cached n2's v1
    // secret): the new version is served from the next sweep on, the old
    // secret never.
    let v = relay.ops(&["add", "n2"]);
    assert_eq!(v["key_version"], 2);
    let n2b = Node {
        secret: sealpass::b64::decode(v["secret"].as_str().unwrap()).unwrap(),
        version: 2,
        ..n2.clone()
    };
    n2.call(&relay, "POST", HB, b"{}").expect(401, 8702);
    sealpass_tests::proc::eventually(
        std::time::Duration::from_secs(30),
        "the CLI-added n2 is served",
        || n2b.call(&relay, "POST", HB, b"{}").status == 200,
    );
    n2.call(&relay, "POST", HB, b"{}").expect(401, 8702);
}
