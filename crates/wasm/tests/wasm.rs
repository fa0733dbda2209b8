//! The same vectors and boundary checks, run as WebAssembly in Node and in
//! headless Chromium and Firefox (`wasm-pack test`, see build.sh).
#![cfg(target_arch = "wasm32")]
// A panic is how a test fails; clippy.toml allows these inside #[test]
// functions only, and the helpers of a test crate are test code too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../../tests/support/vectors/mod.rs"]
mod common;

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

use sealpass::{Code, SecretKey};
use sealpass_wasm::{
    fingerprint, identity_fingerprint, open_js, seal_js, validate_context, OpenerJs,
};

#[wasm_bindgen_test]
fn envelope_vectors_positive() {
    assert_eq!(common::envelope::positive(), 11);
}

#[wasm_bindgen_test]
fn envelope_vectors_negative() {
    assert!(common::envelope::negative() >= 20);
}

#[wasm_bindgen_test]
fn envelope_v2_vectors_positive() {
    assert!(common::envelope_v2::positive() >= 13);
}

#[wasm_bindgen_test]
fn envelope_v2_vectors_negative() {
    assert!(common::envelope_v2::negative() >= 150);
}

#[wasm_bindgen_test]
fn wycheproof_x25519_in_wasm() {
    assert_eq!(common::primitives::x25519(), (518 - 31, 31));
    assert_eq!(common::primitives::x25519_rfc7748(), 3);
    assert_eq!(common::primitives::public_key_matches_ladder(), 506);
    // suite::dh is one ladder over the two SIMD lanes where the build has
    // wasm-x25519x2 (crates/x25519x2 `x25519`), curve25519-dalek's where not;
    // suite::dh2: the two-lane ladder where the build has wasm-x25519x2
    // (build.sh: Node and Firefox), two ladders of curve25519-dalek where not.
    assert_eq!(common::primitives::x25519_pairs(), 4 * 518);
}

#[wasm_bindgen_test]
fn x25519x2_in_wasm_against_curve25519_dalek() {
    // Where the speed builds' settings are on (wasm-x25519x2 and simd128,
    // scripts/wasm-env.sh), the SIMD lanes are the ones checked.
    assert_eq!(cfg!(feature = "wasm-x25519x2"), sealpass_x25519x2::SIMD);
    assert_eq!(
        common::primitives::x25519x2_matches_dalek(500),
        3 * (40 + 500)
    );
    assert_eq!(common::primitives::x25519x2_wycheproof(), 4 * 518);
    assert_eq!(common::primitives::x25519_one_wycheproof(), 518);
    assert_eq!(common::primitives::x25519x2_rfc7748_iterated(), 5);
    // The ladder's final inversion (divsteps) against z * (1/z) = 1 mod p.
    assert_eq!(
        common::primitives::x25519x2_invert(1_000),
        4 + 301 + 255 + 255 + 255 + 7 + 4 + 1_000
    );
}

#[wasm_bindgen_test]
fn chacha20x4_in_wasm_against_chacha20() {
    // Where the speed builds' settings are on (wasm-chacha20x4 and simd128,
    // scripts/wasm-env.sh), the SIMD lanes are the ones checked (and suite's
    // AEAD, so wycheproof_xchacha_in_wasm runs through them too).
    assert_eq!(cfg!(feature = "wasm-chacha20x4"), sealpass_chacha20x4::SIMD);
    assert_eq!(
        cfg!(feature = "wasm-chacha20x4"),
        cfg!(target_feature = "simd128")
    );
    use common::chacha20x4 as x4;
    assert_eq!(x4::keystream_matches_chacha20(20, 300), 601 + 6 + 20 + 300);
    assert_eq!(x4::keystream_counter_end(), 11 * 9 + 3);
    assert_eq!(x4::core_counter_wrap(), 14 * 14 * 2);
    assert_eq!(x4::zeroize_and_debug(), "XChaCha20Core { .. }");
    assert_eq!(x4::aead_matches_chacha20poly1305(400), 400);
    assert_eq!(x4::wycheproof(), (246, 69));
    assert_eq!(x4::draft(), 1);
}

#[wasm_bindgen_test]
fn wycheproof_xchacha_in_wasm() {
    assert_eq!(common::primitives::xchacha(), (246, 69));
    assert_eq!(common::primitives::xchacha_draft(), 1);
}

#[wasm_bindgen_test]
fn b64_decode_in_wasm_against_a_plain_decoder() {
    // With the speed builds' settings (simd128, the runs with
    // wasm-x25519x2) the decoder's 16-character SIMD groups are checked.
    assert_eq!(
        cfg!(feature = "wasm-x25519x2"),
        cfg!(target_feature = "simd128")
    );
    assert_eq!(common::b64::decode_matches_reference(), 62_081);
}

