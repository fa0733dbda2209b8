//! Envelopes v1 and v2: strict parsing with a fixed order of checks, and
//! the one canonical serialization. The two versions share every rule but
//! `v` and the suite string (docs/PROTOCOL.md §8, §15.5).
//!
//! Check order (normative, see docs/PROTOCOL.md §Envelope parsing):
//! size → JSON object → `v` → key set → types → suite → ct length → base64 → lengths.

use alloc::string::String;
use alloc::vec::Vec;

use crate::b64;
use crate::error::{Code, Error, Result};
use crate::json::{self, Value};
use crate::suite::{KEY_LEN, MAX_CIPHERTEXT_SIZE, MIN_CIPHERTEXT_SIZE, NONCE_LEN, SUITE, SUITE_V2};

/// Envelope text larger than this is 8008 without being parsed.
pub const MAX_ENVELOPE_JSON: usize = 64 * 1024;
/// Longest `ct` string: B64U of [`MAX_CIPHERTEXT_SIZE`] bytes.
pub const MAX_CT_B64_CHARS: usize = b64::encoded_len(MAX_CIPHERTEXT_SIZE);
/// The v1 protocol version number.
pub const VERSION: u8 = 1;

/// The envelope version: what the key agreement binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// One X25519 with the node's one-time key (docs/PROTOCOL.md §5).
    V1,
    /// A second X25519 with the node's identity key (docs/PROTOCOL.md §15).
    V2,
}

impl Version {
    /// `v` in the JSON.
    pub const fn number(self) -> u8 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
        }
    }

    /// The suite string this version requires.
    pub const fn suite(self) -> &'static str {
        match self {
            Version::V1 => SUITE,
            Version::V2 => SUITE_V2,
        }
    }

    /// The version whose `v` has exactly this JSON source text.
    fn from_raw(raw: &str) -> Option<Version> {
        match raw {
            "1" => Some(Version::V1),
            "2" => Some(Version::V2),
            _ => None,
        }
    }
}

const KEYS: [&str; 5] = ["v", "suite", "epk", "nonce", "ct"];

/// A well-formed envelope (not yet authenticated).
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Which construction sealed it.
    pub version: Version,
    /// Ephemeral X25519 public key, used exactly as given.
    pub epk: [u8; KEY_LEN],
    /// XChaCha20 nonce.
    pub nonce: [u8; NONCE_LEN],
    /// Ciphertext || tag, 17..=16384 bytes.
    pub ct: Vec<u8>,
}

impl core::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Envelope {{ v: {}, ct: {} bytes }}",
            self.version.number(),
            self.ct.len()
        )
    }
}

