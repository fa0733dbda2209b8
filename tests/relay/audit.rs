//! The relay's audit trail against junk traffic: failures without valid
//! credentials are counted per (minute, event, actor, route, code) bucket,
//! never written as events, so a flood cannot push real events out.

use sealpass_native::signing::sign_request;
use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

fn events(relay: &Relay) -> Vec<(i64, String, String)> {
    relay
        .sql("SELECT id, event, actor FROM audit ORDER BY id")
        .lines()
        .map(|l| {
            let mut c = l.splitn(3, '|');
            let id = c.next().and_then(|s| s.parse().ok());
            let (event, actor) = (c.next(), c.next());
            match (id, event, actor) {
                (Some(id), Some(e), Some(a)) => (id, e.to_owned(), a.to_owned()),
                _ => panic!("audit row {l:?}"),
            }
        })
        .collect()
}

/// (buckets, total count) of the failure counters.
fn failure_buckets(relay: &Relay) -> (i64, i64) {
    (
        relay.sql_i64("SELECT COUNT(*) FROM auth_failures"),
        relay.sql_i64("SELECT COALESCE(SUM(count), 0) FROM auth_failures"),
    )
}

#[test]
fn a_flood_of_bad_auth_leaves_real_events_and_adds_bounded_rows() {
    let relay = Relay::start();
    // Real events: node added, pending created, key posted, envelopes
    // posted, pulled, acked.
    let n = Node::register(&relay, "n1");
    n.heartbeat(&relay);
    let pid = relay.create_pending(&["n1"], None);
    n.post_pubkey(&relay, &pid);
    let (st, v) = relay.post_envelopes(
        &pid,
        &seal_for(&relay, &pid, b"pw")
            .iter()
            .map(|(a, b)| (a.as_str(), b.clone()))
            .collect::<Vec<_>>(),
    );
    assert_eq!(st, 202, "{v}");
    assert_eq!(n.pull(&relay).len(), 1);
    assert_eq!(n.ack(&relay, &pid, "consumed").status, 200);
    let before = events(&relay);
    for ev in [
        "node_added",
        "pending_created",
        "envelopes_posted",
        "consumed",
    ] {
        assert!(before.iter().any(|(_, e, _)| e == ev), "{ev}: {before:?}");
    }

    // The flood: wrong admin token, unsigned and forged node requests,
    // signing headers on a sender route.
    let ghost = Node {
        id: "ghost".into(),
        ..n.clone()
    };
    const EACH: i64 = 60;
    let hb = "/api/v1/node/heartbeat";
    for i in 0..EACH {
        relay
            .req(
                "POST",
                "/api/v1/admin/nodes",
                &[
                    ("Authorization", "Bearer wrong-token-wrong-token"),
                    ("Content-Type", "application/json"),
                ],
                b"{\"node_id\":\"x\"}",
            )
            .expect(401, 8609);
        relay
            .req("POST", hb, &[("Content-Type", "application/json")], b"{}")
            .expect(401, 8701);
        let h = sign_request(
            &ghost.secret,
            &ghost.id,
            1,
            "POST",
            hb,
            b"{}",
            now() - i % 200,
        );
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        relay.req("POST", hb, &h, b"").expect(401, 8702);
        relay
            .req(
                "GET",
                &format!("/api/v1/pending/{pid}"),
                &[("X-Sealpass-Caller", "n1")],
                b"",
            )
            .expect(401, 8701);
    }

    // Every real event is still there, and the flood wrote no event rows.
    assert_eq!(events(&relay), before, "the flood changed the event trail");
    // It was counted, in a bounded number of buckets (4 kinds of failure,
    // over at most a few minutes).
    let (buckets, total) = failure_buckets(&relay);
    assert_eq!(total, 4 * EACH, "every failure counted");
    assert!(
        (4..=4 * 4).contains(&buckets),
        "{buckets} buckets for 4 kinds of failure"
    );
    // Real events keep being recorded.
    relay
        .admin("POST", "/api/v1/admin/nodes/n1/rotate-secret", "")
        .status
        .eq(&200)
        .then_some(())
        .expect("rotate");
    let after = events(&relay);
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after.last().map(|e| e.1.as_str()), Some("secret_rotated"));
}
