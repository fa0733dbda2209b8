//! Sealing: encrypt a secret to a node's one-time public key (v1), or to
//! it and the node's identity key (v2).

use zeroize::Zeroizing;

use crate::canon;
use crate::context::Context;
use crate::envelope::{Envelope, Version};
use crate::error::{Code, Error, Result};
use crate::keys::PublicKey;
use crate::rng::{self, CryptoRngCore};
use crate::suite::{self, KEY_LEN, MAX_PLAINTEXT_SIZE, NONCE_LEN};

/// Seal `plaintext` (1..=16368 bytes) to `node_pk` for `ctx` (envelope v1),
/// with fresh randomness from the operating system for the ephemeral key
/// and the nonce.
#[cfg(feature = "os-rng")]
pub fn seal(node_pk: &PublicKey, plaintext: &[u8], ctx: &Context) -> Result<Envelope> {
    seal_with_rng(&mut rng::OsRng, node_pk, plaintext, ctx)
}

/// [`seal`] with the randomness taken from `rng`: 32 bytes of ephemeral
/// secret key, then 24 bytes of nonce, in one call (in Wasm each call
/// crosses into JS). A fixed-output RNG reproduces the pinned vectors;
/// anything but a CSPRNG breaks confidentiality.
pub fn seal_with_rng(
    rng: &mut impl CryptoRngCore,
    node_pk: &PublicKey,
    plaintext: &[u8],
    ctx: &Context,
) -> Result<Envelope> {
    seal_to(rng, node_pk, None, plaintext, ctx)
}

/// Seal to the node's one-time key `node_pk` AND its identity key
/// `identity` (envelope v2, docs/PROTOCOL.md §15): only the holder of the
/// identity secret key can open it, whatever one-time key a relay handed out.
#[cfg(feature = "os-rng")]
pub fn seal_v2(
    node_pk: &PublicKey,
    identity: &PublicKey,
    plaintext: &[u8],
    ctx: &Context,
) -> Result<Envelope> {
    seal_v2_with_rng(&mut rng::OsRng, node_pk, identity, plaintext, ctx)
}

/// [`seal_v2`] with the randomness taken from `rng` (as [`seal_with_rng`]).
pub fn seal_v2_with_rng(
    rng: &mut impl CryptoRngCore,
    node_pk: &PublicKey,
    identity: &PublicKey,
    plaintext: &[u8],
    ctx: &Context,
) -> Result<Envelope> {
    seal_to(rng, node_pk, Some(identity), plaintext, ctx)
}

/// v1 without an identity, v2 with one.
pub fn seal_to(
    rng: &mut impl CryptoRngCore,
    node_pk: &PublicKey,
    identity: Option<&PublicKey>,
    plaintext: &[u8],
    ctx: &Context,
) -> Result<Envelope> {
    check_plaintext(plaintext)?;
    let mut rnd = Zeroizing::new([0u8; KEY_LEN + NONCE_LEN]);
    rng::fill(rng, rnd.as_mut())?;
    let (esk_part, nonce_part) = rnd.split_at(KEY_LEN);
    let mut esk = Zeroizing::new([0u8; KEY_LEN]);
    let mut nonce = [0u8; NONCE_LEN];
    esk.copy_from_slice(esk_part);
    nonce.copy_from_slice(nonce_part);
    seal_with(&esk, &nonce, node_pk, identity, plaintext, ctx)
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
    identity: Option<&PublicKey>,
    plaintext: &[u8],
    ctx: &Context,
) -> Result<Envelope> {
    let npk = node_pk.as_bytes();
    let epk = suite::public_key(esk);
    let (version, key) = match identity {
        None => {
            let ss = suite::dh(esk, npk).ok_or(Error::new(
                Code::LowOrderPublicKey,
                "node public key is low-order (shared secret would be zero)",
            ))?;
            let info = canon::kdf_info_for(Version::V1, ctx);
            (Version::V1, suite::derive_key(&ss, &epk, npk, &info))
        }
        Some(nik) => {
            let [ss, ss2] = suite::dh2([esk, esk], [npk, nik.as_bytes()]);
            let ss = ss.ok_or(Error::new(
                Code::LowOrderPublicKey,
                "node public key is low-order (shared secret would be zero)",
            ))?;
            let ss2 = ss2.ok_or(Error::new(
                Code::LowOrderPublicKey,
                "node identity key is low-order (shared secret would be zero)",
            ))?;
            let info = canon::kdf_info_for(Version::V2, ctx);
            let key = suite::derive_key_v2(&ss, &ss2, &epk, npk, nik.as_bytes(), &info);
            (Version::V2, key)
        }
    };
    let ct = suite::aead_seal(&key, nonce, &canon::aad_for(version, ctx), plaintext)?;
    Ok(Envelope {
        version,
        epk,
        nonce: *nonce,
        ct,
    })
}
