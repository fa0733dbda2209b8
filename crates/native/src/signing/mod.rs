//! HMAC-SHA256 request signing for node → relay requests (feature `native`).
//!
//! A node proves who it is on every request with an HMAC over a canonical
//! string that binds the method, the exact path with query, the caller id,
//! the key version, the SHA-256 of the raw body bytes and a unix timestamp
//! (docs/SIGNING.md is the normative description). The relay checks a ±300 s
//! window, rejects a signature it has seen before inside that window, accepts
//! the previous key version for 24 h after a rotation and compares MACs in
//! constant time. Presence of any `X-Sealpass-*` header commits a request to
//! this check: there is no fallback to another kind of authentication.

mod canonical;
mod headers;
mod replay;
mod verify;

pub use canonical::{body_sha256_hex, canonical_string, compute_mac, is_valid_caller, SCHEME};
pub use headers::{
    any_signing_header, SignatureHeaders, HEADER_CALLER, HEADER_KEY_VERSION, HEADER_PREFIX,
    HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
pub use replay::{MemoryReplayCache, ReplayCache};
pub use verify::{SecretSource, Verified, Verifier, ROTATION_GRACE_SECS, WINDOW_SECS};

use zeroize::Zeroizing;

/// Length of a freshly generated HMAC secret.
pub const SECRET_LEN: usize = 32;

/// Sign a request: returns the four `X-Sealpass-*` headers to send with it.
///
/// `path_and_query` must be exactly the request target that goes on the
/// wire (e.g. `/api/v1/node/envelopes?x=1`), and `body` exactly the bytes
/// sent (empty for GET).
pub fn sign_request(
    secret: &[u8],
    caller: &str,
    key_version: u32,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    unix_time: i64,
) -> Vec<(&'static str, String)> {
    let canon = canonical_string(
        method,
        path_and_query,
        caller,
        key_version,
        &body_sha256_hex(body),
        unix_time,
    );
    let mac = compute_mac(secret, canon.as_bytes());
    vec![
        (HEADER_CALLER, caller.to_owned()),
        (HEADER_TIMESTAMP, unix_time.to_string()),
        (HEADER_KEY_VERSION, key_version.to_string()),
        (HEADER_SIGNATURE, sealpass::b64::encode(&mac[..])),
    ]
}

/// A fresh random HMAC secret (32 bytes from the system RNG).
pub fn generate_secret() -> sealpass::Result<Zeroizing<Vec<u8>>> {
    let mut s = Zeroizing::new(vec![0u8; SECRET_LEN]);
    sealpass::rng::os_fill(&mut s[..])?;
    Ok(s)
}

/// Current unix time in seconds (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
