//! Checking the relay's view of a pending credential before sealing to it.
//!
//! The relay is not trusted with where a secret goes: each target's context
//! must be exactly the one the admin asked for, its public key must parse
//! and its fingerprint is recomputed here (the relay's copy must agree).
//! Anything else aborts before a secret is read.
//!
//! Then [`identities`] applies docs/PINNING.md §3: a pinned node's reported
//! identity must equal the pin (8901, checked before anything else about
//! the identity), an unpinned one is pinned only by `--pin` or a person at
//! a terminal (8902 otherwise), and no reported identity is 8904.

use std::collections::HashSet;

use sealpass::context::Context;
use sealpass::error::{Code, Error, Result};
use sealpass::keys::PublicKey;
use sealpass_native::known_nodes::{self, KnownNodes};
use sealpass_native::wire::{PendingView, TargetState};

use super::http::printable;

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
    /// The pending was given with `--pending` (not created by this run):
    /// a difference is then reported as a usage error (8403) naming the
    /// field, both values and that the relay may have changed it (its
    /// value is never presented as the one to give).
    pub given_pending: bool,
}

/// The context fields a person chooses, with the flag that sets each.
const FIELDS: [(&str, &str); 4] = [
    ("slug", "--slug"),
    ("injection method", "--method"),
    ("field name", "--field-name"),
    ("target URL", "--target-url"),
];

fn field_values(c: &Context) -> [&str; 4] {
    [
        c.slug(),
        c.injection_method(),
        c.field_name(),
        c.target_url(),
    ]
}

/// Every difference between the relay's context and the requested one, as
/// `slug "a" (--slug gave "b")`; node and pending id first.
fn differences(got: &Context, want: &Context) -> Vec<String> {
    let mut out = Vec::new();
    if got.node_id() != want.node_id() {
        out.push(format!("node id \"{}\"", printable(got.node_id())));
    }
    if got.pending_id() != want.pending_id() {
        out.push(format!("pending id \"{}\"", printable(got.pending_id())));
    }
    for (((name, flag), g), w) in FIELDS.iter().zip(field_values(got)).zip(field_values(want)) {
        if g != w {
            out.push(format!(
                "{name} \"{}\" ({flag} gave \"{}\")",
                printable(g),
                printable(w)
            ));
        }
    }
    out
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
    /// The identity key the relay reports (unchecked: only a hint).
    pub identity_key: Option<String>,
    /// The identity fingerprint the relay reports (unchecked).
    pub identity_fingerprint: Option<String>,
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
    let listed: Vec<&str> = view.targets.iter().map(|t| t.node_id.as_str()).collect();
    let same_nodes =
        listed.len() == req.nodes.len() && req.nodes.iter().all(|n| listed.contains(&n.as_str()));
    if req.given_pending && !same_nodes {
        return Err(Error::with_detail(
            Code::Usage,
            format!(
                "the relay reports node(s) {} for pending {pending_id}; --node gave {}. If you did not create it for those nodes, the relay may have changed them: do not copy its list; start a new inject without --pending (nothing was sent)",
                printable(&listed.join(",")),
                printable(&req.nodes.join(","))
            ),
        ));
    }
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
            let diff = differences(&got, &want);
            let only_flags =
                got.node_id() == want.node_id() && got.pending_id() == want.pending_id();
            if req.given_pending && only_flags {
                return Err(Error::with_detail(
                    Code::Usage,
                    format!(
                        "the relay reports, for pending {pending_id} and node {}: {}. If you did not create it with that, the relay may have changed it: do not copy its value; start a new inject without --pending (nothing was sent)",
                        printable(&t.node_id),
                        diff.join(", ")
                    ),
                ));
            }
            return Err(fail(format!(
                "node {}: the relay's context differs from what was requested: {}; nothing was sent",
                printable(&t.node_id),
                diff.join(", ")
            )));
        }
        out.push(Checked {
            node_id: t.node_id.clone(),
            state: t.state,
            public_key: pk,
            context: got,
            identity_key: t.identity_key.clone(),
            identity_fingerprint: t.identity_fingerprint.clone(),
        });
    }
    if seen.len() != req.nodes.len() {
        return Err(fail("relay does not list every requested node".into()));
    }
    Ok(out)
}