#[wasm_bindgen_test]
fn wycheproof_hkdf_in_wasm() {
    assert_eq!(common::primitives::hkdf(), (83, 3));
    assert_eq!(common::primitives::hkdf_rfc5869(), 3);
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

fn ctx() -> JsValue {
    obj(&[
        ("node_id", "node-1".into()),
        ("pending_id", "p-1".into()),
        ("slug", "api".into()),
        ("injection_method", "header".into()),
        ("field_name", "Authorization".into()),
        ("target_url", JsValue::NULL),
    ])
}

fn code_of(err: JsValue) -> (u16, String) {
    let code = Reflect::get(&err, &"code".into())
        .unwrap()
        .as_f64()
        .expect("numeric code") as u16;
    let name = Reflect::get(&err, &"name".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "thrown value is an Error"
    );
    (code, name)
}

#[wasm_bindgen_test]
fn js_api_round_trip_string_and_bytes() {
    let sk = SecretKey::from_bytes([5; 32]);
    let pk = sk.public_key().to_b64u();
    let env = seal_js(pk.clone().into(), "pässword 🔑".into(), ctx(), None).unwrap();
    assert_eq!(Reflect::get(&env, &"v".into()).unwrap().as_f64(), Some(1.0));
    let sk_b64 = sealpass::b64::encode(sk.as_bytes());
    let pt = open_js(sk_b64.clone().into(), env.clone(), ctx(), None).unwrap();
    assert_eq!(pt.to_vec(), "pässword 🔑".as_bytes());
    // Uint8Array in, JSON-string envelope in.
    let bytes = Uint8Array::from(&[0u8, 1, 2, 255][..]);
    let pk_bytes = Uint8Array::from(&sk.public_key().as_bytes()[..]);
    let env2 = seal_js(pk_bytes.into(), bytes.into(), ctx(), None).unwrap();
    let text = js_sys::JSON::stringify(&env2).unwrap();
    let pt2 = open_js(sk_b64.into(), text.into(), ctx(), None).unwrap();
    assert_eq!(pt2.to_vec(), vec![0, 1, 2, 255]);
    assert_eq!(
        fingerprint(pk.into()).unwrap(),
        sk.public_key().fingerprint()
    );
}

#[wasm_bindgen_test]
fn js_errors_carry_code_and_name() {
    let pk = SecretKey::from_bytes([5; 32]).public_key().to_b64u();
    let e = seal_js("short".into(), "x".into(), ctx(), None).unwrap_err();
    assert_eq!(code_of(e), (8301, "InvalidPublicKey".into()));
    let e = seal_js(pk.clone().into(), "".into(), ctx(), None).unwrap_err();
    assert_eq!(code_of(e).0, Code::PlaintextEmpty.number());
    let e = seal_js(pk.clone().into(), "x".repeat(16369).into(), ctx(), None).unwrap_err();
    assert_eq!(code_of(e), (8008, "CiphertextTooLarge".into()));
    // Few UTF-16 units, too many UTF-8 bytes (3 each): refused after encoding;
    // exactly 16368 bytes of it seals. A real U+FFFD is plaintext like any other.
    let e = seal_js(pk.clone().into(), "€".repeat(5457).into(), ctx(), None).unwrap_err();
    assert_eq!(code_of(e).0, 8008);
    assert!(seal_js(pk.clone().into(), "€".repeat(5456).into(), ctx(), None).is_ok());
    assert!(seal_js(pk.clone().into(), "\u{FFFD}".into(), ctx(), None).is_ok());
    let e = seal_js(pk.clone().into(), JsValue::from(5), ctx(), None).unwrap_err();
    assert_eq!(code_of(e).0, Code::InvalidArgument.number());
    let bad_ctx = obj(&[("node_id", "n".into())]);
    assert_eq!(code_of(validate_context(bad_ctx).unwrap_err()).0, 8202);
    // null on a required field is a type error (8201), as in context JSON;
    // undefined is absent (8202).
    let null_req = obj(&[("node_id", JsValue::NULL)]);
    assert_eq!(code_of(validate_context(null_req).unwrap_err()).0, 8201);
    let undef_req = obj(&[
        ("node_id", JsValue::UNDEFINED),
        ("pending_id", "p".into()),
        ("slug", "s".into()),
        ("injection_method", "env".into()),
    ]);
    assert_eq!(code_of(validate_context(undef_req).unwrap_err()).0, 8202);
    let unknown = obj(&[
        ("node_id", "n".into()),
        ("pending_id", "p".into()),
        ("slug", "s".into()),
        ("injection_method", "env".into()),
        ("version", "1".into()),
    ]);
    assert_eq!(code_of(validate_context(unknown).unwrap_err()).0, 8201);
    let upper = obj(&[
        ("node_id", "n".into()),
        ("pending_id", "p".into()),
        ("slug", "s".into()),
        ("injection_method", "Header".into()),
    ]);
    assert_eq!(code_of(validate_context(upper).unwrap_err()).0, 8204);
    let lone = js_sys::JSON::parse("\"a\\ud800\"").unwrap();
    let e = seal_js(pk.clone().into(), lone, ctx(), None).unwrap_err();
    assert_eq!(code_of(e).0, Code::InvalidUtf8.number());
    assert_eq!(
        code_of(validate_context(JsValue::from_str("x")).unwrap_err()).0,
        8201
    );
    assert_eq!(
        code_of(validate_context(js_sys::Array::new().into()).unwrap_err()).0,
        8201
    );
    let zero = sealpass::b64::encode(&[0u8; 32]);
    assert_eq!(
        code_of(seal_js(zero.into(), "x".into(), ctx(), None).unwrap_err()).0,
        8302
    );
}

#[wasm_bindgen_test]
fn js_open_rejects_tampering_with_8006() {
    let sk = SecretKey::from_bytes([6; 32]);
    let env = seal_js(
        sk.public_key().to_b64u().into(),
        "secret".into(),
        ctx(),
        None,
    )
    .unwrap();
    let ct = Reflect::get(&env, &"ct".into())
        .unwrap()
        .as_string()
        .unwrap();
    let first = if ct.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{first}{}", &ct[1..]);
    Reflect::set(&env, &"ct".into(), &tampered.into()).unwrap();
    let e = open_js(
        sealpass::b64::encode(sk.as_bytes()).into(),
        env,
        ctx(),
        None,
    )
    .unwrap_err();
    assert_eq!(code_of(e), (8006, "DecryptFailed".into()));
    let v3 = js_sys::JSON::parse(r#"{"v":3}"#).unwrap();
    let e = open_js(sealpass::b64::encode(sk.as_bytes()).into(), v3, ctx(), None).unwrap_err();
    assert_eq!(code_of(e).0, 8007);
    let e = open_js(
        sealpass::b64::encode(sk.as_bytes()).into(),
        "x".repeat(70_000).into(),
        ctx(),
        None,
    )
    .unwrap_err();
    assert_eq!(code_of(e).0, 8008);
    let _ = JsValue::UNDEFINED.dyn_into::<Object>();
}

#[wasm_bindgen_test]
fn js_opener_opens_like_open_and_keeps_its_checks() {
    let sk = SecretKey::from_bytes([7; 32]);
    let sk_b64 = sealpass::b64::encode(sk.as_bytes());
    let opener = OpenerJs::new(sk_b64.clone().into(), None).unwrap();
    assert_eq!(opener.public_key(), sk.public_key().to_b64u());
    let from_bytes = OpenerJs::new(Uint8Array::from(&sk.as_bytes()[..]).into(), None).unwrap();
    assert_eq!(from_bytes.public_key(), opener.public_key());
    for pt in ["a", "pässword 🔑"] {
        let env = seal_js(opener.public_key().into(), pt.into(), ctx(), None).unwrap();
        assert_eq!(
            opener.open(env.clone(), ctx()).unwrap().to_vec(),
            pt.as_bytes()
        );
        let text = js_sys::JSON::stringify(&env).unwrap();
        assert_eq!(
            opener.open(text.into(), ctx()).unwrap().to_vec(),
            pt.as_bytes()
        );
        // Another node's key: same error as open().
        let other = OpenerJs::new(Uint8Array::from(&[8u8; 32][..]).into(), None).unwrap();
        assert_eq!(code_of(other.open(env.clone(), ctx()).unwrap_err()).0, 8006);
        let wrong_ctx = obj(&[
            ("node_id", "node-1".into()),
            ("pending_id", "p-2".into()),
            ("slug", "api".into()),
            ("injection_method", "header".into()),
            ("field_name", "Authorization".into()),
        ]);
        assert_eq!(code_of(opener.open(env, wrong_ctx).unwrap_err()).0, 8006);
    }
    for bad in [
        JsValue::from_str("short"),
        Uint8Array::from(&[1u8; 31][..]).into(),
        JsValue::from(42),
        JsValue::NULL,
    ] {
        let e = OpenerJs::new(bad, None).map(|_| ()).unwrap_err();
        assert_eq!(code_of(e), (8303, "InvalidSecretKey".into()));
    }
    assert_eq!(
        code_of(opener.open(JsValue::from(1), ctx()).unwrap_err()).0,
        8101
    );
    let _ = open_js(sk_b64.into(), JsValue::NULL, ctx(), None).unwrap_err();
}

#[wasm_bindgen_test]
fn js_open_takes_envelope_json_bytes_and_tells_u_fffd_from_a_lone_surrogate() {
    let sk = SecretKey::from_bytes([9; 32]);
    let sk_b64 = sealpass::b64::encode(sk.as_bytes());
    let opener = OpenerJs::new(sk_b64.clone().into(), None).unwrap();
    let pt: Vec<u8> = (0..16368u32).map(|i| (i * 7) as u8).collect();
    let env = seal_js(
        opener.public_key().into(),
        Uint8Array::from(&pt[..]).into(),
        ctx(),
        None,
    )
    .unwrap();
    let text = String::from(js_sys::JSON::stringify(&env).unwrap());
    // The JSON bytes as they come off the wire: opened as they are.
    let bytes = Uint8Array::from(text.as_bytes());
    assert_eq!(
        opener.open(bytes.clone().into(), ctx()).unwrap().to_vec(),
        pt
    );
    assert_eq!(
        open_js(sk_b64.clone().into(), bytes.into(), ctx(), None)
            .unwrap()
            .to_vec(),
        pt
    );
    // Bytes that are not the envelope's JSON: the JSON checks, not an object's.
    let code = |v: JsValue| code_of(opener.open(v, ctx()).unwrap_err()).0;
    assert_eq!(code(Uint8Array::from(&b"[1]"[..]).into()), 8101);
    assert_eq!(code(Uint8Array::from(&[0xffu8, 0xfe][..]).into()), 8101);
    let too_big = Uint8Array::new_with_length(64 * 1024 + 1);
    assert_eq!(code(too_big.into()), Code::CiphertextTooLarge.number());
    // A lone surrogate in an envelope string is 8205, as before the fast
    // path; a real U+FFFD (here in the suite) is just a wrong suite.
    let at = text.find("\"ct\":\"").unwrap() + 6;
    let lone: JsValue = js_sys::JsString::from(&text[..at])
        .concat(&js_sys::JsString::from_char_code1(0xD800))
        .concat(&JsValue::from_str(&text[at..]))
        .into();
    assert_eq!(code(lone), Code::InvalidUtf8.number());
    let fffd = text.replacen("xchacha20poly1305", "xchacha20poly1305\u{FFFD}", 1);
    assert_eq!(code(fffd.into()), Code::SuiteUnsupported.number());
    // Contexts: U+FFFD is an ordinary character, a lone surrogate is 8205.
    let with = |field: JsValue| {
        obj(&[
            ("node_id", "node-1".into()),
            ("pending_id", "p-1".into()),
            ("slug", "api".into()),
            ("injection_method", "header".into()),
            ("field_name", field),
        ])
    };
    assert!(validate_context(with("Auth\u{FFFD}".into())).is_ok());
    let lone = js_sys::JSON::parse("\"Auth\\udc00\"").unwrap();
    assert_eq!(
        code_of(validate_context(with(lone)).unwrap_err()).0,
        Code::InvalidUtf8.number()
    );
}

#[wasm_bindgen_test]
fn js_v2_seals_to_the_identity_and_needs_its_key_to_open() {
    let sk = SecretKey::from_bytes([6; 32]);
    let isk = SecretKey::from_bytes([7; 32]);
    let sk_b64: JsValue = sealpass::b64::encode(sk.as_bytes()).into();
    let isk_b64: JsValue = sealpass::b64::encode(isk.as_bytes()).into();
    let nik = isk.public_key().to_b64u();
    let opts = |k: &str, v: JsValue| -> Option<Object> { Some(obj(&[(k, v)]).unchecked_into()) };
    let env = seal_js(
        sk.public_key().to_b64u().into(),
        "secret".into(),
        ctx(),
        opts("identity", nik.clone().into()),
    )
    .unwrap();
    assert_eq!(Reflect::get(&env, &"v".into()).unwrap().as_f64(), Some(2.0));
    assert_eq!(
        Reflect::get(&env, &"suite".into())
            .unwrap()
            .as_string()
            .unwrap(),
        sealpass::suite::SUITE_V2
    );
    // Without the identity key: 8307; with a wrong one: 8006.
    let e = open_js(sk_b64.clone(), env.clone(), ctx(), None).unwrap_err();
    assert_eq!(code_of(e), (8307, "IdentityKeyRequired".into()));
    let wrong: JsValue = sealpass::b64::encode(&[8u8; 32]).into();
    let e = open_js(
        sk_b64.clone(),
        env.clone(),
        ctx(),
        opts("identityKey", wrong),
    )
    .unwrap_err();
    assert_eq!(code_of(e).0, 8006);
    let pt = open_js(
        sk_b64.clone(),
        env.clone(),
        ctx(),
        opts("identityKey", isk_b64.clone()),
    )
    .unwrap();
    assert_eq!(pt.to_vec(), b"secret");
    let opener = OpenerJs::new(sk_b64.clone(), opts("identityKey", isk_b64.clone())).unwrap();
    assert_eq!(opener.identity(), Some(nik.clone()));
    assert_eq!(opener.open(env.clone(), ctx()).unwrap().to_vec(), b"secret");
    assert_eq!(
        OpenerJs::new(sk_b64.clone(), None).unwrap().identity(),
        None
    );
    // An Opener with an identity still opens v1.
    let v1 = seal_js(sk.public_key().to_b64u().into(), "one".into(), ctx(), None).unwrap();
    assert_eq!(opener.open(v1, ctx()).unwrap().to_vec(), b"one");
    // A misspelt option, or options that are not an object, never fall back to v1.
    let e = seal_js(
        sk.public_key().to_b64u().into(),
        "x".into(),
        ctx(),
        opts("identiy", nik.clone().into()),
    )
    .unwrap_err();
    assert_eq!(code_of(e).0, 8306);
    let e = seal_js(
        sk.public_key().to_b64u().into(),
        "x".into(),
        ctx(),
        Some(JsValue::from(5).unchecked_into()),
    )
    .unwrap_err();
    assert_eq!(code_of(e).0, 8306);
    // The option present but null or undefined (a missed pin lookup) is an
    // error, not v1; an inherited identity is used, not ignored.
    for missing in [JsValue::NULL, JsValue::UNDEFINED] {
        let e = seal_js(
            sk.public_key().to_b64u().into(),
            "x".into(),
            ctx(),
            opts("identity", missing),
        )
        .unwrap_err();
        assert_eq!(code_of(e).0, 8306);
    }
    let proto = obj(&[("identity", nik.clone().into())]);
    let inherited = Object::create(proto.unchecked_ref());
    let env = seal_js(
        sk.public_key().to_b64u().into(),
        "x".into(),
        ctx(),
        Some(inherited),
    )
    .unwrap();
    assert_eq!(Reflect::get(&env, &"v".into()).unwrap().as_f64(), Some(2.0));
    // A low-order identity is refused like a low-order one-time key.
    let e = seal_js(
        sk.public_key().to_b64u().into(),
        "x".into(),
        ctx(),
        opts("identity", sealpass::b64::encode(&[0u8; 32]).into()),
    )
    .unwrap_err();
    assert_eq!(code_of(e).0, 8302);
    // identityFingerprint is the core's, and not the one-time fingerprint.
    assert_eq!(
        identity_fingerprint(nik.clone().into()).unwrap(),
        isk.public_key().identity_fingerprint()
    );
    assert_ne!(
        identity_fingerprint(nik.clone().into()).unwrap(),
        fingerprint(nik.into()).unwrap()
    );
}

/// Evaluate a JS function body (test fixtures that Rust cannot build:
/// getters, Proxies, detached buffers, subclasses).
fn js(body: &str) -> JsValue {
    Func::new(body)
        .unchecked_into::<js_sys::Function>()
        .call0(&JsValue::NULL)
        .expect("fixture")
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `new Function(body)` (js-sys has it only with its `unsafe-eval` feature).
    #[wasm_bindgen(js_name = Function)]
    type Func;
    #[wasm_bindgen(constructor, js_class = "Function")]
    fn new(body: &str) -> Func;
}

/// The sealpass code a call failed with; a raw JS exception (no numeric
/// `code`) or a success fails the test.
#[track_caller]
fn code(r: Result<impl Sized, JsValue>) -> u16 {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => code_of(e).0,
    }
}

const CTX_JS: &str = "{node_id: 'node-1', pending_id: 'p-1', slug: 'api', injection_method: 'header', field_name: 'Authorization', target_url: null}";

/// Getters that throw, Proxy traps that throw and detached buffers are
/// sealpass errors (InvalidArgument, 8306) from every entry point: never a
/// raw JS exception through Wasm (which skips the destructors that zeroize
/// key and plaintext copies).
#[wasm_bindgen_test]
fn js_hostile_values_are_sealpass_errors() {
    let sk = SecretKey::from_bytes([9; 32]);
    let pk: JsValue = sk.public_key().to_b64u().into();
    let sk_b64: JsValue = sealpass::b64::encode(sk.as_bytes()).into();
    let env = seal_js(pk.clone(), "x".into(), ctx(), None).unwrap();
    let opener = OpenerJs::new(sk_b64.clone(), None).unwrap();
    let invalid = Code::InvalidArgument.number();
    let ctx_with = |k: &str, getter: &str| {
        js(&format!(
            "const c = {CTX_JS}; delete c.{k}; Object.defineProperty(c, '{k}', {{enumerable: true, get() {{ {getter} }}}}); return c;"
        ))
    };
    let mut hostile_ctx: Vec<(String, JsValue)> = KEYS_JS
        .iter()
        .map(|k| (format!("getter {k}"), ctx_with(k, "throw new Error('no')")))
        .collect();
    hostile_ctx.extend([
        (
            "Proxy get".into(),
            js(&format!("return new Proxy({CTX_JS}, {{get() {{ throw new Error('trap'); }}}});")),
        ),
        (
            "Proxy ownKeys".into(),
            js(&format!("return new Proxy({CTX_JS}, {{ownKeys() {{ throw new Error('trap'); }}}});")),
        ),
        (
            "Proxy getOwnPropertyDescriptor".into(),
            js(&format!("return new Proxy({CTX_JS}, {{getOwnPropertyDescriptor() {{ throw new Error('trap'); }}}});")),
        ),
        (
            "revoked Proxy".into(),
            js(&format!("const p = Proxy.revocable({CTX_JS}, {{}}); p.revoke(); return p.proxy;")),
        ),
    ]);
    for (what, c) in &hostile_ctx {
        assert_eq!(
            code(validate_context(c.clone())),
            invalid,
            "validateContext {what}"
        );
        assert_eq!(
            code(seal_js(pk.clone(), "x".into(), c.clone(), None)),
            invalid,
            "seal {what}"
        );
        assert_eq!(
            code(open_js(sk_b64.clone(), env.clone(), c.clone(), None)),
            invalid,
            "open {what}"
        );
        assert_eq!(
            code(opener.open(env.clone(), c.clone())),
            invalid,
            "Opener.open {what}"
        );
    }
    // Options: a throwing getter, and every trap the option read uses.
    for name in ["identity", "identityKey"] {
        let fixtures = [
            format!("return {{get {name}() {{ throw new Error('no'); }}}};"),
            format!("return new Proxy({{{name}: 'x'}}, {{get() {{ throw new Error('trap'); }}}});"),
            format!("return new Proxy({{{name}: 'x'}}, {{has() {{ throw new Error('trap'); }}}});"),
            "return new Proxy({}, {has() { throw new Error('trap'); }});".into(),
            "return new Proxy({}, {ownKeys() { throw new Error('trap'); }});".into(),
            "const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy;".into(),
        ];
        for f in fixtures {
            let o = || Some(js(&f).unchecked_into::<Object>());
            if name == "identity" {
                assert_eq!(
                    code(seal_js(pk.clone(), "x".into(), ctx(), o())),
                    invalid,
                    "seal {f}"
                );
            } else {
                assert_eq!(
                    code(open_js(sk_b64.clone(), env.clone(), ctx(), o())),
                    invalid,
                    "open {f}"
                );
                assert_eq!(
                    code(OpenerJs::new(sk_b64.clone(), o())),
                    invalid,
                    "Opener {f}"
                );
            }
        }
    }
}

const KEYS_JS: [&str; 6] = [
    "node_id",
    "pending_id",
    "slug",
    "injection_method",
    "field_name",
    "target_url",
];

/// Keys and plaintexts in Uint8Arrays that cannot be read as they claim:
/// detached (transferred) buffers, Proxies, throwing or lying `length`
/// getters. Each is a sealpass error, and only the real bytes are copied.
#[wasm_bindgen_test]
fn js_hostile_byte_arrays_are_sealpass_errors() {
    let sk = SecretKey::from_bytes([10; 32]);
    let pk_bytes = sk.public_key().as_bytes().to_vec();
    let pk: JsValue = sk.public_key().to_b64u().into();
    let sk_b64: JsValue = sealpass::b64::encode(sk.as_bytes()).into();
    let env = seal_js(pk.clone(), "x".into(), ctx(), None).unwrap();
    let invalid = Code::InvalidArgument.number();
    let detached = || {
        js("const a = new Uint8Array(32).fill(7); structuredClone(a.buffer, {transfer: [a.buffer]}); if (a.byteLength !== 0) throw new Error('not detached'); return a;")
    };
    let proxied = || js("return new Proxy(new Uint8Array(32).fill(7), {});");
    let opts = |k: &str, v: JsValue| -> Option<Object> { Some(obj(&[(k, v)]).unchecked_into()) };
    for (what, bad) in [
        ("detached", detached as fn() -> JsValue),
        ("Proxy", proxied),
    ] {
        // As plaintext.
        assert_eq!(
            code(seal_js(pk.clone(), bad(), ctx(), None)),
            invalid,
            "plaintext {what}"
        );
        // As public keys.
        assert_eq!(
            code(seal_js(bad(), "x".into(), ctx(), None)),
            invalid,
            "public key {what}"
        );
        assert_eq!(
            code(seal_js(
                pk.clone(),
                "x".into(),
                ctx(),
                opts("identity", bad())
            )),
            invalid,
            "identity {what}"
        );
        assert_eq!(code(fingerprint(bad())), invalid, "fingerprint {what}");
        // As secret keys.
        assert_eq!(
            code(open_js(bad(), env.clone(), ctx(), None)),
            invalid,
            "open key {what}"
        );
        assert_eq!(
            code(OpenerJs::new(bad(), None)),
            invalid,
            "Opener key {what}"
        );
        assert_eq!(
            code(open_js(
                sk_b64.clone(),
                env.clone(),
                ctx(),
                opts("identityKey", bad())
            )),
            invalid,
            "open identityKey {what}"
        );
        assert_eq!(
            code(OpenerJs::new(sk_b64.clone(), opts("identityKey", bad()))),
            invalid,
            "Opener identityKey {what}"
        );
    }
    // A `length` that claims 32 (or grows between reads, or throws) over 64
    // real bytes: never called; judged by the 64 real bytes.
    for getter in [
        "return 32;",
        "this.n = (this.n || 0) + 32; return this.n;",
        "throw new Error('no');",
    ] {
        let lying = || {
            js(&format!(
                "class L extends Uint8Array {{ get length() {{ {getter} }} }} return new L(64).fill(7);"
            ))
        };
        assert_eq!(
            code(seal_js(lying(), "x".into(), ctx(), None)),
            8301,
            "{getter}"
        );
        assert_eq!(code(OpenerJs::new(lying(), None)), 8303, "{getter}");
        let e = seal_js(pk.clone(), lying(), ctx(), None).unwrap();
        assert_eq!(
            opener_for(&sk).open(e, ctx()).unwrap().to_vec(),
            vec![7u8; 64],
            "{getter}"
        );
    }
    // Honest subclasses (Node's Buffer is one) and empty arrays still work.
    let sub = js("class S extends Uint8Array {} return new S([1, 2, 3]);");
    let e = seal_js(pk.clone(), sub, ctx(), None).unwrap();
    assert_eq!(
        opener_for(&sk).open(e, ctx()).unwrap().to_vec(),
        vec![1, 2, 3]
    );
    let pk_sub = js(&format!(
        "class S extends Uint8Array {{}} return new S({:?});",
        pk_bytes
    ));
    assert!(seal_js(pk_sub, "x".into(), ctx(), None).is_ok());
    assert_eq!(
        code(seal_js(
            pk,
            Uint8Array::new_with_length(0).into(),
            ctx(),
            None
        )),
        Code::PlaintextEmpty.number()
    );
}

fn opener_for(sk: &SecretKey) -> OpenerJs {
    OpenerJs::new(Uint8Array::from(&sk.as_bytes()[..]).into(), None).unwrap()
}

/// Hostile sizes: input over its limit is 8008 (an Error, not a trap) before
/// it is copied into Wasm memory or its content looked at — also when it
/// holds a lone surrogate, which is 8205 only within the limit
/// (docs/PROTOCOL.md §11).
#[wasm_bindgen_test]
fn oversized_input_is_8008_before_its_content() {
    use js_sys::JsString;
    let sk = SecretKey::from_bytes([9; 32]);
    let opener = opener_for(&sk);
    let open_code = |v: JsValue| code_of(opener.open(v, ctx()).unwrap_err()).0;
    let lone = || JsString::from_char_code1(0xD800);
    // 23,334 x "€" (3 UTF-8 bytes each): 70,002 bytes in 23,334 UTF-16 units,
    // under the 65,536-unit pre-check, so refused by the encoded length.
    let euros = "€".repeat(23_334);
    assert_eq!(open_code(euros.clone().into()), 8008);
    let euros_lone = JsString::from(euros.as_str()).concat(&lone());
    assert_eq!(open_code(euros_lone.clone().into()), 8008);
    let sk_b64 = sealpass::b64::encode(sk.as_bytes());
    let e = open_js(sk_b64.into(), euros_lone.into(), ctx(), None).unwrap_err();
    assert_eq!(code_of(e).0, 8008);
    // Within the limit the lone surrogate is found.
    let small_lone = JsString::from("€".repeat(1000).as_str()).concat(&lone());
    assert_eq!(open_code(small_lone.into()), 8205);
    // An object whose JSON is 70 KB of UTF-8; a 70 KB Uint8Array.
    let big = obj(&[("v", 1.into()), ("ct", euros.into())]);
    assert_eq!(open_code(big), 8008);
    assert_eq!(open_code(Uint8Array::new_with_length(70_000).into()), 8008);
    // Plaintext: 5,457 x "€" + a lone surrogate is 16,374 bytes (cap 16,368)
    // in 5,458 units: 8008; 5,000 x "€" + a lone surrogate fits: 8205.
    let pk: JsValue = sk.public_key().to_b64u().into();
    let seal_code =
        |pt: JsString| code_of(seal_js(pk.clone(), pt.into(), ctx(), None).unwrap_err()).0;
    assert_eq!(
        seal_code(JsString::from("€".repeat(5457).as_str()).concat(&lone())),
        8008
    );
    assert_eq!(
        seal_code(JsString::from("€".repeat(5000).as_str()).concat(&lone())),
        8205
    );
}

/// Plaintext, or the sealpass code of the error.
fn outcome(r: Result<Uint8Array, JsValue>) -> Result<Vec<u8>, u16> {
    r.map(|a| a.to_vec()).map_err(|e| code_of(e).0)
}

/// The opener of a pinned vector (with its identity key for v2).
fn vector_opener(base: &sealpass::json::Value, v2: bool) -> OpenerJs {
    let key = |k: &str| JsValue::from(Uint8Array::from(&common::hexd(base, k)[..]));
    let options = v2.then(|| obj(&[("identityKey", key("isk"))]).unchecked_into());
    OpenerJs::new(key("nsk"), options).unwrap()
}

/// The context of a pinned vector as a JS object.
fn vector_ctx(base: &sealpass::json::Value) -> JsValue {
    let c = common::get(base, "context");
    let o = Object::new();
    for k in sealpass::context::KEYS {
        if let sealpass::json::Value::String(v) = common::get(c, k) {
            Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v)).unwrap();
        }
    }
    o.into()
}

