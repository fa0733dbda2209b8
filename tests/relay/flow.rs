//! The pending-credential flow against the real relay binary: states,
//! fan-out with partial failure and retry, offline queueing, restart,
//! expiry sweep, first push wins, rate limits and caps.

use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

#[test]
fn single_node_flow_end_to_end() {
    let relay = Relay::start();
    let n1 = Node::register(&relay, "n1");
    n1.heartbeat(&relay);
    let pid = relay.create_pending(&["n1"], None);

    // Sealing side must wait for the key: 409/8009 with Retry-After.
    let r = relay.req("GET", &format!("/api/v1/pending/{pid}"), &[], b"");
    r.expect(409, 8009);
    assert_eq!(r.header("Retry-After"), Some("1"));

    // The node sees the pending credential and posts its key.
    let list = n1.call(&relay, "GET", "/api/v1/node/pending", b"").json();
    let item = &list["pending"][0];
    assert_eq!(item["pending_id"], pid.as_str());
    assert_eq!(item["needs_pubkey"], true);
    assert_eq!(item["context"]["slug"], "db-password");
    let sk = n1.post_pubkey(&relay, &pid);
    assert_eq!(relay.status(&pid)["state"], "pubkey_posted");

    // Re-posting the same key is idempotent; a different key is refused.
    let same = format!(r#"{{"public_key":"{}"}}"#, sk.public_key().to_b64u());
    let path = format!("/api/v1/node/pending/{pid}/pubkey");
    assert_eq!(n1.call(&relay, "PUT", &path, same.as_bytes()).status, 200);
    let other = sealpass::SecretKey::generate()
        .unwrap()
        .public_key()
        .to_b64u();
    n1.call(
        &relay,
        "PUT",
        &path,
        format!(r#"{{"public_key":"{other}"}}"#).as_bytes(),
    )
    .expect(409, 8608);

    // The sealing side reads the key + fingerprint + context, seals, posts.
    let v = relay
        .req("GET", &format!("/api/v1/pending/{pid}"), &[], b"")
        .json();
    assert_eq!(
        v["targets"][0]["public_key"],
        sk.public_key().to_b64u().as_str()
    );
    assert_eq!(
        v["targets"][0]["fingerprint"],
        sk.public_key().fingerprint().as_str()
    );
    let items = seal_for(&relay, &pid, b"hunter2");
    let r = post_envelopes(&relay, &pid, &envelopes_body(&items));
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["state"], "ciphertext_received");

    // The node pulls exactly what was posted (canonical form) and acks.
    let got = n1.pull(&relay);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["pending_id"], pid.as_str());
    let env =
        sealpass::Envelope::from_json(&serde_json::to_vec(&got[0]["envelope"]).unwrap()).unwrap();
    assert_eq!(env.to_json(), items[0].1);
    assert_eq!(got[0]["context"]["node_id"], "n1");
    let r = n1.ack(&relay, &pid, "consumed");
    assert_eq!(
        (r.status, r.json()["state"].as_str()),
        (200, Some("consumed"))
    );
    assert_eq!(
        n1.ack(&relay, &pid, "consumed").status,
        200,
        "ack is idempotent"
    );
    n1.ack(&relay, &pid, "decrypt_failed").expect(409, 8608);
    assert_eq!(relay.status(&pid)["state"], "consumed");
    assert_eq!(stored_envelopes(&relay), 0, "envelope deleted on ack");
    assert!(n1.pull(&relay).is_empty());
    // One successful post per target: a second one is refused.
    post_envelopes(&relay, &pid, &envelopes_body(&items)).expect(409, 8604);
    // The node list no longer shows it.
    let list = n1.call(&relay, "GET", "/api/v1/node/pending", b"").json();
    assert!(list["pending"].as_array().unwrap().is_empty());
}

