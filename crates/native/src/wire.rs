//! The relay's HTTP API types (docs/API.md), serialized with serde. The
//! relay builds these and its clients (node agent, inject) read them, so
//! both ends share one definition.
//!
//! Field order here is wire order, and serde's defaults (compact output,
//! `Option::None` omitted only where marked) are the wire format: the tests
//! at the end pin the exact bytes of every type.
//!
//! Contexts and envelopes travel as [`RawObject`]s: the relay writes them
//! from [`WireContext`] / [`WireEnvelope`], and a receiver hands the exact
//! bytes to the core parser (`Context::from_json`, the envelope opener),
//! which is stricter than serde (duplicate keys, canonical form) and whose
//! error codes are reported per item instead of failing a whole list.

use std::io;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};
use serde_json::value::RawValue;

use sealpass::context::Context;
use sealpass::envelope::Envelope;
use sealpass::error::{Code, Error, Result};

/// A JSON object carried verbatim (see the module docs).
pub type RawObject = Box<RawValue>;

// ---------------------------------------------------------------- states

/// Where one target (one node of a pending credential) stands. The relay
/// stores it as [`TargetState::as_str`] and sends the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    /// Waiting for the node's one-time public key.
    AwaitingPubkey,
    /// Key posted; ready for an envelope.
    PubkeyPosted,
    /// Envelope stored, node online (or already pulled it).
    CiphertextReceived,
    /// Envelope stored while the node was offline; delivered on reconnect.
    CiphertextQueued,
    /// The node opened and stored the secret.
    Consumed,
    /// The node could not open the envelope; a new one may be posted.
    DecryptFailed,
    /// The pending credential expired before this target consumed.
    Expired,
    /// An admin cancelled the pending credential before this target
    /// consumed (`POST /api/v1/admin/pendings/{id}/cancel`).
    Cancelled,
}

impl TargetState {
    /// Every state, in lifecycle order.
    pub const ALL: [TargetState; 8] = [
        TargetState::AwaitingPubkey,
        TargetState::PubkeyPosted,
        TargetState::CiphertextReceived,
        TargetState::CiphertextQueued,
        TargetState::Consumed,
        TargetState::DecryptFailed,
        TargetState::Expired,
        TargetState::Cancelled,
    ];

    /// The wire and database name (equal to the serde name; a test checks).
    pub const fn as_str(self) -> &'static str {
        match self {
            TargetState::AwaitingPubkey => "awaiting_pubkey",
            TargetState::PubkeyPosted => "pubkey_posted",
            TargetState::CiphertextReceived => "ciphertext_received",
            TargetState::CiphertextQueued => "ciphertext_queued",
            TargetState::Consumed => "consumed",
            TargetState::DecryptFailed => "decrypt_failed",
            TargetState::Expired => "expired",
            TargetState::Cancelled => "cancelled",
        }
    }

    /// The state with this name.
    pub fn from_name(name: &str) -> Option<TargetState> {
        TargetState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Takes an envelope now: the first one, or a retry after a failure.
    pub const fn accepts_envelope(self) -> bool {
        matches!(self, TargetState::PubkeyPosted | TargetState::DecryptFailed)
    }

    /// An envelope is stored and waiting for the node's ack.
    pub const fn envelope_in_flight(self) -> bool {
        matches!(
            self,
            TargetState::CiphertextReceived | TargetState::CiphertextQueued
        )
    }

    /// The node has given its verdict or the credential expired: nothing
    /// more happens unless the sender posts a retry. `Cancelled` is not
    /// counted here on purpose: a waiter must check the aggregate
    /// [`PendingState::Cancelled`] itself and report it as a failure, so a
    /// waiter that does not know the state keeps waiting (until its own
    /// deadline) rather than reporting success.
    pub const fn is_settled(self) -> bool {
        matches!(
            self,
            TargetState::Consumed | TargetState::DecryptFailed | TargetState::Expired
        )
    }
}

impl ToSql for TargetState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for TargetState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let name = value.as_str()?;
        TargetState::from_name(name).ok_or_else(|| {
            FromSqlError::Other(Box::new(Error::new(
                Code::RecordTampered,
                "unknown target state in the database",
            )))
        })
    }
}

