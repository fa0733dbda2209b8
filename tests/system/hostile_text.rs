//! Text that came from outside (a relay's context: slug, field name,
//! target URL) is escaped on every human-facing listing: an ESC sequence
//! or a bidi override in a slug must not hide or reorder what the operator
//! reads (issue #14 finding 5).

use sealpass_tests::cli::*;
use sealpass_tests::proc::*;

const HOSTILE_SLUG: &str = "db\u{1b}[8m-hidden\u{202e}gnp";

#[test]
fn node_listings_escape_control_and_bidi_characters() {
    let tmp = tempdir();
    let data = tmp.path().join("node");
    let (kek, _) = random_kek();
    let env = [("SEALPASS_KEK", kek.as_str())];
    let ctx = tmp.path().join("ctx.json");
    let ctx_json = serde_json::json!({
        "node_id": "node-1",
        "pending_id": "pend-hostile",
        "slug": HOSTILE_SLUG,
        "injection_method": "env",
        "field_name": "X\u{2066}Y",
        "target_url": "https://a.example/\u{200b}"
    });
    std::fs::write(&ctx, ctx_json.to_string()).unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let made = run(
        &data,
        &env,
        &["node", "pending", "new", "--context", ctx_s],
        b"",
    )
    .ok();
    let pk = made.field("public_key");
    let nik = made.field("identity_key");

    let listed = run(&data, &env, &["node", "pending", "list"], b"").ok();
    let text = listed.text();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(text.contains("db\\u{1b}[8m-hidden\\u{202e}gnp"), "{text:?}");

    // Deliver it, then list the stored secret's metadata.
    let secret = b"s3cret-value";
    let sealed = run(
        &data,
        &[],
        &["seal", "--to", &pk, "--identity", &nik, "--context", ctx_s],
        secret,
    )
    .ok();
    let accepted = run(
        &data,
        &env,
        &["node", "accept", "--pending", "pend-hostile"],
        &sealed.stdout,
    )
    .ok();
    let text = accepted.text();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    let listed = run(&data, &env, &["node", "secret", "list"], b"").ok();
    let text = listed.text();
    for raw in ['\u{1b}', '\u{202e}', '\u{2066}', '\u{200b}'] {
        assert!(!text.contains(raw), "{raw:?} in {text:?}");
    }
    assert!(text.contains("field \"X\\u{2066}Y\""), "{text:?}");
    assert!(
        text.contains("target \"https://a.example/\\u{200b}\""),
        "{text:?}"
    );
    // The JSON listing keeps the exact value (for machines, JSON-escaped).
    let json = run(&data, &env, &["node", "secret", "list", "--json"], b"").ok();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["slug"], HOSTILE_SLUG);
}
