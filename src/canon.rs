//! The one place that builds the HKDF info and the AEAD associated data.
//!
//! Each field is length-prefixed (`u16_be(len) || bytes`) so that no two
//! different field lists can produce the same byte string, and each string
//! starts with a fixed label so KDF input and AAD can never be confused.

use alloc::vec::Vec;

use crate::context::Context;

use crate::envelope::Version;

/// Domain label for the HKDF info.
pub const KDF_LABEL: &str = "sealpass:v1:kdf";
/// Domain label for the AEAD associated data.
pub const AAD_LABEL: &str = "sealpass:v1:aad";
/// The protocol version string bound into both. Never taken from input.
pub const VERSION: &str = "1";
/// v2 (identity-bound) HKDF info label.
pub const KDF_LABEL_V2: &str = "sealpass:v2:kdf";
/// v2 AEAD associated data label.
pub const AAD_LABEL_V2: &str = "sealpass:v2:aad";
/// v2 version string.
pub const VERSION_V2: &str = "2";
/// Label of the identity fingerprint's input (docs/PROTOCOL.md §15.1).
pub const IDENTITY_LABEL: &str = "sealpass:v2:identity";

fn labels(v: Version) -> (&'static str, &'static str, &'static str) {
    match v {
        Version::V1 => (KDF_LABEL, AAD_LABEL, VERSION),
        Version::V2 => (KDF_LABEL_V2, AAD_LABEL_V2, VERSION_V2),
    }
}

/// `canon(f1..fn) = u16_be(len(f1)) || f1 || ... || u16_be(len(fn)) || fn`.
///
/// Every caller passes fields already bounded by [`Context`] validation
/// (at most 2048 bytes), so the length always fits in a u16.
fn canon(fields: &[&[u8]]) -> Vec<u8> {
    let total = fields.iter().map(|f| 2 + f.len()).sum();
    let mut out = Vec::with_capacity(total);
    for f in fields {
        let len = u16::try_from(f.len()).unwrap_or(u16::MAX);
        debug_assert_eq!(
            usize::from(len),
            f.len(),
            "context fields are validated to fit u16"
        );
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// `canon("sealpass:v1:kdf", node_id, pending_id, slug, "1")`
pub fn kdf_info(ctx: &Context) -> Vec<u8> {
    kdf_info_for(Version::V1, ctx)
}

/// `canon("sealpass:v1:aad", node_id, pending_id, slug, "1", injection_method, field_name, target_url)`
pub fn aad(ctx: &Context) -> Vec<u8> {
    aad_for(Version::V1, ctx)
}

/// The HKDF info of envelope version `v`: `canon("sealpass:vN:kdf",
/// node_id, pending_id, slug, "N")`.
pub fn kdf_info_for(v: Version, ctx: &Context) -> Vec<u8> {
    let (kdf, _, version) = labels(v);
    canon(&[
        kdf.as_bytes(),
        ctx.node_id().as_bytes(),
        ctx.pending_id().as_bytes(),
        ctx.slug().as_bytes(),
        version.as_bytes(),
    ])
}

/// The AAD of envelope version `v`: `canon("sealpass:vN:aad", node_id,
/// pending_id, slug, "N", injection_method, field_name, target_url)`.
pub fn aad_for(v: Version, ctx: &Context) -> Vec<u8> {
    let (_, aad, version) = labels(v);
    canon(&[
        aad.as_bytes(),
        ctx.node_id().as_bytes(),
        ctx.pending_id().as_bytes(),
        ctx.slug().as_bytes(),
        version.as_bytes(),
        ctx.injection_method().as_bytes(),
        ctx.field_name().as_bytes(),
        ctx.target_url().as_bytes(),
    ])
}

/// `canon("sealpass:v2:identity", nik)`: what the identity fingerprint
/// hashes, so it never equals the one-time fingerprint of the same bytes.
pub fn identity(nik: &[u8; 32]) -> Vec<u8> {
    canon(&[IDENTITY_LABEL.as_bytes(), nik])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_bytes() {
        let ctx = Context::new("n1", "p", "slug", "env", None, Some("u")).unwrap();
        let mut want = Vec::new();
        for f in ["sealpass:v1:kdf", "n1", "p", "slug", "1"] {
            want.extend_from_slice(&(f.len() as u16).to_be_bytes());
            want.extend_from_slice(f.as_bytes());
        }
        assert_eq!(kdf_info(&ctx), want);
        let a = aad(&ctx);
        // ... "env" then field_name absent (00 00) then "u" (00 01 75)
        assert!(a.ends_with(&[0, 3, b'e', b'n', b'v', 0, 0, 0, 1, b'u']));
        assert!(a.starts_with(&[0, 15]));
    }

    #[test]
    fn length_prefix_prevents_shifting_ambiguity() {
        let a = Context::new("ab", "c", "s", "env", None, None).unwrap();
        let b = Context::new("a", "bc", "s", "env", None, None).unwrap();
        assert_ne!(kdf_info(&a), kdf_info(&b));
        let c = Context::new("n", "p", "s", "env", Some("x"), None).unwrap();
        let d = Context::new("n", "p", "s", "env", None, Some("x")).unwrap();
        assert_ne!(aad(&c), aad(&d));
    }
}
