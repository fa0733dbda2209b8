//! The one place that builds the HKDF info and the AEAD associated data.
//!
//! Each field is length-prefixed (`u16_be(len) || bytes`) so that no two
//! different field lists can produce the same byte string, and each string
//! starts with a fixed label so KDF input and AAD can never be confused.

use alloc::vec::Vec;

use crate::context::Context;

/// Domain label for the HKDF info.
pub const KDF_LABEL: &str = "sealpass:v1:kdf";
/// Domain label for the AEAD associated data.
pub const AAD_LABEL: &str = "sealpass:v1:aad";
/// The protocol version string bound into both. Never taken from input.
pub const VERSION: &str = "1";

/// `canon(f1..fn) = u16_be(len(f1)) || f1 || ... || u16_be(len(fn)) || fn`.
///
/// Every caller passes fields already bounded by [`Context`] validation
/// (at most 2048 bytes), so the length always fits in a u16.
fn canon(fields: &[&str]) -> Vec<u8> {
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
        out.extend_from_slice(f.as_bytes());
    }
    out
}

/// `canon("sealpass:v1:kdf", node_id, pending_id, slug, "1")`
pub fn kdf_info(ctx: &Context) -> Vec<u8> {
    canon(&[
        KDF_LABEL,
        ctx.node_id(),
        ctx.pending_id(),
        ctx.slug(),
        VERSION,
    ])
}

/// `canon("sealpass:v1:aad", node_id, pending_id, slug, "1", injection_method, field_name, target_url)`
pub fn aad(ctx: &Context) -> Vec<u8> {
    canon(&[
        AAD_LABEL,
        ctx.node_id(),
        ctx.pending_id(),
        ctx.slug(),
        VERSION,
        ctx.injection_method(),
        ctx.field_name(),
        ctx.target_url(),
    ])
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
