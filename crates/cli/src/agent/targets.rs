//! Checking the relay's view of a pending credential before sealing to it.
//!
//! The relay is not trusted with where a secret goes: each target's context
//! must be exactly the one the admin asked for, its public key must parse
//! and its fingerprint is recomputed here (the relay's copy must agree).
//! Anything else aborts before a secret is read.

use std::collections::HashSet;

use sealpass::context::Context;
use sealpass::error::{Code, Error, Result};
use sealpass::keys::PublicKey;
use sealpass_native::wire::{PendingView, TargetState};

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

/// A target that passed every check.
#[derive(Debug)]
pub struct Checked {
    /// Node id.
    pub node_id: String,
    /// Target state at the relay.
    pub state: TargetState,
    /// Verified public key.
    pub public_key: PublicKey,
    /// The validated context (equal to the requested one).
    pub context: Context,
}

impl Checked {
    /// Whether this target takes an envelope now (first one, or a retry).
    pub fn wants_envelope(&self) -> bool {
        self.state.accepts_envelope()
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
        let pk = PublicKey::from_b64u(&t.public_key)
            .map_err(|_| fail(format!("node {}: public key is malformed", t.node_id)))?;
        if t.fingerprint != pk.fingerprint() {
            return Err(fail(format!(
                "node {}: the relay's fingerprint does not match the key it sent",
                t.node_id
            )));
        }
        let got = Context::from_json(t.context.get().as_bytes()).map_err(|e| {
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
            state: t.state,
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
    use sealpass::keys::SecretKey;
    use sealpass_native::wire::{PendingState, TargetView};

    fn view(ctx: serde_json::Value, fp_ok: bool) -> PendingView {
        let pk = SecretKey::from_bytes([5u8; 32]).public_key();
        PendingView {
            pending_id: "p1".into(),
            state: PendingState::PubkeyPosted,
            expires_at: 0,
            targets: vec![TargetView {
                node_id: "n1".into(),
                state: TargetState::PubkeyPosted,
                public_key: pk.to_b64u(),
                fingerprint: if fp_ok {
                    pk.fingerprint()
                } else {
                    "0000".into()
                },
                identity_key: None,
                identity_fingerprint: None,
                context: serde_json::value::to_raw_value(&ctx).unwrap(),
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