impl Envelope {
    /// Canonical JSON: `{"v":N,"suite":"…","epk":"…","nonce":"…","ct":"…"}`.
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(128 + b64::encoded_len(self.ct.len()));
        s.push_str(match self.version {
            Version::V1 => "{\"v\":1,\"suite\":\"",
            Version::V2 => "{\"v\":2,\"suite\":\"",
        });
        s.push_str(self.version.suite());
        s.push_str("\",\"epk\":\"");
        s.push_str(&b64::encode(&self.epk));
        s.push_str("\",\"nonce\":\"");
        s.push_str(&b64::encode(&self.nonce));
        s.push_str("\",\"ct\":\"");
        s.push_str(&b64::encode(&self.ct));
        s.push_str("\"}");
        s
    }

    /// Parse envelope JSON with the normative check order.
    pub fn from_json(input: &[u8]) -> Result<Envelope> {
        if input.len() > MAX_ENVELOPE_JSON {
            return Err(Error::new(
                Code::CiphertextTooLarge,
                "envelope larger than 64 KiB",
            ));
        }
        match json::parse(input) {
            Ok(Value::Object(m)) => Envelope::from_members(&m),
            _ => Err(Error::new(
                Code::EnvelopeNotJson,
                "envelope is not a JSON object",
            )),
        }
    }

    /// The checks of [`Envelope::from_json`] after parsing, on the members of
    /// an envelope object in source order. The caller has checked the size
    /// of the JSON those members are (or would serialize to): the Wasm
    /// bindings build them from a JS envelope object without serializing it.
    pub fn from_members(members: &[(String, Value)]) -> Result<Envelope> {
        // 1. Version first, whatever else is wrong, so future versions are
        //    always reported as such.
        for (k, v) in members {
            if k == "v" {
                if let Value::Number(raw) = v {
                    if Version::from_raw(raw).is_none() {
                        return Err(Error::new(
                            Code::VersionUnsupported,
                            "envelope version is not 1 or 2",
                        ));
                    }
                }
            }
        }
        // 2. Exact key set: duplicates, then unknown, then missing.
        // Any name appearing twice, known or not, is a duplicate (8104).
        let mut names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        if has_duplicate(&mut names) {
            return Err(Error::new(
                Code::EnvelopeDuplicateKey,
                "envelope has a duplicate key",
            ));
        }
        let mut slots: [Option<&Value>; 5] = [None; 5];
        let mut unknown = false;
        for (k, v) in members {
            match KEYS
                .iter()
                .position(|known| known == k)
                .and_then(|i| slots.get_mut(i))
            {
                Some(Some(_)) => {
                    return Err(Error::new(
                        Code::EnvelopeDuplicateKey,
                        "envelope has a duplicate key",
                    ))
                }
                Some(slot) => *slot = Some(v),
                None => unknown = true,
            }
        }
        if unknown {
            return Err(Error::new(
                Code::EnvelopeUnknownKey,
                "envelope has an unknown key",
            ));
        }
        let [Some(v), Some(suite), Some(epk), Some(nonce), Some(ct)] = slots else {
            return Err(Error::new(
                Code::EnvelopeMissingKey,
                "envelope is missing a key",
            ));
        };
        // 3. Types. `v` can only be the number 1 or 2 here, or a non-number.
        let Some(version) = (match v {
            Value::Number(raw) => Version::from_raw(raw),
            _ => None,
        }) else {
            return Err(Error::new(
                Code::EnvelopeWrongType,
                "v must be the number 1 or 2",
            ));
        };
        let (Value::String(suite), Value::String(epk), Value::String(nonce), Value::String(ct)) =
            (suite, epk, nonce, ct)
        else {
            return Err(Error::new(
                Code::EnvelopeWrongType,
                "suite, epk, nonce and ct must be strings",
            ));
        };
        // 4. Suite: the one of this version (the other version's is refused).
        if suite != version.suite() {
            return Err(Error::new(Code::SuiteUnsupported, "unsupported suite"));
        }
        // 5. Ciphertext size from the string length, before decoding. A
        //    string of at most that many bytes has at most that many
        //    characters: only a longer one is counted (the count was 1.6% of
        //    a 16 KiB open in Wasm).
        if ct.len() > MAX_CT_B64_CHARS && ct.chars().count() > MAX_CT_B64_CHARS {
            return Err(Error::new(
                Code::CiphertextTooLarge,
                "ciphertext larger than 16 KiB",
            ));
        }
        // 6. Base64 of all three, then 7. lengths.
        let (epk, nonce, ct) = (b64::decode(epk)?, b64::decode(nonce)?, b64::decode(ct)?);
        let epk: [u8; KEY_LEN] = epk
            .try_into()
            .map_err(|_| Error::new(Code::InvalidLength, "epk must be 32 bytes"))?;
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| Error::new(Code::InvalidLength, "nonce must be 24 bytes"))?;
        if ct.len() < MIN_CIPHERTEXT_SIZE {
            return Err(Error::new(
                Code::InvalidLength,
                "ct must be at least 17 bytes",
            ));
        }
        Ok(Envelope {
            version,
            epk,
            nonce,
            ct,
        })
    }
}