/// The aggregate state of a pending credential (docs/API.md §States):
/// computed from its targets, never stored. Every target state can be the
/// aggregate; `partial_decrypted` only ever is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingState {
    /// Some node has not posted its key yet.
    AwaitingPubkey,
    /// Every key posted, some target still waits for an envelope.
    PubkeyPosted,
    /// Envelopes in flight, every node online.
    CiphertextReceived,
    /// Envelopes in flight, some node offline.
    CiphertextQueued,
    /// Every target consumed.
    Consumed,
    /// Every target failed.
    DecryptFailed,
    /// The credential expired.
    Expired,
    /// Some target failed, not all: retry posts only the failed subset.
    PartialDecrypted,
    /// An admin cancelled the credential.
    Cancelled,
}

impl From<TargetState> for PendingState {
    fn from(s: TargetState) -> Self {
        match s {
            TargetState::AwaitingPubkey => PendingState::AwaitingPubkey,
            TargetState::PubkeyPosted => PendingState::PubkeyPosted,
            TargetState::CiphertextReceived => PendingState::CiphertextReceived,
            TargetState::CiphertextQueued => PendingState::CiphertextQueued,
            TargetState::Consumed => PendingState::Consumed,
            TargetState::DecryptFailed => PendingState::DecryptFailed,
            TargetState::Expired => PendingState::Expired,
            TargetState::Cancelled => PendingState::Cancelled,
        }
    }
}

impl PendingState {
    /// Every state.
    pub const ALL: [PendingState; 9] = [
        PendingState::AwaitingPubkey,
        PendingState::PubkeyPosted,
        PendingState::CiphertextReceived,
        PendingState::CiphertextQueued,
        PendingState::Consumed,
        PendingState::DecryptFailed,
        PendingState::Expired,
        PendingState::PartialDecrypted,
        PendingState::Cancelled,
    ];

    /// The target state of the same name, if there is one.
    pub const fn as_target(self) -> Option<TargetState> {
        Some(match self {
            PendingState::AwaitingPubkey => TargetState::AwaitingPubkey,
            PendingState::PubkeyPosted => TargetState::PubkeyPosted,
            PendingState::CiphertextReceived => TargetState::CiphertextReceived,
            PendingState::CiphertextQueued => TargetState::CiphertextQueued,
            PendingState::Consumed => TargetState::Consumed,
            PendingState::DecryptFailed => TargetState::DecryptFailed,
            PendingState::Expired => TargetState::Expired,
            PendingState::Cancelled => TargetState::Cancelled,
            PendingState::PartialDecrypted => return None,
        })
    }

    /// The wire name (shared with [`TargetState::as_str`]; a test checks
    /// both against serde).
    pub const fn as_str(self) -> &'static str {
        match self.as_target() {
            Some(t) => t.as_str(),
            None => "partial_decrypted",
        }
    }
}

/// What a node reports after trying an envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckResult {
    /// Opened and stored.
    Consumed,
    /// Could not be opened (or no key for it here).
    DecryptFailed,
}

impl AckResult {
    /// The state the ack moves the target to (the result is named after it).
    pub const fn target_state(self) -> TargetState {
        match self {
            AckResult::Consumed => TargetState::Consumed,
            AckResult::DecryptFailed => TargetState::DecryptFailed,
        }
    }
}

// ------------------------------------------------- contexts and envelopes

/// A context on the wire, keys in canonical order, empty optionals omitted
/// (the object `Context::to_json` produces).
#[derive(Serialize)]
pub struct WireContext<'a> {
    node_id: &'a str,
    pending_id: &'a str,
    slug: &'a str,
    injection_method: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    field_name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    target_url: &'a str,
}

impl<'a> From<&'a Context> for WireContext<'a> {
    fn from(c: &'a Context) -> Self {
        WireContext {
            node_id: c.node_id(),
            pending_id: c.pending_id(),
            slug: c.slug(),
            injection_method: c.injection_method(),
            field_name: c.field_name(),
            target_url: c.target_url(),
        }
    }
}

impl WireContext<'_> {
    /// `ctx` as a [`RawObject`].
    pub fn raw(ctx: &Context) -> Result<RawObject> {
        raw(&WireContext::from(ctx))
    }
}

/// An envelope on the wire in canonical key order (`Envelope::to_json`).
#[derive(Serialize)]
pub struct WireEnvelope {
    v: u8,
    suite: &'static str,
    epk: String,
    nonce: String,
    ct: String,
}

