//! Parsing the `X-Sealpass-*` headers, strictly.
//!
//! Duplicates and unknown `X-Sealpass-*` names are rejected rather than
//! ignored: a proxy and the relay must never disagree about which value was
//! signed (header smuggling).

use sealpass::error::{Code, Error, Result};

use super::canonical::is_valid_caller;

/// Every signing header starts with this (case-insensitive).
pub const HEADER_PREFIX: &str = "x-sealpass-";
/// Caller id (node id).
pub const HEADER_CALLER: &str = "X-Sealpass-Caller";
/// Unix seconds, canonical decimal.
pub const HEADER_TIMESTAMP: &str = "X-Sealpass-Timestamp";
/// Secret version, canonical decimal ≥ 1.
pub const HEADER_KEY_VERSION: &str = "X-Sealpass-Key-Version";
/// B64U HMAC-SHA256 (43 chars).
pub const HEADER_SIGNATURE: &str = "X-Sealpass-Signature";

/// The four signing headers, parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// Caller id.
    pub caller: String,
    /// Unix seconds claimed by the signer.
    pub timestamp: i64,
    /// Secret version used.
    pub key_version: u32,
    /// The MAC.
    pub signature: [u8; 32],
}

impl core::fmt::Debug for SignatureHeaders {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "SignatureHeaders {{ caller: {}, timestamp: {}, key_version: {} }}",
            self.caller, self.timestamp, self.key_version
        )
    }
}

fn malformed(detail: &'static str) -> Error {
    Error::new(Code::SignatureMalformed, detail)
}

/// True when any header name starts with `X-Sealpass-` (case-insensitive):
/// such a request is committed to HMAC checking.
pub fn any_signing_header<'a>(names: impl IntoIterator<Item = &'a str>) -> bool {
    names.into_iter().any(is_signing_name)
}

fn is_signing_name(name: &str) -> bool {
    name.as_bytes()
        .get(..HEADER_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(HEADER_PREFIX.as_bytes()))
}

fn canonical_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

