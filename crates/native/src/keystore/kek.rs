//! The key-encryption key (KEK): loaded from the operator's environment,
//! never stored. Its id is derived with HKDF, so it can be shown and stored
//! without revealing anything about the key.

use core::fmt;
use std::path::Path;

use zeroize::Zeroizing;

use super::aad;
use crate::hex;
use sealpass::error::{Code, Error, Result};
use sealpass::suite::{self, KEY_LEN};

/// Env var holding the current KEK (B64U of 32 bytes).
pub const ENV_KEK: &str = "SEALPASS_KEK";
/// Env var naming a file that holds the current KEK.
pub const ENV_KEK_FILE: &str = "SEALPASS_KEK_FILE";
/// Env var holding the previous KEK during a rotation.
pub const ENV_KEK_PREVIOUS: &str = "SEALPASS_KEK_PREVIOUS";
/// Env var naming a file that holds the previous KEK.
pub const ENV_KEK_PREVIOUS_FILE: &str = "SEALPASS_KEK_PREVIOUS_FILE";

/// The fixed, publicly known KEK of `--dev-insecure-kek`. Anyone can open a
/// store sealed under it: development only.
pub const DEV_INSECURE_KEK: [u8; KEY_LEN] = *b"sealpass-dev-insecure-kek-v1!!!!";

/// A KEK file holds 43 characters plus whitespace; anything larger is not one.
const MAX_KEK_FILE: u64 = 1024;

/// One KEK and its public id.
#[derive(Clone)]
pub(crate) struct Kek {
    key: Zeroizing<[u8; KEY_LEN]>,
    id: String,
}

impl Kek {
    fn new(key: Zeroizing<[u8; KEY_LEN]>) -> Kek {
        let mut out = [0u8; KEY_LEN];
        // 32 bytes of output cannot exceed HKDF's limit.
        let _ = suite::hkdf_sha256(&[], key.as_ref(), &aad::kek_id_info(), &mut out);
        Kek {
            key,
            id: hex::encode(&out[..8]),
        }
    }

    /// The public 16-hex-digit id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// The key of records of `purpose` sealed straight under this KEK
    /// (`keystore::shared`): HKDF of the KEK, its own label per purpose.
    pub(crate) fn shared_key(&self, purpose: &str) -> Zeroizing<[u8; KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        let _ = suite::hkdf_sha256(
            &[],
            self.key.as_ref(),
            &aad::shared_key_info(purpose),
            out.as_mut(),
        );
        out
    }

    /// The key that wraps DEKs (HKDF of the KEK, so the KEK itself never
    /// touches an AEAD and the id derivation stays separate).
    pub(crate) fn wrap_key(&self) -> Zeroizing<[u8; KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        let _ = suite::hkdf_sha256(
            &[],
            self.key.as_ref(),
            &aad::dek_wrap_key_info(),
            out.as_mut(),
        );
        out
    }
}

/// Which KEKs this process holds: the current one, optionally the previous
/// one (during a rotation), and whether it is the insecure development KEK.
#[derive(Clone)]
pub struct KekConfig {
    pub(crate) current: Kek,
    pub(crate) previous: Option<Kek>,
    dev: bool,
    /// Where the current KEK came from (`SEALPASS_KEK`, or
    /// `SEALPASS_KEK_FILE=PATH`), for messages; `None` when built from keys.
    source: Option<String>,
}

impl fmt::Debug for KekConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KekConfig")
            .field("kek_id", &self.current.id)
            .field(
                "previous_kek_id",
                &self.previous.as_ref().map(|k| k.id.as_str()),
            )
            .field("dev_insecure", &self.dev)
            .finish()
    }
}

impl KekConfig {
    /// Read the KEK(s) from the environment: `SEALPASS_KEK` or
    /// `SEALPASS_KEK_FILE`, and optionally `SEALPASS_KEK_PREVIOUS` or
    /// `SEALPASS_KEK_PREVIOUS_FILE`. With `dev_insecure` the well-known
    /// development KEK is used instead, and setting a real KEK as well is an
    /// error (no silent choice between them). No KEK: 8501; a malformed one: 8503.
    pub fn from_env(dev_insecure: bool) -> Result<KekConfig> {
        let current = read_source(ENV_KEK, ENV_KEK_FILE)?;
        let previous = read_source(ENV_KEK_PREVIOUS, ENV_KEK_PREVIOUS_FILE)?;
        if dev_insecure {
            if current.is_some() || previous.is_some() {
                return Err(Error::new(
                    Code::KekInvalid,
                    "--dev-insecure-kek given while SEALPASS_KEK(_PREVIOUS)(_FILE) is set; use one or the other",
                ));
            }
            return Ok(KekConfig::dev_insecure());
        }
        let current = current.ok_or_else(|| {
            Error::new(
                Code::KekMissing,
                "no KEK configured: set SEALPASS_KEK (base64url of 32 bytes) or SEALPASS_KEK_FILE",
            )
        })?;
        let mut c = KekConfig::from_keys(current, previous);
        c.source = Some(match env_nonempty(ENV_KEK_FILE)? {
            Some(p) => format!("{ENV_KEK_FILE}={}", p.as_str()),
            None => ENV_KEK.to_owned(),
        });
        Ok(c)
    }

