//! The one place that builds the keystore's HKDF info strings and AEAD
//! associated data (the envelope's own live in `sealpass::canon`).
//!
//! Every field is length-prefixed (`u32_be(len) || bytes`) and every string
//! starts with a fixed label, so no two different field lists, and no KDF
//! input and AAD, can ever produce the same bytes.

use super::{Purpose, SecretMeta};

/// Storage format version (`meta.format_version`) and the first byte of
/// every record blob. Format 2 binds a delivered secret's whole context into
/// its record's AAD ([`record_aad`]).
pub const FORMAT_VERSION: u8 = 2;
/// Record format of stores made before format 2: read only by the
/// migration (`upgrade.rs`), never on a normal read.
pub const LEGACY_FORMAT_VERSION: u8 = 1;
/// First byte of a wrapped DEK; its layout and AAD did not change in format 2.
pub const DEK_WRAP_VERSION: u8 = 1;
/// Label of the KEK id derivation (the id is public; HKDF keeps it one-way).
pub const KEK_ID_LABEL: &str = "sealpass:v1:kek-id";
/// Label of the key that wraps DEKs, derived from the KEK.
pub const DEK_WRAP_KEY_LABEL: &str = "sealpass:v1:dek-wrap-key";
/// Label of the AAD of a wrapped DEK.
pub const DEK_WRAP_AAD_LABEL: &str = "sealpass:v1:dek-wrap";
/// Label of the per-purpose record key derived from a DEK.
pub const RECORD_KEY_LABEL: &str = "sealpass:v1:record-key";
/// Label of the AAD of a format-1 record (migration only).
pub const LEGACY_RECORD_AAD_LABEL: &str = "sealpass:v1:record";
/// Label of the AAD of a sealed record (format 2).
pub const RECORD_AAD_LABEL: &str = "sealpass:v2:record";
/// Label of the key of a record sealed straight under the KEK (a store
/// shared by several processes: `keystore::shared`).
pub const SHARED_KEY_LABEL: &str = "sealpass:v1:shared-record-key";
/// Label of the AAD of such a record.
pub const SHARED_AAD_LABEL: &str = "sealpass:v1:shared-record";
/// Marks a record AAD that binds no delivered context.
pub const NO_CONTEXT: &str = "no-context";
/// Marks a record AAD that binds a delivered secret's `secrets` row.
pub const DELIVERED_CONTEXT: &str = "delivered-context";

const VERSION_STR: &str = "1";
const RECORD_VERSION_STR: &str = "2";

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

/// HKDF info of a shared record key: `canon("sealpass:v1:shared-record-key", purpose, "1")`.
pub fn shared_key_info(purpose: &str) -> Vec<u8> {
    canon(&[
        SHARED_KEY_LABEL.as_bytes(),
        purpose.as_bytes(),
        VERSION_STR.as_bytes(),
    ])
}

/// AAD of a shared record:
/// `canon("sealpass:v1:shared-record", purpose, record_id, kek_id, "1")`.
pub fn shared_record_aad(purpose: &str, record_id: &str, kek_id: &str) -> Vec<u8> {
    canon(&[
        SHARED_AAD_LABEL.as_bytes(),
        purpose.as_bytes(),
        record_id.as_bytes(),
        kek_id.as_bytes(),
        VERSION_STR.as_bytes(),
    ])
}

/// AAD of a format-1 record, as stores before format 2 wrote it:
/// `canon("sealpass:v1:record", purpose, record_id, dek_id, "1")`.
pub fn legacy_record_aad(purpose: Purpose, record_id: &str, dek_id: &str) -> Vec<u8> {
    canon(&[
        LEGACY_RECORD_AAD_LABEL.as_bytes(),
        purpose.name().as_bytes(),
        record_id.as_bytes(),
        dek_id.as_bytes(),
        VERSION_STR.as_bytes(),
    ])
}

