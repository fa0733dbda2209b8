//! The canonical string that is MACed, and the MAC itself.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// First line of every canonical string: names the scheme and its version so
/// a MAC can never be reinterpreted under a future scheme.
pub const SCHEME: &str = "sealpass-hmac-v1";

/// Lowercase hex SHA-256 of the raw body bytes (64 chars).
pub fn body_sha256_hex(body: &[u8]) -> String {
    crate::hex::encode(&Sha256::digest(body))
}

/// The newline-joined canonical string (no trailing newline):
/// `SCHEME\nMETHOD\nPATH_AND_QUERY\nCALLER\nKEY_VERSION\nBODY_SHA256_HEX\nTIMESTAMP`.
///
/// Unambiguous because the verifier only accepts fields that cannot contain
/// `\n` (method: A–Z; path: printable ASCII without space; caller:
/// `[A-Za-z0-9._-]`; numbers in canonical decimal).
pub fn canonical_string(
    method: &str,
    path_and_query: &str,
    caller: &str,
    key_version: u32,
    body_sha256_hex: &str,
    unix_time: i64,
) -> String {
    format!("{SCHEME}\n{method}\n{path_and_query}\n{caller}\n{key_version}\n{body_sha256_hex}\n{unix_time}")
}

/// HMAC-SHA256 of `message` under `secret`.
pub fn compute_mac(secret: &[u8], message: &[u8]) -> Zeroizing<[u8; 32]> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return Zeroizing::new([0u8; 32]),
    };
    mac.update(message);
    let out: [u8; 32] = mac.finalize().into_bytes().into();
    Zeroizing::new(out)
}

/// Caller ids (node ids): 1..=64 chars of `[A-Za-z0-9._-]`, so they are safe
/// in paths, logs and the canonical string.
pub fn is_valid_caller(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub(crate) fn is_valid_method(s: &str) -> bool {
    (1..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase())
}

pub(crate) fn is_valid_path(s: &str) -> bool {
    s.starts_with('/') && s.len() <= 8192 && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_hash_and_layout() {
        assert_eq!(
            body_sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let c = canonical_string("GET", "/a?b=1", "n1", 2, "ab", 5);
        assert_eq!(c, "sealpass-hmac-v1\nGET\n/a?b=1\nn1\n2\nab\n5");
    }

    #[test]
    fn field_rules() {
        assert!(is_valid_caller("node-1.a_b"));
        assert!(!is_valid_caller(""));
        assert!(!is_valid_caller("a b"));
        assert!(!is_valid_caller(&"a".repeat(65)));
        assert!(is_valid_method("POST"));
        assert!(!is_valid_method("post"));
        assert!(is_valid_path("/x?y=%20"));
        assert!(!is_valid_path("/x y"));
        assert!(!is_valid_path("/x\n"));
        assert!(!is_valid_path("x"));
    }

    #[test]
    fn rfc4231_case_2() {
        let mac = compute_mac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            crate::hex::encode(&mac[..]),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
