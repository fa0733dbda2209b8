//! The accept page and assets: security headers, content types, no path
//! traversal, no signing headers.

use sealpass_tests::relay::*;

#[test]
fn accept_page_and_assets() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    std::fs::create_dir_all(www.join("pkg")).unwrap();
    std::fs::write(
        www.join("index.html"),
        "<!doctype html><title>accept</title>",
    )
    .unwrap();
    std::fs::write(www.join("app.js"), "console.log(1)").unwrap();
    std::fs::write(www.join("pkg/sealpass_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(www.join("releases.json"), "{}").unwrap();
    std::fs::write(www.join(".secret.json"), "{}").unwrap();
    std::fs::write(www.join("notes.exe"), "x").unwrap();
    std::fs::write(tmp.path().join("outside.json"), "{\"leak\":1}").unwrap();
    let www_s = www.to_str().unwrap().to_owned();
    let relay = Relay::start_with(&["--www", &www_s]);

    let r = relay.req("GET", "/accept", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert!(r.text().contains("accept"));
    let csp = r.header("Content-Security-Policy").expect("CSP");
    for part in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "base-uri 'none'",
        "form-action 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(r.header("Referrer-Policy"), Some("no-referrer"));
    assert_eq!(r.header("Cross-Origin-Opener-Policy"), Some("same-origin"));
    assert_eq!(
        r.header("Cross-Origin-Resource-Policy"),
        Some("same-origin")
    );
    assert_eq!(r.header("Cache-Control"), Some("no-store"));

    let r = relay.req("GET", "/static/app.js", &[], b"");
    assert_eq!(
        (r.status, r.header("Content-Type")),
        (200, Some("text/javascript; charset=utf-8"))
    );
    assert!(r.header("Content-Security-Policy").is_some());
    let r = relay.req("GET", "/static/pkg/sealpass_bg.wasm", &[], b"");
    assert_eq!(
        (r.status, r.header("Content-Type")),
        (200, Some("application/wasm"))
    );
    assert_eq!(r.body, b"\0asm\x01\0\0\0");
    let r = relay.req("GET", "/releases.json", &[], b"");
    assert_eq!(
        (r.status, r.header("Content-Type")),
        (200, Some("application/json"))
    );

    for bad in [
        "/static/../outside.json",
        "/static/..%2foutside.json",
        "/static/%2e%2e/outside.json",
        "/static/.secret.json",
        "/static/notes.exe",
        "/static/missing.js",
        "/static//etc/passwd",
    ] {
        let r = relay.req("GET", bad, &[], b"");
        assert_eq!(r.status, 404, "{bad}: {}", r.text());
        assert!(!r.text().contains("leak"));
    }
    // API responses are not cacheable either.
    let r = relay.req(
        "GET",
        "/api/v1/pending/AAAAAAAAAAAAAAAAAAAAAA/status",
        &[],
        b"",
    );
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    // Signing headers on the page are refused.
    relay
        .req("GET", "/accept", &[("X-Sealpass-Caller", "n1")], b"")
        .expect(401, 8701);
}

#[test]
fn missing_www_is_503_with_build_instructions_not_500() {
    let relay = Relay::start_with(&["--www", "/nonexistent/sealpass-www"]);
    let r = relay.req("GET", "/accept", &[], b"");
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("scripts/build-www.sh"), "{}", r.text());
    assert!(relay.output().contains("warning: no built accept page"));
    relay
        .req("GET", "/static/app.js", &[], b"")
        .expect(404, 8602);
}

/// A symlink in `--www` may lead to another file of the page, never out of
/// the directory (to a file or through a linked directory).
#[cfg(unix)]
#[test]
fn symlinks_out_of_www_are_not_followed() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(www.join("app.js"), "console.log(1)").unwrap();
    std::fs::write(outside.join("leak.json"), "{\"leak\":1}").unwrap();
    symlink(outside.join("leak.json"), www.join("leak.json")).unwrap();
    symlink("../outside/leak.json", www.join("rel.json")).unwrap();
    symlink(&outside, www.join("dir")).unwrap();
    symlink(outside.join("leak.json"), www.join("releases.json")).unwrap();
    symlink("app.js", www.join("alias.js")).unwrap();
    let www_s = www.to_str().unwrap().to_owned();
    let relay = Relay::start_with(&["--www", &www_s]);
    for bad in [
        "/static/leak.json",
        "/static/rel.json",
        "/static/dir/leak.json",
        "/releases.json",
    ] {
        let r = relay.req("GET", bad, &[], b"");
        assert!(!r.text().contains("leak"), "{bad} followed a symlink out");
        r.expect(404, 8602);
    }
    let r = relay.req("GET", "/static/alias.js", &[], b"");
    assert_eq!((r.status, r.text().as_str()), (200, "console.log(1)"));
}