    /// Build from raw keys (tests, embedding). The previous KEK is only
    /// needed while DEKs are still wrapped under it.
    pub fn new(current: [u8; KEY_LEN], previous: Option<[u8; KEY_LEN]>) -> KekConfig {
        KekConfig::from_keys(Zeroizing::new(current), previous.map(Zeroizing::new))
    }

    /// The well-known development KEK (`--dev-insecure-kek`).
    pub fn dev_insecure() -> KekConfig {
        let mut c = KekConfig::new(DEV_INSECURE_KEK, None);
        c.dev = true;
        c
    }

    fn from_keys(
        current: Zeroizing<[u8; KEY_LEN]>,
        previous: Option<Zeroizing<[u8; KEY_LEN]>>,
    ) -> KekConfig {
        let current = Kek::new(current);
        let previous = previous.map(Kek::new).filter(|p| p.id != current.id);
        KekConfig {
            current,
            previous,
            dev: false,
            source: None,
        }
    }

    /// Where the current KEK came from, e.g. `SEALPASS_KEK_FILE=/etc/sealpass/kek`.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// Public id of the current KEK.
    pub fn kek_id(&self) -> &str {
        &self.current.id
    }

    /// Public id of the previous KEK, if one is configured.
    pub fn previous_kek_id(&self) -> Option<&str> {
        self.previous.as_ref().map(|k| k.id.as_str())
    }

    /// True for the insecure development KEK.
    pub fn is_dev_insecure(&self) -> bool {
        self.dev
    }

    /// The KEK whose id is `id`: current first, then previous.
    pub(crate) fn by_id(&self, id: &str) -> Option<&Kek> {
        if self.current.id == id {
            return Some(&self.current);
        }
        self.previous.as_ref().filter(|p| p.id == id)
    }
}

/// The loud warning printed on every start with the development KEK.
pub(crate) const DEV_WARNING: &str = "\
WARNING ******************************************************************
WARNING  sealpass keystore is using --dev-insecure-kek: a FIXED, PUBLICLY
WARNING  KNOWN key-encryption key. Anyone who can read keystore.db can
WARNING  decrypt every key and secret in it. NEVER use this in production;
WARNING  set SEALPASS_KEK (or SEALPASS_KEK_FILE) instead.
WARNING ******************************************************************";

fn env_nonempty(name: &str) -> Result<Option<Zeroizing<String>>> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(Zeroizing::new(v))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::with_detail(
            Code::KekInvalid,
            format!("{name} is not valid UTF-8"),
        )),
    }
}

fn read_source(var: &str, file_var: &str) -> Result<Option<Zeroizing<[u8; KEY_LEN]>>> {
    match (env_nonempty(var)?, env_nonempty(file_var)?) {
        (Some(_), Some(_)) => Err(Error::with_detail(
            Code::KekInvalid,
            format!("both {var} and {file_var} are set; set only one"),
        )),
        (Some(v), None) => parse_kek(v.as_str(), var).map(Some),
        (None, Some(p)) => {
            let text = read_kek_file(Path::new(p.as_str()), file_var)?;
            parse_kek(text.as_str(), file_var).map(Some)
        }
        (None, None) => Ok(None),
    }
}

fn read_kek_file(path: &Path, var: &str) -> Result<Zeroizing<String>> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| {
        Error::with_detail(
            Code::KekMissing,
            format!("{var}: cannot open {}: {}", path.display(), e.kind()),
        )
    })?;
    let mut buf = Zeroizing::new(Vec::with_capacity(MAX_KEK_FILE as usize + 1));
    f.take(MAX_KEK_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| {
            Error::with_detail(
                Code::KekMissing,
                format!("{var}: cannot read {}: {}", path.display(), e.kind()),
            )
        })?;
    if buf.len() as u64 > MAX_KEK_FILE {
        return Err(Error::with_detail(
            Code::KekInvalid,
            format!("{var}: file is too large to be a KEK"),
        ));
    }
    let text = std::str::from_utf8(&buf)
        .map_err(|_| Error::with_detail(Code::KekInvalid, format!("{var}: file is not UTF-8")))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// B64U (no padding, canonical) of exactly 32 bytes, surrounding whitespace ignored.
pub(crate) fn parse_kek(text: &str, source: &str) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let bad = || {
        Error::with_detail(
            Code::KekInvalid,
            format!("{source} must be base64url (no padding) of 32 bytes"),
        )
    };
    sealpass::b64::decode_array::<KEY_LEN>(text.trim(), bad())
        .map(Zeroizing::new)
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = KekConfig::new([1u8; 32], Some([2u8; 32]));
        assert_eq!(a.kek_id().len(), 16);
        assert_eq!(a.kek_id(), KekConfig::new([1u8; 32], None).kek_id());
        assert_ne!(Some(a.kek_id()), a.previous_kek_id());
        assert!(a.by_id(a.kek_id()).is_some());
        let dbg = format!("{a:?}");
        assert!(dbg.contains(a.kek_id()) && !dbg.contains("[1, 1"));
    }

    #[test]
    fn parse_rejects_bad_text() {
        let good = sealpass::b64::encode(&[7u8; 32]);
        assert_eq!(*parse_kek(&format!(" {good}\n"), "x").unwrap(), [7u8; 32]);
        for bad in [
            "",
            "abc",
            &sealpass::b64::encode(&[7u8; 31]),
            &format!("{good}="),
        ] {
            assert_eq!(parse_kek(bad, "x").unwrap_err().code(), Code::KekInvalid);
        }
    }
}
