//! The cipher suite `x25519-hkdf-sha256-xchacha20poly1305`: the three
//! primitive steps shared by seal and open, so both sides compute the key
//! with literally the same code.

use alloc::vec::Vec;

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::XNonce;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Code, Error, Result};

/// Suite identifier carried in every envelope.
pub const SUITE: &str = "x25519-hkdf-sha256-xchacha20poly1305";
/// Suite identifier of v2 (identity-bound) envelopes.
pub const SUITE_V2: &str = "x25519-x25519-hkdf-sha256-xchacha20poly1305";
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// XChaCha20 nonce length.
pub const NONCE_LEN: usize = 24;
/// X25519 key length.
pub const KEY_LEN: usize = 32;
/// Largest ciphertext (including tag) an envelope may carry.
pub const MAX_CIPHERTEXT_SIZE: usize = 16 * 1024;
/// Largest plaintext: the cap minus the tag.
pub const MAX_PLAINTEXT_SIZE: usize = MAX_CIPHERTEXT_SIZE - TAG_LEN;
/// Smallest ciphertext: one byte of plaintext plus the tag.
pub const MIN_CIPHERTEXT_SIZE: usize = 1 + TAG_LEN;

/// X25519 (RFC 7748). `None` when the result is all zero (low-order point),
/// checked in constant time.
///
/// With feature `x25519x2` (the Wasm speed builds), crates/x25519x2's
/// `x25519`: one ladder whose independent multiplications run two at a time
/// in the SIMD lanes, 5 two-lane operations per ladder step instead of 9
/// (0.83–0.95× curve25519-dalek's ladder, crates/x25519x2);
/// without it, x25519-dalek. The same bytes either way (Wycheproof, RFC 7748
/// and the pinned vectors run through both).
pub fn dh(secret: &[u8; KEY_LEN], public: &[u8; KEY_LEN]) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    #[cfg(feature = "x25519x2")]
    {
        let ss = sealpass_x25519x2::x25519(secret, public);
        (!sealpass_x25519x2::is_zero(&ss)).then_some(ss)
    }
    #[cfg(not(feature = "x25519x2"))]
    {
        dalek_dh(secret, public)
    }
}

#[cfg(not(feature = "x25519x2"))]
fn dalek_dh(secret: &[u8; KEY_LEN], public: &[u8; KEY_LEN]) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    let sk = x25519_dalek::StaticSecret::from(*secret);
    let ss = sk.diffie_hellman(&x25519_dalek::PublicKey::from(*public));
    if !ss.was_contributory() {
        return None;
    }
    Some(Zeroizing::new(ss.to_bytes()))
}

/// Two X25519s: `[X25519(k[0], u[0]), X25519(k[1], u[1])]`, each `None`
/// when all zero, as [`dh`] (constant-time checks; both always computed).
///
/// With feature `x25519x2`, one two-lane ladder (crates/x25519x2, ref10's
/// arithmetic; a SIMD lane per ladder in Wasm); without it, two
/// curve25519-dalek X25519s. The same bytes either way (Wycheproof and the pinned vectors run
/// through both).
pub fn dh2(
    k: [&[u8; KEY_LEN]; 2],
    u: [&[u8; KEY_LEN]; 2],
) -> [Option<Zeroizing<[u8; KEY_LEN]>>; 2] {
    #[cfg(feature = "x25519x2")]
    {
        sealpass_x25519x2::x25519x2(k, u).map(|ss| (!sealpass_x25519x2::is_zero(&ss)).then_some(ss))
    }
    #[cfg(not(feature = "x25519x2"))]
    {
        [dalek_dh(k[0], u[0]), dalek_dh(k[1], u[1])]
    }
}

/// X25519 public key for a secret key: `X25519(sk, 9)`.
///
/// With feature `precomputed-tables` (native crates, Wasm Node builds),
/// x25519-dalek computes
/// `clamp(sk)·B` on the Edwards curve with a fixed-base table and maps it to
/// Montgomery u (RFC 7748 §4.1): the same bytes as the ladder, ~4x faster.
/// The table is 30 KB of static data, too much for the browser bundle, so
/// browser builds run the Montgomery ladder, which links no Edwards code.
pub fn public_key(secret: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
    #[cfg(feature = "precomputed-tables")]
    {
        x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*secret)).to_bytes()
    }
    #[cfg(not(feature = "precomputed-tables"))]
    {
        x25519_dalek::x25519(*secret, x25519_dalek::X25519_BASEPOINT_BYTES)
    }
}