/// AAD of a record (format 2):
/// `canon("sealpass:v2:record", purpose, record_id, dek_id, "2", "no-context")`,
/// or, for a delivered secret with its `secrets` row `m`,
/// `canon("sealpass:v2:record", purpose, record_id, dek_id, "2", "delivered-context",
/// slug, pending_id, node_id, injection_method, field_name, target_url,
/// stored_at, size)` (the two integers in decimal). Every column of the row is
/// bound, so editing, adding or deleting the row makes the record fail to open.
pub fn record_aad(
    purpose: Purpose,
    record_id: &str,
    dek_id: &str,
    context: Option<&SecretMeta>,
) -> Vec<u8> {
    let mut fields: Vec<&[u8]> = vec![
        RECORD_AAD_LABEL.as_bytes(),
        purpose.name().as_bytes(),
        record_id.as_bytes(),
        dek_id.as_bytes(),
        RECORD_VERSION_STR.as_bytes(),
    ];
    let (stored_at, size);
    match context {
        None => fields.push(NO_CONTEXT.as_bytes()),
        Some(m) => {
            stored_at = m.stored_at.to_string();
            size = m.size.to_string();
            fields.extend_from_slice(&[
                DELIVERED_CONTEXT.as_bytes(),
                m.slug.as_bytes(),
                m.pending_id.as_bytes(),
                m.node_id.as_bytes(),
                m.injection_method.as_bytes(),
                m.field_name.as_bytes(),
                m.target_url.as_bytes(),
                stored_at.as_bytes(),
                size.as_bytes(),
            ]);
        }
    }
    canon(&fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> SecretMeta {
        SecretMeta {
            slug: "s".into(),
            pending_id: "p".into(),
            node_id: "n".into(),
            injection_method: "env".into(),
            field_name: "F".into(),
            target_url: "https://x".into(),
            stored_at: 7,
            size: 12,
        }
    }

    #[test]
    fn layout_is_length_prefixed() {
        let a = legacy_record_aad(Purpose::PendingKey, "ab", "c");
        let b = legacy_record_aad(Purpose::PendingKey, "a", "bc");
        assert_ne!(a, b);
        assert!(a.starts_with(&[0, 0, 0, 18]));
        assert!(a.ends_with(&[0, 0, 0, 1, b'c', 0, 0, 0, 1, b'1']));
        assert_ne!(
            record_key_info(Purpose::PendingKey),
            record_key_info(Purpose::DeliveredSecret)
        );
        assert_ne!(dek_wrap_key_info(), kek_id_info());
    }

    /// The exact bytes docs/KEYSTORE.md describes.
    #[test]
    fn record_aad_binds_every_column_of_the_secrets_row() {
        let m = meta();
        let got = record_aad(Purpose::DeliveredSecret, "s", "d", Some(&m));
        let fields: [&[u8]; 14] = [
            b"sealpass:v2:record",
            b"delivered-secret",
            b"s",
            b"d",
            b"2",
            b"delivered-context",
            b"s",
            b"p",
            b"n",
            b"env",
            b"F",
            b"https://x",
            b"7",
            b"12",
        ];
        assert_eq!(got, canon(&fields));
        assert!(got.starts_with(&[0, 0, 0, 18, b's']));
        let none = record_aad(Purpose::DeliveredSecret, "s", "d", None);
        let none_fields: [&[u8]; 6] = [
            b"sealpass:v2:record",
            b"delivered-secret",
            b"s",
            b"d",
            b"2",
            b"no-context",
        ];
        assert_eq!(none, canon(&none_fields));
        assert_ne!(none, legacy_record_aad(Purpose::DeliveredSecret, "s", "d"));
        type Edit = fn(&mut SecretMeta);
        let edits: [Edit; 8] = [
            |m| m.slug.push('x'),
            |m| m.pending_id.push('x'),
            |m| m.node_id.push('x'),
            |m| m.injection_method.push('x'),
            |m| m.field_name.push('x'),
            |m| m.target_url.push('x'),
            |m| m.stored_at += 1,
            |m| m.size += 1,
        ];
        for edit in edits {
            let mut e = meta();
            edit(&mut e);
            assert_ne!(
                record_aad(Purpose::DeliveredSecret, "s", "d", Some(&e)),
                got
            );
        }
        // Moving bytes between adjacent fields changes the AAD too.
        let mut shifted = meta();
        shifted.field_name = "Fh".into();
        shifted.target_url = "ttps://x".into();
        assert_ne!(
            record_aad(Purpose::DeliveredSecret, "s", "d", Some(&shifted)),
            got
        );
    }
}
