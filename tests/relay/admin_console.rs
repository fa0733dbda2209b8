//! What the admin console needs from the relay (docs/API.md "Admin
//! console"): the node list, cancelling a pending, the audit trail, the
//! keystore status, CORS for the console's origin, and the answers of a
//! relay without a built page — over real HTTP against the relay binary.

use std::process::Command;

use sealpass_tests::bins;
use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

const PAGE: &str = "https://console.example";

/// Status checks for answers that carry no error code.
trait Is {
    fn is(&self, status: u16);
    fn ok(&self) {
        self.is(200)
    }
}

impl Is for Resp {
    fn is(&self, status: u16) {
        assert_eq!(self.status, status, "unexpected response: {}", self.text());
    }
}

fn get(relay: &Relay, path: &str) -> serde_json::Value {
    let r = relay.admin("GET", path, "");
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

fn node<'a>(list: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    list["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node_id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed: {list}"))
}

/// Post a one-time key bound to an identity; returns the identity key.
fn post_with_identity(relay: &Relay, n: &Node, pid: &str) -> sealpass::PublicKey {
    let sk = sealpass::SecretKey::generate().unwrap();
    let nik = sealpass::SecretKey::generate().unwrap().public_key();
    let body = format!(
        r#"{{"public_key":"{}","identity_key":"{}"}}"#,
        sk.public_key().to_b64u(),
        nik.to_b64u()
    );
    let r = n.call(
        relay,
        "PUT",
        &format!("/api/v1/node/pending/{pid}/pubkey"),
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    nik
}

#[test]
fn node_list_shows_online_state_identity_and_key_versions_but_no_secret() {
    let relay = Relay::start_with(&["--test-offline-after-secs", "5"]);
    relay
        .req("GET", "/api/v1/admin/nodes", &[], b"")
        .expect(401, 8609);
    let wrong = "Bearer nope";
    relay
        .req(
            "GET",
            "/api/v1/admin/nodes",
            &[("Authorization", wrong)],
            b"",
        )
        .expect(401, 8609);
    assert_eq!(
        get(&relay, "/api/v1/admin/nodes"),
        serde_json::json!({"nodes": []})
    );
    let a = Node::register(&relay, "a-web");
    let b = Node::register(&relay, "b-db");
    let _c = Node::register(&relay, "c-cache");
    a.heartbeat(&relay);
    let pid = relay.create_pending(&["a-web"], None);
    let nik = post_with_identity(&relay, &a, &pid);
    relay
        .admin("POST", "/api/v1/admin/nodes/b-db/rotate-secret", "")
        .ok();

    let r = relay.admin("GET", "/api/v1/admin/nodes", "");
    let text = r.text();
    for secret in [&a.secret, &b.secret] {
        assert!(!text.contains(&sealpass::b64::encode(secret)), "{text}");
    }
    assert!(!text.contains(&relay.token), "{text}");
    let list = r.json();
    let na = node(&list, "a-web");
    assert_eq!(na["online"], true, "{na}");
    assert!(na["last_seen"].as_i64().unwrap() >= now() - 5, "{na}");
    assert_eq!(na["identity_key"], nik.to_b64u().as_str());
    assert_eq!(
        na["identity_fingerprint"],
        nik.identity_fingerprint().as_str()
    );
    assert_eq!(na["key_version"], 1);
    assert_eq!(na["key_versions"][0]["valid"], true);
    assert!(na["key_versions"][0].get("not_after").is_none(), "{na}");
    let nb = node(&list, "b-db");
    assert_eq!(nb["online"], false, "{nb}");
    assert!(nb.get("last_seen").is_none(), "{nb}");
    assert!(nb.get("identity_key").is_none(), "{nb}");
    assert_eq!(nb["key_version"], 2);
    // Newest first; v1 still in its rotation grace.
    assert_eq!(nb["key_versions"][0]["version"], 2);
    assert_eq!(nb["key_versions"][1]["version"], 1);
    assert_eq!(nb["key_versions"][1]["valid"], true);
    assert!(nb["key_versions"][1]["not_after"].as_i64().unwrap() > now());
    // Revoked: listed as no longer valid.
    relay
        .admin("POST", "/api/v1/admin/nodes/b-db/revoke-previous", "")
        .ok();
    let list = get(&relay, "/api/v1/admin/nodes");
    assert_eq!(node(&list, "b-db")["key_versions"][1]["valid"], false);

    // Pages in id order, with a cursor.
    let p1 = get(&relay, "/api/v1/admin/nodes?limit=2");
    let ids: Vec<&str> = p1["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a-web", "b-db"]);
    assert_eq!(p1["next_after"], "b-db");
    let p2 = get(&relay, "/api/v1/admin/nodes?after=b-db&limit=2");
    assert_eq!(p2["nodes"][0]["node_id"], "c-cache");
    assert!(p2.get("next_after").is_none(), "{p2}");

    // The offline bound: a node silent for longer is offline.
    std::thread::sleep(std::time::Duration::from_secs(6));
    let list = get(&relay, "/api/v1/admin/nodes");
    assert_eq!(node(&list, "a-web")["online"], false);

    // Bad queries are typed errors; the input is not echoed.
    for q in [
        "limit=0",
        "limit=201",
        "limit=x",
        "limit=1&limit=2",
        "nope=1",
        "after=",
        "after=a%20b",
        "limit",
    ] {
        let r = relay.admin("GET", &format!("/api/v1/admin/nodes?{q}"), "");
        r.expect(400, 8601);
        assert!(!r.text().contains("nope"), "{q}: {}", r.text());
    }
    let r = relay.admin("GET", "/api/v1/admin/nodes?limit=200", "");
    assert_eq!(r.status, 200);
}

