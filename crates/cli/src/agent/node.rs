//! The node agent loop: heartbeat, post one-time public keys, pull and open
//! envelopes, acknowledge.
//!
//! Trust boundary: the relay only ever *proposes*. A context it sends is
//! validated (core rules, our own node id, the pending id it is listed
//! under) before a key is made for it, and at accept time the keystore opens
//! the envelope with the context it stored then — never with anything the
//! relay says later. Every relay string that reaches the console is
//! sanitized; no secret reaches it at all.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::http::{self, check_id, printable, Relay, Reply, LARGE_LIMIT, SMALL_LIMIT};
use super::pace::{Backoff, Stop};
use super::register::{load_secret, NodeSecret};
use sealpass::context::Context;
use sealpass::error::{Code, Error, Result};
use sealpass::SecretKey;
use sealpass_native::keystore::{Keystore, Purpose};
use sealpass_native::signing::{sign_request, unix_now};
use sealpass_native::wire::{
    request_body, AckResult, Delivery, EnvelopeList, NodePending, PendingList, PostAck, PostPubkey,
};
use serde_json::value::RawValue;

/// Most one-time keys this node holds at once: a relay cannot make it fill
/// its disk by listing endless pending credentials.
const MAX_LOCAL_KEYS: usize = 4096;
/// A one-time key older than this can never receive its envelope (the relay
/// caps expiry at 24 h), so it is deleted.
const STALE_KEY_SECS: i64 = 48 * 3600;
/// How often stale keys are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Agent settings.
pub struct Options {
    /// Our node id (the signing caller id).
    pub node_id: String,
    /// Pause between cycles.
    pub poll: Duration,
    /// One cycle, then exit.
    pub once: bool,
}

/// The running agent.
pub struct Agent {
    relay: Relay,
    store: Keystore,
    opts: Options,
    secret: NodeSecret,
    /// The current identity public key as last seen (made on first start):
    /// a rotation while running is noticed by comparing with it.
    identity: sealpass::PublicKey,
    stop: Stop,
    /// Pending ids whose fingerprint was printed (once per process).
    announced: HashSet<String>,
    /// Pending ids we already complained about (no log flooding).
    warned: HashSet<String>,
    /// When stale keys were last swept.
    last_sweep: Option<Instant>,
}

impl Agent {
    /// Load the HMAC secret and get ready; fails if the node was never registered.
    pub fn new(relay: Relay, store: Keystore, opts: Options) -> Result<Agent> {
        let secret = load_secret(&store, &opts.node_id)?;
        let identity = store.node_identity()?.public_key();
        Ok(Agent {
            relay,
            store,
            opts,
            secret,
            identity,
            stop: Stop::install(),
            announced: HashSet::new(),
            warned: HashSet::new(),
            last_sweep: None,
        })
    }

    /// Poll until SIGINT/SIGTERM (or after one cycle with `once`).
    pub fn run(mut self) -> Result<()> {
        println!(
            "node {}: agent started; relay {}; keystore {}",
            self.opts.node_id,
            self.relay.base(),
            self.store.db_path().display()
        );
        let nik = self.identity;
        println!(
            "node {}: identity fingerprint {} (public key {}); senders pin it once",
            self.opts.node_id,
            nik.identity_fingerprint(),
            nik.to_b64u()
        );
        self.sweep_stale_keys();
        self.last_sweep = Some(Instant::now());
        self.announce_local_keys();
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let mut failing = false;
        while !self.stop.requested() {
            let wait = match self.cycle() {
                Ok(()) => {
                    if failing {
                        println!("node {}: relay reachable again", self.opts.node_id);
                        failing = false;
                    }
                    backoff.reset();
                    if self.opts.once {
                        return Ok(());
                    }
                    self.opts.poll
                }
                Err(e) => {
                    if self.opts.once {
                        return Err(e);
                    }
                    if is_auth_error(&e) {
                        // A re-registration (rotation) may have replaced the secret.
                        if let Ok(s) = load_secret(&self.store, &self.opts.node_id) {
                            self.secret = s;
                        }
                    }
                    let wait = backoff.next_wait();
                    eprintln!(
                        "node {}: {e}; retrying in {:.1}s",
                        self.opts.node_id,
                        wait.as_secs_f64()
                    );
                    failing = true;
                    wait
                }
            };
            self.stop.sleep(wait);
        }
        println!("node {}: stopping (signal received)", self.opts.node_id);
        Ok(())
    }

