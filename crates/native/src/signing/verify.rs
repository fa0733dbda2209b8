//! Verifying a signed request.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};

use super::canonical::{
    body_sha256_hex, canonical_string, compute_mac, is_valid_method, is_valid_path,
};
use super::headers::SignatureHeaders;
use super::replay::ReplayCache;

/// Allowed clock difference between signer and verifier, either way.
pub const WINDOW_SECS: i64 = 300;
/// How long the previous secret version stays valid after a rotation.
pub const ROTATION_GRACE_SECS: i64 = 24 * 3600;

/// Where the verifier gets secrets from.
pub trait SecretSource {
    /// The secret for `caller` at `key_version`, if it exists and is still
    /// valid at `now` (the source applies the rotation grace). `Ok(None)`
    /// gives 8705.
    fn secret(
        &self,
        caller: &str,
        key_version: u32,
        now: i64,
    ) -> Result<Option<Zeroizing<Vec<u8>>>>;
}

/// A request that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The authenticated caller id.
    pub caller: String,
    /// The key version it used.
    pub key_version: u32,
}

/// Checks signed requests. Order: headers (8701) → window (8703) → secret
/// (8705) → MAC, constant time (8702) → replay (8704). The replay cache is
/// only written after the MAC verified, so forged requests cannot fill it.
#[derive(Clone, Copy, Debug)]
pub struct Verifier {
    window: i64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            window: WINDOW_SECS,
        }
    }
}

impl Verifier {
    /// A verifier with the standard ±300 s window.
    pub fn new() -> Self {
        Self::default()
    }

    /// Verify one request. `path_and_query` and `body` must be exactly what
    /// arrived on the wire.
    #[allow(clippy::too_many_arguments)]
    pub fn verify(
        &self,
        headers: &SignatureHeaders,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now: i64,
        secrets: &dyn SecretSource,
        replay: &dyn ReplayCache,
    ) -> Result<Verified> {
        if !is_valid_method(method) || !is_valid_path(path_and_query) {
            return Err(Error::new(
                Code::SignatureMalformed,
                "request line cannot be signed",
            ));
        }
        if headers.timestamp.abs_diff(now) > self.window.unsigned_abs() {
            return Err(Error::new(
                Code::SignatureExpired,
                "timestamp outside the 300 s window",
            ));
        }
        let secret = secrets
            .secret(&headers.caller, headers.key_version, now)?
            .ok_or_else(|| {
                Error::new(
                    Code::SignatureUnknownKey,
                    "no valid secret for this caller and key version",
                )
            })?;
        let canon = canonical_string(
            method,
            path_and_query,
            &headers.caller,
            headers.key_version,
            &body_sha256_hex(body),
            headers.timestamp,
        );
        let expected = compute_mac(&secret, canon.as_bytes());
        if !bool::from(expected.ct_eq(&headers.signature)) {
            return Err(Error::new(
                Code::SignatureInvalid,
                "signature does not verify",
            ));
        }
        let expires_at = headers.timestamp.saturating_add(self.window);
        if !replay.check_and_insert(&headers.signature, expires_at, now)? {
            return Err(Error::new(
                Code::SignatureReplayed,
                "signature already used",
            ));
        }
        Ok(Verified {
            caller: headers.caller.clone(),
            key_version: headers.key_version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{sign_request, MemoryReplayCache};

    struct One(u32, &'static [u8]);
    impl SecretSource for One {
        fn secret(&self, c: &str, v: u32, _now: i64) -> Result<Option<Zeroizing<Vec<u8>>>> {
            Ok((c == "n1" && v == self.0).then(|| Zeroizing::new(self.1.to_vec())))
        }
    }

    fn headers(h: &[(&'static str, String)]) -> SignatureHeaders {
        SignatureHeaders::from_pairs(h.iter().map(|(n, v)| (*n, v.as_bytes())))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn round_trip_and_failures() {
        let src = One(2, b"k");
        let cache = MemoryReplayCache::new();
        let v = Verifier::new();
        let h = headers(&sign_request(b"k", "n1", 2, "POST", "/a?b", b"{}", 1000));
        let ok = v
            .verify(&h, "POST", "/a?b", b"{}", 1100, &src, &cache)
            .unwrap();
        assert_eq!(ok.caller, "n1");
        let code = |r: Result<Verified>| r.unwrap_err().code();
        assert_eq!(
            code(v.verify(&h, "POST", "/a?b", b"{}", 1100, &src, &cache)),
            Code::SignatureReplayed
        );
        let h = headers(&sign_request(b"k", "n1", 2, "POST", "/a", b"{}", 1000));
        assert_eq!(
            code(v.verify(&h, "POST", "/a", b"{ }", 1000, &src, &cache)),
            Code::SignatureInvalid
        );
        assert_eq!(
            code(v.verify(&h, "PUT", "/a", b"{}", 1000, &src, &cache)),
            Code::SignatureInvalid
        );
        assert_eq!(
            code(v.verify(&h, "POST", "/a?", b"{}", 1000, &src, &cache)),
            Code::SignatureInvalid
        );
        assert_eq!(
            code(v.verify(&h, "POST", "/a", b"{}", 1301, &src, &cache)),
            Code::SignatureExpired
        );
        assert_eq!(
            code(v.verify(&h, "POST", "/a", b"{}", 699, &src, &cache)),
            Code::SignatureExpired
        );
        let h3 = headers(&sign_request(b"k", "n1", 3, "POST", "/a", b"{}", 1000));
        assert_eq!(
            code(v.verify(&h3, "POST", "/a", b"{}", 1000, &src, &cache)),
            Code::SignatureUnknownKey
        );
        let wrong = headers(&sign_request(b"x", "n1", 2, "POST", "/a", b"{}", 1000));
        assert_eq!(
            code(v.verify(&wrong, "POST", "/a", b"{}", 1000, &src, &cache)),
            Code::SignatureInvalid
        );
        // Edges of the window are inside it.
        assert!(v
            .verify(&h, "POST", "/a", b"{}", 1300, &src, &cache)
            .is_ok());
        let h = headers(&sign_request(b"k", "n1", 2, "GET", "/b", b"", 1000));
        assert!(v.verify(&h, "GET", "/b", b"", 700, &src, &cache).is_ok());
    }

    /// A request line that cannot be signed is refused as malformed (8701)
    /// whichever half of it is wrong, before any secret is looked up.
    #[test]
    fn unsignable_request_line() {
        let src = One(2, b"k");
        let cache = MemoryReplayCache::new();
        let v = Verifier::new();
        let h = headers(&sign_request(b"k", "n1", 2, "POST", "/a", b"{}", 1000));
        for (method, path) in [("POST", "a"), ("post", "/a"), ("post", "a")] {
            let r = v.verify(&h, method, path, b"{}", 1000, &src, &cache);
            assert_eq!(
                r.unwrap_err().code(),
                Code::SignatureMalformed,
                "{method} {path}"
            );
        }
    }

    /// docs/SIGNING.md: after a rotation the previous secret stays valid
    /// for 24 h (the relay's store applies it).
    #[test]
    fn rotation_grace_is_24_hours() {
        assert_eq!(ROTATION_GRACE_SECS, 86_400);
    }
}