#[test]
fn fan_out_partial_failure_then_retry_of_the_failed_subset() {
    let relay = Relay::start();
    let nodes: Vec<Node> = ["a", "b", "c"]
        .iter()
        .map(|n| Node::register(&relay, n))
        .collect();
    for n in &nodes {
        n.heartbeat(&relay);
    }
    let pid = relay.create_pending(&["a", "b", "c"], None);
    for (i, n) in nodes.iter().enumerate() {
        n.post_pubkey(&relay, &pid);
        let want = if i < 2 {
            "awaiting_pubkey"
        } else {
            "pubkey_posted"
        };
        assert_eq!(relay.status(&pid)["state"], want);
    }
    let items = seal_for(&relay, &pid, b"s3cret");
    assert_eq!(items.len(), 3);
    assert_eq!(
        post_envelopes(&relay, &pid, &envelopes_body(&items)).status,
        202
    );
    for n in &nodes {
        assert_eq!(n.pull(&relay).len(), 1);
    }
    assert_eq!(nodes[0].ack(&relay, &pid, "consumed").status, 200);
    assert_eq!(nodes[1].ack(&relay, &pid, "decrypt_failed").status, 200);
    assert_eq!(nodes[2].ack(&relay, &pid, "consumed").status, 200);
    let s = relay.status(&pid);
    assert_eq!(s["state"], "partial_decrypted");
    assert_eq!(
        relay.target_state(&pid, "b"),
        ("decrypt_failed".into(), Some(8006))
    );

    // Retrying a target that already consumed is refused, all or nothing.
    let all_again = seal_for(&relay, &pid, b"s3cret");
    post_envelopes(&relay, &pid, &envelopes_body(&all_again)).expect(409, 8604);
    assert_eq!(
        relay.target_state(&pid, "b").0,
        "decrypt_failed",
        "nothing changed"
    );

    // Retry only the failed subset.
    let subset: Vec<_> = all_again.into_iter().filter(|(n, _)| n == "b").collect();
    let r = post_envelopes(&relay, &pid, &envelopes_body(&subset));
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(
        relay.target_state(&pid, "a").0,
        "consumed",
        "accepted node untouched"
    );
    assert_eq!(nodes[1].pull(&relay).len(), 1);
    assert!(
        nodes[0].pull(&relay).is_empty(),
        "consumed node gets nothing again"
    );
    assert_eq!(nodes[1].ack(&relay, &pid, "consumed").status, 200);
    assert_eq!(relay.status(&pid)["state"], "consumed");
}

#[test]
fn offline_node_gets_queued_envelope_on_reconnect_and_restart_keeps_it() {
    // A node that has sent no signed request for longer than the offline
    // threshold (1 s here instead of 30 s) is offline.
    let mut relay = Relay::start_with(&["--test-offline-after-secs", "1"]);
    let n = Node::register(&relay, "sleepy");
    let pid = relay.create_pending(&["sleepy"], None);
    n.post_pubkey(&relay, &pid);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let items = seal_for(&relay, &pid, b"queued-secret");
    let r = post_envelopes(&relay, &pid, &envelopes_body(&items));
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["state"], "ciphertext_queued");
    assert_eq!(
        relay.target_state(&pid, "sleepy"),
        ("ciphertext_queued".into(), Some(8010))
    );

    // Relay restart: the queued envelope survives.
    relay = relay.restart();
    assert_eq!(relay.target_state(&pid, "sleepy").0, "ciphertext_queued");
    assert_eq!(stored_envelopes(&relay), 1);

    // The node reconnects and pulls it.
    let got = n.pull(&relay);
    assert_eq!(got.len(), 1);
    let env = sealpass::Envelope::from_json(got[0]["envelope"].to_string().as_bytes()).unwrap();
    assert_eq!(env.to_json(), items[0].1);
    assert_eq!(
        relay.target_state(&pid, "sleepy"),
        ("ciphertext_received".into(), None)
    );
    assert_eq!(n.ack(&relay, &pid, "consumed").status, 200);
    assert_eq!(relay.status(&pid)["state"], "consumed");
}

#[test]
fn expiry_sweep_expires_without_rolling_back_consumed_targets() {
    let relay = Relay::start_with(&["--test-min-expiry-secs", "1", "--sweep-interval-secs", "1"]);
    let a = Node::register(&relay, "a");
    let b = Node::register(&relay, "b");
    a.heartbeat(&relay);
    b.heartbeat(&relay);
    let pid = relay.create_pending(&["a", "b"], Some(3));
    a.post_pubkey(&relay, &pid);
    b.post_pubkey(&relay, &pid);
    let items = seal_for(&relay, &pid, b"x");
    assert_eq!(
        post_envelopes(&relay, &pid, &envelopes_body(&items)).status,
        202
    );
    assert_eq!(a.pull(&relay).len(), 1);
    assert_eq!(a.ack(&relay, &pid, "consumed").status, 200);
    assert_eq!(stored_envelopes(&relay), 1, "b's envelope still stored");
    // Wait past expiry plus a sweep.
    std::thread::sleep(std::time::Duration::from_millis(5200));
    let s = relay.status(&pid);
    assert_eq!(s["state"], "expired");
    assert_eq!(
        relay.target_state(&pid, "a").0,
        "consumed",
        "not rolled back"
    );
    assert_eq!(
        relay.target_state(&pid, "b"),
        ("expired".into(), Some(8603))
    );
    assert_eq!(stored_envelopes(&relay), 0, "sweep deleted the envelope");
    let expired = relay.sql_i64(&format!(
        "SELECT CAST(expired AS INTEGER) FROM pendings WHERE pending_id = '{pid}'"
    ));
    assert_eq!(expired, 1, "the sweep (not only the clock) marked it");
    // Everything else about it is 410 now.
    relay
        .req("GET", &format!("/api/v1/pending/{pid}"), &[], b"")
        .expect(410, 8603);
    post_envelopes(&relay, &pid, &envelopes_body(&items)).expect(410, 8603);
    b.ack(&relay, &pid, "consumed").expect(410, 8603);
    assert!(b.pull(&relay).is_empty());
}