impl SignatureHeaders {
    /// Parse from `(name, value)` pairs. `Ok(None)` when no `X-Sealpass-*`
    /// header is present at all; 8701 when any is present but the set is not
    /// exactly the four known headers, each once, well-formed.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Option<SignatureHeaders>> {
        let mut slots: [Option<&str>; 4] = [None; 4];
        let mut any = false;
        for (name, value) in pairs {
            if !is_signing_name(name) {
                continue;
            }
            any = true;
            let slot = [
                HEADER_CALLER,
                HEADER_TIMESTAMP,
                HEADER_KEY_VERSION,
                HEADER_SIGNATURE,
            ]
            .iter()
            .zip(slots.iter_mut())
            .find_map(|(h, slot)| h.eq_ignore_ascii_case(name).then_some(slot))
            .ok_or_else(|| malformed("unknown X-Sealpass- header"))?;
            let value = std::str::from_utf8(value)
                .ok()
                .filter(|v| v.is_ascii())
                .ok_or_else(|| malformed("signing header is not ASCII"))?;
            if slot.replace(value).is_some() {
                return Err(malformed("duplicate X-Sealpass- header"));
            }
        }
        if !any {
            return Ok(None);
        }
        let [Some(caller), Some(ts), Some(kv), Some(sig)] = slots else {
            return Err(malformed("missing X-Sealpass- header"));
        };
        if !is_valid_caller(caller) {
            return Err(malformed("invalid caller id"));
        }
        let timestamp = canonical_u64(ts)
            .and_then(|t| i64::try_from(t).ok())
            .ok_or_else(|| malformed("invalid timestamp"))?;
        let key_version = canonical_u64(kv)
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v >= 1)
            .ok_or_else(|| malformed("invalid key version"))?;
        let signature =
            sealpass::b64::decode_array::<32>(sig, malformed("invalid signature length"))
                .map_err(|_| malformed("invalid signature encoding"))?;
        Ok(Some(SignatureHeaders {
            caller: caller.to_owned(),
            timestamp,
            key_version,
            signature,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decimal fields: 1..=19 ASCII digits, no leading zero except "0".
    #[test]
    fn canonical_u64_accepts_exactly_the_canonical_forms() {
        assert_eq!(canonical_u64("0"), Some(0));
        assert_eq!(canonical_u64("7"), Some(7));
        assert_eq!(
            canonical_u64("9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        for bad in [
            "",
            "01",
            "00",
            "10000000000000000000",
            "1a",
            "a",
            "-1",
            "+1",
            " 1",
            "1 ",
        ] {
            assert_eq!(canonical_u64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn signing_headers_are_recognised_by_prefix_in_any_case() {
        assert!(any_signing_header(["Host", "x-sealpass-caller"]));
        assert!(any_signing_header(["X-SEALPASS-Anything"]));
        assert!(!any_signing_header(["Host", "X-Sealpas", "Authorization"]));
        assert!(!any_signing_header(Vec::<&str>::new()));
    }

    /// Debug shows the metadata, never the MAC.
    #[test]
    fn debug_shows_metadata_not_the_mac() {
        let h = SignatureHeaders {
            caller: "node-1".into(),
            timestamp: 42,
            key_version: 3,
            signature: [0xab; 32],
        };
        let d = format!("{h:?}");
        assert_eq!(
            d,
            "SignatureHeaders { caller: node-1, timestamp: 42, key_version: 3 }"
        );
    }

    fn pairs(v: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static [u8])> {
        v.iter().map(|(n, v)| (*n, v.as_bytes())).collect()
    }

    const SIG: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn parses_and_rejects() {
        let good = [
            ("x-sealpass-caller", "n1"),
            ("X-SEALPASS-TIMESTAMP", "100"),
            ("x-sealpass-key-version", "1"),
            ("x-sealpass-signature", SIG),
            ("content-type", "application/json"),
        ];
        let h = SignatureHeaders::from_pairs(pairs(&good)).unwrap().unwrap();
        assert_eq!(
            (h.caller.as_str(), h.timestamp, h.key_version),
            ("n1", 100, 1)
        );
        assert!(SignatureHeaders::from_pairs(pairs(&good[4..]))
            .unwrap()
            .is_none());
        let bad: &[&[(&str, &str)]] = &[
            &[("x-sealpass-caller", "n1")],
            &[("x-sealpass-foo", "1")],
            &[
                ("x-sealpass-caller", "n1"),
                ("x-sealpass-caller", "n2"),
                ("x-sealpass-timestamp", "100"),
                ("x-sealpass-key-version", "1"),
                ("x-sealpass-signature", SIG),
            ],
            &[
                ("x-sealpass-caller", "n1"),
                ("x-sealpass-timestamp", "0100"),
                ("x-sealpass-key-version", "1"),
                ("x-sealpass-signature", SIG),
            ],
            &[
                ("x-sealpass-caller", "n1"),
                ("x-sealpass-timestamp", "100"),
                ("x-sealpass-key-version", "0"),
                ("x-sealpass-signature", SIG),
            ],
            &[
                ("x-sealpass-caller", "n 1"),
                ("x-sealpass-timestamp", "100"),
                ("x-sealpass-key-version", "1"),
                ("x-sealpass-signature", SIG),
            ],
            &[
                ("x-sealpass-caller", "n1"),
                ("x-sealpass-timestamp", "100"),
                ("x-sealpass-key-version", "1"),
                ("x-sealpass-signature", "AAAA"),
            ],
        ];
        for b in bad {
            let v: Vec<(&str, &[u8])> = b.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
            assert_eq!(
                SignatureHeaders::from_pairs(v).unwrap_err().code(),
                Code::SignatureMalformed,
                "{b:?}"
            );
        }
    }
}
