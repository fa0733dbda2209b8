//! Bounded load test (ignored by default; see bench/load/README.md):
//! N pending credentials go through the whole flow with concurrent clients
//! on loopback; asserts nothing is lost or duplicated and prints figures.
//!
//! `SEALPASS_LOAD_N` (default 1000) and `SEALPASS_LOAD_WORKERS` (default
//! 25) give the size; `SEALPASS_LOAD_STORE` (`sqlite` or `postgres`,
//! default: the suite's store, [`pg::enabled`]) and
//! `SEALPASS_LOAD_INSTANCES` (default 1) the configuration: N relays on
//! one PostgreSQL database, every request sent to the next one in turn
//! ([`RoundRobin`]). PostgreSQL needs tests/pg/run.sh; SQLite is one
//! instance by design (one relay process owns its relay.db).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sealpass_tests::pg::{self, Database};
use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Which relays the load runs against.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Config {
    /// `"sqlite"` or `"postgres"` (as [`Relay::store_kind`] names them).
    store: &'static str,
    instances: usize,
}

impl Config {
    /// The relay the suite runs on: one instance on the suite's store.
    fn suite() -> Config {
        Config {
            store: if pg::enabled() { "postgres" } else { "sqlite" },
            instances: 1,
        }
    }

    /// `SEALPASS_LOAD_STORE` / `SEALPASS_LOAD_INSTANCES`, defaulting to
    /// [`Config::suite`].
    fn from_env() -> Config {
        let store = match std::env::var("SEALPASS_LOAD_STORE").as_deref() {
            Err(_) | Ok("") => Config::suite().store,
            Ok("sqlite") => "sqlite",
            Ok("postgres") => "postgres",
            Ok(other) => panic!("SEALPASS_LOAD_STORE={other:?}: expected sqlite or postgres"),
        };
        let instances = match std::env::var("SEALPASS_LOAD_INSTANCES") {
            Err(_) => 1,
            Ok(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=16).contains(n))
                .unwrap_or_else(|| panic!("SEALPASS_LOAD_INSTANCES={v:?}: expected 1 to 16")),
        };
        Config { store, instances }
    }

    /// Start the relays: SQLite, one relay ([`Relay::start`]); PostgreSQL,
    /// `instances` relays on one fresh database.
    fn start(self) -> Vec<Relay> {
        let relays = match self.store {
            "sqlite" => {
                assert_eq!(
                    self.instances, 1,
                    "SQLite is single-instance by design (one relay process owns \
                     its relay.db): several instances need SEALPASS_LOAD_STORE=postgres"
                );
                vec![Relay::start()]
            }
            _ => {
                assert!(pg::available(), "the PostgreSQL load test {}", pg::NEEDS_PG);
                Relay::start_cluster_on(&Database::create(), self.instances, &[])
            }
        };
        for r in &relays {
            assert_eq!(
                r.store_kind(),
                self.store,
                "relay store (SEALPASS_TEST_STORE={:?} overrides SQLite)",
                std::env::var("SEALPASS_TEST_STORE").unwrap_or_default()
            );
        }
        relays
    }
}

#[derive(Default)]
struct Stats {
    latencies: Vec<Duration>,
    /// Times each pending id came back in a pull.
    delivered: HashMap<String, usize>,
    /// Canonical JSON of the envelope posted for each pending id.
    posted: HashMap<String, String>,
    /// Canonical JSON of the envelope pulled for each pending id (last).
    pulled: HashMap<String, String>,
    /// Pulled envelopes that differed from the one posted.
    altered: usize,
}

fn timed(stats: &Mutex<Stats>, f: impl FnOnce() -> Resp) -> Resp {
    let t = Instant::now();
    let r = f();
    stats.lock().unwrap().latencies.push(t.elapsed());
    r
}

/// The full load test (about 7 s in a debug build on 2 cores), on the
/// configuration of the environment (bench/load/run.sh runs each).
#[test]
#[ignore = "load test: run via bench/load/run.sh"]
fn thousand_pendings_through_the_flow() {
    run_load(
        Config::from_env(),
        env_usize("SEALPASS_LOAD_N", 1000).max(1),
        env_usize("SEALPASS_LOAD_WORKERS", 25).max(1),
    );
}

/// A small version in every normal test run (on the suite's store), so
/// the harness cannot rot.
#[test]
fn hundred_pendings_smoke() {
    run_load(Config::suite(), 100, 10);
}