    /// One round: heartbeat, keys, envelopes.
    fn cycle(&mut self) -> Result<()> {
        if self.last_sweep.map_or(true, |t| t.elapsed() >= SWEEP_EVERY) {
            self.sweep_stale_keys();
            self.last_sweep = Some(Instant::now());
        }
        self.notice_identity_rotation();
        self.signed("POST", "/api/v1/node/heartbeat", Some(b"{}"), SMALL_LIMIT)?;
        let reply = self.signed("GET", "/api/v1/node/pending", None, LARGE_LIMIT)?;
        let list: PendingList<Box<RawValue>> = http::parse(&reply.body, "pending list")?;
        let mut local: Option<HashSet<String>> = None;
        for item in self.readable::<NodePending>(&list.pending, "pending list") {
            if self.stop.requested() {
                return Ok(());
            }
            if item.needs_pubkey {
                let local = match &mut local {
                    Some(l) => l,
                    None => local.insert(self.local_key_ids()?),
                };
                self.post_key(&item, local)?;
            }
        }
        let reply = self.signed("GET", "/api/v1/node/envelopes", None, LARGE_LIMIT)?;
        let list: EnvelopeList<Box<RawValue>> = http::parse(&reply.body, "envelope list")?;
        for item in self.readable::<Delivery>(&list.envelopes, "envelope list") {
            if self.stop.requested() {
                return Ok(());
            }
            self.deliver(&item)?;
        }
        Ok(())
    }

