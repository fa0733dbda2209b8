//! Stored blob layout and the AEAD steps on it.
//!
//! Every blob is `format_version (1) || key_id (8) || nonce (24) || ct || tag (16)`.
//! For a wrapped DEK `key_id` is the id of the KEK that wrapped it; for a
//! record it is the id of the DEK that sealed it. Both ids and the version
//! are also bound in the AAD, so editing any byte fails authentication; a
//! record's AAD also binds its delivered context (see [`aad::record_aad`]).

use zeroize::Zeroizing;

use super::aad::{self, DEK_WRAP_VERSION, FORMAT_VERSION, LEGACY_FORMAT_VERSION};
use super::kek::{Kek, KekConfig};
use super::{Purpose, SecretMeta};
use crate::hex;
use sealpass::error::{Code, Error, Result};
use sealpass::suite::{self, KEY_LEN, NONCE_LEN, TAG_LEN};

/// Length of a KEK or DEK id in bytes (16 hex digits as text).
pub const ID_LEN: usize = 8;
/// Header before the ciphertext.
pub const HEADER_LEN: usize = 1 + ID_LEN + NONCE_LEN;

/// An unwrapped data-encryption key. Zeroized on drop; never printed.
pub(crate) struct Dek {
    pub(crate) id: String,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl core::fmt::Debug for Dek {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Dek({})", self.id)
    }
}

/// The parts of a blob, borrowed.
pub(crate) struct Parts<'a> {
    pub(crate) version: u8,
    pub(crate) key_id: String,
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) ct: &'a [u8],
}

fn split<'a>(blob: &'a [u8], what: &str) -> Result<Parts<'a>> {
    let truncated = || Error::with_detail(Code::RecordTampered, format!("{what} is truncated"));
    if blob.len() < HEADER_LEN + TAG_LEN {
        return Err(truncated());
    }
    let Some((&version, rest)) = blob.split_first() else {
        return Err(truncated());
    };
    let Some((key_id, rest)) = rest.split_first_chunk::<ID_LEN>() else {
        return Err(truncated());
    };
    let Some((nonce, ct)) = rest.split_first_chunk::<NONCE_LEN>() else {
        return Err(truncated());
    };
    Ok(Parts {
        version,
        key_id: hex::encode(key_id),
        nonce: *nonce,
        ct,
    })
}

/// `split`, refusing any version but `want`. A format-1 record where format
/// 2 is expected can only have been written back from an older copy of the
/// store (the migration re-seals them all), so it is 8504, not 8508.
pub(crate) fn split_version<'a>(blob: &'a [u8], what: &str, want: u8) -> Result<Parts<'a>> {
    let p = split(blob, what)?;
    if p.version == want {
        return Ok(p);
    }
    let v = p.version;
    Err(if want == FORMAT_VERSION && v == LEGACY_FORMAT_VERSION {
        Error::with_detail(
            Code::RecordTampered,
            format!("{what} has record format {v} in a format-{want} store (written back from an older copy?)"),
        )
    } else {
        Error::with_detail(
            Code::FormatUnsupported,
            format!("{what} has format version {v}, expected {want}"),
        )
    })
}

/// The key id a blob names (DEK id of a record, KEK id of a wrapped DEK).
pub(crate) fn key_id_of(blob: &[u8], what: &str) -> Result<String> {
    split(blob, what).map(|p| p.key_id)
}

/// The format byte of a record blob (the migration picks format-1 records by it).
pub(crate) fn version_of(blob: &[u8], what: &str) -> Result<u8> {
    split(blob, what).map(|p| p.version)
}