/// The identity each target is sealed to, and the pins to add.
#[derive(Debug)]
pub struct Identities {
    /// One per target, in order: the (pinned) identity to seal v2 to.
    pub seal_to: Vec<PublicKey>,
    /// Unpinned nodes confirmed now (by `--pin` or a person): write these.
    pub new_pins: Vec<(String, PublicKey)>,
}

/// How an unpinned node's identity may be confirmed: `ask(node, fp)` asks a
/// person (true = pin it); `None` when there is no terminal or `--yes`.
pub type Ask<'a> = Option<&'a mut dyn FnMut(&str, &str) -> Result<bool>>;

/// Apply the pins (docs/PINNING.md §3) to the targets about to be sealed.
/// Every pinned target is checked first, so a swapped identity is always
/// 8901; nothing is asked and nothing is written unless all pinned ones agree.
pub fn identities(
    targets: &[&Checked],
    known: &KnownNodes,
    pins: &[String],
    mut ask: Ask<'_>,
) -> Result<Identities> {
    let relay_fail = |why: String| Error::with_detail(Code::RelayProtocol, why);
    for t in targets {
        if let Some(pin) = known.get(&t.node_id) {
            let pin_b64 = pin.to_b64u();
            if t.identity_key.as_deref() != Some(pin_b64.as_str()) {
                let reported = match t.identity_key.as_deref() {
                    None => "none".to_string(),
                    Some(k) => match PublicKey::from_b64u(k) {
                        Ok(k) => k.identity_fingerprint(),
                        Err(_) => "(malformed key)".to_string(),
                    },
                };
                mismatch_banner(&t.node_id, &pin.identity_fingerprint(), &reported);
                return Err(Error::with_detail(
                    Code::IdentityMismatch,
                    format!(
                        "node {}: the relay's identity ({}) differs from the pin ({}); nothing was sealed or sent",
                        printable(&t.node_id),
                        printable(&reported),
                        pin.identity_fingerprint()
                    ),
                ));
            }
        }
    }
    let mut seal_to = Vec::with_capacity(targets.len());
    let mut new_pins = Vec::new();
    for t in targets {
        let reported = match t.identity_key.as_deref() {
            Some(k) => k,
            // (A pinned node without one was refused in the first pass.)
            None => {
                return Err(Error::with_detail(
                    Code::IdentityUnavailable,
                    format!(
                        "node {}: the relay reports no identity key and the node is not pinned; nothing was sent",
                        printable(&t.node_id)
                    ),
                ))
            }
        };
        let nik = known_nodes::parse_identity(reported).map_err(|_| {
            relay_fail(format!(
                "node {}: the relay's identity key is malformed or low-order",
                printable(&t.node_id)
            ))
        })?;
        let fp = nik.identity_fingerprint();
        if t.identity_fingerprint.as_deref() != Some(fp.as_str()) {
            return Err(relay_fail(format!(
                "node {}: the relay's identity fingerprint does not match the identity key it sent",
                printable(&t.node_id)
            )));
        }
        if known.get(&t.node_id).is_none() {
            let by_flag = pins
                .iter()
                .any(|p| crate::nodes_cmd::normalise_fingerprint(p) == fp);
            if !by_flag {
                if !pins.is_empty() {
                    mismatch_banner(&t.node_id, &format!("--pin {}", pins.join(", ")), &fp);
                    return Err(Error::with_detail(
                        Code::IdentityMismatch,
                        format!(
                            "node {}: its identity fingerprint {fp} is not one of --pin; nothing was pinned, sealed or sent",
                            printable(&t.node_id)
                        ),
                    ));
                }
                let yes = match ask.as_mut() {
                    Some(ask) => ask(&t.node_id, &fp)?,
                    None => {
                        return Err(Error::with_detail(
                            Code::IdentityNotPinned,
                            format!(
                                "node {}: identity {fp} is not pinned; compare it with `sealpass node identity` on the node, then pin it (sealpass nodes pin, or --pin FINGERPRINT); nothing was sent",
                                printable(&t.node_id)
                            ),
                        ))
                    }
                };
                if !yes {
                    return Err(Error::with_detail(
                        Code::IdentityNotPinned,
                        format!(
                            "node {}: identity not confirmed; nothing was pinned or sent",
                            printable(&t.node_id)
                        ),
                    ));
                }
            }
            new_pins.push((t.node_id.clone(), nik));
        }
        seal_to.push(nik);
    }
    Ok(Identities { seal_to, new_pins })
}

