//! Measurement prototype (see Cargo.toml). The JS side builds info/aad and the
//! envelope; this does X25519 ×2, HKDF-SHA256 and XChaCha20-Poly1305.

use std::sync::OnceLock;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::EdwardsBasepointTable;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::traits::BasepointTable;
use hkdf::Hkdf;
use sha2::Sha256;
use wasm_bindgen::prelude::*;

static TABLE: OnceLock<EdwardsBasepointTable> = OnceLock::new();

/// X25519(k, 9) with a table built once at first use (no static table in the .wasm).
fn base(k: &[u8; 32], table: bool) -> [u8; 32] {
    if table {
        let t = TABLE.get_or_init(|| EdwardsBasepointTable::create(&ED25519_BASEPOINT_POINT));
        t.mul_base_clamped(*k).to_montgomery().to_bytes()
    } else {
        let mut nine = [0u8; 32];
        nine[0] = 9;
        MontgomeryPoint(nine)
            .mul_clamped(*k)
            .to_bytes()
    }
}

fn key(ss: &[u8; 32], epk: &[u8; 32], npk: &[u8; 32], info: &[u8]) -> [u8; 32] {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(epk);
    salt[32..].copy_from_slice(npk);
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&salt), ss).expand(info, &mut okm).unwrap();
    okm
}

fn arr<const N: usize>(s: &[u8]) -> Result<[u8; N], JsError> {
    s.try_into().map_err(|_| JsError::new("bad length"))
}

/// epk(32) || nonce(24) || ct||tag. `esk_nonce` empty = fresh randomness,
/// else 56 bytes of fixed esk || nonce (for the vector check).
#[wasm_bindgen]
pub fn seal_raw(npk: &[u8], pt: &[u8], info: &[u8], aad: &[u8], table: bool, esk_nonce: &[u8]) -> Result<Vec<u8>, JsError> {
    let npk: [u8; 32] = arr(npk)?;
    let mut r = [0u8; 56];
    if esk_nonce.is_empty() {
        getrandom::getrandom(&mut r).map_err(|_| JsError::new("rng"))?;
    } else {
        r = arr(esk_nonce)?;
    }
    let esk: [u8; 32] = r[..32].try_into().unwrap();
    let epk = base(&esk, table);
    let ss = MontgomeryPoint(npk).mul_clamped(esk).to_bytes();
    if ss == [0u8; 32] {
        return Err(JsError::new("LowOrderPublicKey"));
    }
    let k = key(&ss, &epk, &npk, info);
    let mut out = Vec::with_capacity(56 + pt.len() + 16);
    out.extend_from_slice(&epk);
    out.extend_from_slice(&r[32..]);
    out.extend_from_slice(pt);
    let tag = XChaCha20Poly1305::new(&k.into())
        .encrypt_in_place_detached(XNonce::from_slice(&r[32..]), aad, &mut out[56..])
        .map_err(|_| JsError::new("aead"))?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Open with npk given (no X25519(nsk, 9) per call). ct includes the tag.
#[wasm_bindgen]
pub fn open_raw(nsk: &[u8], npk: &[u8], epk: &[u8], nonce: &[u8], ct: &[u8], info: &[u8], aad: &[u8]) -> Result<Vec<u8>, JsError> {
    let (nsk, npk, epk): ([u8; 32], [u8; 32], [u8; 32]) = (arr(nsk)?, arr(npk)?, arr(epk)?);
    if nonce.len() != 24 || ct.len() < 16 {
        return Err(JsError::new("bad length"));
    }
    let ss = MontgomeryPoint(epk).mul_clamped(nsk).to_bytes();
    if ss == [0u8; 32] {
        return Err(JsError::new("DecryptFailed"));
    }
    let k = key(&ss, &epk, &npk, info);
    let (body, tag) = ct.split_at(ct.len() - 16);
    let mut out = body.to_vec();
    XChaCha20Poly1305::new(&k.into())
        .decrypt_in_place_detached(XNonce::from_slice(nonce), aad, &mut out, tag.into())
        .map_err(|_| JsError::new("DecryptFailed"))?;
    Ok(out)
}