pub(crate) fn assemble(
    version: u8,
    key_id: &str,
    aead_key: &[u8; KEY_LEN],
    aad: &[u8],
    pt: &[u8],
) -> Result<Vec<u8>> {
    let id = decode_id(key_id)?;
    let mut nonce = [0u8; NONCE_LEN];
    sealpass::rng::os_fill(&mut nonce)?;
    let ct = suite::aead_seal(aead_key, &nonce, aad, pt)?;
    let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
    out.push(version);
    out.extend_from_slice(&id);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn decode_id(id: &str) -> Result<[u8; ID_LEN]> {
    let bad = || Error::new(Code::StoreUnavailable, "malformed key id");
    if id.len() != 2 * ID_LEN {
        return Err(bad());
    }
    let mut out = [0u8; ID_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        let pair = id.get(2 * i..2 * i + 2).ok_or_else(bad)?;
        *o = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

impl Dek {
    /// A fresh random DEK with a fresh random id.
    pub(crate) fn generate() -> Result<Dek> {
        let mut id = [0u8; ID_LEN];
        sealpass::rng::os_fill(&mut id)?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        sealpass::rng::os_fill(key.as_mut())?;
        Ok(Dek {
            id: hex::encode(&id),
            key,
        })
    }

    /// Wrap this DEK under `kek`.
    pub(crate) fn wrap(&self, kek: &Kek) -> Result<Vec<u8>> {
        let aad = aad::dek_wrap_aad(&self.id, kek.id());
        assemble(
            DEK_WRAP_VERSION,
            kek.id(),
            &kek.wrap_key(),
            &aad,
            self.key.as_ref(),
        )
    }

    /// Unwrap a stored DEK. The KEK is chosen by the id in the blob: current
    /// first, then previous; neither → 8502. Authentication failure → 8504.
    pub(crate) fn unwrap(kek: &KekConfig, dek_id: &str, blob: &[u8]) -> Result<Dek> {
        let what = format!("wrapped DEK {dek_id}");
        let p = split_version(blob, &what, DEK_WRAP_VERSION)?;
        let kek = kek.by_id(&p.key_id).ok_or_else(|| {
            Error::with_detail(
                Code::KekMismatch,
                format!(
                    "DEK {dek_id} is wrapped under KEK id {}, which is not configured",
                    p.key_id
                ),
            )
        })?;
        let aad = aad::dek_wrap_aad(dek_id, kek.id());
        let pt = suite::aead_open(&kek.wrap_key(), &p.nonce, &aad, p.ct).map_err(|_| {
            Error::with_detail(
                Code::RecordTampered,
                format!("{what} failed authentication"),
            )
        })?;
        if pt.len() != KEY_LEN {
            return Err(Error::with_detail(
                Code::RecordTampered,
                format!("{what} has the wrong length"),
            ));
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(&pt);
        Ok(Dek {
            id: dek_id.to_owned(),
            key,
        })
    }

    fn record_key(&self, purpose: Purpose) -> Zeroizing<[u8; KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        let _ = suite::hkdf_sha256(
            &[],
            self.key.as_ref(),
            &aad::record_key_info(purpose),
            out.as_mut(),
        );
        out
    }

    /// Seal a record's plaintext (format 2) binding `context`, the
    /// record's `secrets` row as stored (`None` for every other record).
    pub(crate) fn seal(
        &self,
        purpose: Purpose,
        record_id: &str,
        context: Option<&SecretMeta>,
        pt: &[u8],
    ) -> Result<Vec<u8>> {
        let aad = aad::record_aad(purpose, record_id, &self.id, context);
        assemble(
            FORMAT_VERSION,
            &self.id,
            &self.record_key(purpose),
            &aad,
            pt,
        )
    }

    /// Open a format-2 record blob sealed under this DEK (the caller picked
    /// this DEK from the blob's own id) with `context` as stored now: any
    /// edit of it since sealing is 8504.
    pub(crate) fn open(
        &self,
        purpose: Purpose,
        record_id: &str,
        context: Option<&SecretMeta>,
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let aad = aad::record_aad(purpose, record_id, &self.id, context);
        self.open_with(purpose, record_id, FORMAT_VERSION, &aad, blob)
    }

    /// Open a format-1 record (the migration only; it bound no context).
    pub(crate) fn open_legacy(
        &self,
        purpose: Purpose,
        record_id: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let aad = aad::legacy_record_aad(purpose, record_id, &self.id);
        self.open_with(purpose, record_id, LEGACY_FORMAT_VERSION, &aad, blob)
    }

    fn open_with(
        &self,
        purpose: Purpose,
        record_id: &str,
        version: u8,
        aad: &[u8],
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let what = format!("{} record {record_id:?}", purpose.name());
        let p = split_version(blob, &what, version)?;
        if p.key_id != self.id {
            return Err(Error::with_detail(
                Code::RecordTampered,
                format!("{what} names another DEK"),
            ));
        }
        suite::aead_open(&self.record_key(purpose), &p.nonce, aad, p.ct).map_err(|_| {
            Error::with_detail(
                Code::RecordTampered,
                format!("{what} failed authentication"),
            )
        })
    }
}

/// Fuzzing entry point (cargo feature `fuzzing`, used by fuzz/ only; not an
/// API): the keystore's read path on untrusted stored bytes. `wrapped` is
/// decoded and unwrapped as the DEK `dek_id` under `kek` (as at start-up);
/// when that authenticates, `record` is decoded and opened as the `purpose`
/// record `record_id` sealed under that DEK (as a record read).
#[cfg(feature = "fuzzing")]
pub fn fuzz_decode(
    kek: &KekConfig,
    dek_id: &str,
    wrapped: &[u8],
    purpose: Purpose,
    record_id: &str,
    record: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let dek = Dek::unwrap(kek, dek_id, wrapped)?;
    // records.rs picks the DEK by the id the blob names, then opens.
    key_id_of(record, "fuzzed record")?;
    dek.open(purpose, record_id, None, record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_seal_round_trip_and_tamper() {
        let kek = KekConfig::new([3u8; 32], None);
        let dek = Dek::generate().unwrap();
        let w = dek.wrap(&kek.current).unwrap();
        assert_eq!(w.len(), HEADER_LEN + KEY_LEN + TAG_LEN);
        let again = Dek::unwrap(&kek, &dek.id, &w).unwrap();
        let blob = dek
            .seal(Purpose::NodeHmacSecret, "r1", None, b"hello")
            .unwrap();
        assert_eq!(
            &again
                .open(Purpose::NodeHmacSecret, "r1", None, &blob)
                .unwrap()[..],
            b"hello"
        );
        assert_eq!(
            again
                .open(Purpose::RelayHmacSecret, "r1", None, &blob)
                .unwrap_err()
                .code(),
            Code::RecordTampered
        );
        assert_eq!(
            again
                .open(Purpose::NodeHmacSecret, "r2", None, &blob)
                .unwrap_err()
                .code(),
            Code::RecordTampered
        );
        for i in 1..blob.len() {
            let mut b = blob.clone();
            b[i] ^= 1;
            assert_eq!(
                again
                    .open(Purpose::NodeHmacSecret, "r1", None, &b)
                    .unwrap_err()
                    .code(),
                Code::RecordTampered
            );
        }
        assert_eq!(blob[0], FORMAT_VERSION);
        assert_eq!(w[0], DEK_WRAP_VERSION);
        // A format-1 byte on a format-2 record: written back, 8504.
        let mut b = blob.clone();
        b[0] = LEGACY_FORMAT_VERSION;
        assert_eq!(
            again
                .open(Purpose::NodeHmacSecret, "r1", None, &b)
                .unwrap_err()
                .code(),
            Code::RecordTampered
        );
        let mut b = blob.clone();
        b[0] = 3;
        assert_eq!(
            again
                .open(Purpose::NodeHmacSecret, "r1", None, &b)
                .unwrap_err()
                .code(),
            Code::FormatUnsupported
        );
        let other = KekConfig::new([4u8; 32], None);
        assert_eq!(
            Dek::unwrap(&other, &dek.id, &w).unwrap_err().code(),
            Code::KekMismatch
        );
        assert_eq!(format!("{dek:?}"), format!("Dek({})", dek.id));
    }
}