#[test]
fn first_push_wins_under_concurrent_posts() {
    let relay = Relay::start();
    let n = Node::register(&relay, "race");
    n.heartbeat(&relay);
    let pid = relay.create_pending(&["race"], None);
    n.post_pubkey(&relay, &pid);
    let bodies: Vec<String> = (0..8)
        .map(|i| envelopes_body(&seal_for(&relay, &pid, format!("secret-{i}").as_bytes())))
        .collect();
    let addr = relay.addr.clone();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(bodies.len()));
    let handles: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (addr, pid, barrier) = (addr.clone(), pid.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let r = request(
                    &addr,
                    "POST",
                    &format!("/api/v1/pending/{pid}/envelopes"),
                    &[("Content-Type", "application/json")],
                    body.as_bytes(),
                );
                (r.status, if r.status == 202 { 0 } else { r.code() }, body)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: Vec<_> = results.iter().filter(|r| r.0 == 202).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one post wins: {:?}",
        results.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>()
    );
    // Losers are AlreadyUsed, or (after 3 failures) the lockout.
    for r in results.iter().filter(|r| r.0 != 202) {
        assert!(
            matches!((r.0, r.1), (409, 8604) | (429, 8605)),
            "{:?}",
            (r.0, r.1)
        );
    }
    let got = n.pull(&relay);
    assert_eq!(got.len(), 1);
    let winner_env: serde_json::Value = serde_json::from_str(&winners[0].2).unwrap();
    assert_eq!(
        got[0]["envelope"], winner_env["envelopes"][0]["envelope"],
        "the stored one is the winner's"
    );
}

#[test]
fn failed_posts_lock_out_the_pending_id() {
    let relay = Relay::start();
    let n = Node::register(&relay, "n");
    let pid = relay.create_pending(&["n"], None);
    // Posting before the key exists is a failure (8009).
    let early = r#"{"envelopes":[{"node_id":"n","envelope":{"v":1}}]}"#;
    post_envelopes(&relay, &pid, early).expect(400, 8102);
    n.post_pubkey(&relay, &pid);
    post_envelopes(&relay, &pid, "{not json").expect(400, 8601);
    post_envelopes(
        &relay,
        &pid,
        r#"{"envelopes":[{"node_id":"zz","envelope":{"v":3}}]}"#,
    )
    .expect(400, 8007);
    // Third failure inside 60 s: locked for 5 minutes, even a good post.
    let good = envelopes_body(&seal_for(&relay, &pid, b"pw"));
    let r = post_envelopes(&relay, &pid, &good);
    r.expect(429, 8605);
    let retry: u64 = r
        .header("Retry-After")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((290..=300).contains(&retry), "{retry}");
    assert_eq!(
        relay.target_state(&pid, "n").0,
        "pubkey_posted",
        "nothing stored"
    );
    assert_eq!(stored_envelopes(&relay), 0);
    // Another pending id is not affected.
    let pid2 = relay.create_pending(&["n"], None);
    n.post_pubkey(&relay, &pid2);
    let r = post_envelopes(
        &relay,
        &pid2,
        &envelopes_body(&seal_for(&relay, &pid2, b"pw")),
    );
    assert_eq!(r.status, 202, "{}", r.text());
}

#[test]
fn early_post_is_pubkey_awaiting() {
    let relay = Relay::start();
    let a = Node::register(&relay, "a");
    let _b = Node::register(&relay, "b");
    let pid = relay.create_pending(&["a", "b"], None);
    a.post_pubkey(&relay, &pid);
    // GET still 409 because b has no key.
    relay
        .req("GET", &format!("/api/v1/pending/{pid}"), &[], b"")
        .expect(409, 8009);
    // A well-formed envelope for b (which has no key yet) is 409/8009.
    let sk = sealpass::SecretKey::generate().unwrap();
    let ctx =
        sealpass::Context::new("b", &pid, "db-password", "env", Some("DB_PASSWORD"), None).unwrap();
    let env = sealpass::seal(&sk.public_key(), b"x", &ctx)
        .unwrap()
        .to_json();
    post_envelopes(&relay, &pid, &envelopes_body(&[("b".into(), env)])).expect(409, 8009);
}

