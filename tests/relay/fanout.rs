//! A pending for several nodes takes no envelope until every node has
//! posted its one-time key: a sender cannot seal to a subset.

use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

#[test]
fn no_envelope_for_one_target_while_another_awaits_its_key() {
    let relay = Relay::start();
    let n1 = Node::register(&relay, "n1");
    let n2 = Node::register(&relay, "n2");
    n1.heartbeat(&relay);
    let pid = relay.create_pending(&["n1", "n2"], None);
    let sk1 = n1.post_pubkey(&relay, &pid);
    // Sealed to n1's posted key by hand (the public view is still 8009).
    let (st, v) = relay.http("GET", &format!("/api/v1/pending/{pid}"), false, None);
    assert_eq!((st, &v["code"]), (409, &serde_json::json!(8009)));
    let ctx = sealpass::Context::new("n1", &pid, "db-password", "env", Some("DB_PASSWORD"), None)
        .unwrap();
    let env = sealpass::seal(&sk1.public_key(), b"pw", &ctx).unwrap();
    let subset = vec![("n1".to_owned(), env.to_json())];
    let r = post_envelopes(&relay, &pid, &envelopes_body(&subset));
    r.expect(409, 8009);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(stored_envelopes(&relay), 0);
    assert_eq!(relay.target_state(&pid, "n1").0, "pubkey_posted");
    // Once n2's key is in, the whole fan-out goes through.
    n2.post_pubkey(&relay, &pid);
    let all = seal_for(&relay, &pid, b"pw");
    let (st, v) = relay.http(
        "POST",
        &format!("/api/v1/pending/{pid}/envelopes"),
        false,
        Some(&envelopes_body(&all)),
    );
    assert_eq!(st, 202, "{v}");
    assert_eq!(stored_envelopes(&relay), 2);
}
