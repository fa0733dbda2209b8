//! Storing the node's HMAC secret for the relay, sealed in the keystore.
//!
//! One record per node (`relay:<node_id>`, purpose NodeHmacSecret) holding
//! the key version (4 bytes, big-endian) followed by the secret: re-running
//! with a rotated secret replaces it, and the agent always signs with what is
//! stored.

use std::path::PathBuf;

use clap::Args;
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};
use sealpass_native::io::{read_file_limited, read_limited};
use sealpass_native::keystore::{Keystore, Purpose};
use sealpass_native::wire::SecretIssued;

/// The relay's JSON answer is a few hundred bytes; anything bigger is wrong.
const MAX_SECRET_FILE: usize = 4096;
/// Secret length bounds (the relay issues 32 bytes).
const SECRET_LEN: core::ops::RangeInclusive<usize> = 16..=64;

/// Options that store the node's HMAC secret.
#[derive(Args, Debug, Default)]
pub struct RegisterArgs {
    /// Store this HMAC secret first: the relay's JSON answer
    /// {"node_id","key_version","secret"} or the bare base64url secret; `-` = stdin.
    #[arg(long, value_name = "FILE")]
    register_secret_file: Option<PathBuf>,
    /// Key version of a bare secret (the JSON answer carries its own).
    #[arg(long, value_name = "N", requires = "register_secret_file")]
    key_version: Option<u32>,
}

impl RegisterArgs {
    /// Whether a secret was given.
    pub fn is_given(&self) -> bool {
        self.register_secret_file.is_some()
    }
}

/// The signing identity loaded from the keystore.
pub struct NodeSecret {
    /// Key version the relay knows the secret by.
    pub key_version: u32,
    /// The HMAC secret.
    pub secret: Zeroizing<Vec<u8>>,
}

fn record_id(node_id: &str) -> String {
    format!("relay:{node_id}")
}

/// Read, check and seal the secret; returns its key version.
pub fn store_secret(store: &Keystore, node_id: &str, a: &RegisterArgs) -> Result<u32> {
    let Some(path) = &a.register_secret_file else {
        return Err(Error::new(
            Code::Usage,
            "--register-secret-file is required",
        ));
    };
    let too_large = Error::new(Code::Usage, "secret file larger than 4 KiB");
    let raw = if path.as_os_str() == "-" {
        read_limited(std::io::stdin().lock(), MAX_SECRET_FILE, too_large)?
    } else {
        read_file_limited(path, MAX_SECRET_FILE, too_large)?
    };
    let (version, secret) = parse_secret(&raw, node_id, a.key_version)?;
    let mut blob = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
    blob.extend_from_slice(&version.to_be_bytes());
    blob.extend_from_slice(&secret);
    store.put_record(Purpose::NodeHmacSecret, &record_id(node_id), &blob)?;
    Ok(version)
}

/// Load the stored secret (8505 with a hint when the node was never registered).
pub fn load_secret(store: &Keystore, node_id: &str) -> Result<NodeSecret> {
    let blob = store
        .get_record(Purpose::NodeHmacSecret, &record_id(node_id))
        .map_err(|e| {
            if e.code() == Code::RecordNotFound {
                Error::with_detail(
                    Code::RecordNotFound,
                    format!("no HMAC secret stored for node {node_id}: run once with --register-secret-file"),
                )
            } else {
                e
            }
        })?;
    let bad = || {
        Error::new(
            Code::RecordTampered,
            "stored HMAC secret record is malformed",
        )
    };
    let (v, s) = blob.split_first_chunk::<4>().ok_or_else(bad)?;
    if !SECRET_LEN.contains(&s.len()) {
        return Err(bad());
    }
    Ok(NodeSecret {
        key_version: u32::from_be_bytes(*v),
        secret: Zeroizing::new(s.to_vec()),
    })
}

/// Accept the relay's JSON answer or a bare B64U secret (one trailing
/// newline / surrounding whitespace allowed).
fn parse_secret(
    raw: &[u8],
    node_id: &str,
    flag_version: Option<u32>,
) -> Result<(u32, Zeroizing<Vec<u8>>)> {
    let bad = |why: &'static str| Error::new(Code::Usage, why);
    let text = core::str::from_utf8(raw).map_err(|_| bad("secret file is not UTF-8"))?;
    let text = text.trim();
    let (version, b64) = if text.starts_with('{') {
        let ans: SecretIssued = serde_json::from_str(text).map_err(|_| {
            bad("secret file is JSON but not {\"node_id\",\"key_version\",\"secret\"}")
        })?;
        if ans.node_id != node_id {
            return Err(bad("secret file is for another node id"));
        }
        if flag_version.is_some_and(|v| v != ans.key_version) {
            return Err(bad(
                "--key-version contradicts the key_version in the secret file",
            ));
        }
        (ans.key_version, Zeroizing::new(ans.secret))
    } else {
        (flag_version.unwrap_or(1), Zeroizing::new(text.to_owned()))
    };
    if version == 0 {
        return Err(bad("key version must be at least 1"));
    }
    let secret = Zeroizing::new(
        sealpass::b64::decode(&b64).map_err(|_| bad("secret is not base64url without padding"))?,
    );
    if !SECRET_LEN.contains(&secret.len()) {
        return Err(bad("secret must be 16..=64 bytes"));
    }
    Ok((version, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_forms() {
        let s = sealpass::b64::encode(&[7u8; 32]);
        let (v, b) = parse_secret(format!("{s}\n").as_bytes(), "n1", None).unwrap();
        assert_eq!((v, b.as_slice()), (1, &[7u8; 32][..]));
        let json = format!(r#"{{"node_id":"n1","key_version":3,"secret":"{s}"}}"#);
        assert_eq!(parse_secret(json.as_bytes(), "n1", None).unwrap().0, 3);
        assert!(parse_secret(json.as_bytes(), "n2", None).is_err());
        assert!(parse_secret(json.as_bytes(), "n1", Some(2)).is_err());
        assert!(parse_secret(b"abc", "n1", None).is_err());
        let err = parse_secret(b"!!secret!!", "n1", None).unwrap_err();
        assert!(!err.to_string().contains("secret!!"));
    }
}
