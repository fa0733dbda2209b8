//! CORS for a page hosted apart from the relay (docs/PINNING.md §5), over
//! real HTTP to the real relay: only origins given with `--allow-origin` on
//! the sender endpoints, only those given with `--allow-admin-origin` on the
//! admin endpoints; node routes never answer CORS.

use std::process::Command;

use sealpass_tests::bins;
use sealpass_tests::relay::*;
use sealpass_tests::signed::*;

const PAGE: &str = "https://pages.example.com";
const PAGE2: &str = "http://127.0.0.1:8999";
const OTHER: &str = "https://evil.example.com";

fn cors_headers(r: &Resp) -> Vec<String> {
    r.headers
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
        .map(|(n, v)| format!("{n}: {v}"))
        .collect()
}

fn assert_cors_for(r: &Resp, origin: &str) {
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(origin),
        "{r:?}"
    );
    assert_eq!(r.header("access-control-allow-methods"), Some("GET, POST"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("Content-Type")
    );
    assert!(
        r.header("access-control-max-age")
            .and_then(|v| v.parse::<u32>().ok())
            .is_some_and(|n| n > 0),
        "{r:?}"
    );
    assert_eq!(r.header("access-control-allow-credentials"), None);
    assert!(
        r.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("vary") && v.contains("Origin")),
        "no Vary: Origin: {r:?}"
    );
}

