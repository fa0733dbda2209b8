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
use sealpass::envelope::Envelope;
use sealpass::error::{Code, Error, Result};
use sealpass::keys::{PublicKey, SecretKey};
use sealpass::suite;

/// Open a parsed envelope with the node's one-time secret key.
/// Any authentication failure, including a low-order `epk`, is 8006.
///
/// Computes the node public key (needed for the HKDF salt) on every call;
/// a node opening more than once with the same key should hold an [`Opener`].
pub fn open(node_sk: &SecretKey, envelope: &Envelope, ctx: &Context) -> Result<Zeroizing<Vec<u8>>> {
    open_with(node_sk, &node_sk.public_key(), envelope, ctx)
}

/// Parse envelope JSON and open it.
pub fn open_json(
    node_sk: &SecretKey,
    envelope_json: &[u8],
    ctx: &Context,
) -> Result<Zeroizing<Vec<u8>>> {
    open(node_sk, &Envelope::from_json(envelope_json)?, ctx)
}

/// A node's secret key held for opening, with its public key computed once.
///
/// Opening needs `npk` only as part of the HKDF salt; deriving it from the
/// secret key costs a scalar multiplication, as much as the Diffie-Hellman
/// itself. The pair is derived here, never taken from the caller, so it
/// always matches. The secret key is zeroized when the `Opener` is dropped.
pub struct Opener {
    sk: SecretKey,
    pk: PublicKey,
}

impl Opener {
    /// Take the secret key and derive its public key.
    pub fn new(sk: SecretKey) -> Self {
        let pk = sk.public_key();
        Opener { sk, pk }
    }

    /// The public key senders seal to.
    pub fn public_key(&self) -> &PublicKey {
        &self.pk
    }

    /// [`open`] without re-deriving the public key.
    pub fn open(&self, envelope: &Envelope, ctx: &Context) -> Result<Zeroizing<Vec<u8>>> {
        open_with(&self.sk, &self.pk, envelope, ctx)
    }

    /// [`open_json`] without re-deriving the public key.
    pub fn open_json(&self, envelope_json: &[u8], ctx: &Context) -> Result<Zeroizing<Vec<u8>>> {
        self.open(&Envelope::from_json(envelope_json)?, ctx)
    }
}

impl core::fmt::Debug for Opener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Opener")
            .field("public_key", &self.pk)
            .finish_non_exhaustive()
    }
}

/// `npk` must be `X25519(nsk, 9)`; both callers above guarantee it.
fn open_with(
    node_sk: &SecretKey,
    npk: &PublicKey,
    envelope: &Envelope,
    ctx: &Context,
) -> Result<Zeroizing<Vec<u8>>> {
    let ss = suite::dh(node_sk.as_bytes(), &envelope.epk).ok_or(Error::new(
        Code::DecryptFailed,
        "ephemeral key is low-order",
    ))?;
    let key = suite::derive_key(&ss, &envelope.epk, npk.as_bytes(), &canon::kdf_info(ctx));
    suite::aead_open(&key, &envelope.nonce, &canon::aad(ctx), &envelope.ct)
}