impl From<&Envelope> for WireEnvelope {
    fn from(e: &Envelope) -> Self {
        use sealpass::b64::encode;
        WireEnvelope {
            v: e.version.number(),
            suite: e.version.suite(),
            epk: encode(&e.epk),
            nonce: encode(&e.nonce),
            ct: encode(&e.ct),
        }
    }
}

impl WireEnvelope {
    /// `env` as a [`RawObject`].
    pub fn raw(env: &Envelope) -> Result<RawObject> {
        raw(&WireEnvelope::from(env))
    }
}

/// Serialize `v` once, to embed it verbatim.
fn raw<T: Serialize>(v: &T) -> Result<RawObject> {
    serde_json::value::to_raw_value(v)
        .map_err(|_| Error::new(Code::Internal, "cannot encode a wire object"))
}

/// JSON text that is already one object (e.g. `Envelope::to_json`), to embed
/// verbatim.
pub fn raw_from_json(json: String) -> Result<RawObject> {
    RawValue::from_string(json)
        .map_err(|_| Error::new(Code::Internal, "cannot encode a wire object"))
}

// --------------------------------------------------------------- errors

/// The body of every relay error: `{"code","name","message"}`.
#[derive(Serialize, Deserialize)]
pub struct ErrorBody {
    /// The numeric code (docs/PROTOCOL.md §13).
    pub code: u16,
    /// Its name. Clients need only `code`, so an answer without it (from a
    /// proxy in between, say) still parses.
    #[serde(default)]
    pub name: String,
    /// A short static detail, never request bytes.
    #[serde(default)]
    pub message: String,
}

// ---------------------------------------------------------------- admin

/// `POST /api/v1/admin/nodes` request.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddNode {
    /// The node to register.
    pub node_id: String,
}

/// The one time a node secret is shown (`POST /api/v1/admin/nodes`,
/// `…/rotate-secret`); also what `--register-secret-file` reads. No
/// `Debug`: it holds the secret.
#[derive(Serialize, Deserialize)]
pub struct SecretIssued {
    /// The node.
    pub node_id: String,
    /// Version of this secret.
    pub key_version: u32,
    /// The HMAC secret, B64U.
    pub secret: String,
}

/// `POST /api/v1/admin/nodes/{node_id}/revoke-previous` answer: the
/// previous versions kept valid by a rotation stop at once.
#[derive(Serialize, Deserialize)]
pub struct PreviousRevoked {
    /// The node.
    pub node_id: String,
    /// The one version still valid (the current one).
    pub key_version: u32,
    /// How many versions were still valid and stopped now (0: nothing to do).
    pub revoked: u32,
}

/// `DELETE /api/v1/admin/nodes/{node_id}` answer.
#[derive(Serialize, Deserialize)]
pub struct NodeDeleted {
    /// The node, no longer registered.
    pub node_id: String,
    /// Live pending credentials that named it and were ended (expired).
    pub pendings_ended: u32,
}

/// `POST /api/v1/admin/pending` request.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePending {
    /// Target nodes (1..=16, distinct, registered).
    pub node_ids: Vec<String>,
    /// Credential slug.
    pub slug: String,
    /// kebab-case injection method.
    pub injection_method: String,
    /// Optional field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_name: Option<String>,
    /// Optional target URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_url: Option<String>,
    /// Lifetime; the relay's default is one hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_secs: Option<i64>,
}

/// `POST /api/v1/admin/pending` answer.
#[derive(Serialize, Deserialize)]
pub struct PendingCreated {
    /// The new id.
    pub pending_id: String,
    /// `/accept#<pending_id>`.
    pub accept_path: String,
    /// Unix expiry.
    pub expires_at: i64,
    /// Aggregate state (`awaiting_pubkey`).
    pub state: PendingState,
    /// One per node. None carries a `code` yet, so the object is
    /// `{"node_id","state"}` (it once went through `serde_json::Value`,
    /// which sorts keys: the same bytes while `code` is absent).
    pub targets: Vec<TargetStatus>,
}

// ---------------------------------------------------------- sealing side

/// `GET /api/v1/pending/{id}` (and the admin GET).
#[derive(Serialize, Deserialize)]
pub struct PendingView {
    /// The id.
    pub pending_id: String,
    /// Aggregate state.
    pub state: PendingState,
    /// Unix expiry.
    pub expires_at: i64,
    /// One per node.
    pub targets: Vec<TargetView>,
}