/// An envelope object opens as its JSON does: plain ones are read without
/// `JSON.stringify` (crates/wasm/src/envelope_js.rs), the rest through it.
/// Every pinned v1 and v2 envelope, positive and negative, that `JSON.parse`
/// takes, and objects built to sit on each edge of the direct read, give
/// the same plaintext or the same error code as `JSON.stringify` of them.
#[wasm_bindgen_test]
fn js_envelope_objects_open_as_their_json() {
    // `make` builds a fresh object for each side (a getter with side
    // effects sees one read of each). Every disagreement is collected, with
    // `what`, and reported at the end.
    let wrong = core::cell::RefCell::new(Vec::<String>::new());
    let same = |opener: &OpenerJs, ctx: &JsValue, what: &str, make: &dyn Fn() -> JsValue| {
        let json = js_sys::JSON::stringify(&make()).map(JsValue::from);
        let direct = outcome(opener.open(make(), ctx.clone()));
        let want = match json {
            Ok(json) => outcome(opener.open(json, ctx.clone())),
            // JSON.stringify throws (a getter, a BigInt): not JSON (8101).
            Err(_) => Err(Code::EnvelopeNotJson.number()),
        };
        if direct != want {
            let got = direct.as_ref().map(|_| "opened");
            let want = want.as_ref().map(|_| "opened");
            wrong
                .borrow_mut()
                .push(format!("{what}: {got:?}, its JSON {want:?}"));
        }
        direct
    };
    let (mut vectors_checked, mut opened) = (0, 0);
    for (text, v2) in [
        (common::envelope::VECTORS, false),
        (common::envelope_v2::VECTORS, true),
    ] {
        let doc = common::parse(text);
        let vectors = common::arr(&doc, "vectors");
        let named = |t: &sealpass::json::Value| {
            vectors
                .iter()
                .find(|v| common::s(v, "name") == common::s(t, "vector"))
                .unwrap()
        };
        let cases: Vec<_> = vectors
            .iter()
            .map(|v| (v, common::s(v, "envelope")))
            .chain(
                ["negative", "v1_envelopes"]
                    .iter()
                    .flat_map(|k| common::arr(&doc, k))
                    .map(|t| (named(t), common::s(t, "envelope"))),
            )
            .collect();
        for (base, env) in cases {
            // Objects (arrays too); a string opens as JSON text, not as
            // what it stringifies to.
            if !js_sys::JSON::parse(env).is_ok_and(|v| v.is_object()) {
                continue;
            }
            let make = || js_sys::JSON::parse(env).unwrap();
            let what: String = env.chars().take(60).collect();
            let r = same(&vector_opener(base, v2), &vector_ctx(base), &what, &make);
            opened += usize::from(r.is_ok());

            vectors_checked += 1;
        }
    }
    // 11 + 13 positive vectors, the 3 v1 envelopes the v2 opener opens, and
    // 10 negative ones whose fault JSON.parse erases (a duplicate key's last
    // value kept, `2.0` and `2e0` read as 2).
    assert_eq!(opened, 37);
    assert!(vectors_checked >= 150, "{vectors_checked}");

    // Objects on each edge of the direct read, around a fresh 16 KiB one.
    let sk = SecretKey::from_bytes([5; 32]);
    let opener = OpenerJs::new(sealpass::b64::encode(sk.as_bytes()).into(), None).unwrap();
    let pt: Vec<u8> = (0..16368u32).map(|i| (i * 13) as u8).collect();
    let env = seal_js(
        opener.public_key().into(),
        Uint8Array::from(&pt[..]).into(),
        ctx(),
        None,
    )
    .unwrap();
    let global = js_sys::global();
    Reflect::set(&global, &"sealpassTestEnvelope".into(), &env).unwrap();
    let edge = |body: &str| {
        let make = || {
            js(&format!(
                "const e = globalThis.sealpassTestEnvelope; {body}"
            ))
        };
        same(&opener, &ctx(), body, &make)
    };
    let code = |n: Code| Err(n.number());
    // Opened: the object itself, members in another order, a null
    // prototype, a class instance, a getter, an omitted (undefined) member,
    // v as 1.0, a toJSON that returns the envelope.
    for body in [
        "return e;",
        "return {ct: e.ct, nonce: e.nonce, epk: e.epk, suite: e.suite, v: e.v};",
        "return Object.assign(Object.create(null), e);",
        // JSON.stringify's order: keys, then values (a getter that makes a
        // later key enumerable does not add it).
        "const o = {...e}; Object.defineProperty(o, 'x', {value: 'y', enumerable: false, configurable: true}); \
         return Object.defineProperty(o, 'v', {get() { Object.defineProperty(o, 'x', {enumerable: true}); return 1; }, enumerable: true});",
        "class E { constructor() { Object.assign(this, e); } } return new E();",
        "return {...e, get ct() { return e.ct; }};",
        "return {...e, extra: undefined, f() {}};",
        "return {...e, v: 1.0};",
        "return {toJSON() { return e; }};",
        "const o = {}; for (let i = 0; i < 70000; i++) o['k' + i] = undefined; return Object.assign(o, e);",
    ] {
        if edge(body) != Ok(pt.clone()) {
            wrong.borrow_mut().push(format!("{body}: not opened"));
        }
    }
    // Refused, each with the code its JSON gets.
    for (body, want) in [
        ("return [e];", code(Code::EnvelopeNotJson)),
        // Arrays and toJSON as JSON.stringify finds them, through a Proxy
        // whose traps hide them from a plain look.
        (
            "return new Proxy(['x'], {getPrototypeOf() { return Object.prototype; }});",
            code(Code::EnvelopeNotJson),
        ),
        (
            "return new Proxy({...e}, {get(t, k) { return k === 'toJSON' ? () => [1] : t[k]; }});",
            code(Code::EnvelopeNotJson),
        ),
        (
            "return new String(JSON.stringify(e));",
            code(Code::EnvelopeNotJson),
        ),
        // Boxed primitives serialize as the value; their own properties
        // (a string's characters) are no members.
        ("return new String('abc');", code(Code::EnvelopeNotJson)),
        ("return new Number(1);", code(Code::EnvelopeNotJson)),
        // Told by their internal slot, as JSON.stringify does, whatever
        // their prototype; and raw JSON where the engine has it.
        (
            "return Object.assign(Object.setPrototypeOf(new Boolean(true), Object.prototype), e);",
            code(Code::EnvelopeNotJson),
        ),
        (
            "return Object.assign(Object.setPrototypeOf(new Number(1), null), e);",
            code(Code::EnvelopeNotJson),
        ),
        (
            "return Object.assign(Object.setPrototypeOf(new String(''), Object.prototype), e);",
            code(Code::EnvelopeNotJson),
        ),
        (
            "return Object.assign(Object.setPrototypeOf(Object(1n), Object.prototype), e);",
            code(Code::EnvelopeNotJson),
        ),
        (
            "return typeof JSON.rawJSON === 'function' ? JSON.rawJSON('1') : [];",
            code(Code::EnvelopeNotJson),
        ),
        // Too long and not JSON at all: JSON.stringify's answer (8101).
        (
            "return {...e, ct: 'A'.repeat(70000), z: 10n};",
            code(Code::EnvelopeNotJson),
        ),
        (
            "return {...e, toJSON() { return [1]; }};",
            code(Code::EnvelopeNotJson),
        ),
        (
            "return {...e, get ct() { throw new Error('x'); }};",
            code(Code::EnvelopeNotJson),
        ),
        ("return {...e, v: 10n};", code(Code::EnvelopeNotJson)),
        ("return {...e, v: 3};", code(Code::VersionUnsupported)),
        ("return {...e, v: -0};", code(Code::VersionUnsupported)),
        ("return {...e, v: NaN};", code(Code::EnvelopeWrongType)),
        ("return {...e, v: '1'};", code(Code::EnvelopeWrongType)),
        ("return {...e, v: true};", code(Code::EnvelopeWrongType)),
        ("return {...e, nonce: null};", code(Code::EnvelopeWrongType)),
        ("return {...e, 'é': 1};", code(Code::EnvelopeUnknownKey)),
        ("return {...e, extra: 'x'};", code(Code::EnvelopeUnknownKey)),
        (
            "const {ct, ...r} = e; return r;",
            code(Code::EnvelopeMissingKey),
        ),
        (
            "return {...e, ct: e.ct.slice(0, -1) + '\"'};",
            code(Code::InvalidBase64),
        ),
        (
            "return {...e, ct: e.ct.slice(0, -1) + '\\u00e9'};",
            code(Code::InvalidBase64),
        ),
        // JSON.stringify writes a lone surrogate as `\ud800`, which is no
        // JSON text of a string (docs/PROTOCOL.md §11).
        (
            "return {...e, ct: e.ct.slice(0, -1) + '\\ud800'};",
            code(Code::EnvelopeNotJson),
        ),
        (
            "return {...e, ct: (e.ct[0] === 'A' ? 'B' : 'A') + e.ct.slice(1)};",
            code(Code::DecryptFailed),
        ),
        // The JSON exactly 64 KiB, one byte over, and over by one escape.
        (
            "return {...e, x: 'A'.repeat(65536 - 7 - JSON.stringify(e).length)};",
            code(Code::EnvelopeUnknownKey),
        ),
        (
            "return {...e, x: 'A'.repeat(65536 - 6 - JSON.stringify(e).length)};",
            code(Code::CiphertextTooLarge),
        ),
        (
            "return {...e, x: '\"' + 'A'.repeat(65536 - 8 - JSON.stringify(e).length)};",
            code(Code::CiphertextTooLarge),
        ),
        (
            "return {...e, ct: 'A'.repeat(70000)};",
            code(Code::CiphertextTooLarge),
        ),
        (
            "return {...e, ct: '\\u00e9'.repeat(40000)};",
            code(Code::CiphertextTooLarge),
        ),
    ] {
        let got = edge(body);
        if got != want {
            wrong
                .borrow_mut()
                .push(format!("{body}: {:?}, not {want:?}", got.map(|_| "opened")));
        }
    }
    assert_eq!(wrong.borrow().as_slice(), &[] as &[String]);
    // A name longer than the JSON limit, of a member JSON.stringify leaves
    // out: opened, without copying the name into Wasm memory.
    let memory = || {
        let buffer = Reflect::get(&wasm_bindgen::memory(), &"buffer".into()).unwrap();
        Reflect::get(&buffer, &"byteLength".into())
            .unwrap()
            .as_f64()
            .unwrap()
    };
    let before = memory();
    assert_eq!(
        edge("return {['k'.repeat(1 << 24)]: undefined, ...e};"),
        Ok(pt.clone())
    );
    assert!(
        memory() - before < 4.0 * 1024.0 * 1024.0,
        "{before} -> {}",
        memory()
    );
    Reflect::delete_property(
        global.unchecked_ref::<Object>(),
        &"sealpassTestEnvelope".into(),
    )
    .unwrap();
}