/// `HKDF-SHA256(salt = epk || npk, ikm = ss, info, L = 32)`.
pub fn derive_key(
    ss: &[u8; KEY_LEN],
    epk: &[u8; KEY_LEN],
    npk: &[u8; KEY_LEN],
    info: &[u8],
) -> Zeroizing<[u8; KEY_LEN]> {
    let mut salt = [0u8; 2 * KEY_LEN];
    salt[..KEY_LEN].copy_from_slice(epk);
    salt[KEY_LEN..].copy_from_slice(npk);
    let mut okm = Zeroizing::new([0u8; KEY_LEN]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit; cannot fail.
    let _ = hkdf_sha256(&salt, ss, info, okm.as_mut());
    okm
}

/// v2: `HKDF-SHA256(salt = epk || npk || nik, ikm = ss1 || ss2, info, L = 32)`.
pub fn derive_key_v2(
    ss1: &[u8; KEY_LEN],
    ss2: &[u8; KEY_LEN],
    epk: &[u8; KEY_LEN],
    npk: &[u8; KEY_LEN],
    nik: &[u8; KEY_LEN],
    info: &[u8],
) -> Zeroizing<[u8; KEY_LEN]> {
    let mut salt = [0u8; 3 * KEY_LEN];
    let mut ikm = Zeroizing::new([0u8; 2 * KEY_LEN]);
    for (dst, src) in salt.chunks_exact_mut(KEY_LEN).zip([epk, npk, nik]) {
        dst.copy_from_slice(src);
    }
    for (dst, src) in ikm.chunks_exact_mut(KEY_LEN).zip([ss1, ss2]) {
        dst.copy_from_slice(src);
    }
    let mut okm = Zeroizing::new([0u8; KEY_LEN]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit; cannot fail.
    let _ = hkdf_sha256(&salt, ikm.as_ref(), info, okm.as_mut());
    okm
}

/// HKDF-SHA256 (RFC 5869) into `out`; more than 255 * 32 bytes is an error.
/// An empty salt means 32 zero bytes, as the RFC says.
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out)
        .map_err(|_| Error::new(Code::InvalidLength, "HKDF output longer than 8160 bytes"))
}

/// The XChaCha20-Poly1305 of [`aead_seal`] and [`aead_open_owned`]: with
/// feature `chacha20x4` (the Wasm speed builds) chacha20poly1305's
/// construction over crates/chacha20x4's XChaCha20, whose ChaCha20 keystream
/// runs four blocks at a time in the Wasm SIMD lanes (chacha20's own runs one
/// block at a time on wasm32); without it chacha20poly1305's
/// `XChaCha20Poly1305`. The same bytes and the same errors either way
/// (Wycheproof and the draft vector run through both).
#[cfg(feature = "chacha20x4")]
type XChaCha20Poly1305 =
    chacha20poly1305::ChaChaPoly1305<sealpass_chacha20x4::XChaCha20, chacha20poly1305::consts::U24>;
#[cfg(not(feature = "chacha20x4"))]
use chacha20poly1305::XChaCha20Poly1305;

/// XChaCha20-Poly1305 encrypt: returns ciphertext || tag.
pub fn aead_seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    pt: &[u8],
) -> Result<Vec<u8>> {
    XChaCha20Poly1305::new(key.into())
        .encrypt(XNonce::from_slice(nonce), Payload { msg: pt, aad })
        .map_err(|_| Error::new(Code::CiphertextTooLarge, "plaintext too large for the AEAD"))
}

/// XChaCha20-Poly1305 decrypt (tag checked in constant time by the crate).
pub fn aead_open(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ct: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    aead_open_owned(key, nonce, aad, ct.to_vec())
}

/// [`aead_open`] in the ciphertext's own buffer: the plaintext comes back in
/// `ct`'s allocation, the tag cut off (an envelope's decoded `ct` is opened
/// without a second 16 KiB buffer). On failure the buffer, still holding
/// only ciphertext (the tag is checked before anything is decrypted), is
/// dropped.
pub fn aead_open_owned(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ct: Vec<u8>,
) -> Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(ct);
    XChaCha20Poly1305::new(key.into())
        .decrypt_in_place(XNonce::from_slice(nonce), aad, &mut *buf)
        .map_err(|_| Error::new(Code::DecryptFailed, "authentication failed"))?;
    Ok(buf)
}
