//! The node agent loop: heartbeat, post one-time public keys, pull and open
//! envelopes, acknowledge.
//!
//! Trust boundary: the relay only ever *proposes*. A context it sends is
//! validated (core rules, our own node id, the pending id it is listed
//! under) before a key is made for it, and at accept time the keystore opens
//! the envelope with the context it stored then — never with anything the
//! relay says later. Every relay string that reaches the console is
//! sanitized; no secret reaches it at all.
//!
//! Nothing the relay lists is kept before it is validated, and what is kept
//! is bounded: the agent's memory ([`super::notes`]), the keys and slugs a
//! relay can make it create ([`super::admit`], [`super::budget`]), and the
//! keys left behind by pendings the relay stopped listing for a long grace
//! ([`super::absent`], [`super::sweep`]), and the envelopes answered
//! ([`super::handled`]).

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use super::absent::{self, Absent, GraceArgs};
use super::admit::{Admission, Local, Verdict, MAX_LOCAL_KEYS};
use super::budget::{Bucket, BudgetArgs, ANSWERS_PER_HOUR, REOPENS_PER_HOUR};
use super::handled::{Answer, Handled, Posted, Recent};
use super::http::{self, check_id, printable, Relay, Reply, LARGE_LIMIT, SMALL_LIMIT};
use super::list;
use super::notes::{Episode, Note, Notes, Warn};
use super::pace::{Backoff, Stop};
use super::register::{load_secret, NodeSecret};
use super::sweep;
use sealpass::context::Context;
use sealpass::error::{Code, Error, Result};
use sealpass::SecretKey;
use sealpass_native::keystore::{KeyStatus, Keystore};
use sealpass_native::signing::{sign_request, unix_now};
use sealpass_native::wire::{request_body, AckResult, Delivery, NodePending, PostAck, PostPubkey};
use serde_json::value::RawValue;

/// The relay lists at most this many pendings per node (its query's
/// LIMIT); a longer list is not from an honest relay and is refused whole.
/// A list of exactly this many may be truncated: no key is pruned then.
pub const MAX_PENDING_ITEMS: usize = 1000;
/// An honest relay holds envelopes only for keys this node posted, and the
/// node holds at most [`MAX_LOCAL_KEYS`] of them.
pub const MAX_ENVELOPE_ITEMS: usize = MAX_LOCAL_KEYS;
/// A key the relay still asks for although it was posted (or refused for
/// good) is re-posted at most this often: an honest relay stops asking.
const REPOST_EVERY: Duration = Duration::from_secs(60);
/// The HMAC secret is reloaded after an auth error at most this often.
const RELOAD_SECRET_EVERY: Duration = Duration::from_secs(300);
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
    /// Per-relay budgets.
    pub budget: BudgetArgs,
    /// How long a pending must be missing before its key is pruned.
    pub grace: GraceArgs,
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
    /// Bounded memory of the listed pendings and of logged misbehaviour.
    notes: Notes,
    /// Caps and budgets for new keys and slugs.
    admission: Admission,
    /// Envelope opens after the first per pending id (each is audited).
    reopens: Bucket,
    /// Acknowledgements of envelopes not opened (no key, or consumed).
    answers: Bucket,
    /// The last answer per pending id, outliving the notes.
    handled: Handled,
    /// The last key post per pending id, outliving the notes.
    posted: Recent<Posted>,
    /// When stale keys were last swept.
    last_sweep: Option<Instant>,
    /// When the HMAC secret was last reloaded after an auth error.
    secret_loaded: Option<Instant>,
    /// Keys whose pending the relay stopped listing, until they are pruned.
    absent: Absent,
}

