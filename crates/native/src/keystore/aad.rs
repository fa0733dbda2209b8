//! The one place that builds the keystore's HKDF info strings and AEAD
//! associated data (the envelope's own live in `sealpass::canon`).
//!
//! Every field is length-prefixed (`u32_be(len) || bytes`) and every string
//! starts with a fixed label, so no two different field lists, and no KDF
//! input and AAD, can ever produce the same bytes.

use super::Purpose;

/// Storage format version, bound into every AAD and the first byte of every blob.
pub const FORMAT_VERSION: u8 = 1;
/// Label of the KEK id derivation (the id is public; HKDF keeps it one-way).
pub const KEK_ID_LABEL: &str = "sealpass:v1:kek-id";
/// Label of the key that wraps DEKs, derived from the KEK.
pub const DEK_WRAP_KEY_LABEL: &str = "sealpass:v1:dek-wrap-key";
/// Label of the AAD of a wrapped DEK.
pub const DEK_WRAP_AAD_LABEL: &str = "sealpass:v1:dek-wrap";
/// Label of the per-purpose record key derived from a DEK.
pub const RECORD_KEY_LABEL: &str = "sealpass:v1:record-key";
/// Label of the AAD of a sealed record.
pub const RECORD_AAD_LABEL: &str = "sealpass:v1:record";

const VERSION_STR: &str = "1";

/// `canon(f1..fn) = u32_be(len(f1)) || f1 || ... || u32_be(len(fn)) || fn`.
/// Inputs are ids and labels bounded far below 4 GiB.
fn canon(fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fields.iter().map(|f| 4 + f.len()).sum());
    for f in fields {
        let len = u32::try_from(f.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// HKDF info for the KEK id: `canon("sealpass:v1:kek-id", "1")`.
pub fn kek_id_info() -> Vec<u8> {
    canon(&[KEK_ID_LABEL.as_bytes(), VERSION_STR.as_bytes()])
}

/// HKDF info for the DEK-wrapping key: `canon("sealpass:v1:dek-wrap-key", "1")`.
pub fn dek_wrap_key_info() -> Vec<u8> {
    canon(&[DEK_WRAP_KEY_LABEL.as_bytes(), VERSION_STR.as_bytes()])
}

/// AAD of a wrapped DEK: `canon("sealpass:v1:dek-wrap", dek_id, kek_id, "1")`.
pub fn dek_wrap_aad(dek_id: &str, kek_id: &str) -> Vec<u8> {
    canon(&[
        DEK_WRAP_AAD_LABEL.as_bytes(),
        dek_id.as_bytes(),
        kek_id.as_bytes(),
        VERSION_STR.as_bytes(),
    ])
}

/// HKDF info of a record key: `canon("sealpass:v1:record-key", purpose, "1")`.
pub fn record_key_info(purpose: Purpose) -> Vec<u8> {
    canon(&[
        RECORD_KEY_LABEL.as_bytes(),
        purpose.name().as_bytes(),
        VERSION_STR.as_bytes(),
    ])
}

/// AAD of a record: `canon("sealpass:v1:record", purpose, record_id, dek_id, "1")`.
pub fn record_aad(purpose: Purpose, record_id: &str, dek_id: &str) -> Vec<u8> {
    canon(&[
        RECORD_AAD_LABEL.as_bytes(),
        purpose.name().as_bytes(),
        record_id.as_bytes(),
        dek_id.as_bytes(),
        VERSION_STR.as_bytes(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_length_prefixed() {
        let a = record_aad(Purpose::PendingKey, "ab", "c");
        let b = record_aad(Purpose::PendingKey, "a", "bc");
        assert_ne!(a, b);
        assert!(a.starts_with(&[0, 0, 0, 18]));
        assert!(a.ends_with(&[0, 0, 0, 1, b'c', 0, 0, 0, 1, b'1']));
        assert_ne!(
            record_key_info(Purpose::PendingKey),
            record_key_info(Purpose::DeliveredSecret)
        );
        assert_ne!(dek_wrap_key_info(), kek_id_info());
    }
}