/// One target of a [`PendingView`].
#[derive(Serialize, Deserialize)]
pub struct TargetView {
    /// Target node.
    pub node_id: String,
    /// Target state.
    pub state: TargetState,
    /// The node's one-time public key (B64U).
    pub public_key: String,
    /// Its fingerprint, to compare out of band.
    pub fingerprint: String,
    /// The node identity key (`nik`, B64U) the node published with this
    /// one-time key (envelope v2, docs/PROTOCOL.md §15). Only a hint: a
    /// sender seals to its own pin and refuses a view that disagrees with
    /// it (8901). Absent when the node published none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_key: Option<String>,
    /// Its identity fingerprint (`identity_fingerprint(nik)`), present
    /// exactly when `identity_key` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_fingerprint: Option<String>,
    /// The exact context to seal for ([`WireContext`]).
    pub context: RawObject,
}

/// `GET /api/v1/pending/{id}/status` and the envelope post's answer.
#[derive(Serialize, Deserialize)]
pub struct StatusView {
    /// The id.
    pub pending_id: String,
    /// Aggregate state.
    pub state: PendingState,
    /// Unix expiry.
    pub expires_at: i64,
    /// One per node.
    pub targets: Vec<TargetStatus>,
}

/// One target of a status body.
#[derive(Serialize, Deserialize)]
pub struct TargetStatus {
    /// Target node.
    pub node_id: String,
    /// Target state.
    pub state: TargetState,
    /// Why the target is where it is (8010 queued for an offline node,
    /// 8006/8008 failed, 8603 expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

/// `POST /api/v1/pending/{id}/envelopes` request, as `sealpass inject`
/// writes it. The relay parses this body with the core JSON parser instead
/// (duplicate keys rejected, each envelope through `Envelope::from_json`).
#[derive(Serialize)]
pub struct PostEnvelopes {
    /// One per target.
    pub envelopes: Vec<PostedEnvelope>,
}

/// One item of [`PostEnvelopes`].
#[derive(Serialize)]
pub struct PostedEnvelope {
    /// Target node.
    pub node_id: String,
    /// The envelope object.
    pub envelope: RawObject,
}

// ------------------------------------------------------------------ node

/// `POST /api/v1/node/heartbeat` answer.
#[derive(Serialize, Deserialize)]
pub struct Heartbeat {
    /// The authenticated node.
    pub node_id: String,
    /// The relay's clock.
    pub server_time: i64,
}

/// `GET /api/v1/node/pending` answer. Clients read it as
/// `PendingList<Box<RawValue>>` and parse each item on its own, so one item
/// they cannot read is skipped instead of stalling every other one.
#[derive(Serialize, Deserialize)]
pub struct PendingList<T = NodePending> {
    /// This node's live targets, oldest first.
    pub pending: Vec<T>,
}

/// One entry of a [`PendingList`].
#[derive(Serialize, Deserialize)]
pub struct NodePending {
    /// The id.
    pub pending_id: String,
    /// This node's target state.
    pub state: TargetState,
    /// Unix expiry.
    pub expires_at: i64,
    /// True while the relay has no public key from this node.
    #[serde(default)]
    pub needs_pubkey: bool,
    /// The context the secret will be sealed for ([`WireContext`]).
    pub context: RawObject,
}

/// `PUT /api/v1/node/pending/{id}/pubkey` request.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostPubkey {
    /// The one-time public key, B64U.
    pub public_key: String,
    /// The node's identity key (`nik`, B64U) this one-time key is bound to:
    /// envelopes for it must be v2 sealed to this identity. The agent
    /// always sends it; a node without one (older agents) omits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_key: Option<String>,
}

/// `{"state"}`: the answer to a key post or an ack.
#[derive(Serialize, Deserialize)]
pub struct StateReply {
    /// The target's state now.
    pub state: TargetState,
}

/// `GET /api/v1/node/envelopes` answer (read item by item, as [`PendingList`]).
#[derive(Serialize, Deserialize)]
pub struct EnvelopeList<T = Delivery> {
    /// Every stored envelope for this node.
    pub envelopes: Vec<T>,
}

