//! Every sealpass error code, in one place.
//!
//! Codes are part of the protocol surface (CLI stderr, JS `.code`, relay JSON
//! bodies) and never change meaning once released. 8006–8011 come from the
//! design record; the rest are grouped by area in hundreds. Details carried by
//! an [`Error`] are static strings chosen by us: they never contain input
//! bytes, key material or plaintext.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, )*) => {
        /// A stable, numbered error kind.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code { $( $(#[$doc])* $name = $code, )* }

        impl Code {
            /// Every code, in numeric order (used by docs and tests).
            pub const ALL: &'static [Code] = &[ $( Code::$name, )* ];

            /// The stable numeric code.
            pub const fn number(self) -> u16 { self as u16 }

            /// The stable name, e.g. `DecryptFailed`.
            pub const fn name(self) -> &'static str {
                match self { $( Code::$name => stringify!($name), )* }
            }

            /// Look a code up by number.
            pub fn from_number(n: u16) -> Option<Code> {
                match n { $( $code => Some(Code::$name), )* _ => None }
            }
        }
    };
}

codes! {
    // --- design record (8006–8011) ---
    /// AEAD authentication failed, or the ephemeral key is low-order.
    DecryptFailed = 8006,
    /// Envelope `v` is a number other than 1 or 2.
    VersionUnsupported = 8007,
    /// Envelope, ciphertext or plaintext exceeds the 16 KiB ciphertext cap.
    CiphertextTooLarge = 8008,
    /// The node has not posted its one-time public key yet; poll with backoff.
    PubkeyAwaiting = 8009,
    /// The target node is not connected; the envelope may be queued.
    NodeOffline = 8010,
    /// The node's envelope queue is full.
    QueueFull = 8011,

    // --- envelope shape (8100–8199) ---
    /// Not a JSON object (syntax error, wrong top-level type, too deep, empty).
    EnvelopeNotJson = 8101,
    /// A required key is missing.
    EnvelopeMissingKey = 8102,
    /// A key other than v, suite, epk, nonce, ct is present.
    EnvelopeUnknownKey = 8103,
    /// The same key appears twice.
    EnvelopeDuplicateKey = 8104,
    /// A value has the wrong JSON type (e.g. `v` not a number, `epk` not a string).
    EnvelopeWrongType = 8105,
    /// `suite` is not the suite of the envelope's version
    /// (`x25519-hkdf-sha256-xchacha20poly1305` for v1,
    /// `x25519-x25519-hkdf-sha256-xchacha20poly1305` for v2).
    SuiteUnsupported = 8106,
    /// A field is not canonical base64url without padding.
    InvalidBase64 = 8107,
    /// epk is not 32 bytes, nonce not 24 bytes, or ct shorter than 17 bytes.
    InvalidLength = 8108,

    // --- context (8200–8299) ---
    /// Context JSON is not an object, has a duplicate/unknown key or a wrong type.
    ContextMalformed = 8201,
    /// A required context field is missing or empty.
    ContextMissingField = 8202,
    /// A context field exceeds its byte limit.
    ContextFieldTooLong = 8203,
    /// injection_method is not a kebab-case token `^[a-z0-9]+(-[a-z0-9]+)*$`.
    InjectionMethodInvalid = 8204,
    /// A string is not valid UTF-8 (or holds a lone surrogate).
    InvalidUtf8 = 8205,

    // --- keys and inputs (8300–8399) ---
    /// A public key is not B64U of exactly 32 bytes.
    InvalidPublicKey = 8301,
    /// The public key is low-order: the shared secret would be all zero.
    LowOrderPublicKey = 8302,
    /// A secret key (file) is not B64U of exactly 32 bytes.
    InvalidSecretKey = 8303,
    /// The plaintext is empty.
    PlaintextEmpty = 8304,
    /// The system random number generator failed.
    RandomUnavailable = 8305,
    /// A JS argument has the wrong type.
    InvalidArgument = 8306,
    /// A v2 envelope needs the node's identity key to open (`--identity-key`).
    IdentityKeyRequired = 8307,
    /// A v1 envelope for a one-time key the node published with an identity
    /// key: refused as a downgrade (only v2 is accepted for it).
    VersionDowngrade = 8308,

    // --- local I/O and CLI usage (8400–8499) ---
    /// Reading or writing a local file or stream failed.
    Io = 8401,
    /// Refused to overwrite an existing file.
    FileExists = 8402,
    /// Bad command-line usage.
    Usage = 8403,
    /// Stopped by a signal (SIGINT, SIGTERM, SIGHUP) before it finished.
    Interrupted = 8404,

    // --- keystore (8500–8599) ---
    /// No KEK configured (SEALPASS_KEK / SEALPASS_KEK_FILE).
    KekMissing = 8501,
    /// The configured KEK does not match the store's KEK id.
    KekMismatch = 8502,
    /// A KEK value is not B64U of 32 bytes.
    KekInvalid = 8503,
    /// A sealed record or wrapped key failed authentication.
    RecordTampered = 8504,
    /// The record does not exist.
    RecordNotFound = 8505,
    /// The store file is unusable (schema, permissions, database error).
    StoreUnavailable = 8506,
    /// The one-time key for this pending id was already consumed.
    AlreadyConsumed = 8507,
    /// Stored blob has an unknown format version.
    FormatUnsupported = 8508,
    /// A pending id already exists in the keystore with a different context.
    PendingConflict = 8509,

    // --- relay API (8600–8699) ---
    /// Request body is not acceptable JSON for this endpoint.
    BadRequest = 8601,
    /// Unknown pending id or node.
    NotFound = 8602,
    /// The pending credential has expired.
    Expired = 8603,
    /// A ciphertext was already accepted for this pending id (first push wins).
    AlreadyUsed = 8604,
    /// Too many failed posts; locked out for a while.
    RateLimited = 8605,
    /// Wrong Content-Type.
    UnsupportedMediaType = 8606,
    /// Request body larger than the endpoint allows.
    PayloadTooLarge = 8607,
    /// The request is not valid in the pending credential's current state.
    InvalidState = 8608,
    /// Admin authentication failed.
    Unauthorized = 8609,
    /// Internal server error (details only in the server log).
    Internal = 8610,
    /// Could not reach the relay.
    RelayUnreachable = 8611,
    /// The relay's answer is malformed or contradicts what was asked
    /// (wrong context, key or fingerprint: possible tampering).
    RelayProtocol = 8612,
    /// The pending credential was cancelled by an admin: it takes no
    /// envelope and the relay hands none out any more; an envelope a node
    /// had already pulled may still be delivered (a cancel recalls nothing).
    Cancelled = 8613,

    // --- request signing (8700–8799) ---
    /// Signature headers missing or malformed.
    SignatureMalformed = 8701,
    /// The HMAC does not verify.
    SignatureInvalid = 8702,
    /// Timestamp outside the ±300 s window.
    SignatureExpired = 8703,
    /// The signature was seen before inside the window.
    SignatureReplayed = 8704,
    /// No signing secret for this caller / key version.
    SignatureUnknownKey = 8705,

    // --- release manifest (8800–8899) ---
    /// Manifest signature does not verify.
    ManifestSignatureInvalid = 8801,
    /// A served file does not match its manifest hash.
    ManifestMismatch = 8802,
    /// Manifest JSON malformed.
    ManifestMalformed = 8803,

    // --- node identity pinning (8900–8999) ---
    /// The identity the relay reports for a pinned node differs from the pin
    /// (or is absent): possible relay compromise, nothing was sealed.
    IdentityMismatch = 8901,
    /// The node's identity is not pinned and nobody confirmed it (no
    /// terminal, no `--pin`, or the person declined).
    IdentityNotPinned = 8902,
    /// The known-nodes file (or a link's pin list) is malformed.
    KnownNodesMalformed = 8903,
    /// The relay reports no identity key for an unpinned node, so there is
    /// nothing to pin or to seal v2 to.
    IdentityUnavailable = 8904,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&decimal(self.number()))?;
        f.write_str(" ")?;
        f.write_str(self.name())
    }
}