    /// Make (or re-use) the one-time key for a pending credential and post it.
    fn post_key(&mut self, item: &NodePending, local: &mut HashSet<String>) -> Result<()> {
        let ctx = match check_context(item, &self.opts.node_id) {
            Ok(c) => c,
            Err(e) => {
                self.warn_once(&item.pending_id, &format!("ignored: {e}"));
                return Ok(());
            }
        };
        let id = ctx.pending_id().to_owned();
        if !local.contains(&id) && local.len() >= MAX_LOCAL_KEYS {
            self.warn_once(
                &id,
                "not creating a key: this node already holds 4096 one-time keys",
            );
            return Ok(());
        }
        let keys = match self.store.create_pending(&ctx) {
            Ok(k) => k,
            Err(e) if e.code() == Code::AlreadyConsumed => {
                self.warn_once(
                    &id,
                    "relay asks for a key, but this pending id was already consumed here",
                );
                return Ok(());
            }
            // A key made earlier is bound to the context stored then; a relay
            // that changes the context afterwards gets nothing.
            Err(e) if e.code() == Code::PendingConflict => {
                self.warn_once(&id, &format!("ignored: {e}"));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        local.insert(id.clone());
        if self.announced.insert(id.clone()) {
            println!(
                "pending {id}: one-time key fingerprint {} (slug={}, method={})",
                keys.public_key.fingerprint(),
                printable(ctx.slug()),
                printable(ctx.injection_method())
            );
        }
        // The identity this key is bound to in the keystore, which may be a
        // retired one for a key made before a rotation: never the current
        // one by default (PINNING.md §6).
        let body = request_body(&PostPubkey {
            public_key: keys.public_key.to_b64u(),
            identity_key: keys.identity_key.map(|k| k.to_b64u()),
        })?;
        let path = format!("/api/v1/node/pending/{id}/pubkey");
        if let Some(e) = self.signed_settled("PUT", &path, &body)? {
            self.warn_once(&id, &format!("public key not taken: {e}"));
        }
        Ok(())
    }

    /// Open one envelope with the stored key and context, then acknowledge.
    fn deliver(&mut self, item: &Delivery) -> Result<()> {
        if let Err(e) = check_id(&item.pending_id, "pending_id") {
            self.warn_once(&item.pending_id, &format!("envelope ignored: {e}"));
            return Ok(());
        }
        let id = item.pending_id.as_str();
        let raw = item.envelope.get().as_bytes();
        let open = open_with;
        let ack = match self.store.accept(id, raw, open) {
            Ok(a) => {
                println!(
                    "delivered slug={} pending={id} stored in {}",
                    printable(&a.slug),
                    a.db_path.display()
                );
                AckResult::Consumed
            }
            Err(e) => match self.classify(id, &e) {
                Some(ack) => ack,
                None => {
                    // Local trouble (store locked, KEK, tampered blob):
                    // leave the envelope at the relay and try again later.
                    self.warn_once(id, &format!("envelope kept at the relay: {e}"));
                    return Ok(());
                }
            },
        };
        let body = request_body(&PostAck { result: ack })?;
        let path = format!("/api/v1/node/pending/{id}/ack");
        // Already terminal or gone at the relay: nothing left to tell it.
        self.signed_settled("POST", &path, &body)?;
        Ok(())
    }

    /// Which ack an accept failure deserves, or `None` to retry later.
    fn classify(&mut self, id: &str, e: &Error) -> Option<AckResult> {
        match e.code() {
            Code::AlreadyConsumed => {
                // Opened before (e.g. the ack got lost): say so again.
                let stored = self
                    .store
                    .secret_list()
                    .map(|l| l.iter().any(|m| m.pending_id == id))
                    .unwrap_or(false);
                if stored {
                    println!("pending {id}: already delivered here; acknowledging again");
                } else {
                    println!(
                        "pending {id}: key already consumed (secret since replaced); acknowledging"
                    );
                }
                Some(AckResult::Consumed)
            }
            Code::RecordNotFound => {
                let ack = AckResult::DecryptFailed;
                println!(
                    "pending {id}: no one-time key here for it; reporting {}",
                    ack.target_state().as_str()
                );
                Some(ack)
            }
            Code::VersionDowngrade => {
                let ack = AckResult::DecryptFailed;
                println!(
                    "pending {id}: refused a v1 envelope for a key bound to this node's identity (possible downgrade by the relay; {}); key kept, reporting {}",
                    e.code(),
                    ack.target_state().as_str()
                );
                Some(ack)
            }
            // 8307: a v2 envelope this node cannot open without an identity
            // key (the agent holds one; kept for keystores without). Like
            // every envelope it can never open: say so, so the sender can
            // retry instead of the credential stalling.
            Code::DecryptFailed
            | Code::IdentityKeyRequired
            | Code::VersionUnsupported
            | Code::CiphertextTooLarge
            | Code::EnvelopeNotJson
            | Code::EnvelopeMissingKey
            | Code::EnvelopeUnknownKey
            | Code::EnvelopeDuplicateKey
            | Code::EnvelopeWrongType
            | Code::SuiteUnsupported
            | Code::InvalidBase64
            | Code::InvalidLength
            | Code::PlaintextEmpty => {
                let ack = AckResult::DecryptFailed;
                println!(
                    "pending {id}: envelope rejected ({}); key kept, reporting {}",
                    e.code(),
                    ack.target_state().as_str()
                );
                Some(ack)
            }
            _ => None,
        }
    }

    /// The items of a list the agent can read; the others are reported
    /// once and skipped.
    fn readable<T: serde::de::DeserializeOwned>(
        &mut self,
        raws: &[Box<RawValue>],
        list: &str,
    ) -> Vec<T> {
        let (items, skipped) = readable_items(raws, list);
        if let Some(e) = skipped {
            let n = raws.len() - items.len();
            self.warn_once("?", &format!("skipped {n} unreadable item(s): {e}"));
        }
        items
    }

    fn warn_once(&mut self, pending_id: &str, what: &str) {
        if self.warned.insert(format!("{pending_id}\n{what}")) {
            eprintln!("pending {}: {what}", printable(pending_id));
        }
    }

    /// A rotation (`sealpass node identity rotate`) made while this agent
    /// runs: say so once, with the new fingerprint senders must re-pin.
    fn notice_identity_rotation(&mut self) {
        match self.store.existing_node_identity() {
            Ok(Some(sk)) => {
                let nik = sk.public_key();
                if nik != self.identity {
                    println!(
                        "node {}: identity rotated; new keys are bound to identity fingerprint {} (public key {}); senders must re-pin it",
                        self.opts.node_id,
                        nik.identity_fingerprint(),
                        nik.to_b64u()
                    );
                    self.identity = nik;
                }
            }
            Ok(None) => {}
            Err(e) => self.warn_once("?", &format!("cannot read the identity key: {e}")),
        }
    }

    /// Send a signed request. A random query parameter makes every request
    /// unique, so two identical polls within one second are never mistaken
    /// for a replay by the relay's signature cache.
    fn signed(&self, method: &str, path: &str, body: Option<&[u8]>, limit: usize) -> Result<Reply> {
        let mut n = [0u8; 12];
        sealpass::rng::os_fill(&mut n)?;
        let target = format!("{path}?n={}", sealpass::b64::encode(&n));
        let headers = sign_request(
            &self.secret.secret,
            &self.opts.node_id,
            self.secret.key_version,
            method,
            &target,
            body.unwrap_or(b""),
            unix_now(),
        );
        self.relay.call(method, &target, &headers, body, limit)
    }

    /// A signed JSON call whose "already done or gone" answers (8608, 8603,
    /// 8602) are not failures: every step of the agent is idempotent, so the
    /// relay having moved on is fine. Returns that answer, if any.
    fn signed_settled(&self, method: &str, path: &str, body: &[u8]) -> Result<Option<Error>> {
        match self.signed(method, path, Some(body), SMALL_LIMIT) {
            Ok(_) => Ok(None),
            Err(e)
                if matches!(
                    e.code(),
                    Code::InvalidState | Code::Expired | Code::NotFound
                ) =>
            {
                Ok(Some(e))
            }
            Err(e) => Err(e),
        }
    }

    fn local_key_ids(&self) -> Result<HashSet<String>> {
        Ok(self
            .store
            .list_pending()?
            .into_iter()
            .map(|m| m.pending_id)
            .collect())
    }

    /// Delete this node's one-time keys that are too old to ever be used.
    fn sweep_stale_keys(&mut self) {
        let cutoff = unix_now() - STALE_KEY_SECS;
        let Ok(list) = self.store.list_pending() else {
            return;
        };
        for m in list {
            if m.node_id != self.opts.node_id || m.created_at >= cutoff {
                continue;
            }
            match self.store.delete_record(Purpose::PendingKey, &m.pending_id) {
                Ok(_) => println!(
                    "pending {}: one-time key older than 48 h deleted (it can no longer be used)",
                    printable(&m.pending_id)
                ),
                Err(e) => eprintln!(
                    "pending {}: cannot delete stale key: {e}",
                    printable(&m.pending_id)
                ),
            }
        }
    }

    /// After a restart, show the keys still waiting so an operator can
    /// compare them with what the admin sees.
    fn announce_local_keys(&mut self) {
        match self.store.list_pending() {
            Ok(list) => {
                for m in list {
                    if m.node_id == self.opts.node_id && self.announced.insert(m.pending_id.clone())
                    {
                        println!(
                            "pending {}: one-time key fingerprint {} (slug={}, waiting for its envelope)",
                            printable(&m.pending_id),
                            m.fingerprint,
                            printable(&m.slug)
                        );
                    }
                }
            }
            Err(e) => eprintln!("node {}: cannot list pending keys: {e}", self.opts.node_id),
        }
    }
}

/// The decryption step of an accept: v1 and v2 with the identity the key is
/// bound to, v1 only without one.
fn open_with(
    sk: &SecretKey,
    isk: Option<&SecretKey>,
    env: &[u8],
    ctx: &Context,
) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    match isk {
        Some(isk) => sealpass_open::open_json_with_identity(sk, isk, env, ctx),
        None => sealpass_open::open_json(sk, env, ctx),
    }
}

/// Validate the relay's context: core rules, our own node id, and the
/// pending id it is listed under.
fn check_context(item: &NodePending, node_id: &str) -> Result<Context> {
    check_id(&item.pending_id, "pending_id")?;
    let ctx = Context::from_json(item.context.get().as_bytes())?;
    if ctx.node_id() != node_id {
        return Err(Error::new(
            Code::RelayProtocol,
            "context names another node",
        ));
    }
    if ctx.pending_id() != item.pending_id {
        return Err(Error::new(
            Code::RelayProtocol,
            "context names another pending id",
        ));
    }
    Ok(ctx)
}

fn is_auth_error(e: &Error) -> bool {
    matches!(
        e.code(),
        Code::SignatureInvalid | Code::SignatureUnknownKey | Code::SignatureMalformed
    )
}

/// Parse each item of a list on its own: one the agent cannot read (an
/// unknown state from a newer or misbehaving relay) must not stall the
/// others. Returns the readable items and the error of the last skipped one.
fn readable_items<T: serde::de::DeserializeOwned>(
    raws: &[Box<RawValue>],
    list: &str,
) -> (Vec<T>, Option<Error>) {
    let mut skipped = None;
    let items = raws
        .iter()
        .filter_map(|raw| match http::parse::<T>(raw.get().as_bytes(), list) {
            Ok(v) => Some(v),
            Err(e) => {
                skipped = Some(e);
                None
            }
        })
        .collect();
    (items, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_unreadable_list_item_does_not_hide_the_others() {
        let body = br#"{"pending":[
            {"pending_id":"p-1","state":"awaiting_pubkey","expires_at":9,"needs_pubkey":true,"context":{"node_id":"n"}},
            {"pending_id":"p-2","state":"from_the_future","expires_at":9,"context":{}},
            {"pending_id":"p-3","state":"pubkey_posted","expires_at":9,"context":{}}
        ]}"#;
        let list: PendingList<Box<RawValue>> = http::parse(body, "pending list").unwrap();
        let (items, skipped) = readable_items::<NodePending>(&list.pending, "pending list");
        let ids: Vec<&str> = items.iter().map(|i| i.pending_id.as_str()).collect();
        assert_eq!(ids, ["p-1", "p-3"]);
        assert_eq!(skipped.map(|e| e.code()), Some(Code::RelayProtocol));
        // The same body as one strictly typed list does not parse at all.
        assert!(http::parse::<PendingList>(body, "pending list").is_err());
    }