/// An envelope handed to its node.
#[derive(Serialize, Deserialize)]
pub struct Delivery {
    /// Which pending credential.
    pub pending_id: String,
    /// The envelope object ([`WireEnvelope`]).
    pub envelope: RawObject,
    /// The context it must open under ([`WireContext`]).
    pub context: RawObject,
}

/// `POST /api/v1/node/pending/{id}/ack` request.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostAck {
    /// The outcome.
    pub result: AckResult,
}

// ------------------------------------------------------- request bodies

/// A client's request body: compact JSON with the core writer's escapes
/// (`sealpass::json::write_string`), which the clients used when they wrote
/// bodies by hand. serde_json alone would write `\b` and `\f` where the
/// core writes `\u0008` and `\u000c`: the same text to the relay, but not
/// the same (signed) bytes.
pub fn request_body<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, CoreEscapes);
    value
        .serialize(&mut ser)
        .map_err(|_| Error::new(Code::Internal, "cannot encode a request body"))?;
    Ok(out)
}

/// serde_json's compact output with `\u00XX` for every control character
/// but `\n`, `\r` and `\t`.
struct CoreEscapes;

impl Formatter for CoreEscapes {
    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        match char_escape {
            CharEscape::Backspace => writer.write_all(b"\\u0008"),
            CharEscape::FormFeed => writer.write_all(b"\\u000c"),
            other => CompactFormatter.write_char_escape(writer, other),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The JSON strings below were captured from the code before these types
    //! existed (the relay's own view structs and the clients' hand-written
    //! request bodies), fed the same values: the bytes must not change.

    use super::*;
    use sealpass::keys::SecretKey;

    const PID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    fn json<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap()
    }

    fn full_ctx() -> Context {
        Context::new(
            "n1",
            PID,
            "db-pass",
            "env",
            Some("F\u{8}\u{c}\u{1}\"\\é/"),
            Some("https://x.example/a?b=c"),
        )
        .unwrap()
    }

    fn min_ctx() -> Context {
        Context::new("n1", PID, "db-pass", "header", None, None).unwrap()
    }

    fn envelope() -> Envelope {
        Envelope {
            version: sealpass::Version::V1,
            epk: [1u8; 32],
            nonce: [2u8; 24],
            ct: vec![3u8; 20],
        }
    }

    fn status(node_id: &str, state: TargetState, code: Option<u16>) -> TargetStatus {
        TargetStatus {
            node_id: node_id.into(),
            state,
            code,
        }
    }

    const FULL_CTX: &str = r#"{"node_id":"n1","pending_id":"AAAAAAAAAAAAAAAAAAAAAA","slug":"db-pass","injection_method":"env","field_name":"F\b\f\u0001\"\\é/","target_url":"https://x.example/a?b=c"}"#;
    const MIN_CTX: &str = r#"{"node_id":"n1","pending_id":"AAAAAAAAAAAAAAAAAAAAAA","slug":"db-pass","injection_method":"header"}"#;
    const ENVELOPE: &str = r#"{"v":1,"suite":"x25519-hkdf-sha256-xchacha20poly1305","epk":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE","nonce":"AgICAgICAgICAgICAgICAgICAgICAgIC","ct":"AwMDAwMDAwMDAwMDAwMDAwMDAwM"}"#;

    #[test]
    fn state_names_are_the_serde_names() {
        for s in TargetState::ALL {
            assert_eq!(json(&s), format!("\"{}\"", s.as_str()));
            assert_eq!(TargetState::from_name(s.as_str()), Some(s));
            assert_eq!(PendingState::from(s).as_str(), s.as_str());
            assert_eq!(PendingState::from(s).as_target(), Some(s));
        }
        for s in PendingState::ALL {
            assert_eq!(json(&s), format!("\"{}\"", s.as_str()));
            let back: PendingState = serde_json::from_str(&json(&s)).unwrap();
            assert_eq!(back, s);
        }
        assert_eq!(TargetState::from_name("partial_decrypted"), None);
        assert_eq!(json(&AckResult::Consumed), "\"consumed\"");
        assert_eq!(json(&AckResult::DecryptFailed), "\"decrypt_failed\"");
        for a in [AckResult::Consumed, AckResult::DecryptFailed] {
            assert_eq!(json(&a), json(&a.target_state()));
        }
        assert!(serde_json::from_str::<TargetState>("\"Consumed\"").is_err());
    }

