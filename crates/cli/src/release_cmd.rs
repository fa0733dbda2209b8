//! `sealpass release keygen|pubkey|sign|verify`: the signed manifest of the
//! accept page's served files (docs/RELEASE_INTEGRITY.md).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};

use sealpass::error::{Code, Error, Result};
use sealpass_native::io::write_stdout;
use sealpass_native::io::{read_file_limited, write_new_private_file};
use sealpass_native::release::{
    Layout, Manifest, ReleaseKey, ReleasePublicKey, SignedManifest, MAX_FILE_SIZE, MAX_KEY_FILE,
    MAX_MANIFEST_JSON,
};

#[derive(Subcommand, Debug)]
pub enum ReleaseCommand {
    /// Generate a release signing key file (B64U seed, mode 0600); print its public key.
    Keygen(KeygenArgs),
    /// Print the public key (B64U) of a release key file.
    Pubkey(PubkeyArgs),
    /// Hash every file of a built page directory and write a signed releases.json.
    #[command(
        after_help = "Example: sealpass release sign --key release.key --dir target/www-dist --version 0.1.0 --out target/www-dist/releases.json"
    )]
    Sign(SignArgs),
    /// Check a manifest's signature, then the served files against it.
    #[command(after_help = "\
Get the release public key from somewhere other than the relay you are checking
(the release notes, a colleague, a second origin). Examples:
  sealpass release verify --manifest https://releases.example/releases.json --pubkey KEY --base-url http://127.0.0.1:8080
  sealpass release verify --manifest target/www-dist/releases.json --pubkey KEY --dir target/www-dist
Exit status 0 only if the signature verifies and every file matches (8801 bad signature,
8802 a file differs or is missing, 8803 malformed manifest).")]
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the key (never overwritten).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args, Debug)]
pub struct PubkeyArgs {
    /// Release key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

#[derive(Args, Debug)]
#[command(disable_version_flag = true)]
pub struct SignArgs {
    /// Release key file (from `sealpass release keygen`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Directory of the built page (every file in it is listed).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Release version, e.g. 0.1.0.
    #[arg(long, value_name = "V")]
    version: String,
    /// Output file (overwritten), or `-` for stdout.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Where the files will be served, which sets each file's signed URL:
    /// `relay` (the relay's `--www`: /accept and /static/FILE) or `static`
    /// (a static host serving the directory as is: /FILE below the page's
    /// base URL, for `release verify --base-url PAGE_BASE`).
    #[arg(long, value_enum, default_value_t = SignLayout::Relay)]
    layout: SignLayout,
}

/// `--layout` of `release sign`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SignLayout {
    /// Served by the relay.
    Relay,
    /// Served by a static host.
    Static,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// releases.json: a file path or an http(s):// URL.
    #[arg(long, value_name = "FILE|URL")]
    manifest: String,
    /// Release public key: B64U (43 chars) or a file holding it.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    pubkey: String,
    /// Fetch every listed file from this relay, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", conflicts_with = "dir")]
    base_url: Option<String>,
    /// Check a local release directory instead (unlisted files also fail).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn run(c: ReleaseCommand) -> Result<()> {
    match c {
        ReleaseCommand::Keygen(a) => {
            let k = ReleaseKey::generate()?;
            write_new_private_file(&a.out, k.to_key_file().as_bytes())?;
            write_stdout(format!("{}\n", k.public_key().to_b64u()).as_bytes())
        }
        ReleaseCommand::Pubkey(a) => {
            let k = load_key(&a.key)?;
            write_stdout(format!("{}\n", k.public_key().to_b64u()).as_bytes())
        }
        ReleaseCommand::Sign(a) => sign(a),
        ReleaseCommand::Verify(a) => verify(a),
    }
}

fn load_key(path: &Path) -> Result<ReleaseKey> {
    let bytes = read_file_limited(
        path,
        MAX_KEY_FILE,
        Error::new(Code::InvalidSecretKey, "key file too large"),
    )?;
    ReleaseKey::from_key_file(&bytes)
}

