//! Lower-case hex for public ids (KEK and DEK ids) and request-signing
//! digests: one encoder for the crate.

/// Encode bytes as lower-case hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(digit(b >> 4));
        s.push(digit(b & 0x0f));
    }
    s
}

/// The lower-case hex digit of a nibble (the high bits are masked off), by
/// arithmetic rather than a table lookup so there is no index to check.
fn digit(nibble: u8) -> char {
    let n = nibble & 0x0f;
    char::from(if n < 10 { b'0' + n } else { b'a' - 10 + n })
}