/// `n` in decimal. Hand-rolled so that building an error message does not
/// pull `core::fmt` into the browser bundle.
fn decimal(n: u16) -> String {
    let mut out = String::new();
    for place in [10000, 1000, 100, 10, 1] {
        if n >= place || place == 1 {
            out.push(char::from(b'0' + ((n / place) % 10) as u8));
        }
    }
    out
}

/// A sealpass error: a stable [`Code`] plus a secret-free detail.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: Code,
    detail: Cow<'static, str>,
}

impl Error {
    /// Build an error. `detail` must never contain input or secret bytes.
    pub const fn new(code: Code, detail: &'static str) -> Self {
        Error {
            code,
            detail: Cow::Borrowed(detail),
        }
    }

    /// Build an error with a computed detail (ids, paths, field names — never
    /// secrets or plaintext).
    pub fn with_detail(code: Code, detail: impl Into<String>) -> Self {
        Error {
            code,
            detail: Cow::Owned(detail.into()),
        }
    }

    /// The error kind.
    pub const fn code(&self) -> Code {
        self.code
    }

    /// Human-readable, secret-free detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// `error 8006 DecryptFailed: detail` (the Display form), built without
    /// `core::fmt`.
    pub fn message(&self) -> String {
        let mut s = String::from("error ");
        s.push_str(&decimal(self.code.number()));
        s.push(' ');
        s.push_str(self.code.name());
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// `detail (error 8006)`: the JS `Error.message`. JS prints an error as
    /// `name: message`, so the name is not repeated here.
    pub fn js_message(&self) -> String {
        let mut s = String::from(self.detail());
        let code = decimal(self.code.number());
        if s.is_empty() {
            s.push_str("error ");
            s.push_str(&code);
        } else {
            s.push_str(" (error ");
            s.push_str(&code);
            s.push(')');
        }
        s
    }
}

impl From<Code> for Error {
    fn from(code: Code) -> Self {
        Error::new(code, "")
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `error 8006 DecryptFailed: detail` — the one format used by CLI, JS and relay.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for Error {}

/// Result alias used throughout the crate.
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_message_does_not_repeat_the_name() {
        let e = Error::new(Code::DecryptFailed, "tag mismatch");
        assert_eq!(e.js_message(), "tag mismatch (error 8006)");
        assert_eq!(Error::from(Code::DecryptFailed).js_message(), "error 8006");
        assert!(!e.js_message().contains(Code::DecryptFailed.name()));
    }

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.number()), "duplicate {}", c.number());
            assert_eq!(Code::from_number(c.number()), Some(*c));
        }
        assert_eq!(Code::DecryptFailed.number(), 8006);
        assert_eq!(Code::QueueFull.number(), 8011);
        assert_eq!(Code::from_number(1), None);
    }

    #[test]
    fn display_format_is_stable() {
        let e = Error::new(Code::DecryptFailed, "authentication failed");
        assert_eq!(
            e.to_string(),
            "error 8006 DecryptFailed: authentication failed"
        );
        assert_eq!(
            Error::from(Code::QueueFull).to_string(),
            "error 8011 QueueFull"
        );
    }
}