fn preflight(relay: &Relay, path: &str, origin: &str, method: &str) -> Resp {
    relay.req(
        "OPTIONS",
        path,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", method),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    )
}

fn setup() -> (Relay, Node, String) {
    let relay = Relay::start_with(&["--allow-origin", PAGE, "--allow-origin", PAGE2]);
    let n = Node::register(&relay, "n1");
    n.heartbeat(&relay);
    let pid = relay.create_pending(&["n1"], None);
    n.post_pubkey(&relay, &pid);
    (relay, n, pid)
}

#[test]
fn allowed_origin_gets_cors_on_the_sender_endpoints() {
    let (relay, n, pid) = setup();
    let view = format!("/api/v1/pending/{pid}");
    let status = format!("/api/v1/pending/{pid}/status");
    let post = format!("/api/v1/pending/{pid}/envelopes");

    // Preflights from both allowed origins, on all three endpoints.
    for origin in [PAGE, PAGE2] {
        for (path, method) in [(&view, "GET"), (&status, "GET"), (&post, "POST")] {
            let r = preflight(&relay, path, origin, method);
            assert_eq!(r.status, 204, "{path}: {}", r.text());
            assert_cors_for(&r, origin);
        }
    }

    // The actual requests carry the header too.
    let r = relay.req("GET", &view, &[("Origin", PAGE)], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_cors_for(&r, PAGE);
    let r = relay.req("GET", &status, &[("Origin", PAGE2)], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_cors_for(&r, PAGE2);
    let body = envelopes_body(&seal_for(&relay, &pid, b"pw"));
    let r = relay.req(
        "POST",
        &post,
        &[("Origin", PAGE), ("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_cors_for(&r, PAGE);
    // An error answer to an allowed origin is readable by the page as well.
    let r = relay.req(
        "POST",
        &post,
        &[("Origin", PAGE), ("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert_cors_for(&r, PAGE);
    assert_eq!(n.pull(&relay).len(), 1, "the cross-origin post was stored");
}

#[test]
fn other_origins_get_no_cors_and_preflights_are_refused() {
    let (relay, _n, pid) = setup();
    let view = format!("/api/v1/pending/{pid}");
    let post = format!("/api/v1/pending/{pid}/envelopes");
    for origin in [
        OTHER,
        "https://pages.example.com.evil.example",
        "https://PAGES.example.com",
        "http://pages.example.com",
        "https://pages.example.com:443",
        "null",
        "*",
    ] {
        for (path, method) in [(&view, "GET"), (&post, "POST")] {
            let r = preflight(&relay, path, origin, method);
            assert_eq!(r.status, 403, "{origin} {path}: {}", r.text());
            assert!(cors_headers(&r).is_empty(), "{origin}: {r:?}");
            assert!(r.code() > 0);
        }
        let r = relay.req("GET", &view, &[("Origin", origin)], b"");
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(cors_headers(&r).is_empty(), "{origin}: {r:?}");
    }
    // A preflight with no Origin, or for a method the endpoints don't take.
    let r = relay.req(
        "OPTIONS",
        &view,
        &[("Access-Control-Request-Method", "GET")],
        b"",
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(cors_headers(&r).is_empty(), "{r:?}");
    let r = preflight(&relay, &view, PAGE, "DELETE");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(cors_headers(&r).is_empty(), "{r:?}");
    // Two Origin headers are no origin at all.
    let r = relay.req("GET", &view, &[("Origin", PAGE), ("Origin", PAGE2)], b"");
    assert!(cors_headers(&r).is_empty(), "{r:?}");
}

#[test]
fn admin_routes_answer_only_allowed_origins_and_node_routes_never() {
    let (relay, n, pid) = setup();
    let auth = format!("Bearer {}", relay.token);
    // Admin routes (the console, docs/API.md): only origins named with
    // --allow-admin-origin; an --allow-origin page (PAGE here) and any other
    // origin get 403 and no CORS headers (tests/relay/admin_console.rs has
    // the details).
    let admin_relay = Relay::start_with(&["--allow-origin", PAGE, "--allow-admin-origin", PAGE2]);
    for (method, path) in [
        ("POST", "/api/v1/admin/nodes".to_owned()),
        ("POST", "/api/v1/admin/pending".to_owned()),
        ("GET", format!("/api/v1/admin/pending/{pid}")),
        ("POST", "/api/v1/admin/nodes/n1/rotate-secret".to_owned()),
    ] {
        let r = preflight(&admin_relay, &path, PAGE2, method);
        assert_eq!(r.status, 204, "{path}");
        for origin in [PAGE, OTHER] {
            let r = preflight(&relay, &path, origin, method);
            assert_ne!(r.status, 204, "{origin} {path}");
            assert!(cors_headers(&r).is_empty(), "{path}: {r:?}");
            let r = preflight(&admin_relay, &path, origin, method);
            assert_ne!(r.status, 204, "{origin} {path}");
            assert!(cors_headers(&r).is_empty(), "{path}: {r:?}");
        }
    }
    let r = relay.req(
        "GET",
        &format!("/api/v1/admin/pending/{pid}"),
        &[("Origin", OTHER), ("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(cors_headers(&r).is_empty(), "{r:?}");
    // Node routes.
    for (method, path) in [
        ("POST", "/api/v1/node/heartbeat".to_owned()),
        ("GET", "/api/v1/node/envelopes".to_owned()),
        ("PUT", format!("/api/v1/node/pending/{pid}/pubkey")),
        ("POST", format!("/api/v1/node/pending/{pid}/ack")),
    ] {
        let r = preflight(&relay, &path, PAGE, method);
        assert_ne!(r.status, 204, "{path}");
        assert!(cors_headers(&r).is_empty(), "{path}: {r:?}");
    }
    let r = n.call(&relay, "GET", "/api/v1/node/envelopes", b"");
    assert_eq!(r.status, 200);
    assert!(cors_headers(&r).is_empty(), "{r:?}");
    // Static files and unknown routes.
    for path in ["/releases.json", "/accept", "/nope"] {
        let r = relay.req("GET", path, &[("Origin", PAGE)], b"");
        assert!(cors_headers(&r).is_empty(), "{path}: {r:?}");
    }
}

#[test]
fn without_allow_origin_nothing_answers_cors() {
    let relay = Relay::start();
    let n = Node::register(&relay, "n1");
    n.heartbeat(&relay);
    let pid = relay.create_pending(&["n1"], None);
    n.post_pubkey(&relay, &pid);
    let view = format!("/api/v1/pending/{pid}");
    let r = preflight(&relay, &view, PAGE, "GET");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(cors_headers(&r).is_empty(), "{r:?}");
    let r = relay.req("GET", &view, &[("Origin", PAGE)], b"");
    assert_eq!(r.status, 200);
    assert!(cors_headers(&r).is_empty(), "{r:?}");
}

#[test]
fn wildcard_and_malformed_origins_refuse_to_start() {
    for (flag, bad) in [
        "*",
        "https://*.example.com",
        "null",
        "pages.example.com",
        "https://pages.example.com/",
        "https://pages.example.com/accept",
        "HTTPS://pages.example.com",
        "https://Pages.example.com",
        "ftp://pages.example.com",
        "https://pages.example.com:443",
        "https://pages.example.com:99999",
        "https://user@pages.example.com",
        "",
    ]
    .iter()
    .flat_map(|b| [("--allow-origin", *b), ("--allow-admin-origin", *b)])
    {
        let tmp = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(bins::relay());
        let db = store_for(&mut cmd);
        let out = cmd
            .args([
                "--listen",
                "127.0.0.1:0",
                "--dev-insecure-kek",
                "--data-dir",
            ])
            .arg(tmp.path().join("relay"))
            .args(["--allow-origin", PAGE, flag, bad])
            .env_remove("SEALPASS_KEK")
            .env_remove("SEALPASS_RELAY_DATA_DIR")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad:?} was accepted: {stdout}");
        assert!(!stdout.contains("listening"), "{bad:?}: {stdout}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{bad:?}: {stderr}");
        assert!(
            lines[0].starts_with(&format!("error 8403 Usage: {flag} ")),
            "{bad:?}: {stderr}"
        );
        assert!(
            !tmp.path().join("relay").join("relay.db").exists(),
            "{bad:?}: the store was opened before the origins were checked"
        );
        if let Some(db) = &db {
            assert_eq!(
                db.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'sealpass'"),
                "0",
                "{bad:?}: the PostgreSQL store was opened before the origins were checked"
            );
        }
    }
}
