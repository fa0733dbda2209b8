//! Checking the relay's view of a pending credential before sealing to it.
//!
//! The relay is not trusted with where a secret goes: each target's context
//! must be exactly the one the admin asked for, its public key must parse
//! and its fingerprint is recomputed here (the relay's copy must agree).
//! Anything else aborts before a secret is read.

use std::collections::HashSet;

use serde::Deserialize;

use crate::context::Context;
use crate::error::{Code, Error, Result};
use crate::keys::PublicKey;

/// What the admin asked for (the expected context, minus node and pending id).
pub struct Request<'a> {
    /// Target nodes, distinct.
    pub nodes: &'a [String],
    /// Slug.
    pub slug: &'a str,
    /// Injection method.
    pub method: &'a str,
    /// Field name, if any.
    pub field_name: Option<&'a str>,
    /// Target URL, if any.
    pub target_url: Option<&'a str>,
}

/// `GET /api/v1/pending/{id}` answer.
#[derive(Deserialize)]
pub struct PendingView {
    /// Aggregate state.
    pub state: String,
    /// One entry per target node.
    pub targets: Vec<TargetView>,
}

/// One target as the relay shows it.
#[derive(Deserialize)]
pub struct TargetView {
    /// Node id.
    pub node_id: String,
    /// Target state.
    pub state: String,
    /// The node's one-time public key (B64U).
    pub public_key: Option<String>,
    /// The relay's fingerprint of it.
    pub fingerprint: Option<String>,
    /// The context to seal for.
    pub context: serde_json::Value,
}

/// A target that passed every check.
#[derive(Debug)]
pub struct Checked {
    /// Node id.
    pub node_id: String,
    /// Target state at the relay.
    pub state: String,
    /// Verified public key.
    pub public_key: PublicKey,
    /// The validated context (equal to the requested one).
    pub context: Context,
}

impl Checked {
    /// Whether this target takes an envelope now (first one, or a retry).
    pub fn wants_envelope(&self) -> bool {
        matches!(self.state.as_str(), "pubkey_posted" | "decrypt_failed")
    }
}

/// Check every target against the request; the set of nodes must match exactly.
pub fn check(view: &PendingView, pending_id: &str, req: &Request<'_>) -> Result<Vec<Checked>> {
    let fail = |why: String| Error::with_detail(Code::RelayProtocol, why);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(view.targets.len());
    for t in &view.targets {
        if !req.nodes.contains(&t.node_id) {
            return Err(fail(
                "relay lists a target node that was not requested".into(),
            ));
        }
        if !seen.insert(t.node_id.as_str()) {
            return Err(fail(format!("relay lists node {} twice", t.node_id)));
        }
        let pk = t
            .public_key
            .as_deref()
            .ok_or_else(|| fail(format!("node {}: no public key", t.node_id)))?;
        let pk = PublicKey::from_b64u(pk)
            .map_err(|_| fail(format!("node {}: public key is malformed", t.node_id)))?;
        if t.fingerprint.as_deref() != Some(pk.fingerprint().as_str()) {
            return Err(fail(format!(
                "node {}: the relay's fingerprint does not match the key it sent",
                t.node_id
            )));
        }
        let raw = serde_json::to_vec(&t.context)
            .map_err(|_| fail(format!("node {}: context unreadable", t.node_id)))?;
        let got = Context::from_json(&raw).map_err(|e| {
            fail(format!(
                "node {}: context rejected ({})",
                t.node_id,
                e.code()
            ))
        })?;
        let want = Context::new(
            &t.node_id,
            pending_id,
            req.slug,
            req.method,
            req.field_name,
            req.target_url,
        )?;
        if got != want {
            return Err(fail(format!(
                "node {}: the relay's context differs from what was requested",
                t.node_id
            )));
        }
        out.push(Checked {
            node_id: t.node_id.clone(),
            state: t.state.clone(),
            public_key: pk,
            context: got,
        });
    }
    if seen.len() != req.nodes.len() {
        return Err(fail("relay does not list every requested node".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;

    fn view(ctx: serde_json::Value, fp_ok: bool) -> PendingView {
        let pk = SecretKey::from_bytes([5u8; 32]).public_key();
        PendingView {
            state: "pubkey_posted".into(),
            targets: vec![TargetView {
                node_id: "n1".into(),
                state: "pubkey_posted".into(),
                public_key: Some(pk.to_b64u()),
                fingerprint: Some(if fp_ok {
                    pk.fingerprint()
                } else {
                    "0000".into()
                }),
                context: ctx,
            }],
        }
    }

    fn req(nodes: &[String]) -> Request<'_> {
        Request {
            nodes,
            slug: "db",
            method: "env",
            field_name: Some("DB_PASSWORD"),
            target_url: None,
        }
    }

    #[test]
    fn accepts_exact_and_rejects_changed_contexts() {
        let nodes = vec!["n1".to_string()];
        let good = serde_json::json!({"node_id":"n1","pending_id":"p1","slug":"db",
            "injection_method":"env","field_name":"DB_PASSWORD"});
        let c = check(&view(good.clone(), true), "p1", &req(&nodes)).unwrap();
        assert!(c[0].wants_envelope());
        assert!(check(&view(good.clone(), false), "p1", &req(&nodes)).is_err());
        assert!(check(&view(good.clone(), true), "p2", &req(&nodes)).is_err());
        let two = vec!["n1".to_string(), "n2".to_string()];
        assert!(check(&view(good, true), "p1", &req(&two)).is_err());
        for bad in [
            serde_json::json!({"node_id":"n1","pending_id":"p1","slug":"other",
                "injection_method":"env","field_name":"DB_PASSWORD"}),
            serde_json::json!({"node_id":"n1","pending_id":"p1","slug":"db",
                "injection_method":"env","field_name":"DB_PASSWORD","target_url":"https://x"}),
            serde_json::json!({"node_id":"n2","pending_id":"p1","slug":"db",
                "injection_method":"env","field_name":"DB_PASSWORD"}),
        ] {
            let e = check(&view(bad, true), "p1", &req(&nodes)).unwrap_err();
            assert_eq!(e.code(), Code::RelayProtocol);
        }
    }
}
