//! Human-comparable fingerprint of a public key.
//!
//! The only defence against a relay that swaps the node's key is a person
//! comparing this string with what the node prints, so CLI, node and browser
//! all call this one function.

use alloc::string::String;

use sha2::{Digest, Sha256};

/// First 16 bytes of SHA-256(pk) as lowercase hex, 8 groups of 4, joined by `-`.
pub fn fingerprint(public_key: &[u8; 32]) -> String {
    groups(&Sha256::digest(public_key))
}

/// The identity fingerprint of a node identity key (docs/PROTOCOL.md §15.1):
/// the same form over `SHA-256(canon("sealpass:v2:identity", nik))`, so it
/// differs from [`fingerprint`] of the same 32 bytes.
pub fn identity_fingerprint(nik: &[u8; 32]) -> String {
    groups(&Sha256::digest(crate::canon::identity(nik)))
}

/// First 16 bytes of `digest` as lowercase hex, 8 groups of 4, joined by `-`.
fn groups(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(39);
    // The masks keep the lookups in bounds (the fallback is dead code).
    let hex = |n: u8| char::from(HEX.get(usize::from(n & 15)).copied().unwrap_or(b'0'));
    for (i, b) in digest.iter().take(16).enumerate() {
        if i > 0 && i % 2 == 0 {
            out.push('-');
        }
        out.push(hex(b >> 4));
        out.push(hex(*b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_value() {
        let f = fingerprint(&[0u8; 32]);
        // SHA-256 of 32 zero bytes = 66687aadf862bd776c8fc18b8e9f8e20...
        assert_eq!(f, "6668-7aad-f862-bd77-6c8f-c18b-8e9f-8e20");
        assert_eq!(f.len(), 39);
    }
}
