//! Opening sealpass envelopes: the only crate that can decrypt one.
//!
//! The node and the CLI link it; the relay and the browser bundle do not
//! (`cargo tree -p sealpass-relay` has no `sealpass-open`, and a test checks
//! it). The AAD is rebuilt from the node's own copy of the context, never
//! from anything the relay sent alongside the envelope.
//!
//! ```
//! use sealpass::{seal_with_rng, Context, SecretKey};
//! use sealpass_open::Opener;
//! # fn main() -> sealpass::Result<()> {
//! let mut rng = rand_core::OsRng;
//! // Node: a one-time key pair; the public key goes to the sender.
//! let opener = Opener::new(SecretKey::generate_with_rng(&mut rng)?);
//! let ctx = Context::new("web-1", "p-1", "github-token", "env", Some("GH_TOKEN"), None)?;
//!
//! // Sender (browser, CLI): seal to that key for this context.
//! let json = seal_with_rng(&mut rng, opener.public_key(), b"ghp_example", &ctx)?.to_json();
//!
//! // Node: open with its own copy of the context.
//! let secret = opener.open_json(json.as_bytes(), &ctx)?;
//! assert_eq!(&secret[..], b"ghp_example");
//!
//! // Anything else about the destination fails authentication (8006).
//! let other = Context::new("web-2", "p-1", "github-token", "env", Some("GH_TOKEN"), None)?;
//! assert_eq!(opener.open_json(json.as_bytes(), &other).unwrap_err().code().number(), 8006);
//! # Ok(())
//! # }
//! ```

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use zeroize::Zeroizing;

use sealpass::canon;
use sealpass::context::Context;
use sealpass::envelope::{Envelope, Version};
use sealpass::error::{Code, Error, Result};
use sealpass::keys::{PublicKey, SecretKey};
use sealpass::suite;

/// Open a parsed v1 envelope with the node's one-time secret key.
/// Any authentication failure, including a low-order `epk`, is 8006; a v2
/// envelope is 8307 (it needs the identity key: [`open_with_identity`]).
///
/// Computes the node public key (needed for the HKDF salt) on every call;
/// a node opening more than once with the same key should hold an [`Opener`].
pub fn open(node_sk: &SecretKey, envelope: &Envelope, ctx: &Context) -> Result<Zeroizing<Vec<u8>>> {
    open_with(&KeyPair::new(node_sk.clone()), None, envelope, ctx)
}

/// Open a v1 or v2 envelope with the one-time secret key and the node's
/// identity secret key (docs/PROTOCOL.md §15.4).
pub fn open_with_identity(
    node_sk: &SecretKey,
    identity_sk: &SecretKey,
    envelope: &Envelope,
    ctx: &Context,
) -> Result<Zeroizing<Vec<u8>>> {
    let identity = KeyPair::new(identity_sk.clone());
    open_with(
        &KeyPair::new(node_sk.clone()),
        Some(&identity),
        envelope,
        ctx,
    )
}

/// Parse envelope JSON and open it (v1 only, as [`open`]).
pub fn open_json(
    node_sk: &SecretKey,
    envelope_json: &[u8],
    ctx: &Context,
) -> Result<Zeroizing<Vec<u8>>> {
    open_owned(
        &KeyPair::new(node_sk.clone()),
        None,
        Envelope::from_json(envelope_json)?,
        ctx,
    )
}

/// Parse envelope JSON and open it with the identity key (v1 or v2).
pub fn open_json_with_identity(
    node_sk: &SecretKey,
    identity_sk: &SecretKey,
    envelope_json: &[u8],
    ctx: &Context,
) -> Result<Zeroizing<Vec<u8>>> {
    open_owned(
        &KeyPair::new(node_sk.clone()),
        Some(&KeyPair::new(identity_sk.clone())),
        Envelope::from_json(envelope_json)?,
        ctx,
    )
}

/// A secret key with its public key, derived once.
struct KeyPair {
    sk: SecretKey,
    pk: PublicKey,
}

impl KeyPair {
    fn new(sk: SecretKey) -> KeyPair {
        let pk = sk.public_key();
        KeyPair { sk, pk }
    }
}

/// A node's secret key held for opening, with its public key computed once
/// (and, for v2, its identity key pair).
///
/// Opening needs `npk` only as part of the HKDF salt; deriving it from the
/// secret key costs a scalar multiplication, as much as the Diffie-Hellman
/// itself. The pair is derived here, never taken from the caller, so it
/// always matches. The secret keys are zeroized when the `Opener` is dropped.
pub struct Opener {
    key: KeyPair,
    identity: Option<KeyPair>,
}