#[test]
fn ciphertext_cap_queue_cap_and_fan_out_element_cap() {
    let relay = Relay::start();
    let n = Node::register(&relay, "n");
    let m = Node::register(&relay, "m");
    n.heartbeat(&relay);
    m.heartbeat(&relay);

    // 16 KiB + 1 ciphertext: 413/8008, per element of a fan-out post.
    let pid = relay.create_pending(&["n", "m"], None);
    n.post_pubkey(&relay, &pid);
    m.post_pubkey(&relay, &pid);
    let mut items = seal_for(&relay, &pid, b"ok");
    let big_ct = sealpass::b64::encode(&vec![7u8; 16 * 1024 + 1]);
    let epk = sealpass::b64::encode(&[9u8; 32]);
    let nonce = sealpass::b64::encode(&[1u8; 24]);
    items[1].1 = format!(
        r#"{{"v":1,"suite":"x25519-hkdf-sha256-xchacha20poly1305","epk":"{epk}","nonce":"{nonce}","ct":"{big_ct}"}}"#
    );
    post_envelopes(&relay, &pid, &envelopes_body(&items)).expect(413, 8008);
    assert_eq!(
        stored_envelopes(&relay),
        0,
        "all or nothing: the good element was not stored"
    );

    // Exactly 16 KiB is fine.
    let max = sealpass::b64::encode(&vec![7u8; 16 * 1024]);
    items[1].1 = items[1].1.replace(&big_ct, &max);
    let r = post_envelopes(&relay, &pid, &envelopes_body(&items));
    assert_eq!(r.status, 202, "{}", r.text());

    // Queue cap: node m already holds 1 undelivered envelope; 4 more fit.
    for i in 0..4 {
        let p = relay.create_pending(&["m"], None);
        m.post_pubkey(&relay, &p);
        let r = post_envelopes(&relay, &p, &envelopes_body(&seal_for(&relay, &p, b"q")));
        assert_eq!(r.status, 202, "{i}: {}", r.text());
    }
    let p = relay.create_pending(&["m"], None);
    m.post_pubkey(&relay, &p);
    let body = envelopes_body(&seal_for(&relay, &p, b"q"));
    post_envelopes(&relay, &p, &body).expect(429, 8011);
    // QueueFull does not count towards the lockout.
    post_envelopes(&relay, &p, &body).expect(429, 8011);
    post_envelopes(&relay, &p, &body).expect(429, 8011);
    // Once m acks one, there is room again.
    let got = m.pull(&relay);
    assert_eq!(got.len(), 5);
    let first = got[0]["pending_id"].as_str().unwrap().to_owned();
    assert_eq!(m.ack(&relay, &first, "consumed").status, 200);
    assert_eq!(post_envelopes(&relay, &p, &body).status, 202);
}

#[test]
fn stored_oversized_envelope_is_not_forwarded_on_replay() {
    let relay = Relay::start();
    let n = Node::register(&relay, "n");
    n.heartbeat(&relay);
    let pid = relay.create_pending(&["n"], None);
    n.post_pubkey(&relay, &pid);
    let items = seal_for(&relay, &pid, b"x");
    assert_eq!(
        post_envelopes(&relay, &pid, &envelopes_body(&items)).status,
        202
    );
    // Tamper with the stored row behind the relay's back (either store),
    // then start it again: what it replays comes from the store.
    let big = format!(
        r#"{{"v":1,"suite":"x25519-hkdf-sha256-xchacha20poly1305","epk":"{}","nonce":"{}","ct":"{}"}}"#,
        sealpass::b64::encode(&[9u8; 32]),
        sealpass::b64::encode(&[1u8; 24]),
        sealpass::b64::encode(&vec![7u8; 16 * 1024 + 1])
    );
    assert_eq!(
        relay.sql_i64("SELECT COUNT(*) FROM targets WHERE envelope IS NOT NULL"),
        1
    );
    relay.sql(&format!(
        "UPDATE targets SET envelope = '{big}' WHERE pending_id = '{pid}' AND node_id = 'n'"
    ));
    assert_eq!(
        relay.sql_i64(&format!(
            "SELECT COUNT(*) FROM targets WHERE pending_id = '{pid}' AND length(envelope) = {}",
            big.len()
        )),
        1,
        "the stored envelope was replaced"
    );
    let relay = relay.restart();
    assert!(n.pull(&relay).is_empty(), "never forwarded");
    assert_eq!(
        relay.target_state(&pid, "n"),
        ("decrypt_failed".into(), Some(8008))
    );
    assert_eq!(stored_envelopes(&relay), 0);
}
