//! Sealing: encrypt a secret to a node's one-time public key.

use zeroize::Zeroizing;

use crate::canon;
use crate::context::Context;
use crate::envelope::Envelope;
use crate::error::{Code, Error, Result};
use crate::keys::PublicKey;
use crate::suite::{self, KEY_LEN, MAX_PLAINTEXT_SIZE, NONCE_LEN};

/// Seal `plaintext` (1..=16368 bytes) to `node_pk` for `ctx`, with fresh
/// randomness for the ephemeral key and the nonce.
pub fn seal(node_pk: &PublicKey, plaintext: &[u8], ctx: &Context) -> Result<Envelope> {
    check_plaintext(plaintext)?;
    // One CSPRNG call for both (in Wasm each call crosses into JS).
    let mut rnd = Zeroizing::new([0u8; KEY_LEN + NONCE_LEN]);
    suite::random(rnd.as_mut())?;
    let mut esk = Zeroizing::new([0u8; KEY_LEN]);
    let mut nonce = [0u8; NONCE_LEN];
    esk.copy_from_slice(&rnd[..KEY_LEN]);
    nonce.copy_from_slice(&rnd[KEY_LEN..]);
    seal_with(&esk, &nonce, node_pk, plaintext, ctx)
}

/// Deterministic sealing from given randomness, for pinned test vectors only.
/// Reusing `esk`/`nonce` across messages breaks confidentiality.
#[cfg(any(test, feature = "test-vectors"))]
#[doc(hidden)]
pub fn seal_deterministic(
    esk: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    node_pk: &PublicKey,
    plaintext: &[u8],
    ctx: &Context,
) -> Result<Envelope> {
    check_plaintext(plaintext)?;
    seal_with(esk, nonce, node_pk, plaintext, ctx)
}

fn check_plaintext(plaintext: &[u8]) -> Result<()> {
    if plaintext.is_empty() {
        return Err(Error::new(
            Code::PlaintextEmpty,
            "plaintext must not be empty",
        ));
    }
    if plaintext.len() > MAX_PLAINTEXT_SIZE {
        return Err(Error::new(
            Code::CiphertextTooLarge,
            "plaintext longer than 16368 bytes",
        ));
    }
    Ok(())
}

fn seal_with(
    esk: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    node_pk: &PublicKey,
    plaintext: &[u8],
    ctx: &Context,
) -> Result<Envelope> {
    let npk = node_pk.as_bytes();
    let epk = suite::public_key(esk);
    let ss = suite::dh(esk, npk).ok_or(Error::new(
        Code::LowOrderPublicKey,
        "node public key is low-order (shared secret would be zero)",
    ))?;
    let key = suite::derive_key(&ss, &epk, npk, &canon::kdf_info(ctx));
    let ct = suite::aead_seal(&key, nonce, &canon::aad(ctx), plaintext)?;
    Ok(Envelope {
        epk,
        nonce: *nonce,
        ct,
    })
}