impl Opener {
    /// Take the one-time secret key and derive its public key (opens v1).
    pub fn new(sk: SecretKey) -> Self {
        Opener {
            key: KeyPair::new(sk),
            identity: None,
        }
    }

    /// Take the one-time and the identity secret keys (opens v1 and v2).
    pub fn with_identity(sk: SecretKey, identity_sk: SecretKey) -> Self {
        Opener {
            key: KeyPair::new(sk),
            identity: Some(KeyPair::new(identity_sk)),
        }
    }

    /// The public key senders seal to.
    pub fn public_key(&self) -> &PublicKey {
        &self.key.pk
    }

    /// The identity public key senders pin, when held.
    pub fn identity(&self) -> Option<&PublicKey> {
        self.identity.as_ref().map(|k| &k.pk)
    }

    /// [`open_with_identity`] (or [`open`] without an identity key) without
    /// re-deriving the public keys.
    pub fn open(&self, envelope: &Envelope, ctx: &Context) -> Result<Zeroizing<Vec<u8>>> {
        open_with(&self.key, self.identity.as_ref(), envelope, ctx)
    }

    /// [`Opener::open`] an envelope given up to it: decrypted in its own
    /// `ct` buffer, with no copy of the ciphertext.
    pub fn open_envelope(&self, envelope: Envelope, ctx: &Context) -> Result<Zeroizing<Vec<u8>>> {
        open_owned(&self.key, self.identity.as_ref(), envelope, ctx)
    }

    /// Parse envelope JSON and [`Opener::open`] it.
    pub fn open_json(&self, envelope_json: &[u8], ctx: &Context) -> Result<Zeroizing<Vec<u8>>> {
        open_owned(
            &self.key,
            self.identity.as_ref(),
            Envelope::from_json(envelope_json)?,
            ctx,
        )
    }
}

impl core::fmt::Debug for Opener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Opener")
            .field("public_key", &self.key.pk)
            // An identity key is shown by its identity fingerprint (§15.1).
            .field(
                "identity",
                &self.identity.as_ref().map(|k| k.pk.identity_fingerprint()),
            )
            .finish_non_exhaustive()
    }
}

/// Both key pairs were derived from their secret keys here.
fn aead_key(
    key: &KeyPair,
    identity: Option<&KeyPair>,
    envelope: &Envelope,
    ctx: &Context,
) -> Result<Zeroizing<[u8; suite::KEY_LEN]>> {
    let v = envelope.version;
    // Before any key agreement (docs/PROTOCOL.md §15.4).
    if v == Version::V2 && identity.is_none() {
        return Err(Error::new(
            Code::IdentityKeyRequired,
            "a v2 envelope needs the node's identity key to open",
        ));
    }
    let low_order = || Error::new(Code::DecryptFailed, "ephemeral key is low-order");
    let info = canon::kdf_info_for(v, ctx);
    Ok(match (v, identity) {
        // (V2, None) returned above.
        (Version::V1, _) | (Version::V2, None) => {
            let ss = suite::dh(key.sk.as_bytes(), &envelope.epk).ok_or_else(low_order)?;
            suite::derive_key(&ss, &envelope.epk, key.pk.as_bytes(), &info)
        }
        (Version::V2, Some(id)) => {
            let [ss, ss2] = suite::dh2(
                [key.sk.as_bytes(), id.sk.as_bytes()],
                [&envelope.epk, &envelope.epk],
            );
            let (ss, ss2) = (ss.ok_or_else(low_order)?, ss2.ok_or_else(low_order)?);
            suite::derive_key_v2(
                &ss,
                &ss2,
                &envelope.epk,
                key.pk.as_bytes(),
                id.pk.as_bytes(),
                &info,
            )
        }
    })
}

/// Open a borrowed envelope: its ciphertext is copied (the buffer the
/// plaintext is decrypted in).
fn open_with(
    key: &KeyPair,
    identity: Option<&KeyPair>,
    envelope: &Envelope,
    ctx: &Context,
) -> Result<Zeroizing<Vec<u8>>> {
    open_owned(key, identity, envelope.clone(), ctx)
}

/// Open an envelope this crate parsed: decrypted in its own `ct` buffer.
fn open_owned(
    key: &KeyPair,
    identity: Option<&KeyPair>,
    envelope: Envelope,
    ctx: &Context,
) -> Result<Zeroizing<Vec<u8>>> {
    let aead_key = aead_key(key, identity, &envelope, ctx)?;
    let aad = canon::aad_for(envelope.version, ctx);
    suite::aead_open_owned(&aead_key, &envelope.nonce, &aad, envelope.ct)
}
