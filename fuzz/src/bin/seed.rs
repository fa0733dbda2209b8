//! Seed corpora for every fuzz target, generated (never committed):
//! envelopes and contexts from tests/vectors/*.json, and the other inputs
//! built with the crates' own APIs (signed headers, a signed manifest,
//! keystore blobs sealed under the fixture keys).
//!
//! `cargo run --features seed --bin seed -- [OUT_DIR]` (default fuzz/corpus);
//! writes OUT_DIR/<target>/seed-NNNN, replacing earlier seed-* files.

use std::fs;
use std::path::{Path, PathBuf};

use sealpass::b64;
use sealpass::suite::{aead_seal, hkdf_sha256};
use sealpass_fuzz::{
    keystore_input, purpose, release_key, signing_input, unhex, CONTEXT_JSON, DEK, DEK_ID, KEK,
    RECORD_ID, RECORD_PLAINTEXT,
};
use sealpass_native::keystore::aad;
use sealpass_native::release::{served_url, sha384_b64, FileEntry, Manifest};
use sealpass_native::signing::sign_request;
use serde_json::Value;

type Corpus = Vec<Vec<u8>>;

/// 32 bytes from 64 hex digits (fixed seed inputs).
fn hex_seed(h: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex seed");
    }
    out
}

fn vectors(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(name);
    let text = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).expect("vector JSON")
}

fn strings<'a>(doc: &'a Value, list: &str, field: &str) -> Vec<&'a str> {
    doc[list]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v[field].as_str()).collect())
        .unwrap_or_default()
}

fn key32(v: &[u8]) -> [u8; 32] {
    v.try_into().expect("32 bytes")
}

fn keystore_seeds() -> Corpus {
    let kek_cfg = sealpass_fuzz::kek();
    let kek_id = kek_cfg.kek_id().to_owned();
    let mut wrap_key = [0u8; 32];
    hkdf_sha256(&[], &KEK, &aad::dek_wrap_key_info(), &mut wrap_key).expect("hkdf");
    let nonce = [1u8; 24];
    let ct = aead_seal(&wrap_key, &nonce, &aad::dek_wrap_aad(DEK_ID, &kek_id), &DEK).expect("seal");
    let mut wrapped = vec![aad::DEK_WRAP_VERSION];
    wrapped.extend(unhex(&kek_id));
    wrapped.extend(nonce);
    wrapped.extend(&ct);

    let mut out = Corpus::new();
    for p in 0..4u8 {
        let purpose = purpose(p);
        let mut rk = [0u8; 32];
        hkdf_sha256(&[], &DEK, &aad::record_key_info(purpose), &mut rk).expect("hkdf");
        let nonce = [p + 2; 24];
        let aad = aad::record_aad(purpose, RECORD_ID, DEK_ID, None);
        let ct = aead_seal(&key32(&rk), &nonce, &aad, RECORD_PLAINTEXT).expect("seal");
        let mut record = vec![aad::FORMAT_VERSION];
        record.extend(unhex(DEK_ID));
        record.extend(nonce);
        record.extend(&ct);
        out.push(keystore_input(&wrapped, p, &record));
        // The same record under another purpose (fails authentication).
        out.push(keystore_input(&wrapped, p + 1, &record));
        // Truncated record, old and future format versions.
        out.push(keystore_input(&wrapped, p, &record[..40]));
        for v in [aad::LEGACY_FORMAT_VERSION, aad::FORMAT_VERSION + 1] {
            let mut other = record.clone();
            other[0] = v;
            out.push(keystore_input(&wrapped, p, &other));
        }
    }
    // Wrapped DEK under an unknown KEK id, truncated, future version.
    let mut other = wrapped.clone();
    other[1] ^= 0xff;
    out.push(keystore_input(&other, 0, &[]));
    out.push(keystore_input(&wrapped[..20], 0, &[]));
    let mut v2 = wrapped.clone();
    v2[0] = aad::DEK_WRAP_VERSION + 1;
    out.push(keystore_input(&v2, 0, &[]));
    out
}

fn manifest_seeds() -> Corpus {
    let key = release_key();
    let files = |names: &[&str]| -> Vec<FileEntry> {
        names
            .iter()
            .map(|p| FileEntry {
                path: (*p).to_owned(),
                url: served_url(p),
                sha384: sha384_b64(p.as_bytes()),
            })
            .collect()
    };
    let mut out = Corpus::new();
    for (version, names) in [
        ("0.1.0", &["index.html"][..]),
        (
            "1.2.3+build_7",
            &["app.js", "index.html", "pkg/sealpass_bg.wasm"][..],
        ),
    ] {
        let m = Manifest::new(version, files(names)).expect("fixture manifest");
        let signed = m.sign(&key);
        let text = signed.to_json();
        // Compact form too (the parser is serde_json: whitespace is free).
        let v: Value = serde_json::from_str(&text).expect("manifest JSON");
        out.push(serde_json::to_vec(&v).expect("json"));
        out.push(text.into_bytes());
    }
    out
}