/// Whether any two items are equal; reorders `items`.
///
/// Why a sort: 64 KiB of envelope holds ~13,000 members, and the pairwise
/// scan this replaces made a hostile envelope cost ~10^8 comparisons on the
/// relay. Sorting is O(n log n) comparisons in the worst case, needs no
/// hasher (none in no_std, and an unkeyed one can be flooded) and adds no
/// dependency. Generic so a test can count the comparisons.
fn has_duplicate<T: Ord>(items: &mut [T]) -> bool {
    items.sort_unstable();
    items.windows(2).any(|w| matches!(w, [a, b] if a == b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(epk: &str, nonce: &str, ct: &str) -> String {
        format!(r#"{{"v":1,"suite":"{SUITE}","epk":"{epk}","nonce":"{nonce}","ct":"{ct}"}}"#)
    }

    fn good() -> (String, String, String) {
        (
            b64::encode(&[1u8; 32]),
            b64::encode(&[2u8; 24]),
            b64::encode(&[3u8; 40]),
        )
    }

    fn code(s: &str) -> Code {
        Envelope::from_json(s.as_bytes()).unwrap_err().code()
    }

    #[test]
    fn round_trip() {
        let (e, n, c) = good();
        let parsed = Envelope::from_json(env(&e, &n, &c).as_bytes()).unwrap();
        assert_eq!(parsed.to_json(), env(&e, &n, &c));
        let spaced = format!(" {{ \"ct\" : \"{c}\", \"nonce\":\"{n}\",\n\"epk\":\"{e}\",\"suite\":\"{SUITE}\",\"v\":1 }} ");
        assert_eq!(Envelope::from_json(spaced.as_bytes()).unwrap(), parsed);
    }

    #[test]
    fn v2_round_trips_and_each_version_needs_its_suite() {
        let (e, n, c) = good();
        let v2 = env(&e, &n, &c)
            .replace("\"v\":1", "\"v\":2")
            .replace(SUITE, SUITE_V2);
        let parsed = Envelope::from_json(v2.as_bytes()).unwrap();
        assert_eq!(parsed.version, Version::V2);
        assert_eq!(parsed.to_json(), v2);
        assert_eq!(code(&v2.replace(SUITE_V2, SUITE)), Code::SuiteUnsupported);
        let v1_with_v2_suite = env(&e, &n, &c).replace(SUITE, SUITE_V2);
        assert_eq!(code(&v1_with_v2_suite), Code::SuiteUnsupported);
        assert_eq!(format!("{parsed:?}"), "Envelope { v: 2, ct: 40 bytes }");
    }

    #[test]
    fn version_is_judged_first() {
        assert_eq!(code(r#"{"v":3}"#), Code::VersionUnsupported);
        assert_eq!(code(r#"{"v":2.0}"#), Code::VersionUnsupported);
        assert_eq!(code(r#"{"v":2}"#), Code::EnvelopeMissingKey);
        assert_eq!(code(r#"{"v":1.0,"x":[]}"#), Code::VersionUnsupported);
        assert_eq!(code(r#"{"v":-1,"v":1}"#), Code::VersionUnsupported);
        assert_eq!(code(r#"{"suite":"nope","v":0}"#), Code::VersionUnsupported);
        assert_eq!(code(r#"{"v":"1"}"#), Code::EnvelopeMissingKey);
        let (e, n, c) = good();
        let s = env(&e, &n, &c).replace("\"v\":1", "\"v\":\"1\"");
        assert_eq!(code(&s), Code::EnvelopeWrongType);
    }

    #[test]
    fn shape_faults() {
        let (e, n, c) = good();
        let base = env(&e, &n, &c);
        assert_eq!(code(""), Code::EnvelopeNotJson);
        assert_eq!(code("[]"), Code::EnvelopeNotJson);
        assert_eq!(code("nope"), Code::EnvelopeNotJson);
        // A repeated unknown key is a duplicate first (§8.2 step 4).
        assert_eq!(
            code(&base.replace("}", ",\"x\":1,\"x\":2}")),
            Code::EnvelopeDuplicateKey
        );
        assert_eq!(
            code(&base.replace("}", ",\"x\":1}")),
            Code::EnvelopeUnknownKey
        );
        assert_eq!(
            code(&base.replace("}", &format!(",\"ct\":\"{c}\"}}"))),
            Code::EnvelopeDuplicateKey
        );
        assert_eq!(
            code(&base.replace(&format!(",\"ct\":\"{c}\""), "")),
            Code::EnvelopeMissingKey
        );
        assert_eq!(
            code(&base.replace("xchacha20poly1305", "aes256gcm")),
            Code::SuiteUnsupported
        );
        assert_eq!(
            code(&base.replace(&format!("\"{e}\""), "32")),
            Code::EnvelopeWrongType
        );
        assert_eq!(
            code(&env(&b64::encode(&[1u8; 31]), &n, &c)),
            Code::InvalidLength
        );
        assert_eq!(
            code(&env(&e, &b64::encode(&[1u8; 23]), &c)),
            Code::InvalidLength
        );
        assert_eq!(
            code(&env(&e, &n, &b64::encode(&[1u8; 16]))),
            Code::InvalidLength
        );
        assert_eq!(code(&env(&e, &n, &format!("{c}="))), Code::InvalidBase64);
    }

    /// A key that counts every comparison made on it.
    struct Counted<'a>(u32, &'a core::cell::Cell<u64>);

    impl PartialEq for Counted<'_> {
        fn eq(&self, other: &Self) -> bool {
            self.1.set(self.1.get() + 1);
            self.0 == other.0
        }
    }
    impl Eq for Counted<'_> {}
    impl PartialOrd for Counted<'_> {
        fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Counted<'_> {
        fn cmp(&self, other: &Self) -> core::cmp::Ordering {
            self.1.set(self.1.get() + 1);
            self.0.cmp(&other.0)
        }
    }

    /// No timing: the duplicate check's comparison count stays within
    /// 4·n·log2(n) for 16,384 keys (more than 64 KiB of envelope can hold),
    /// in any order, with or without a duplicate. The pairwise scan it
    /// replaced makes n²/2 ≈ 1.3·10^8 comparisons on distinct keys.
    #[test]
    fn duplicate_check_is_n_log_n() {
        const N: u32 = 16_384;
        let bound = 4 * u64::from(N) * u64::from(N.ilog2());
        let mut x = 0x2545_f491_u32;
        let shuffled: Vec<u32> = (0..N)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x
            })
            .collect();
        let ascending: Vec<u32> = (0..N).collect();
        let descending: Vec<u32> = (0..N).rev().collect();
        let mut dup_first = ascending.clone();
        dup_first[1] = 0;
        let mut dup_middle = ascending.clone();
        dup_middle[N as usize / 2] = N / 2 - 1;
        let mut dup_last = ascending.clone();
        dup_last[N as usize - 1] = 0;
        for (name, keys, want) in [
            ("ascending", &ascending, false),
            ("descending", &descending, false),
            ("dup first", &dup_first, true),
            ("dup middle", &dup_middle, true),
            ("dup last", &dup_last, true),
        ]
        .into_iter()
        .chain([("shuffled", &shuffled, {
            let mut s = shuffled.clone();
            s.sort_unstable();
            s.windows(2).any(|w| w[0] == w[1])
        })]) {
            let count = core::cell::Cell::new(0);
            let mut items: Vec<Counted<'_>> = keys.iter().map(|&k| Counted(k, &count)).collect();
            assert_eq!(has_duplicate(&mut items), want, "{name}");
            assert!(
                count.get() <= bound,
                "{name}: {} comparisons for {N} keys (bound {bound})",
                count.get()
            );
        }
    }

    /// Near the 64 KiB cap: a duplicate is found wherever it sits, among
    /// unknown keys or known ones, and distinct unknown keys stay 8105.
    #[test]
    fn duplicates_in_a_large_envelope() {
        let (e, n, c) = good();
        let base = env(&e, &n, &c);
        let filler: Vec<String> = (0..6_000).map(|i| format!("\"k{i}\":0")).collect();
        let with = |extra: &[String]| {
            let s = base.replacen("}", &format!(",{}}}", extra.join(",")), 1);
            assert!(s.len() <= MAX_ENVELOPE_JSON, "{}", s.len());
            s
        };
        assert_eq!(code(&with(&filler)), Code::EnvelopeUnknownKey);
        let last = filler.len() - 1;
        for (at, copy_of) in [
            (1, 0),
            (last / 2, last / 2 + 1),
            (last, 0),
            (last, last - 1),
        ] {
            let mut f = filler.clone();
            f[at] = f[copy_of].clone();
            assert_eq!(code(&with(&f)), Code::EnvelopeDuplicateKey, "{at}");
        }
        for known in ["v", "suite", "epk", "nonce", "ct"] {
            for at in [0, last / 2, last] {
                let mut f = filler.clone();
                f[at] = format!("\"{known}\":\"\"");
                assert_eq!(code(&with(&f)), Code::EnvelopeDuplicateKey, "{known} {at}");
            }
        }
        // Same name after unescaping is the same key.
        let mut f = filler.clone();
        f[last] = "\"\\u006b0\":1".into();
        assert_eq!(code(&with(&f)), Code::EnvelopeDuplicateKey);
    }

    #[test]
    fn size_caps() {
        let (e, n, _) = good();
        let max = b64::encode(&vec![0u8; MAX_CIPHERTEXT_SIZE]);
        assert_eq!(max.len(), MAX_CT_B64_CHARS);
        assert!(Envelope::from_json(env(&e, &n, &max).as_bytes()).is_ok());
        let over = b64::encode(&vec![0u8; MAX_CIPHERTEXT_SIZE + 1]);
        assert_eq!(code(&env(&e, &n, &over)), Code::CiphertextTooLarge);
        // Too long even as garbage: judged from length before decoding.
        assert_eq!(
            code(&env(&e, &n, &"!".repeat(MAX_CT_B64_CHARS + 1))),
            Code::CiphertextTooLarge
        );
        let big = vec![b' '; MAX_ENVELOPE_JSON + 1];
        assert_eq!(
            code(core::str::from_utf8(&big).unwrap()),
            Code::CiphertextTooLarge
        );
        // The 64 KiB limit is inclusive: a valid envelope padded with
        // whitespace to exactly the limit still parses.
        let body = env(&e, &n, &b64::encode(&[3u8; 40]));
        let padded = format!("{body}{}", " ".repeat(MAX_ENVELOPE_JSON - body.len()));
        assert_eq!(padded.len(), MAX_ENVELOPE_JSON);
        assert!(Envelope::from_json(padded.as_bytes()).is_ok());
    }
}