#[test]
fn cancel_ends_a_pending_for_sealers_and_nodes_and_is_idempotent() {
    let relay = Relay::start();
    let n1 = Node::register(&relay, "n1");
    let n2 = Node::register(&relay, "n2");
    let pid = relay.create_pending(&["n1", "n2"], None);
    n1.post_pubkey(&relay, &pid);
    n2.post_pubkey(&relay, &pid);
    let cancel = format!("/api/v1/admin/pendings/{pid}/cancel");
    relay.req("POST", &cancel, &[], b"").expect(401, 8609);
    relay.admin("POST", &cancel, r#"{"x":1}"#).expect(400, 8601);

    let r = relay.admin("POST", &cancel, "");
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["state"], "cancelled", "{v}");
    for t in v["targets"].as_array().unwrap() {
        assert_eq!(
            (t["state"].as_str(), t["code"].as_u64()),
            (Some("cancelled"), Some(8613)),
            "{v}"
        );
    }
    // Idempotent: the same answer again (also with an empty object body).
    let again = relay.admin("POST", &cancel, "{}");
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), v);
    // Status and both views show it; the sealer can no longer post.
    assert_eq!(relay.status(&pid)["state"], "cancelled");
    relay
        .req("GET", &format!("/api/v1/pending/{pid}"), &[], b"")
        .expect(410, 8613);
    relay
        .admin("GET", &format!("/api/v1/admin/pending/{pid}"), "")
        .expect(410, 8613);
    let env = r#"{"v":1,"suite":"x25519-hkdf-sha256-xchacha20poly1305","epk":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE","nonce":"AgICAgICAgICAgICAgICAgICAgICAgIC","ct":"AwMDAwMDAwMDAwMDAwMDAwMDAwM"}"#;
    post_envelopes(
        &relay,
        &pid,
        &format!(r#"{{"envelopes":[{{"node_id":"n1","envelope":{env}}}]}}"#),
    )
    .expect(410, 8613);
    // Nodes: no longer listed; their key and ack calls get "ended" (8603,
    // the answer agents already treat as the relay having moved on).
    let listed = n1.call(&relay, "GET", "/api/v1/node/pending", b"").json();
    assert_eq!(listed["pending"], serde_json::json!([]), "{listed}");
    let sk = sealpass::SecretKey::generate().unwrap();
    n1.call(
        &relay,
        "PUT",
        &format!("/api/v1/node/pending/{pid}/pubkey"),
        format!(r#"{{"public_key":"{}"}}"#, sk.public_key().to_b64u()).as_bytes(),
    )
    .expect(410, 8603);
    n1.ack(&relay, &pid, "consumed").expect(410, 8603);
    let events = relay.sql_i64(
        "SELECT COUNT(*) FROM audit WHERE event = 'pending_cancelled' AND actor = 'admin'",
    );
    assert_eq!(events, 1, "an idempotent repeat writes no second event");
    // The audit trail names the pending created and cancelled.
    let trail = relay
        .admin("GET", "/api/v1/admin/audit?limit=50", "")
        .json();
    for ev in ["pending_cancelled", "pending_created"] {
        let row = trail["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event"] == ev)
            .unwrap_or_else(|| panic!("no {ev}: {trail}"));
        assert_eq!(row["pending_id"], pid.as_str(), "{row}");
    }

    // Unknown and malformed ids.
    relay
        .admin(
            "POST",
            "/api/v1/admin/pendings/AAAAAAAAAAAAAAAAAAAAAA/cancel",
            "",
        )
        .expect(404, 8602);
    relay
        .admin("POST", "/api/v1/admin/pendings/short/cancel", "")
        .expect(404, 8602);
}

