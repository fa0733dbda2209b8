//! Opening (node side only, cargo feature `open`).
//!
//! The AAD is rebuilt from the node's own copy of the context, never from
//! anything the relay sent alongside the envelope.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use crate::canon;
use crate::context::Context;
use crate::envelope::Envelope;
use crate::error::{Code, Error, Result};
use crate::keys::SecretKey;
use crate::suite;

/// Open a parsed envelope with the node's one-time secret key.
/// Any authentication failure, including a low-order `epk`, is 8006.
pub fn open(node_sk: &SecretKey, envelope: &Envelope, ctx: &Context) -> Result<Zeroizing<Vec<u8>>> {
    let nsk = node_sk.as_bytes();
    let npk = suite::public_key(nsk);
    let ss = suite::dh(nsk, &envelope.epk).ok_or(Error::new(
        Code::DecryptFailed,
        "ephemeral key is low-order",
    ))?;
    let key = suite::derive_key(&ss, &envelope.epk, &npk, &canon::kdf_info(ctx));
    suite::aead_open(&key, &envelope.nonce, &canon::aad(ctx), &envelope.ct)
}

/// Parse envelope JSON and open it.
pub fn open_json(
    node_sk: &SecretKey,
    envelope_json: &[u8],
    ctx: &Context,
) -> Result<Zeroizing<Vec<u8>>> {
    open(node_sk, &Envelope::from_json(envelope_json)?, ctx)
}