fn mismatch_banner(node: &str, pinned: &str, reported: &str) {
    eprintln!(
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
         @  WARNING: NODE IDENTITY MISMATCH - NOTHING WAS SENT           @\n\
         @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
         node:                 {}\n\
         pinned fingerprint:   {}\n\
         reported fingerprint: {}\n\
         The relay (or someone controlling it) may be trying to receive the secret.\n\
         If the node really rotated its identity, check the new fingerprint on the\n\
         node itself and re-pin it: sealpass nodes pin NODE_ID --identity NIK --replace",
        printable(node),
        printable(pinned),
        printable(reported)
    );
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
            given_pending: false,
        }
    }

    #[test]
    fn a_different_flag_with_pending_names_the_field() {
        let nodes = vec!["n1".to_string()];
        let created = serde_json::json!({"node_id":"n1","pending_id":"p1","slug":"other",
            "injection_method":"env","field_name":"DB_PASSWORD"});
        let mut r = req(&nodes);
        let e = check(&view(created.clone(), true), "p1", &r).unwrap_err();
        assert_eq!(e.code(), Code::RelayProtocol);
        assert!(
            e.detail().contains(r#"slug "other" (--slug gave "db")"#),
            "{}",
            e.detail()
        );
        r.given_pending = true;
        let e = check(&view(created, true), "p1", &r).unwrap_err();
        assert_eq!(e.code(), Code::Usage);
        let d = e.detail();
        assert!(d.contains(r#"slug "other" (--slug gave "db")"#), "{d}");
        assert!(!d.contains("field name"), "only what differs: {d}");
        assert!(!d.contains("tamper"), "{d}");
        // The relay's value is not presented as the one to give: it may
        // have been changed by the relay itself.
        assert!(d.contains("the relay reports"), "{d}");
        assert!(d.contains("the relay may have changed it"), "{d}");
        assert!(d.contains("do not copy its value"), "{d}");
        assert!(d.contains("start a new inject without --pending"), "{d}");
        assert!(!d.contains("exactly as"), "{d}");
        let created = serde_json::json!({"node_id":"n1","pending_id":"p1","slug":"db",
            "injection_method":"env","target_url":"https://x"});
        let d = check(&view(created, true), "p1", &r)
            .unwrap_err()
            .detail()
            .to_owned();
        assert!(
            d.contains(r#"field name "" (--field-name gave "DB_PASSWORD")"#),
            "{d}"
        );
        assert!(
            d.contains(r#"target URL "https://x" (--target-url gave "")"#),
            "{d}"
        );
        let two = vec!["n1".to_string(), "n2".to_string()];
        let mut r = req(&two);
        r.given_pending = true;
        let good = serde_json::json!({"node_id":"n1","pending_id":"p1","slug":"db",
            "injection_method":"env","field_name":"DB_PASSWORD"});
        let e = check(&view(good, true), "p1", &r).unwrap_err();
        assert_eq!(e.code(), Code::Usage);
        let d = e.detail();
        assert!(
            d.contains("the relay reports node(s) n1 for pending p1; --node gave n1,n2."),
            "{d}"
        );
        assert!(d.contains("do not copy its list"), "{d}");
        assert!(d.contains("start a new inject without --pending"), "{d}");
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

    fn checked(node: &str, nik: Option<&PublicKey>, fp_ok: bool) -> Checked {
        Checked {
            node_id: node.into(),
            state: TargetState::PubkeyPosted,
            public_key: SecretKey::from_bytes([5u8; 32]).public_key(),
            context: Context::new(node, "p1", "db", "env", None, None).unwrap(),
            identity_key: nik.map(|k| k.to_b64u()),
            identity_fingerprint: nik.map(|k| {
                if fp_ok {
                    k.identity_fingerprint()
                } else {
                    "0000".into()
                }
            }),
        }
    }

    #[test]
    fn identities_follow_the_pins() {
        let good = SecretKey::from_bytes([8u8; 32]).public_key();
        let evil = SecretKey::from_bytes([9u8; 32]).public_key();
        let mut known = KnownNodes::new();
        known.pin("n1", good, false).unwrap();
        let code = |r: Result<Identities>| r.unwrap_err().code();
        // Pinned and equal: sealed to the pin, nothing new, nothing asked.
        let t = checked("n1", Some(&good), true);
        let ids = identities(&[&t], &known, &[], None).unwrap();
        assert_eq!(ids.seal_to, vec![good]);
        assert!(ids.new_pins.is_empty());
        // Pinned, different or absent: 8901, even with a matching --pin.
        let t = checked("n1", Some(&evil), true);
        let pin = vec![evil.identity_fingerprint()];
        assert_eq!(
            code(identities(&[&t], &known, &pin, None)),
            Code::IdentityMismatch
        );
        let t = checked("n1", None, true);
        assert_eq!(
            code(identities(&[&t], &known, &[], None)),
            Code::IdentityMismatch
        );
        // 8901 for the pinned node wins over 8904 for another one.
        let (a, b) = (checked("n2", None, true), checked("n1", Some(&evil), true));
        assert_eq!(
            code(identities(&[&a, &b], &known, &[], None)),
            Code::IdentityMismatch
        );
        // Pinned and equal key, but an inconsistent fingerprint: 8612.
        let t = checked("n1", Some(&good), false);
        assert_eq!(
            code(identities(&[&t], &known, &[], None)),
            Code::RelayProtocol
        );
        // Unpinned: no identity 8904; no --pin and nobody to ask 8902.
        let t = checked("n2", None, true);
        assert_eq!(
            code(identities(&[&t], &known, &[], None)),
            Code::IdentityUnavailable
        );
        let t = checked("n2", Some(&evil), true);
        assert_eq!(
            code(identities(&[&t], &known, &[], None)),
            Code::IdentityNotPinned
        );
        // --pin matching (case and spaces ignored) pins; not matching 8901.
        let pin = vec![format!(" {} ", evil.identity_fingerprint().to_uppercase())];
        let ids = identities(&[&t], &known, &pin, None).unwrap();
        assert_eq!(ids.new_pins, vec![("n2".to_string(), evil)]);
        let pin = vec![good.identity_fingerprint()];
        assert_eq!(
            code(identities(&[&t], &known, &pin, None)),
            Code::IdentityMismatch
        );
        // A person: y pins, anything else 8902.
        let mut yes = |_: &str, _: &str| Ok(true);
        let ids = identities(&[&t], &known, &[], Some(&mut yes)).unwrap();
        assert_eq!(ids.seal_to, vec![evil]);
        let mut no = |_: &str, _: &str| Ok(false);
        assert_eq!(
            code(identities(&[&t], &known, &[], Some(&mut no))),
            Code::IdentityNotPinned
        );
        // A low-order identity from the relay: 8612, never pinned.
        let low = PublicKey::from_bytes([0u8; 32]);
        let t = checked("n2", Some(&low), true);
        let mut yes = |_: &str, _: &str| Ok(true);
        assert_eq!(
            code(identities(&[&t], &known, &[], Some(&mut yes))),
            Code::RelayProtocol
        );
    }
}
