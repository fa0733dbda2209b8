//! The per-pending-id lockout on envelope posts: atomic under concurrent
//! posts (no more failures answered than the limit), and only the poster's
//! own mistakes count — late duplicates after the winning post do not lock
//! out a legitimate retry.

use std::sync::{Arc, Barrier};
use std::thread;

use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

/// Failed posts that lock a pending id (store::Limits::max_failed_posts).
const MAX_FAILED: usize = 3;

fn post_failures_counted(relay: &Relay) -> i64 {
    relay.sql_i64(
        "SELECT COALESCE(SUM(count), 0) FROM auth_failures WHERE event = 'envelope_post_failed'",
    )
}

#[test]
fn concurrent_bad_posts_stop_at_the_limit() {
    let relay = Arc::new(Relay::start());
    let n = Node::register(&relay, "n1");
    let pid = relay.create_pending(&["n1"], None);
    n.post_pubkey(&relay, &pid);
    const POSTS: usize = 60;
    let gate = Arc::new(Barrier::new(POSTS));
    let posts: Vec<_> = (0..POSTS)
        .map(|_| {
            let (relay, gate, pid) = (relay.clone(), gate.clone(), pid.clone());
            thread::spawn(move || {
                gate.wait();
                // Well-formed JSON, not an envelope body: a 400 of the poster's own.
                let r = post_envelopes(&relay, &pid, r#"{"envelopes":[]}"#);
                (r.status, r.code())
            })
        })
        .collect();
    let answers: Vec<(u16, u64)> = posts.into_iter().map(|t| t.join().unwrap()).collect();
    let failed = answers.iter().filter(|a| **a == (400, 8601)).count();
    let locked = answers.iter().filter(|a| **a == (429, 8605)).count();
    assert_eq!(
        (failed, locked),
        (MAX_FAILED, POSTS - MAX_FAILED),
        "answers: {answers:?}"
    );
    assert_eq!(post_failures_counted(&relay), MAX_FAILED as i64);
    let locks = relay.sql_i64("SELECT COUNT(*) FROM audit WHERE event = 'pending_locked'");
    assert_eq!(locks, 1);
}

#[test]
fn late_duplicates_do_not_lock_out_a_retry() {
    let relay = Relay::start();
    let n1 = Node::register(&relay, "n1");
    let n2 = Node::register(&relay, "n2");
    let pid = relay.create_pending(&["n1", "n2"], None);
    n1.post_pubkey(&relay, &pid);
    n2.post_pubkey(&relay, &pid);
    let sealed = seal_for(&relay, &pid, b"pw");
    let body = envelopes_body(&sealed);
    assert_eq!(post_envelopes(&relay, &pid, &body).status, 202);
    // The same post again, more often than the lockout limit: each is
    // refused (first push won) and none counts as a failure.
    for _ in 0..MAX_FAILED + 2 {
        post_envelopes(&relay, &pid, &body).expect(409, 8604);
    }
    assert_eq!(post_failures_counted(&relay), 0);
    // n2 could not decrypt: the sealer retries for n2 alone, and is served.
    n2.pull(&relay);
    assert_eq!(n2.ack(&relay, &pid, "decrypt_failed").status, 200);
    let retry: Vec<_> = sealed.into_iter().filter(|(n, _)| n == "n2").collect();
    let (st, v) = relay.http(
        "POST",
        &format!("/api/v1/pending/{pid}/envelopes"),
        false,
        Some(&envelopes_body(&retry)),
    );
    assert_eq!(st, 202, "retry refused: {v}");
}
