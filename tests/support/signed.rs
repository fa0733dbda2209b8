//! A node as the relay sees it, driven by hand: requests signed with the
//! node's HMAC secret (sealpass_native::signing) over the relay harness's
//! raw HTTP, so relay tests can act as a node without an agent process.

use std::time::{SystemTime, UNIX_EPOCH};

use sealpass_native::signing::sign_request;

use crate::relay::{Relay, Resp};

/// Unix time now, in seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

static USED: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// A node as the relay sees it: id, secret, key version.
#[derive(Clone)]
pub struct Node {
    pub id: String,
    pub secret: Vec<u8>,
    pub version: u32,
}

impl Node {
    pub fn register(relay: &Relay, id: &str) -> Node {
        Node {
            id: id.to_owned(),
            secret: relay.add_node(id),
            version: 1,
        }
    }

    /// A signature is single-use, and identical requests in the same second
    /// sign identically: like a real client, step the timestamp back (still
    /// inside the window) when this exact signature was already used.
    pub fn call(&self, relay: &Relay, method: &str, path: &str, body: &[u8]) -> Resp {
        let mut ts = now();
        loop {
            let h = sign_request(&self.secret, &self.id, self.version, method, path, body, ts);
            let sig = h[3].1.clone();
            if USED.lock().unwrap().insert(sig) {
                return self.call_at(relay, method, path, body, ts);
            }
            ts -= 1;
        }
    }

    pub fn call_at(&self, relay: &Relay, method: &str, path: &str, body: &[u8], ts: i64) -> Resp {
        let h = sign_request(&self.secret, &self.id, self.version, method, path, body, ts);
        let mut headers: Vec<(&str, &str)> = h.iter().map(|(n, v)| (*n, v.as_str())).collect();
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json"));
        }
        relay.req(method, path, &headers, body)
    }

    pub fn heartbeat(&self, relay: &Relay) {
        let r = self.call(relay, "POST", "/api/v1/node/heartbeat", b"{}");
        assert_eq!(r.status, 200, "heartbeat: {}", r.text());
    }

    /// Generate a one-time key and post it; returns the secret key.
    pub fn post_pubkey(&self, relay: &Relay, pending_id: &str) -> sealpass::SecretKey {
        let sk = sealpass::SecretKey::generate().expect("keygen");
        let body = format!(r#"{{"public_key":"{}"}}"#, sk.public_key().to_b64u());
        let r = self.call(
            relay,
            "PUT",
            &format!("/api/v1/node/pending/{pending_id}/pubkey"),
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "pubkey: {}", r.text());
        sk
    }

    pub fn pull(&self, relay: &Relay) -> Vec<serde_json::Value> {
        let r = self.call(relay, "GET", "/api/v1/node/envelopes", b"");
        assert_eq!(r.status, 200, "pull: {}", r.text());
        r.json()["envelopes"].as_array().expect("envelopes").clone()
    }

    pub fn ack(&self, relay: &Relay, pending_id: &str, result: &str) -> Resp {
        self.call(
            relay,
            "POST",
            &format!("/api/v1/node/pending/{pending_id}/ack"),
            format!(r#"{{"result":"{result}"}}"#).as_bytes(),
        )
    }
}

/// Seal `plaintext` for every target of a pending (via the public GET),
/// returning `(node_id, envelope JSON)` pairs.
pub fn seal_for(relay: &Relay, pending_id: &str, plaintext: &[u8]) -> Vec<(String, String)> {
    let r = relay.req("GET", &format!("/api/v1/pending/{pending_id}"), &[], b"");
    assert_eq!(r.status, 200, "get pending: {}", r.text());
    let v = r.json();
    v["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            let pk = sealpass::PublicKey::from_b64u(t["public_key"].as_str().unwrap()).unwrap();
            assert_eq!(t["fingerprint"].as_str().unwrap(), pk.fingerprint());
            let ctx_json = serde_json::to_vec(&t["context"]).unwrap();
            let ctx = sealpass::Context::from_json(&ctx_json).expect("context");
            let env = sealpass::seal(&pk, plaintext, &ctx).expect("seal");
            (t["node_id"].as_str().unwrap().to_owned(), env.to_json())
        })
        .collect()
}

pub fn envelopes_body(items: &[(String, String)]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|(n, e)| format!(r#"{{"node_id":"{n}","envelope":{e}}}"#))
        .collect();
    format!(r#"{{"envelopes":[{}]}}"#, parts.join(","))
}

pub fn post_envelopes(relay: &Relay, pending_id: &str, body: &str) -> Resp {
    relay.req(
        "POST",
        &format!("/api/v1/pending/{pending_id}/envelopes"),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}