fn sign(a: SignArgs) -> Result<()> {
    let key = load_key(&a.key)?;
    let layout = match a.layout {
        SignLayout::Relay => Layout::Relay,
        SignLayout::Static => Layout::Static,
    };
    let signed = Manifest::from_dir_as(&a.dir, &a.version, layout)?.sign(&key);
    let json = signed.to_json();
    if a.out.as_os_str() == "-" {
        return write_stdout(json.as_bytes());
    }
    std::fs::write(&a.out, json.as_bytes()).map_err(|e| {
        Error::with_detail(
            Code::Io,
            format!("cannot write {}: {}", a.out.display(), e.kind()),
        )
    })
}

fn load_pubkey(arg: &str) -> Result<ReleasePublicKey> {
    if arg.len() == 43 && !Path::new(arg).exists() {
        return ReleasePublicKey::from_b64u(arg);
    }
    let bytes = read_file_limited(
        Path::new(arg),
        MAX_KEY_FILE,
        Error::new(Code::InvalidPublicKey, "public key file too large"),
    )?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::new(Code::InvalidPublicKey, "public key file is not text"))?;
    ReleasePublicKey::from_b64u(text)
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .redirects(0)
        .user_agent(concat!("sealpass/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// GET with a byte limit. `missing` is the error for non-200 answers.
fn fetch(agent: &ureq::Agent, url: &str, limit: usize, missing: Code) -> Result<Vec<u8>> {
    let resp = match agent.get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(s, _)) => {
            return Err(Error::with_detail(missing, format!("GET {url}: HTTP {s}")))
        }
        Err(_) => {
            return Err(Error::with_detail(
                Code::RelayUnreachable,
                format!("GET {url}: could not connect"),
            ))
        }
    };
    if resp.status() != 200 {
        return Err(Error::with_detail(
            missing,
            format!("GET {url}: HTTP {}", resp.status()),
        ));
    }
    let mut body = Vec::new();
    resp.into_reader()
        .take(limit as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|_| {
            Error::with_detail(Code::RelayUnreachable, format!("GET {url}: read failed"))
        })?;
    if body.len() > limit {
        return Err(Error::with_detail(
            missing,
            format!("GET {url}: larger than {limit} bytes"),
        ));
    }
    Ok(body)
}

fn verify(a: VerifyArgs) -> Result<()> {
    let key = load_pubkey(&a.pubkey)?;
    let http = agent();
    let raw = if is_url(&a.manifest) {
        fetch(
            &http,
            &a.manifest,
            MAX_MANIFEST_JSON,
            Code::ManifestMalformed,
        )?
    } else {
        read_file_limited(
            Path::new(&a.manifest),
            MAX_MANIFEST_JSON,
            Error::new(Code::ManifestMalformed, "manifest larger than 64 KiB"),
        )?
        .to_vec()
    };
    let signed = SignedManifest::parse(&raw)?;
    let m = signed.verify(&key)?;
    let mut out = format!(
        "signature ok: release {} ({} files), key {}\n",
        m.version(),
        m.files().len(),
        key.to_b64u()
    );
    match (&a.base_url, &a.dir) {
        (Some(base), None) => {
            let base = base.strip_suffix('/').unwrap_or(base);
            if !is_url(base) || base.contains(['?', '#', '@']) {
                return Err(Error::new(
                    Code::Usage,
                    "--base-url must be http(s)://host[:port][/prefix]",
                ));
            }
            for f in m.files() {
                let url = format!("{base}{}", f.url);
                let body = fetch(&http, &url, MAX_FILE_SIZE, Code::ManifestMismatch)?;
                Manifest::check_file(f, &body)?;
                out.push_str(&format!("ok {} sha384-{}\n", f.url, f.sha384));
            }
        }
        (None, Some(dir)) => {
            m.check_dir(dir)?;
            for f in m.files() {
                out.push_str(&format!("ok {} sha384-{}\n", f.path, f.sha384));
            }
        }
        _ => out.push_str("no --base-url or --dir given: only the signature was checked\n"),
    }
    write_stdout(out.as_bytes())
}
