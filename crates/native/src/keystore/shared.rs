//! Records sealed straight under the KEK, for a store several processes
//! share (the relay's PostgreSQL database, where every relay instance is
//! given the same KEK): there is no per-process DEK table to agree on.
//!
//! A blob is `version (1) = 0x03 || kek_id (8) || nonce (24) || ct || tag (16)`,
//! sealed with XChaCha20-Poly1305 under
//! `HKDF-SHA256(ikm = KEK, info = canon("sealpass:v1:shared-record-key", purpose, "1"))`
//! and AAD `canon("sealpass:v1:shared-record", purpose, record_id, kek_id, "1")`
//! ([`super::aad`]). Moving a blob to another record id, another purpose or
//! another KEK's id fails authentication (8504).

use zeroize::Zeroizing;

use super::aad;
use super::blob::{assemble, split_version};
use super::kek::KekConfig;
use sealpass::error::{Code, Error, Result};
use sealpass::suite;

/// The format byte of a shared blob (distinct from keystore records, 1
/// and 2, so neither kind ever parses as the other).
pub const SHARED_FORMAT: u8 = 3;

/// What a shared record holds; each has its own key and AAD label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedPurpose {
    /// A node's HMAC secret (record id `<node_id>:v<version>`).
    RelayHmacSecret,
    /// The relay's admin bearer token (record id `admin-token`).
    RelayAdminToken,
}

impl SharedPurpose {
    /// Stable name, bound into the key derivation and the AAD.
    pub const fn name(self) -> &'static str {
        match self {
            SharedPurpose::RelayHmacSecret => "relay-hmac-secret",
            SharedPurpose::RelayAdminToken => "relay-admin-token",
        }
    }
}

impl KekConfig {
    /// Seal `plaintext` as record `record_id` under the current KEK.
    pub fn seal_shared(
        &self,
        purpose: SharedPurpose,
        record_id: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let kek = &self.current;
        let aad = aad::shared_record_aad(purpose.name(), record_id, kek.id());
        assemble(
            SHARED_FORMAT,
            kek.id(),
            &kek.shared_key(purpose.name()),
            &aad,
            plaintext,
        )
    }

    /// Open a shared blob with the KEK its header names (current or
    /// previous; neither → 8502); a blob changed in any byte, or moved to
    /// another record id or purpose → 8504.
    pub fn open_shared(
        &self,
        purpose: SharedPurpose,
        record_id: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let what = format!("{} record {record_id:?}", purpose.name());
        let p = split_version(blob, &what, SHARED_FORMAT)?;
        let kek = self.by_id(&p.key_id).ok_or_else(|| {
            Error::with_detail(
                Code::KekMismatch,
                format!(
                    "{what} is sealed under KEK id {}, which is not configured",
                    p.key_id
                ),
            )
        })?;
        let aad = aad::shared_record_aad(purpose.name(), record_id, kek.id());
        suite::aead_open(&kek.shared_key(purpose.name()), &p.nonce, &aad, p.ct).map_err(|_| {
            Error::with_detail(
                Code::RecordTampered,
                format!("{what} failed authentication"),
            )
        })
    }

    /// Whether `blob` is sealed under the current KEK (else a rotation
    /// re-seals it: [`KekConfig::open_shared`] then [`KekConfig::seal_shared`]).
    pub fn is_sealed_under_current(&self, blob: &[u8]) -> bool {
        split_version(blob, "shared record", SHARED_FORMAT)
            .map(|p| p.key_id == self.current.id())
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::SharedPurpose::{RelayAdminToken, RelayHmacSecret};
    use crate::keystore::KekConfig;
    use sealpass::error::Code;

    #[test]
    fn round_trip_and_every_binding() {
        let k = KekConfig::new([1; 32], None);
        let blob = k.seal_shared(RelayHmacSecret, "n1:v1", b"secret").unwrap();
        assert_eq!(blob[0], super::SHARED_FORMAT);
        assert!(k.is_sealed_under_current(&blob));
        let pt = k.open_shared(RelayHmacSecret, "n1:v1", &blob).unwrap();
        assert_eq!(&pt[..], b"secret");
        // Another record id, another purpose: 8504.
        let e = k.open_shared(RelayHmacSecret, "n1:v2", &blob).unwrap_err();
        assert_eq!(e.code(), Code::RecordTampered);
        let e = k.open_shared(RelayAdminToken, "n1:v1", &blob).unwrap_err();
        assert_eq!(e.code(), Code::RecordTampered);
        // Any byte flipped: 8504 (or 8502 when it lands in the KEK id).
        for i in 0..blob.len() {
            let mut b = blob.clone();
            b[i] ^= 1;
            let e = k.open_shared(RelayHmacSecret, "n1:v1", &b).unwrap_err();
            assert!(
                matches!(
                    e.code(),
                    Code::RecordTampered | Code::KekMismatch | Code::FormatUnsupported
                ),
                "byte {i}: {:?}",
                e.code()
            );
        }
        // Truncated.
        let e = k
            .open_shared(RelayHmacSecret, "n1:v1", &blob[..20])
            .unwrap_err();
        assert_eq!(e.code(), Code::RecordTampered);
    }

    #[test]
    fn another_kek_is_refused_and_the_previous_one_still_opens() {
        let old = KekConfig::new([1; 32], None);
        let blob = old.seal_shared(RelayHmacSecret, "n1:v1", b"s").unwrap();
        let other = KekConfig::new([2; 32], None);
        let e = other
            .open_shared(RelayHmacSecret, "n1:v1", &blob)
            .unwrap_err();
        assert_eq!(e.code(), Code::KekMismatch);
        let rotated = KekConfig::new([2; 32], Some([1; 32]));
        assert!(!rotated.is_sealed_under_current(&blob));
        let pt = rotated
            .open_shared(RelayHmacSecret, "n1:v1", &blob)
            .unwrap();
        assert_eq!(&pt[..], b"s");
        let resealed = rotated.seal_shared(RelayHmacSecret, "n1:v1", &pt).unwrap();
        assert!(rotated.is_sealed_under_current(&resealed));
    }
}