impl Agent {
    /// Load the HMAC secret and get ready; fails if the node was never registered.
    pub fn new(relay: Relay, store: Keystore, opts: Options) -> Result<Agent> {
        let secret = load_secret(&store, &opts.node_id)?;
        let identity = store.node_identity()?.public_key();
        let admission = Admission::new(opts.budget);
        let grace = Duration::from_secs(opts.grace.unlisted_grace_secs);
        Ok(Agent {
            relay,
            store,
            opts,
            secret,
            identity,
            stop: Stop::install(),
            notes: Notes::default(),
            admission,
            reopens: Bucket::per_hour(REOPENS_PER_HOUR),
            answers: Bucket::per_hour(ANSWERS_PER_HOUR),
            handled: Handled::default(),
            posted: Recent::default(),
            last_sweep: None,
            secret_loaded: None,
            absent: Absent::new(grace),
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
        sweep::stale(&self.store, &self.opts.node_id);
        self.last_sweep = Some(Instant::now());
        self.notes = Notes::new(self.announce_local_keys());
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
                    self.notes.abandon_cycle();
                    if self.opts.once {
                        return Err(e);
                    }
                    if is_auth_error(&e)
                        && self
                            .secret_loaded
                            .map_or(true, |t| t.elapsed() >= RELOAD_SECRET_EVERY)
                    {
                        // A re-registration (rotation) may have replaced the
                        // secret. Each load is an audited record read: a
                        // relay answering 401 every other poll must not
                        // turn each into an audit row.
                        self.secret_loaded = Some(Instant::now());
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

    /// One round: heartbeat, keys, envelopes, then pruning the keys of
    /// pendings the relay has not listed for the grace ([`super::absent`]).
    fn cycle(&mut self) -> Result<()> {
        if self.last_sweep.map_or(true, |t| t.elapsed() >= SWEEP_EVERY) {
            sweep::stale(&self.store, &self.opts.node_id);
            self.last_sweep = Some(Instant::now());
        }
        self.notice_identity_rotation();
        self.signed("POST", "/api/v1/node/heartbeat", Some(b"{}"), SMALL_LIMIT)?;
        let reply = self.signed("GET", "/api/v1/node/pending", None, LARGE_LIMIT)?;
        let raws = list::items(&reply.body, "pending", MAX_PENDING_ITEMS)?;
        // A list that may be truncated, or that holds items the agent
        // cannot read, does not show which pendings are gone.
        let mut incomplete = raws.len() >= MAX_PENDING_ITEMS;
        let (items, unreadable) = self.readable::<NodePending>(&raws, "pending list");
        incomplete |= unreadable;
        let mut local: Option<Local> = None;
        for item in items {
            if self.stop.requested() {
                return Ok(());
            }
            if !self.listed_id(&item.pending_id, &mut incomplete) {
                continue;
            }
            if item.needs_pubkey {
                self.post_key(&item, &mut local)?;
            }
        }
        let reply = self.signed("GET", "/api/v1/node/envelopes", None, LARGE_LIMIT)?;
        let raws = list::items(&reply.body, "envelopes", MAX_ENVELOPE_ITEMS)?;
        let (items, unreadable) = self.readable::<Delivery>(&raws, "envelope list");
        incomplete |= unreadable;
        for item in items {
            if self.stop.requested() {
                return Ok(());
            }
            if self.listed_id(&item.pending_id, &mut incomplete) {
                self.deliver(&item)?;
            }
        }
        let ended = self.notes.end_cycle();
        // The keystore is read only while some key may be missing.
        let held = if ended.gone.is_empty() && self.absent.is_empty() {
            None
        } else {
            sweep::held(&self.store, &self.opts.node_id)
        };
        let due = self
            .absent
            .end_cycle(&ended.listed, ended.gone, held.as_ref(), !incomplete);
        let held = held.map_or(0, |h| h.len());
        let above = usize::try_from(self.opts.grace.prune_above_keys).unwrap_or(usize::MAX);
        let prune = absent::under_pressure(&due, held, above);
        if !prune.is_empty() {
            let grace = self.absent.grace_text();
            sweep::unlisted(&self.store, &self.opts.node_id, prune, &grace);
            let prune = prune.to_vec();
            self.absent.forget(&prune);
        }
        Ok(())
    }

    /// Check a listed pending id before anything about it is kept: an
    /// invalid one is logged once per episode (escaped, cut short) and
    /// skipped; a valid one gets a note (false when the notes are full).
    fn listed_id(&mut self, id: &str, incomplete: &mut bool) -> bool {
        if let Err(e) = check_id(id, "pending_id") {
            if self.notes.episode(Episode::InvalidId) {
                eprintln!(
                    "node {}: ignoring items with an invalid pending id ({e}), e.g. \"{}\"",
                    self.opts.node_id,
                    printable(id)
                );
            }
            return false;
        }
        if self.notes.note(id).is_some() {
            return true;
        }
        *incomplete = true;
        if self.notes.episode(Episode::NotesFull) {
            eprintln!(
                "node {}: relay lists more than {} pending ids; the others wait",
                self.opts.node_id,
                super::notes::MAX_NOTES
            );
        }
        false
    }

    /// The note of an id [`Agent::listed_id`] accepted in this cycle.
    fn note(&mut self, id: &str) -> Result<&mut Note> {
        self.notes
            .note(id)
            .ok_or_else(|| Error::new(Code::Internal, "pending note vanished"))
    }

    /// Make (or re-use) the one-time key for a pending credential and post it.
    fn post_key(&mut self, item: &NodePending, local: &mut Option<Local>) -> Result<()> {
        let id = item.pending_id.as_str();
        let node_id = self.opts.node_id.clone();
        let note = self.note(id)?;
        if note.has(Warn::BadContext) || note.has(Warn::Consumed) || note.has(Warn::Conflict) {
            return Ok(());
        }
        let posted = self.posted.get(id);
        if posted
            .as_ref()
            .is_some_and(|p| p.at.is_some_and(|t| t.elapsed() < REPOST_EVERY))
        {
            return Ok(());
        }
        let ctx = match check_context(item, &node_id) {
            Ok(c) => c,
            Err(e) => {
                // Marked, so it is not checked again while listed; logged
                // per episode: ever-new ids must not mean ever-new lines.
                self.note(id)?.first(Warn::BadContext);
                if self.notes.episode(Episode::BadContext) {
                    eprintln!(
                        "node {node_id}: ignoring pendings whose context fails the checks ({e}), e.g. pending {}",
                        printable(id)
                    );
                }
                return Ok(());
            }
        };
        // The canonical form: another spelling of the same context is the
        // same context, and must not cost a keystore access either.
        let ctx_digest = digest(ctx.to_json().as_bytes());
        if let Some(p) = posted {
            if p.ctx_digest == ctx_digest {
                return self.put_pubkey(id, &p.body);
            }
        }
        let local = match local {
            Some(l) => l,
            None => local.insert(Local::read(&self.store)?),
        };
        let new_slug = match self.admission.check(local, &ctx) {
            Verdict::Held => None,
            Verdict::New { new_slug } => Some(new_slug),
            Verdict::Refused(episode) => {
                self.refused(episode);
                return Ok(());
            }
        };
        let keys = match self.store.create_pending(&ctx) {
            Ok(k) => k,
            Err(e) if e.code() == Code::AlreadyConsumed => {
                self.warn(
                    id,
                    Warn::Consumed,
                    "relay asks for a key, but this pending id was already consumed here",
                )?;
                return Ok(());
            }
            // A key made earlier is bound to the context stored then; a relay
            // that changes the context afterwards gets nothing.
            Err(e) if e.code() == Code::PendingConflict => {
                self.warn(id, Warn::Conflict, &format!("ignored: {e}"))?;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if let Some(new_slug) = new_slug {
            self.admission.made(local, &ctx, new_slug);
        }
        let note = self.note(id)?;
        if !note.announced {
            note.announced = true;
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
        let post = Posted {
            ctx_digest,
            body: body.clone(),
            at: None,
        };
        self.posted.put(id, post);
        self.put_pubkey(id, &body)
    }

    /// Post (or re-post) our public key for `id`.
    fn put_pubkey(&mut self, id: &str, body: &[u8]) -> Result<()> {
        let path = format!("/api/v1/node/pending/{id}/pubkey");
        let settled = self.signed_settled("PUT", &path, body)?;
        if let Some(p) = self.posted.get_mut(id) {
            p.at = Some(Instant::now());
        }
        if let Some(e) = settled {
            self.warn(id, Warn::NotTaken, &format!("public key not taken: {e}"))?;
        }
        Ok(())
    }

    /// Log a refused new key once per episode.
    fn refused(&mut self, episode: Episode) {
        if !self.notes.episode(episode) {
            return;
        }
        let (keys, slugs) = self.admission.rates();
        let why = match episode {
            Episode::KeyBudget => format!(
                "the relay asks for more than {keys} new one-time keys per hour (--max-new-keys-per-hour)"
            ),
            Episode::SlugBudget => format!(
                "the relay asks for more than {slugs} new slugs per hour (--max-new-slugs-per-hour)"
            ),
            Episode::KeyCap => format!("this node already holds {MAX_LOCAL_KEYS} one-time keys"),
            Episode::SecretCap => format!(
                "this node already holds or awaits {} distinct slugs",
                super::admit::MAX_SLUGS
            ),
            _ => "limit reached".to_owned(),
        };
        eprintln!(
            "node {}: not creating new one-time keys for now: {why}; keys already held are still served",
            self.opts.node_id
        );
    }

    /// Open one envelope with the stored key and context, then acknowledge.
    /// The same envelope bytes are not opened again, only acknowledged
    /// again (the same answer), at most every [`REPOST_EVERY`], for as long
    /// as [`Handled`] remembers the id (not only while it is listed);
    /// another envelope for an id tried before spends the re-open budget
    /// (each open is an audit row and an X25519 computation). An envelope
    /// for a key this node never held, or already consumed, is answered
    /// from the keystore's metadata without an accept (no audit row), within
    /// the answer budget, and logged once per episode.
    fn deliver(&mut self, item: &Delivery) -> Result<()> {
        let id = item.pending_id.as_str();
        let raw = item.envelope.get().as_bytes();
        let hash = digest(raw);
        let last = self.handled.get(id);
        if let Some(a) = last {
            if a.hash == hash {
                if a.at.elapsed() >= REPOST_EVERY {
                    self.ack(id, a.ack, hash)?;
                }
                return Ok(());
            }
        }
        match self.store.key_status(id) {
            Ok(KeyStatus::Waiting) => {}
            Ok(KeyStatus::Missing) => {
                let ack = AckResult::DecryptFailed;
                if self.notes.episode(Episode::UnknownKey) {
                    println!(
                        "node {}: the relay lists envelopes for pendings this node holds no one-time key for, e.g. pending {}; reporting {} (logged once per episode)",
                        self.opts.node_id,
                        printable(id),
                        ack.target_state().as_str()
                    );
                }
                return self.answer_budgeted(id, ack, hash);
            }
            Ok(KeyStatus::Consumed { stored }) => {
                if self.notes.episode(Episode::Consumed) {
                    if stored {
                        println!(
                            "pending {}: already delivered here; acknowledging again",
                            printable(id)
                        );
                    } else {
                        println!(
                            "pending {}: key already consumed (secret since replaced); acknowledging",
                            printable(id)
                        );
                    }
                }
                return self.answer_budgeted(id, AckResult::Consumed, hash);
            }
            Err(e) => {
                self.warn(id, Warn::Kept, &format!("envelope kept at the relay: {e}"))?;
                return Ok(());
            }
        }
        let reopen = last.is_some();
        if reopen && !self.reopens.ready() {
            if self.notes.episode(Episode::ReopenBudget) {
                eprintln!(
                    "node {}: the relay re-sends more than {REOPENS_PER_HOUR} envelopes per hour; the others wait",
                    self.opts.node_id
                );
            }
            return Ok(());
        }
        if reopen {
            self.reopens.take();
        }
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
                    self.warn(id, Warn::Kept, &format!("envelope kept at the relay: {e}"))?;
                    return Ok(());
                }
            },
        };
        self.ack(id, ack, hash)
    }

    /// Acknowledge an envelope that was not opened, if the answer budget
    /// allows; otherwise not now (the relay lists it again).
    fn answer_budgeted(&mut self, id: &str, ack: AckResult, hash: u64) -> Result<()> {
        if !self.answers.ready() {
            if self.notes.episode(Episode::AnswerBudget) {
                eprintln!(
                    "node {}: the relay lists more than {ANSWERS_PER_HOUR} envelopes per hour that this node cannot open; the others are not answered for now",
                    self.opts.node_id
                );
            }
            return Ok(());
        }
        self.answers.take();
        self.ack(id, ack, hash)
    }

    /// Acknowledge the envelope with hash `hash` for `id`.
    fn ack(&mut self, id: &str, ack: AckResult, hash: u64) -> Result<()> {
        let body = request_body(&PostAck { result: ack })?;
        let path = format!("/api/v1/node/pending/{id}/ack");
        // Already terminal or gone at the relay: nothing left to tell it.
        self.signed_settled("POST", &path, &body)?;
        let at = Instant::now();
        self.handled.put(id, Answer { hash, ack, at });
        Ok(())
    }

    /// Which ack an accept failure deserves, or `None` to retry later.
    fn classify(&mut self, id: &str, e: &Error) -> Option<AckResult> {
        match e.code() {
            Code::AlreadyConsumed => {
                // Consumed since the metadata was read (another process):
                // say so.
                let stored = matches!(
                    self.store.key_status(id),
                    Ok(KeyStatus::Consumed { stored: true })
                );
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

    /// The items of a list the agent can read; the others are skipped
    /// (logged once per episode). True in `.1` when some were skipped.
    fn readable<T: serde::de::DeserializeOwned>(
        &mut self,
        raws: &[&RawValue],
        list: &str,
    ) -> (Vec<T>, bool) {
        let (items, skipped) = readable_items(raws, list);
        let unreadable = skipped.is_some();
        if let Some(e) = skipped {
            if self.notes.episode(Episode::Unreadable) {
                eprintln!(
                    "node {}: skipped unreadable item(s) of the {list}: {e}",
                    self.opts.node_id
                );
            }
        }
        (items, unreadable)
    }

    /// Print `what` about a listed (valid) pending id, once per kind for as
    /// long as the relay lists it.
    fn warn(&mut self, id: &str, kind: Warn, what: &str) -> Result<()> {
        if self.note(id)?.first(kind) {
            eprintln!("pending {}: {}", printable(id), what);
        }
        Ok(())
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
            Err(e) => {
                if self.notes.episode(Episode::Identity) {
                    eprintln!(
                        "node {}: cannot read the identity key: {e}",
                        self.opts.node_id
                    );
                }
            }
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

    /// After a restart, show the keys still waiting so an operator can
    /// compare them with what the admin sees. Returns their ids, so the
    /// fingerprint is not printed a second time.
    fn announce_local_keys(&mut self) -> HashSet<String> {
        let mut announced = HashSet::new();
        match self.store.list_pending() {
            Ok(list) => {
                for m in list {
                    if m.node_id == self.opts.node_id && announced.insert(m.pending_id.clone()) {
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
        announced
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

/// Tells envelopes (and contexts) apart cheaply. Not a security boundary:
/// a relay that forges a collision only gets an envelope skipped or a key
/// re-posted, which it could simply withhold or ask for anyway.
fn digest(raw: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    raw.hash(&mut h);
    h.finish()
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
    raws: &[&RawValue],
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
        let raws = list::items(body, "pending", MAX_PENDING_ITEMS).unwrap();
        let (items, skipped) = readable_items::<NodePending>(&raws, "pending list");
        let ids: Vec<&str> = items.iter().map(|i| i.pending_id.as_str()).collect();
        assert_eq!(ids, ["p-1", "p-3"]);
        assert_eq!(skipped.map(|e| e.code()), Some(Code::RelayProtocol));
        // The same body as one strictly typed list does not parse at all.
        assert!(http::parse::<sealpass_native::wire::PendingList>(body, "pending list").is_err());
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