#[test]
fn cancel_drops_a_stored_envelope_and_keeps_consumed_targets() {
    let relay = Relay::start();
    let n1 = Node::register(&relay, "n1");
    let n2 = Node::register(&relay, "n2");
    n1.heartbeat(&relay);
    let pid = relay.create_pending(&["n1", "n2"], None);
    n1.post_pubkey(&relay, &pid);
    n2.post_pubkey(&relay, &pid);
    let sealed = seal_for(&relay, &pid, b"s3cret");
    post_envelopes(&relay, &pid, &envelopes_body(&sealed)).is(202);
    // n1 takes its envelope and consumes it; n2's stays stored.
    assert_eq!(n1.pull(&relay).len(), 1);
    n1.ack(&relay, &pid, "consumed").ok();
    let stored = stored_envelopes;
    assert_eq!(stored(&relay), 1);
    let v = relay
        .admin("POST", &format!("/api/v1/admin/pendings/{pid}/cancel"), "")
        .json();
    assert_eq!(v["state"], "cancelled");
    let state = |id: &str| {
        v["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["node_id"] == id)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state("n1"), "consumed");
    assert_eq!(state("n2"), "cancelled");
    // n2's envelope was sent (queued): the cancel says it may already be
    // delivered; n1 consumed, so it is not listed.
    assert_eq!(v["may_be_delivered"], serde_json::json!(["n2"]), "{v}");
    assert_eq!(stored(&relay), 0, "the undelivered envelope is gone");
    assert!(n2.pull(&relay).is_empty());

    // An envelope already pulled cannot be recalled: the node's ack after
    // the cancel is answered 8603 and the target stays cancelled.
    let pid = relay.create_pending(&["n2"], None);
    n2.heartbeat(&relay);
    n2.post_pubkey(&relay, &pid);
    let sealed = seal_for(&relay, &pid, b"late");
    post_envelopes(&relay, &pid, &envelopes_body(&sealed)).is(202);
    assert_eq!(n2.pull(&relay).len(), 1);
    let v = relay
        .admin("POST", &format!("/api/v1/admin/pendings/{pid}/cancel"), "")
        .json();
    assert_eq!(v["may_be_delivered"], serde_json::json!(["n2"]), "{v}");
    // Asked again: already cancelled, nothing newly reported.
    let again = relay
        .admin("POST", &format!("/api/v1/admin/pendings/{pid}/cancel"), "")
        .json();
    assert_eq!(again["may_be_delivered"], serde_json::json!([]), "{again}");
    n2.ack(&relay, &pid, "consumed").expect(410, 8603);
    assert_eq!(
        relay.target_state(&pid, "n2"),
        ("cancelled".to_owned(), Some(8613))
    );

    // Every target consumed: nothing to cancel (409/8608).
    let pid = relay.create_pending(&["n1"], None);
    n1.post_pubkey(&relay, &pid);
    let sealed = seal_for(&relay, &pid, b"x");
    post_envelopes(&relay, &pid, &envelopes_body(&sealed)).is(202);
    n1.pull(&relay);
    n1.ack(&relay, &pid, "consumed").ok();
    relay
        .admin("POST", &format!("/api/v1/admin/pendings/{pid}/cancel"), "")
        .expect(409, 8608);
    assert_eq!(relay.status(&pid)["state"], "consumed");
}

#[test]
fn an_expired_pending_is_not_cancelled() {
    let relay = Relay::start_with(&["--test-min-expiry-secs", "1"]);
    Node::register(&relay, "n1");
    let pid = relay.create_pending(&["n1"], Some(1));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    relay
        .admin("POST", &format!("/api/v1/admin/pendings/{pid}/cancel"), "")
        .expect(410, 8603);
    assert_eq!(relay.status(&pid)["state"], "expired");
}

#[test]
fn audit_trail_pages_newest_first() {
    let relay = Relay::start();
    relay
        .req("GET", "/api/v1/admin/audit", &[], b"")
        .expect(401, 8609);
    for i in 0..5 {
        Node::register(&relay, &format!("n{i}"));
    }
    let all = get(&relay, "/api/v1/admin/audit");
    let events = all["events"].as_array().unwrap();
    assert_eq!(events.len(), 5, "{all}");
    assert!(all.get("next_before").is_none());
    let actors: Vec<&str> = events
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["n4", "n3", "n2", "n1", "n0"]);
    assert!(events
        .iter()
        .all(|e| e["event"] == "node_added" && e["route"] == "admin"));
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");

    let p1 = get(&relay, "/api/v1/admin/audit?limit=2");
    assert_eq!(p1["events"].as_array().unwrap().len(), 2);
    assert_eq!(p1["next_before"], ids[1]);
    let p2 = get(
        &relay,
        &format!("/api/v1/admin/audit?limit=2&before={}", ids[1]),
    );
    let got: Vec<i64> = p2["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[2..4]);
    let p3 = get(
        &relay,
        &format!("/api/v1/admin/audit?limit=2&before={}", ids[3]),
    );
    assert_eq!(p3["events"].as_array().unwrap().len(), 1);
    assert!(p3.get("next_before").is_none(), "{p3}");
    // Failed admin calls are counted apart, never events (no flood of the trail).
    assert_eq!(
        get(&relay, "/api/v1/admin/audit")["events"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    for q in [
        "limit=0",
        "limit=201",
        "before=0",
        "before=-1",
        "before=x",
        "after=1",
    ] {
        relay
            .admin("GET", &format!("/api/v1/admin/audit?{q}"), "")
            .expect(400, 8601);
    }
}

#[test]
fn keystore_status_shows_the_key_history_and_the_last_rotation() {
    let relay = Relay::start();
    relay
        .req("GET", "/api/v1/admin/keystore", &[], b"")
        .expect(401, 8609);
    Node::register(&relay, "n1");
    Node::register(&relay, "n2");
    let r = relay.admin("GET", "/api/v1/admin/keystore", "");
    assert_eq!(r.status, 200, "{}", r.text());
    let before = r.json();
    assert_eq!(before["dev_insecure"], true, "{before}");
    assert_eq!(before["node_secret_records"], 2);
    assert!(!r.text().contains(&relay.token));
    if relay.store_kind() == "postgres" {
        keystore_status_on_postgres(&relay, &before);
        return;
    }
    let deks = before["deks"].as_array().unwrap();
    assert_eq!(deks.len(), 1);
    assert_eq!(deks[0]["state"], "active");
    assert_eq!(deks[0]["records"], 2);
    assert_eq!(before["active_dek_id"], deks[0]["dek_id"]);
    assert!(before.get("last_dek_rotation").is_none(), "{before}");
    assert!(before.get("last_kek_rotation").is_none(), "{before}");

    // The operator rotates the relay's DEK with the keystore CLI.
    let out = Command::new(bins::sealpass())
        .args(["keystore", "rotate-dek", "--dev-insecure-kek", "--data-dir"])
        .arg(&relay.data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = get(&relay, "/api/v1/admin/keystore");
    assert_ne!(after["active_dek_id"], before["active_dek_id"], "{after}");
    let rot = &after["last_dek_rotation"];
    assert_eq!(rot["dek_id"], after["active_dek_id"], "{after}");
    assert_eq!(rot["count"], 2, "both node secrets re-sealed: {after}");
    assert!(
        rot["detail"]
            .as_str()
            .unwrap()
            .contains(before["active_dek_id"].as_str().unwrap()),
        "the retired DEK is named: {after}"
    );
    assert_eq!(after["deks"][0]["dek_id"], after["active_dek_id"]);
    assert_eq!(after["deks"][0]["records"], 2);
    // The node secrets still work after the rotation (a new node, too).
    let n3 = Node::register(&relay, "n3");
    n3.heartbeat(&relay);
}

/// PostgreSQL: node secrets are sealed straight under the KEK, one row of
/// `node_secrets` each (keystore::shared, format 3); there are no DEKs, so
/// no DEK history, no active DEK and no DEK or KEK rotation to show (a KEK
/// rotation is a restart with SEALPASS_KEK_PREVIOUS_FILE, re-sealing rows).
fn keystore_status_on_postgres(relay: &Relay, before: &serde_json::Value) {
    assert_eq!(before["format_version"], 3, "{before}");
    assert_eq!(before["deks"], serde_json::json!([]), "{before}");
    assert_eq!(before["deks_total"], 0, "{before}");
    for absent in [
        "active_dek_id",
        "previous_kek_id",
        "last_dek_rotation",
        "last_kek_rotation",
    ] {
        assert!(before.get(absent).is_none(), "{absent}: {before}");
    }
    let kek_id = before["kek_id"].as_str().unwrap_or_default();
    assert!(!kek_id.is_empty(), "{before}");
    let sealed = relay.sql_i64("SELECT COUNT(*) FROM node_secrets WHERE sealed IS NOT NULL");
    assert_eq!(before["node_secret_records"], sealed, "{before}");
    // Node secrets and the admin token (shared_secrets), every record.
    let shared = relay.sql_i64("SELECT COUNT(*) FROM shared_secrets");
    assert!(shared >= 1, "the admin token is sealed in the database");
    assert_eq!(before["records_total"], sealed + shared, "{before}");
    // Only ids and counts: no sealed bytes, no secret.
    let text = before.to_string();
    for blob in relay
        .sql("SELECT encode(sealed, 'hex') FROM node_secrets WHERE sealed IS NOT NULL")
        .lines()
    {
        assert!(blob.len() > 32 && !text.contains(blob), "{before}");
    }
    // A rotation re-issues a secret: one more sealed record, the old
    // version kept in its grace; a new node and the rotated one work.
    let v = relay
        .admin("POST", "/api/v1/admin/nodes/n1/rotate-secret", "")
        .json();
    assert_eq!(v["key_version"], 2, "{v}");
    let after = get(relay, "/api/v1/admin/keystore");
    assert_eq!(after["node_secret_records"], 3, "{after}");
    assert_eq!(after["kek_id"], kek_id, "{after}");
    assert_eq!(after["deks"], serde_json::json!([]), "{after}");
    assert!(after.get("last_dek_rotation").is_none(), "{after}");
    let n3 = Node::register(relay, "n3");
    n3.heartbeat(relay);
    assert_eq!(
        get(relay, "/api/v1/admin/keystore")["node_secret_records"],
        4
    );
}

fn cors(r: &Resp) -> Option<&str> {
    r.header("Access-Control-Allow-Origin")
}

#[test]
fn admin_routes_answer_cors_only_for_an_allowed_origin() {
    // The console's origin is named apart; an accept page's origin
    // (--allow-origin only) gets no admin CORS.
    const ACCEPT_PAGE: &str = "https://accept.example.com";
    let relay = Relay::start_with(&["--allow-admin-origin", PAGE, "--allow-origin", ACCEPT_PAGE]);
    let auth = format!("Bearer {}", relay.token);
    for (method, path) in [
        ("GET", "/api/v1/admin/nodes"),
        ("POST", "/api/v1/admin/nodes"),
        ("GET", "/api/v1/admin/audit"),
        ("GET", "/api/v1/admin/keystore"),
        (
            "POST",
            "/api/v1/admin/pendings/AAAAAAAAAAAAAAAAAAAAAA/cancel",
        ),
        ("POST", "/api/v1/admin/nodes/n1/rotate-secret"),
    ] {
        let pre = |origin: &str, m: &str| {
            relay.req(
                "OPTIONS",
                path,
                &[
                    ("Origin", origin),
                    ("Access-Control-Request-Method", m),
                    (
                        "Access-Control-Request-Headers",
                        "authorization,content-type",
                    ),
                ],
                b"",
            )
        };
        let r = pre(PAGE, method);
        assert_eq!(r.status, 204, "{method} {path}: {}", r.text());
        assert_eq!(cors(&r), Some(PAGE));
        let allowed = r.header("Access-Control-Allow-Headers").unwrap();
        assert!(allowed.contains("Authorization"), "{allowed}");
        assert!(r.header("Access-Control-Allow-Credentials").is_none());
        // Another origin, the accept page's, or an unlisted method (PUT,
        // DELETE: the console deletes nothing): 403 without CORS headers.
        for origin in ["https://evil.example", ACCEPT_PAGE] {
            let r = pre(origin, method);
            assert_eq!(r.status, 403, "{origin} {path}");
            assert!(cors(&r).is_none());
        }
        for m in ["PUT", "DELETE"] {
            let r = pre(PAGE, m);
            assert_eq!(r.status, 403, "{m} {path}");
            assert!(cors(&r).is_none());
        }
    }
    // The real request: the origin is echoed only when allowed; the token
    // is still checked, and never echoed.
    let r = relay.req(
        "GET",
        "/api/v1/admin/nodes",
        &[("Origin", PAGE), ("Authorization", &auth)],
        b"",
    );
    assert_eq!((r.status, cors(&r)), (200, Some(PAGE)));
    assert!(!r.text().contains(&relay.token));
    let r = relay.req("GET", "/api/v1/admin/nodes", &[("Origin", PAGE)], b"");
    assert_eq!((r.status, cors(&r)), (401, Some(PAGE)));
    assert!(!r.text().contains(&relay.token));
    let r = relay.req(
        "GET",
        "/api/v1/admin/nodes",
        &[("Origin", "https://evil.example"), ("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert!(cors(&r).is_none(), "{r:?}");
    let r = relay.req(
        "GET",
        "/api/v1/admin/nodes",
        &[("Origin", ACCEPT_PAGE), ("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert!(cors(&r).is_none(), "the accept page's origin: {r:?}");
    // The console's origin is not an accept page's: no sender CORS.
    let r = relay.req(
        "OPTIONS",
        "/api/v1/pending/AAAAAAAAAAAAAAAAAAAAAA",
        &[("Origin", PAGE), ("Access-Control-Request-Method", "GET")],
        b"",
    );
    assert_eq!(r.status, 403);

    // Without --allow-admin-origin no admin route answers CORS.
    let plain = Relay::start();
    let r = plain.req(
        "OPTIONS",
        "/api/v1/admin/nodes",
        &[("Origin", PAGE), ("Access-Control-Request-Method", "GET")],
        b"",
    );
    assert_eq!(r.status, 403);
    assert!(cors(&r).is_none());
}

#[test]
fn a_relay_without_a_built_page_warns_and_says_how_to_build_it() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("empty-www");
    std::fs::create_dir_all(&www).unwrap();
    let www_s = www.to_str().unwrap().to_owned();
    let relay = Relay::start_with(&["--www", &www_s]);
    let out = relay.output();
    assert!(
        out.contains("warning: no built accept page") && out.contains(&www_s),
        "{out}"
    );
    assert!(
        out.contains("./build.sh serve") && out.contains("scripts/build-www.sh"),
        "{out}"
    );
    for path in ["/accept", "/admin"] {
        let r = relay.req("GET", path, &[], b"");
        assert_eq!(r.status, 503, "{path}");
        assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
        assert!(r.header("Content-Security-Policy").is_some());
        let t = r.text();
        assert!(
            t.contains("not built") && t.contains("./build.sh serve"),
            "{t}"
        );
        assert!(
            !t.contains(&www_s),
            "the directory is not told to clients: {t}"
        );
    }
    // The API works all the same.
    Node::register(&relay, "n1");

    // Built later: served at once, no restart. The accept page alone leaves
    // a note about the console.
    std::fs::write(
        www.join("index.html"),
        "<!doctype html><title>accept</title>",
    )
    .unwrap();
    let r = relay.req("GET", "/accept", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("accept"));
    let r = relay.req("GET", "/admin", &[], b"");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("scripts/build-admin.sh"), "{}", r.text());
    std::fs::create_dir_all(www.join("admin")).unwrap();
    std::fs::write(
        www.join("admin/index.html"),
        "<!doctype html><title>console</title>",
    )
    .unwrap();
    let r = relay.req("GET", "/admin", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("console"));
    assert!(r
        .header("Content-Security-Policy")
        .unwrap()
        .contains("default-src 'none'"));

    let page_only = tmp.path().join("page-only");
    std::fs::create_dir_all(&page_only).unwrap();
    std::fs::write(page_only.join("index.html"), "<!doctype html>").unwrap();
    let relay = Relay::start_with(&["--www", page_only.to_str().unwrap()]);
    let out = relay.output();
    assert!(!out.contains("warning: no built accept page"), "{out}");
    assert!(
        out.contains("no admin console") && out.contains("scripts/build-admin.sh"),
        "{out}"
    );
}
