//! Bounded load test (ignored by default; see bench/load/README.md):
//! N pending credentials go through the whole flow with concurrent clients
//! on loopback; asserts nothing is lost or duplicated and prints figures.
//!
//! `SEALPASS_LOAD_N` (default 1000) and `SEALPASS_LOAD_WORKERS` (default 25).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Default)]
struct Stats {
    latencies: Vec<Duration>,
    delivered: HashMap<String, usize>,
    posted: HashMap<String, String>,
    pulled: HashMap<String, String>,
}

fn timed(stats: &Mutex<Stats>, f: impl FnOnce() -> Resp) -> Resp {
    let t = Instant::now();
    let r = f();
    stats.lock().unwrap().latencies.push(t.elapsed());
    r
}

/// The full load test (about 7 s in a debug build on 2 cores).
#[test]
#[ignore = "load test: run via bench/load/run.sh"]
fn thousand_pendings_through_the_flow() {
    run_load(
        env_usize("SEALPASS_LOAD_N", 1000),
        env_usize("SEALPASS_LOAD_WORKERS", 25).max(1),
    );
}

/// A small version in every normal test run, so the harness cannot rot.
#[test]
fn hundred_pendings_smoke() {
    run_load(100, 10);
}

fn run_load(n: usize, workers: usize) {
    let relay = Arc::new(Relay::start());
    let stats = Arc::new(Mutex::new(Stats::default()));
    let started = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (relay, stats) = (relay.clone(), stats.clone());
            let share = n / workers + usize::from(w < n % workers);
            std::thread::spawn(move || {
                // Each worker drives two nodes (a node and a sealer client
                // are separate connections, so the relay sees 2×workers clients).
                let nodes: Vec<Node> = (0..2)
                    .map(|k| Node::register(&relay, &format!("w{w}-n{k}")))
                    .collect();
                for i in 0..share {
                    let node = &nodes[i % 2];
                    let body = format!(
                        r#"{{"node_ids":["{}"],"slug":"s{w}-{i}","injection_method":"env"}}"#,
                        node.id
                    );
                    let r = timed(&stats, || {
                        relay.admin("POST", "/api/v1/admin/pending", &body)
                    });
                    assert_eq!(r.status, 201, "{}", r.text());
                    let pid = r.json()["pending_id"].as_str().unwrap().to_owned();
                    let sk = sealpass::SecretKey::generate().unwrap();
                    let pk = format!(r#"{{"public_key":"{}"}}"#, sk.public_key().to_b64u());
                    let path = format!("/api/v1/node/pending/{pid}/pubkey");
                    let r = timed(&stats, || node.call(&relay, "PUT", &path, pk.as_bytes()));
                    assert_eq!(r.status, 200, "{}", r.text());
                    let t = Instant::now();
                    let items = seal_for(&relay, &pid, format!("secret-{w}-{i}").as_bytes());
                    stats.lock().unwrap().latencies.push(t.elapsed());
                    let r = timed(&stats, || {
                        post_envelopes(&relay, &pid, &envelopes_body(&items))
                    });
                    assert_eq!(r.status, 202, "{}", r.text());
                    stats
                        .lock()
                        .unwrap()
                        .posted
                        .insert(pid.clone(), items[0].1.clone());
                    let r = timed(&stats, || {
                        node.call(&relay, "GET", "/api/v1/node/envelopes", b"")
                    });
                    assert_eq!(r.status, 200, "{}", r.text());
                    for e in r.json()["envelopes"].as_array().unwrap() {
                        let id = e["pending_id"].as_str().unwrap().to_owned();
                        let env =
                            sealpass::Envelope::from_json(e["envelope"].to_string().as_bytes())
                                .unwrap()
                                .to_json();
                        let mut s = stats.lock().unwrap();
                        *s.delivered.entry(id.clone()).or_default() += 1;
                        s.pulled.insert(id.clone(), env);
                        drop(s);
                        let r = timed(&stats, || node.ack(&relay, &id, "consumed"));
                        assert_eq!(r.status, 200, "{}", r.text());
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker panicked");
    }
    let wall = started.elapsed();

    let s = stats.lock().unwrap();
    assert_eq!(s.posted.len(), n, "every pending posted once");
    assert_eq!(
        s.delivered.len(),
        n,
        "every pending delivered (nothing lost)"
    );
    assert!(
        s.delivered.values().all(|c| *c == 1),
        "nothing delivered twice"
    );
    for (id, env) in &s.posted {
        assert_eq!(
            s.pulled.get(id),
            Some(env),
            "delivered envelope is the posted one"
        );
    }
    assert_eq!(
        stored_envelopes(&relay),
        0,
        "every envelope deleted after ack"
    );
    let consumed: i64 = db(&relay)
        .query_row(
            "SELECT COUNT(*) FROM targets WHERE state = 'consumed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(consumed as usize, n);

    let mut lat = s.latencies.clone();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    let reqs = lat.len();
    println!(
        "load: {n} pendings, {workers} workers ({} clients), {reqs} requests in {:.2} s = {:.0} req/s, {:.1} pendings/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({})",
        workers * 2,
        wall.as_secs_f64(),
        reqs as f64 / wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat[reqs - 1].as_secs_f64() * 1e3,
        if std::env::var_os("SEALPASS_TEST_RELAY_BIN").is_some() {
            "relay from SEALPASS_TEST_RELAY_BIN"
        } else if cfg!(debug_assertions) {
            "debug relay"
        } else {
            "release relay"
        },
    );
}