    #[test]
    fn states_round_trip_through_sqlite() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (s TEXT)").unwrap();
        for s in TargetState::ALL {
            c.execute("INSERT INTO t (s) VALUES (?1)", [s]).unwrap();
            let (text, back): (String, TargetState) = c
                .query_row("SELECT s, s FROM t WHERE s = ?1", [s], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap();
            assert_eq!((text.as_str(), back), (s.as_str(), s));
        }
        c.execute("INSERT INTO t (s) VALUES ('nope')", []).unwrap();
        let bad = c.query_row("SELECT s FROM t WHERE s = 'nope'", [], |r| {
            r.get::<_, TargetState>(0)
        });
        assert!(bad.is_err());
    }

    #[test]
    fn contexts_and_envelopes() {
        assert_eq!(WireContext::raw(&full_ctx()).unwrap().get(), FULL_CTX);
        assert_eq!(WireContext::raw(&min_ctx()).unwrap().get(), MIN_CTX);
        assert_eq!(WireEnvelope::raw(&envelope()).unwrap().get(), ENVELOPE);
        // The core's own encodings agree where no \b or \f is involved.
        assert_eq!(min_ctx().to_json(), MIN_CTX);
        assert_eq!(envelope().to_json(), ENVELOPE);
    }

    #[test]
    fn relay_answers_keep_their_bytes() {
        let e = ErrorBody {
            code: 8009,
            name: "PubkeyAwaiting".into(),
            message: "not \"yet\"\u{8}\u{c}".into(),
        };
        assert_eq!(
            json(&e),
            r#"{"code":8009,"name":"PubkeyAwaiting","message":"not \"yet\"\b\f"}"#
        );
        let s = SecretIssued {
            node_id: "web-1".into(),
            key_version: 2,
            secret: "c2VjcmV0".into(),
        };
        assert_eq!(
            json(&s),
            r#"{"node_id":"web-1","key_version":2,"secret":"c2VjcmV0"}"#
        );
        let c = PendingCreated {
            pending_id: PID.into(),
            accept_path: format!("/accept#{PID}"),
            expires_at: 1790000000,
            state: PendingState::AwaitingPubkey,
            targets: vec![status("n1", TargetState::AwaitingPubkey, None)],
        };
        assert_eq!(
            json(&c),
            r#"{"pending_id":"AAAAAAAAAAAAAAAAAAAAAA","accept_path":"/accept#AAAAAAAAAAAAAAAAAAAAAA","expires_at":1790000000,"state":"awaiting_pubkey","targets":[{"node_id":"n1","state":"awaiting_pubkey"}]}"#
        );

        let pk = SecretKey::from_bytes([5u8; 32]).public_key();
        let nik = SecretKey::from_bytes([7u8; 32]).public_key();
        let tv = |ctx: Context, state, with_identity: bool| TargetView {
            node_id: "n1".into(),
            state,
            public_key: pk.to_b64u(),
            fingerprint: pk.fingerprint(),
            identity_key: with_identity.then(|| nik.to_b64u()),
            identity_fingerprint: with_identity.then(|| nik.identity_fingerprint()),
            context: WireContext::raw(&ctx).unwrap(),
        };
        let v = PendingView {
            pending_id: PID.into(),
            state: PendingState::PartialDecrypted,
            expires_at: 1790000000,
            targets: vec![
                tv(full_ctx(), TargetState::PubkeyPosted, true),
                tv(min_ctx(), TargetState::Consumed, false),
            ],
        };
        let (nik_b64u, nik_fp) = (nik.to_b64u(), nik.identity_fingerprint());
        assert_eq!(
            json(&v),
            format!(
                r#"{{"pending_id":"AAAAAAAAAAAAAAAAAAAAAA","state":"partial_decrypted","expires_at":1790000000,"targets":[{{"node_id":"n1","state":"pubkey_posted","public_key":"UKYUCbHd0DJemxa3AOcZ6XcsBwALG9d4bpB8ZT0gSV0","fingerprint":"3212-84bf-5f0c-1019-f64c-c321-7db7-3606","identity_key":"{nik_b64u}","identity_fingerprint":"{nik_fp}","context":{{"node_id":"n1","pending_id":"AAAAAAAAAAAAAAAAAAAAAA","slug":"db-pass","injection_method":"env","field_name":"F\b\f\u0001\"\\é/","target_url":"https://x.example/a?b=c"}}}},{{"node_id":"n1","state":"consumed","public_key":"UKYUCbHd0DJemxa3AOcZ6XcsBwALG9d4bpB8ZT0gSV0","fingerprint":"3212-84bf-5f0c-1019-f64c-c321-7db7-3606","context":{{"node_id":"n1","pending_id":"AAAAAAAAAAAAAAAAAAAAAA","slug":"db-pass","injection_method":"header"}}}}]}}"#
            )
        );

        let sv = StatusView {
            pending_id: PID.into(),
            state: PendingState::PartialDecrypted,
            expires_at: 1790000000,
            targets: vec![
                status("n1", TargetState::AwaitingPubkey, None),
                status("n2", TargetState::CiphertextQueued, Some(8010)),
                status("n3", TargetState::DecryptFailed, Some(8008)),
                status("n4", TargetState::Expired, Some(8603)),
                status("n5", TargetState::Consumed, None),
                status("n6", TargetState::CiphertextReceived, None),
            ],
        };
        assert_eq!(
            json(&sv),
            r#"{"pending_id":"AAAAAAAAAAAAAAAAAAAAAA","state":"partial_decrypted","expires_at":1790000000,"targets":[{"node_id":"n1","state":"awaiting_pubkey"},{"node_id":"n2","state":"ciphertext_queued","code":8010},{"node_id":"n3","state":"decrypt_failed","code":8008},{"node_id":"n4","state":"expired","code":8603},{"node_id":"n5","state":"consumed"},{"node_id":"n6","state":"ciphertext_received"}]}"#
        );

        let h = Heartbeat {
            node_id: "web-1".into(),
            server_time: 1790000001,
        };
        assert_eq!(json(&h), r#"{"node_id":"web-1","server_time":1790000001}"#);
        let st = StateReply {
            state: TargetState::PubkeyPosted,
        };
        assert_eq!(json(&st), r#"{"state":"pubkey_posted"}"#);

        let item = |state, needs_pubkey, ctx: Context| NodePending {
            pending_id: PID.into(),
            state,
            expires_at: 1790000000,
            needs_pubkey,
            context: WireContext::raw(&ctx).unwrap(),
        };
        let list = PendingList {
            pending: vec![
                item(TargetState::AwaitingPubkey, true, full_ctx()),
                item(TargetState::DecryptFailed, false, min_ctx()),
            ],
        };
        assert_eq!(
            json(&list),
            r#"{"pending":[{"pending_id":"AAAAAAAAAAAAAAAAAAAAAA","state":"awaiting_pubkey","expires_at":1790000000,"needs_pubkey":true,"context":{"node_id":"n1","pending_id":"AAAAAAAAAAAAAAAAAAAAAA","slug":"db-pass","injection_method":"env","field_name":"F\b\f\u0001\"\\é/","target_url":"https://x.example/a?b=c"}},{"pending_id":"AAAAAAAAAAAAAAAAAAAAAA","state":"decrypt_failed","expires_at":1790000000,"needs_pubkey":false,"context":{"node_id":"n1","pending_id":"AAAAAAAAAAAAAAAAAAAAAA","slug":"db-pass","injection_method":"header"}}]}"#
        );
        assert_eq!(
            json(&PendingList::<NodePending> { pending: vec![] }),
            r#"{"pending":[]}"#
        );

        let deliveries = EnvelopeList {
            envelopes: vec![Delivery {
                pending_id: PID.into(),
                envelope: WireEnvelope::raw(&envelope()).unwrap(),
                context: WireContext::raw(&full_ctx()).unwrap(),
            }],
        };
        assert_eq!(
            json(&deliveries),
            r#"{"envelopes":[{"pending_id":"AAAAAAAAAAAAAAAAAAAAAA","envelope":{"v":1,"suite":"x25519-hkdf-sha256-xchacha20poly1305","epk":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE","nonce":"AgICAgICAgICAgICAgICAgICAgICAgIC","ct":"AwMDAwMDAwMDAwMDAwMDAwMDAwM"},"context":{"node_id":"n1","pending_id":"AAAAAAAAAAAAAAAAAAAAAA","slug":"db-pass","injection_method":"env","field_name":"F\b\f\u0001\"\\é/","target_url":"https://x.example/a?b=c"}}]}"#
        );
        assert_eq!(
            json(&EnvelopeList::<Delivery> { envelopes: vec![] }),
            r#"{"envelopes":[]}"#
        );
    }

    #[test]
    fn client_requests_keep_their_bytes() {
        fn body<T: Serialize>(v: &T) -> String {
            String::from_utf8(request_body(v).unwrap()).unwrap()
        }
        let full = CreatePending {
            node_ids: vec!["n1".into(), "n2".into()],
            slug: "db-pass".into(),
            injection_method: "env".into(),
            field_name: Some("F\u{8}\u{c}\u{1}\"\\é/\u{7f}".into()),
            target_url: Some("https://x.example/a?b=c".into()),
            expires_in_secs: Some(600),
        };
        assert_eq!(
            body(&full),
            "{\"node_ids\":[\"n1\",\"n2\"],\"slug\":\"db-pass\",\"injection_method\":\"env\",\"field_name\":\"F\\u0008\\u000c\\u0001\\\"\\\\é/\u{7f}\",\"target_url\":\"https://x.example/a?b=c\",\"expires_in_secs\":600}"
        );
        let min = CreatePending {
            node_ids: vec!["n1".into()],
            slug: "db-pass".into(),
            injection_method: "header".into(),
            field_name: None,
            target_url: None,
            expires_in_secs: None,
        };
        assert_eq!(
            body(&min),
            r#"{"node_ids":["n1"],"slug":"db-pass","injection_method":"header"}"#
        );
        let item = |n: &str| PostedEnvelope {
            node_id: n.into(),
            envelope: raw_from_json(envelope().to_json()).unwrap(),
        };
        let posted = PostEnvelopes {
            envelopes: vec![item("n1"), item("n2")],
        };
        assert_eq!(
            body(&posted),
            format!(
                r#"{{"envelopes":[{{"node_id":"n1","envelope":{ENVELOPE}}},{{"node_id":"n2","envelope":{ENVELOPE}}}]}}"#
            )
        );
        let pk = SecretKey::from_bytes([5u8; 32]).public_key();
        assert_eq!(
            body(&PostPubkey {
                public_key: pk.to_b64u(),
                identity_key: None,
            }),
            r#"{"public_key":"UKYUCbHd0DJemxa3AOcZ6XcsBwALG9d4bpB8ZT0gSV0"}"#
        );
        let nik = SecretKey::from_bytes([7u8; 32]).public_key();
        assert_eq!(
            body(&PostPubkey {
                public_key: pk.to_b64u(),
                identity_key: Some(nik.to_b64u()),
            }),
            format!(
                r#"{{"public_key":"UKYUCbHd0DJemxa3AOcZ6XcsBwALG9d4bpB8ZT0gSV0","identity_key":"{}"}}"#,
                nik.to_b64u()
            )
        );
        assert_eq!(
            body(&PostAck {
                result: AckResult::Consumed
            }),
            r#"{"result":"consumed"}"#
        );
        assert_eq!(
            body(&PostAck {
                result: AckResult::DecryptFailed
            }),
            r#"{"result":"decrypt_failed"}"#
        );
    }

    #[test]
    fn clients_read_what_the_relay_writes() {
        let raw = r#"{"pending":[{"pending_id":"AAAAAAAAAAAAAAAAAAAAAA","state":"awaiting_pubkey","expires_at":1,"needs_pubkey":true,"context":{"b":1,"a":2,"b":3}}]}"#;
        let l: PendingList = serde_json::from_str(raw).unwrap();
        let first = l.pending.first().unwrap();
        assert_eq!(first.state, TargetState::AwaitingPubkey);
        // Carried verbatim: order and duplicates reach the core parser.
        assert_eq!(first.context.get(), r#"{"b":1,"a":2,"b":3}"#);
        let e: ErrorBody = serde_json::from_str(r#"{"code":1}"#).unwrap();
        assert_eq!((e.code, e.name.as_str(), e.message.as_str()), (1, "", ""));
        assert!(serde_json::from_str::<PostAck>(r#"{"result":"consumed","x":1}"#).is_err());
        assert!(serde_json::from_str::<PostAck>(r#"{"result":"expired"}"#).is_err());
    }
}