fn signing_seeds() -> Corpus {
    let secret = [3u8; 32];
    let mut out = Corpus::new();
    for (method, path, body) in [
        ("GET", "/api/v1/node/envelopes", &b""[..]),
        (
            "POST",
            "/api/v1/node/pubkey?x=1",
            &b"{\"pubkey\":\"AAAA\"}"[..],
        ),
    ] {
        let headers = sign_request(&secret, "node-1", 2, method, path, body, 1_700_000_000);
        out.push(signing_input(method, path, &headers));
        // Lower-case names plus an unrelated header.
        let mut lower: Vec<(&str, String)> = vec![("content-type", "application/json".into())];
        let names = [
            "x-sealpass-caller",
            "x-sealpass-timestamp",
            "x-sealpass-key-version",
            "x-sealpass-signature",
        ];
        lower.extend(
            names
                .iter()
                .zip(&headers)
                .map(|(n, (_, v))| (*n, v.clone())),
        );
        out.push(signing_input(method, path, &lower));
        // Missing one, duplicated one, non-canonical number.
        out.push(signing_input(method, path, &headers[..3]));
        let mut dup = headers.clone();
        dup.push(headers[0].clone());
        out.push(signing_input(method, path, &dup));
        let mut zero = headers.clone();
        zero[1].1 = format!("0{}", zero[1].1);
        out.push(signing_input(method, path, &zero));
    }
    out.push(b"GET\n/\ncontent-type:text/plain".to_vec());
    out
}

fn write(dir: &Path, seeds: &Corpus) {
    fs::create_dir_all(dir).expect("mkdir");
    for entry in fs::read_dir(dir).expect("read_dir").flatten() {
        if entry.file_name().to_string_lossy().starts_with("seed-") {
            fs::remove_file(entry.path()).expect("rm old seed");
        }
    }
    for (i, s) in seeds.iter().enumerate() {
        fs::write(dir.join(format!("seed-{i:04}")), s).expect("write seed");
    }
}

fn main() {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let v1 = vectors("envelope_v1.json");
    let v2 = vectors("envelope_v2.json");

    let mut envelopes = Corpus::new();
    let mut contexts = Corpus::new();
    let mut b64s = Corpus::new();
    for doc in [&v1, &v2] {
        for list in ["vectors", "negative", "v1_envelopes"] {
            envelopes.extend(
                strings(doc, list, "envelope")
                    .iter()
                    .map(|s| s.as_bytes().to_vec()),
            );
        }
        for v in doc["vectors"].as_array().into_iter().flatten() {
            contexts.push(serde_json::to_vec(&v["context"]).expect("json"));
        }
        contexts.extend(
            strings(doc, "negative_contexts", "context_json")
                .iter()
                .map(|s| s.as_bytes().to_vec()),
        );
    }
    contexts.push(CONTEXT_JSON.as_bytes().to_vec());
    // b64: every string field of the positive envelopes, plus RFC 4648 §10.
    for e in strings(&v1, "vectors", "envelope")
        .into_iter()
        .chain(strings(&v2, "vectors", "envelope"))
        .take(8)
    {
        let v: Value = serde_json::from_str(e).expect("envelope JSON");
        for f in ["epk", "nonce", "ct"] {
            if let Some(s) = v[f].as_str() {
                b64s.push(s.as_bytes().to_vec());
            }
        }
    }
    for s in [
        "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "-_-_", "Zh", "Zm9=", "Z",
    ] {
        b64s.push(s.as_bytes().to_vec());
    }
    b64s.push(b64::encode(&[0xfb, 0xff, 0xbf, 0, 1]).into_bytes());

    let mut json = Corpus::new();
    json.extend(envelopes.iter().take(40).cloned());
    json.extend(contexts.iter().cloned());
    for s in [
        "null",
        "[true,false,null]",
        "-0.5e+10",
        "\"\\ud83d\\ude00\\u0000\\n\"",
        "{\"a\":{\"a\":[1,2,{\"b\":\"\"}]},\"a\":1}",
        " [ [ [ [ ] ] ] ] ",
    ] {
        json.push(s.as_bytes().to_vec());
    }

    // x25519x2: k0 || u0 || k1 || u1 — RFC 7748 §5.2's inputs, the base
    // point, and non-canonical u (p, p + 1, 2^255 - 1) beside them.
    let mut x2 = Corpus::new();
    let rfc_k = hex_seed("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
    let rfc_u = hex_seed("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
    let mut nine = [0u8; 32];
    nine[0] = 9;
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    let mut p1 = p;
    p1[0] = 0xee;
    for (u0, u1) in [(rfc_u, nine), (nine, p), (p1, [0xff; 32]), (rfc_u, rfc_u)] {
        let mut s = Vec::with_capacity(128);
        for part in [&rfc_k[..], &u0[..], &rfc_k[..], &u1[..]] {
            s.extend_from_slice(part);
        }
        x2.push(s);
    }

    let sets: [(&str, &Corpus); 9] = [
        ("envelope", &envelopes),
        ("open", &envelopes),
        ("context", &contexts),
        ("json", &json),
        ("b64", &b64s),
        ("signing", &signing_seeds()),
        ("manifest", &manifest_seeds()),
        ("keystore_blob", &keystore_seeds()),
        ("x25519x2", &x2),
    ];
    for (target, seeds) in sets {
        write(&out.join(target), seeds);
        println!("seed: {target}: {} inputs", seeds.len());
    }
}