fn run_load(cfg: Config, n: usize, workers: usize) {
    let relays = cfg.start();
    let rr = RoundRobin::new(&relays);
    let stats = Mutex::new(Stats::default());
    let started = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (rr, stats) = (&rr, &stats);
                let share = n / workers + usize::from(w < n % workers);
                scope.spawn(move || worker(rr, stats, w, share))
            })
            .collect();
        for h in handles {
            h.join().expect("worker panicked");
        }
    });
    let wall = started.elapsed();

    let s = stats.into_inner().unwrap();
    // Nothing lost or duplicated: each pending posted once, delivered
    // exactly once, byte-identical (canonical JSON), all consumed, nothing
    // left stored.
    assert_eq!(s.posted.len(), n, "every pending posted once");
    let lost = s
        .posted
        .keys()
        .filter(|id| !s.delivered.contains_key(*id))
        .count();
    let duplicated = s.delivered.values().filter(|c| **c > 1).count();
    let unknown = s
        .delivered
        .keys()
        .filter(|id| !s.posted.contains_key(*id))
        .count();
    assert_eq!(lost, 0, "every pending delivered (nothing lost)");
    assert_eq!(duplicated, 0, "nothing delivered twice");
    assert_eq!(unknown, 0, "nothing delivered that was not posted");
    assert_eq!(s.delivered.len(), n, "every pending delivered");
    assert_eq!(
        s.altered, 0,
        "delivered envelopes differ from the posted ones"
    );
    for (id, env) in &s.posted {
        assert_eq!(
            s.pulled.get(id),
            Some(env),
            "delivered envelope is the posted one"
        );
    }
    // The relays share one store: ask the first.
    let store = &relays[0];
    assert_eq!(
        stored_envelopes(store),
        0,
        "every envelope deleted after ack"
    );
    let consumed = store.sql_i64("SELECT COUNT(*) FROM targets WHERE state = 'consumed'");
    assert_eq!(consumed, n as i64, "every target consumed");
    let targets = store.sql_i64("SELECT COUNT(*) FROM targets");
    assert_eq!(targets, n as i64, "one target per pending");

    let mut lat = s.latencies;
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    let reqs = lat.len();
    println!(
        "load: store {}, {} instance{}{}, {n} pendings, {workers} workers ({} clients), {reqs} requests in {:.2} s = {:.0} req/s, {:.1} pendings/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; lost {lost}, duplicated {duplicated} (verified); {}",
        cfg.store,
        cfg.instances,
        if cfg.instances == 1 { "" } else { "s" },
        if cfg.instances == 1 { "" } else { " round-robin" },
        workers * 2,
        wall.as_secs_f64(),
        reqs as f64 / wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat[reqs - 1].as_secs_f64() * 1e3,
        relay_build(),
    );
}

/// Which relay binary ran: the build of `SEALPASS_TEST_RELAY_BIN` (by its
/// target dir, `release` or `debug`) or of this test.
fn relay_build() -> &'static str {
    match std::env::var_os("SEALPASS_TEST_RELAY_BIN") {
        Some(p) => match std::path::Path::new(&p)
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|d| d.to_str())
        {
            Some("release") => "release relay (SEALPASS_TEST_RELAY_BIN)",
            Some("debug") => "debug relay (SEALPASS_TEST_RELAY_BIN)",
            _ => "relay from SEALPASS_TEST_RELAY_BIN",
        },
        None if cfg!(debug_assertions) => "debug relay",
        None => "release relay",
    }
}

/// One worker: `share` pendings through the flow, each request to the
/// next relay in turn.
fn worker(rr: &RoundRobin<'_>, stats: &Mutex<Stats>, w: usize, share: usize) {
    // Each worker drives two nodes (a node and a sealer client are
    // separate connections, so the relay sees 2×workers clients).
    let nodes: Vec<Node> = (0..2)
        .map(|k| Node::register(rr.pick(), &format!("w{w}-n{k}")))
        .collect();
    for i in 0..share {
        let node = &nodes[i % 2];
        let body = format!(
            r#"{{"node_ids":["{}"],"slug":"s{w}-{i}","injection_method":"env"}}"#,
            node.id
        );
        let r = timed(stats, || {
            rr.pick().admin("POST", "/api/v1/admin/pending", &body)
        });
        assert_eq!(r.status, 201, "{}", r.text());
        let pid = r.json()["pending_id"].as_str().unwrap().to_owned();
        let sk = sealpass::SecretKey::generate().unwrap();
        let pk = format!(r#"{{"public_key":"{}"}}"#, sk.public_key().to_b64u());
        let path = format!("/api/v1/node/pending/{pid}/pubkey");
        let r = timed(stats, || node.call(rr.pick(), "PUT", &path, pk.as_bytes()));
        assert_eq!(r.status, 200, "{}", r.text());
        let t = Instant::now();
        let items = seal_for(rr.pick(), &pid, format!("secret-{w}-{i}").as_bytes());
        stats.lock().unwrap().latencies.push(t.elapsed());
        let r = timed(stats, || {
            post_envelopes(rr.pick(), &pid, &envelopes_body(&items))
        });
        assert_eq!(r.status, 202, "{}", r.text());
        stats
            .lock()
            .unwrap()
            .posted
            .insert(pid.clone(), items[0].1.clone());
        let r = timed(stats, || {
            node.call(rr.pick(), "GET", "/api/v1/node/envelopes", b"")
        });
        assert_eq!(r.status, 200, "{}", r.text());
        for e in r.json()["envelopes"].as_array().unwrap() {
            let id = e["pending_id"].as_str().unwrap().to_owned();
            let env = sealpass::Envelope::from_json(e["envelope"].to_string().as_bytes())
                .unwrap()
                .to_json();
            let mut s = stats.lock().unwrap();
            *s.delivered.entry(id.clone()).or_default() += 1;
            if s.posted.get(&id).is_some_and(|p| *p != env) {
                s.altered += 1;
            }
            s.pulled.insert(id.clone(), env);
            drop(s);
            let r = timed(stats, || node.ack(rr.pick(), &id, "consumed"));
            assert_eq!(r.status, 200, "{}", r.text());
        }
    }
}
