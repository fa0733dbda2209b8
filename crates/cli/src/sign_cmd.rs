//! `sealpass sign` / `sealpass verify`: sign or check a node request by hand
//! (HMAC-SHA256, docs/SIGNING.md), e.g. to debug a node or script a call.

use std::path::{Path, PathBuf};

use clap::Args;
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};
use sealpass_native::io::{read_file_limited, write_stdout};
use sealpass_native::signing::{
    sign_request, unix_now, MemoryReplayCache, SecretSource, SignatureHeaders, Verifier,
};

/// Largest body file accepted (the relay's largest request body).
const MAX_BODY: usize = 256 * 1024;
/// Largest secret file accepted.
const MAX_SECRET_FILE: usize = 4096;

/// Arguments of `sealpass sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// File holding the HMAC secret as B64U (as printed once by the relay).
    #[arg(long, value_name = "FILE")]
    secret_file: PathBuf,
    /// Caller id (the node id).
    #[arg(long, allow_hyphen_values = true)]
    caller: String,
    /// Secret version.
    #[arg(long, default_value_t = 1)]
    key_version: u32,
    /// HTTP method, e.g. GET or POST.
    #[arg(long)]
    method: String,
    /// Request target exactly as it will be sent: path plus `?query`.
    #[arg(long)]
    path: String,
    /// File with the exact body bytes (empty body when absent).
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// Unix time to sign with (default: now).
    #[arg(long)]
    timestamp: Option<i64>,
}

/// Arguments of `sealpass verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// File holding the HMAC secret as B64U.
    #[arg(long, value_name = "FILE")]
    secret_file: PathBuf,
    /// HTTP method of the request.
    #[arg(long)]
    method: String,
    /// Request target exactly as sent.
    #[arg(long)]
    path: String,
    /// File with the exact body bytes (empty body when absent).
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// A request header `Name: value`; repeat for each (non-signing headers are ignored).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Require this caller id.
    #[arg(long, allow_hyphen_values = true)]
    caller: Option<String>,
    /// Require this key version.
    #[arg(long)]
    key_version: Option<u32>,
    /// Unix time to verify at (default: now).
    #[arg(long)]
    now: Option<i64>,
}

fn read_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let raw = read_file_limited(
        path,
        MAX_SECRET_FILE,
        Error::new(Code::Usage, "secret file too large"),
    )?;
    let text = std::str::from_utf8(&raw)
        .map_err(|_| Error::new(Code::Usage, "secret file is not B64U text"))?;
    let secret = sealpass::b64::decode(text.trim())
        .map_err(|_| Error::new(Code::Usage, "secret file is not B64U text"))?;
    if secret.is_empty() {
        return Err(Error::new(Code::Usage, "secret file is empty"));
    }
    Ok(Zeroizing::new(secret))
}

fn read_body(path: Option<&Path>) -> Result<Zeroizing<Vec<u8>>> {
    match path {
        None => Ok(Zeroizing::new(Vec::new())),
        Some(p) => read_file_limited(
            p,
            MAX_BODY,
            Error::new(Code::PayloadTooLarge, "body file larger than 256 KiB"),
        ),
    }
}

/// Print the four signing headers, one `Name: value` per line.
pub fn sign(a: SignArgs) -> Result<()> {
    if !sealpass_native::signing::is_valid_caller(&a.caller) {
        return Err(Error::new(
            Code::Usage,
            "--caller must be 1..=64 chars of [A-Za-z0-9._-]",
        ));
    }
    if a.key_version == 0 {
        return Err(Error::new(Code::Usage, "--key-version must be at least 1"));
    }
    let secret = read_secret(&a.secret_file)?;
    let body = read_body(a.body_file.as_deref())?;
    let ts = a.timestamp.unwrap_or_else(unix_now);
    if ts < 0 {
        return Err(Error::new(Code::Usage, "--timestamp must not be negative"));
    }
    let method = a.method.to_ascii_uppercase();
    let mut out = String::new();
    for (name, value) in sign_request(
        &secret,
        &a.caller,
        a.key_version,
        &method,
        &a.path,
        &body,
        ts,
    ) {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    }
    write_stdout(out.as_bytes())
}

struct FileSecret {
    secret: Zeroizing<Vec<u8>>,
    caller: Option<String>,
    key_version: Option<u32>,
}

impl SecretSource for FileSecret {
    fn secret(&self, caller: &str, v: u32, _now: i64) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let caller_ok = self.caller.as_deref().map_or(true, |c| c == caller);
        let version_ok = self.key_version.map_or(true, |k| k == v);
        Ok((caller_ok && version_ok).then(|| self.secret.clone()))
    }
}

/// Check a request's signing headers; prints `ok caller=… key_version=…`.
pub fn verify(a: VerifyArgs) -> Result<()> {
    let mut pairs = Vec::with_capacity(a.headers.len());
    for h in &a.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| Error::new(Code::Usage, "--header must be `Name: value`"))?;
        pairs.push((name.trim(), value.trim().as_bytes()));
    }
    let headers = SignatureHeaders::from_pairs(pairs)?.ok_or_else(|| {
        Error::new(
            Code::SignatureMalformed,
            "no X-Sealpass- headers given (use --header)",
        )
    })?;
    let source = FileSecret {
        secret: read_secret(&a.secret_file)?,
        caller: a.caller,
        key_version: a.key_version,
    };
    let body = read_body(a.body_file.as_deref())?;
    let now = a.now.unwrap_or_else(unix_now);
    let ok = Verifier::new().verify(
        &headers,
        &a.method,
        &a.path,
        &body,
        now,
        &source,
        &MemoryReplayCache::new(),
    )?;
    write_stdout(format!("ok caller={} key_version={}\n", ok.caller, ok.key_version).as_bytes())
}
