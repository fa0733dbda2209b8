//! Key types and their text forms (B64U of 32 bytes).

use alloc::string::String;

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::b64;
use crate::error::{Code, Error, Result};
use crate::fingerprint::fingerprint;
use crate::rng::{self, CryptoRngCore};
use crate::suite::{self, KEY_LEN};

/// An X25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; KEY_LEN]);

impl PublicKey {
    /// From raw bytes. Any 32 bytes are accepted here; low-order keys are
    /// refused when sealing (8302), where the all-zero shared secret shows.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        PublicKey(bytes)
    }

    /// Parse B64U of exactly 32 bytes (8301 otherwise).
    pub fn from_b64u(text: &str) -> Result<Self> {
        let bad = Error::new(
            Code::InvalidPublicKey,
            "public key must be base64url of 32 bytes",
        );
        b64::decode_array::<KEY_LEN>(text, bad.clone())
            .map(PublicKey)
            .map_err(|_| bad)
    }

    /// Parse a byte slice of exactly 32 bytes (8301 otherwise).
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        <[u8; KEY_LEN]>::try_from(bytes)
            .map(PublicKey)
            .map_err(|_| Error::new(Code::InvalidPublicKey, "public key must be 32 bytes"))
    }

    /// Raw bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// B64U text form.
    pub fn to_b64u(&self) -> String {
        b64::encode(&self.0)
    }

    /// The fingerprint a person compares out of band.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0)
    }

    /// The identity fingerprint (docs/PROTOCOL.md §15.1), for a node's
    /// long-term identity key: compared once per node, then pinned.
    pub fn identity_fingerprint(&self) -> String {
        crate::fingerprint::identity_fingerprint(&self.0)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

/// An X25519 secret key. Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// A fresh random key from `rng`.
    pub fn generate_with_rng(rng: &mut impl CryptoRngCore) -> Result<Self> {
        let mut k = SecretKey([0u8; KEY_LEN]);
        rng::fill(rng, &mut k.0)?;
        Ok(k)
    }

    /// A fresh random key from the operating system's CSPRNG.
    #[cfg(feature = "os-rng")]
    pub fn generate() -> Result<Self> {
        Self::generate_with_rng(&mut rng::OsRng)
    }

    /// From raw bytes (the caller keeps responsibility for its own copy).
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretKey(bytes)
    }

    /// Parse a key file: B64U of 32 bytes with at most one trailing `\n`.
    pub fn from_key_file(contents: &[u8]) -> Result<Self> {
        let bad = || {
            Error::new(
                Code::InvalidSecretKey,
                "key file must hold base64url of 32 bytes",
            )
        };
        let body = contents.strip_suffix(b"\n").unwrap_or(contents);
        let text = core::str::from_utf8(body).map_err(|_| bad())?;
        b64::decode_array::<KEY_LEN>(text, bad())
            .map(SecretKey)
            .map_err(|_| bad())
    }

    /// Key file contents: B64U plus a newline.
    pub fn to_key_file(&self) -> zeroize::Zeroizing<String> {
        let mut s = zeroize::Zeroizing::new(b64::encode(&self.0));
        s.push('\n');
        s
    }

    /// Raw bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(suite::public_key(&self.0))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_forms() {
        let sk = SecretKey::from_bytes([7u8; 32]);
        let file = sk.to_key_file();
        let again = SecretKey::from_key_file(file.as_bytes()).unwrap();
        assert_eq!(again.as_bytes(), sk.as_bytes());
        let no_nl = file.trim_end_matches('\n');
        assert!(SecretKey::from_key_file(no_nl.as_bytes()).is_ok());
        for bad in [
            format!("{}\n", file.as_str()),
            format!("{no_nl}\r\n"),
            format!(" {no_nl}"),
            no_nl[1..].to_string(),
        ] {
            assert_eq!(
                SecretKey::from_key_file(bad.as_bytes()).unwrap_err().code(),
                Code::InvalidSecretKey
            );
        }
        assert_eq!(format!("{sk:?}"), "SecretKey(<redacted>)");
    }

    #[test]
    fn public_key_parsing() {
        let pk = SecretKey::from_bytes([9u8; 32]).public_key();
        assert_eq!(PublicKey::from_b64u(&pk.to_b64u()).unwrap(), pk);
        let short = b64::encode(&[1u8; 31]);
        assert_eq!(
            PublicKey::from_b64u(&short).unwrap_err().code(),
            Code::InvalidPublicKey
        );
        assert_eq!(
            PublicKey::from_b64u("!!").unwrap_err().code(),
            Code::InvalidPublicKey
        );
        assert_eq!(
            PublicKey::from_slice(&[0u8; 33]).unwrap_err().code(),
            Code::InvalidPublicKey
        );
    }
}
