//! keygen, pubkey, fingerprint, seal, open: the envelope core on the command
//! line (v1, and v2 with --identity / --identity-key).

use std::path::PathBuf;

use clap::Args;

use super::read_stdin_limited;
use sealpass::context::{Context, MAX_CONTEXT_JSON};
use sealpass::envelope::MAX_ENVELOPE_JSON;
use sealpass::error::{Code, Error, Result};
use sealpass::keys::{PublicKey, SecretKey};
use sealpass::suite::MAX_PLAINTEXT_SIZE;
use sealpass_native::io::{read_file_limited, write_new_private_file, write_stdout};

/// Key files are tiny; anything bigger is not a key file.
const MAX_KEY_FILE: usize = 1024;

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the secret key (B64U + newline, mode 0600). Never overwritten.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args, Debug)]
pub struct PubkeyArgs {
    /// Secret key file written by `sealpass keygen`.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

#[derive(Args, Debug)]
#[command(
    after_help = "A one-time key's fingerprint is compared per secret; a node identity's\n\
(--identity) once per node, then pinned. The two never look alike for the same bytes."
)]
pub struct FingerprintArgs {
    /// Public key, base64url without padding (43 characters).
    #[arg(
        value_name = "PUBKEY_B64U",
        allow_hyphen_values = true,
        required_unless_present = "identity",
        conflicts_with = "identity"
    )]
    pubkey: Option<String>,
    /// A node identity public key (B64U): print its identity fingerprint.
    #[arg(long, value_name = "NIK_B64U", allow_hyphen_values = true)]
    identity: Option<String>,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Reads the plaintext (1..=16368 bytes, byte-exact) from stdin and prints the envelope JSON.\n\
Example: printf %s \"$TOKEN\" | sealpass seal --to <PUBKEY> --context ctx.json > envelope.json"
)]
pub struct SealArgs {
    /// The node's one-time public key (B64U). Without --identity, check its
    /// fingerprint first.
    #[arg(long, value_name = "PUBKEY_B64U", allow_hyphen_values = true)]
    to: String,
    /// The node's identity public key (B64U): seal a v2 envelope that only
    /// the holder of that identity can open, whatever one-time key --to is.
    #[arg(long, value_name = "NIK_B64U", allow_hyphen_values = true)]
    identity: Option<String>,
    /// Context JSON file: {"node_id","pending_id","slug","injection_method","field_name"?,"target_url"?}
    #[arg(long, value_name = "CTX.json")]
    context: PathBuf,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Reads the envelope JSON from stdin and writes the plaintext, byte-exact, to stdout."
)]
pub struct OpenArgs {
    /// Secret key file (the one-time key).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The node's identity secret key file: needed for v2 envelopes (v1
    /// envelopes open with or without it).
    #[arg(long, value_name = "FILE")]
    identity_key: Option<PathBuf>,
    /// The node's own copy of the context JSON (never the relay's word for it).
    #[arg(long, value_name = "CTX.json")]
    context: PathBuf,
}

pub fn keygen(a: KeygenArgs) -> Result<()> {
    let sk = SecretKey::generate()?;
    write_new_private_file(&a.out, sk.to_key_file().as_bytes())?;
    write_stdout(format!("{}\n", sk.public_key().to_b64u()).as_bytes())
}

fn load_key(path: &std::path::Path) -> Result<SecretKey> {
    let bytes = read_file_limited(
        path,
        MAX_KEY_FILE,
        Error::new(Code::InvalidSecretKey, "key file too large"),
    )?;
    SecretKey::from_key_file(&bytes)
}

pub fn load_context(path: &std::path::Path) -> Result<Context> {
    let bytes = read_file_limited(
        path,
        MAX_CONTEXT_JSON,
        Error::new(Code::ContextMalformed, "context JSON larger than 64 KiB"),
    )?;
    Context::from_json(&bytes)
}

pub fn pubkey(a: PubkeyArgs) -> Result<()> {
    let sk = load_key(&a.key)?;
    write_stdout(format!("{}\n", sk.public_key().to_b64u()).as_bytes())
}

pub fn fingerprint(a: FingerprintArgs) -> Result<()> {
    let line = match (&a.identity, &a.pubkey) {
        (Some(nik), _) => PublicKey::from_b64u(nik)?.identity_fingerprint(),
        (None, Some(pk)) => PublicKey::from_b64u(pk)?.fingerprint(),
        (None, None) => {
            return Err(Error::new(
                Code::Usage,
                "give a PUBKEY_B64U or --identity NIK_B64U",
            ))
        }
    };
    write_stdout(format!("{line}\n").as_bytes())
}

pub fn seal(a: SealArgs) -> Result<()> {
    let pk = PublicKey::from_b64u(&a.to)?;
    let identity = a
        .identity
        .as_deref()
        .map(PublicKey::from_b64u)
        .transpose()?;
    let ctx = load_context(&a.context)?;
    let pt = read_stdin_limited(
        MAX_PLAINTEXT_SIZE,
        Error::new(
            Code::CiphertextTooLarge,
            "plaintext longer than 16368 bytes",
        ),
    )?;
    let env = match &identity {
        Some(nik) => sealpass::seal_v2(&pk, nik, &pt, &ctx)?,
        None => sealpass::seal(&pk, &pt, &ctx)?,
    };
    let mut out = env.to_json();
    out.push('\n');
    write_stdout(out.as_bytes())
}

pub fn open(a: OpenArgs) -> Result<()> {
    let sk = load_key(&a.key)?;
    let isk = a.identity_key.as_deref().map(load_key).transpose()?;
    let ctx = load_context(&a.context)?;
    let input = read_stdin_limited(
        MAX_ENVELOPE_JSON,
        Error::new(Code::CiphertextTooLarge, "envelope larger than 64 KiB"),
    )?;
    let pt = match &isk {
        Some(isk) => sealpass_open::open_json_with_identity(&sk, isk, &input, &ctx)?,
        None => sealpass_open::open_json(&sk, &input, &ctx)?,
    };
    write_stdout(&pt)
}