    fn item(id: &str, ctx: serde_json::Value) -> NodePending {
        NodePending {
            pending_id: id.into(),
            state: sealpass_native::wire::TargetState::AwaitingPubkey,
            expires_at: 0,
            needs_pubkey: true,
            context: serde_json::value::to_raw_value(&ctx).unwrap(),
        }
    }

    #[test]
    fn relay_contexts_are_checked() {
        let ok = serde_json::json!({"node_id":"n1","pending_id":"p1","slug":"s","injection_method":"env"});
        assert_eq!(
            check_context(&item("p1", ok.clone()), "n1").unwrap().slug(),
            "s"
        );
        let e = check_context(&item("p1", ok.clone()), "n2").unwrap_err();
        assert_eq!(e.code(), Code::RelayProtocol);
        let e = check_context(&item("p2", ok.clone()), "n1").unwrap_err();
        assert_eq!(e.code(), Code::RelayProtocol);
        assert!(check_context(&item("../x", ok), "n1").is_err());
        let bad = serde_json::json!({"node_id":"n1","pending_id":"p1","slug":"s","injection_method":"Env"});
        assert_eq!(
            check_context(&item("p1", bad), "n1").unwrap_err().code(),
            Code::InjectionMethodInvalid
        );
        let extra = serde_json::json!({"node_id":"n1","pending_id":"p1","slug":"s","injection_method":"env","x":1});
        assert_eq!(
            check_context(&item("p1", extra), "n1").unwrap_err().code(),
            Code::ContextMalformed
        );
    }
}
