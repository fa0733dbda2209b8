//! Signed release manifests for the accept page (docs/RELEASE_INTEGRITY.md).
//!
//! The build lists every served file with its SHA-384 (base64, as in SRI) and
//! signs the list with an Ed25519 release key. An admin who holds the release
//! public key from somewhere other than the relay can then check that the
//! files a relay serves are exactly the released ones. Signatures are checked
//! with `verify_strict` (no small-order keys, no malleable signatures).

use std::fmt;
use std::fs;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha384};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use sealpass::b64;
use sealpass::error::{Code, Error, Result};

/// Format tag, also the first signed field (domain separation).
pub const FORMAT: &str = "sealpass-release/1";
/// Largest manifest accepted, checked before parsing.
pub const MAX_MANIFEST_JSON: usize = 64 * 1024;
/// Most files one manifest may list.
pub const MAX_FILES: usize = 64;
/// Largest served file hashed or fetched (the page budget is ~30 KB gzip).
pub const MAX_FILE_SIZE: usize = 4 * 1024 * 1024;
/// Name of the manifest inside a release directory (never listed in itself).
pub const MANIFEST_NAME: &str = "releases.json";
/// Key files are one line of B64U; anything bigger is not a key file.
pub const MAX_KEY_FILE: usize = 1024;

const MAX_PATH: usize = 200;
const MAX_VERSION: usize = 64;

/// One served file: where it lives in the release directory, the URL path
/// the relay serves it at, and its SHA-384 (standard base64 with padding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Relative path inside the release directory, `/`-separated.
    pub path: String,
    /// URL path on the relay (`/accept` for index.html, `/admin` for
    /// admin/index.html, else `/static/` + path).
    pub url: String,
    /// Base64 SHA-384 of the exact served bytes (the part after `sha384-` in SRI).
    pub sha384: String,
}

/// An unsigned manifest: version plus files sorted by path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    version: String,
    files: Vec<FileEntry>,
}

/// A manifest and its Ed25519 signature, as stored in releases.json.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedManifest {
    manifest: Manifest,
    signature: [u8; 64],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    format: String,
    version: String,
    files: Vec<FileEntry>,
    signature: String,
}

fn malformed(detail: &'static str) -> Error {
    Error::new(Code::ManifestMalformed, detail)
}

/// SHA-384 of `bytes` as standard base64 (what SRI puts after `sha384-`).
pub fn sha384_b64(bytes: &[u8]) -> String {
    STANDARD.encode(Sha384::digest(bytes))
}

/// Where a release's files are served, which sets each file's signed `url`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// By the relay (`--www DIR`): index.html is the page at `/accept`,
    /// admin/index.html the console at `/admin` (the URLs people load),
    /// every other file is under `/static/`.
    Relay,
    /// By a static host, the directory as it is (`./build.sh page`): each
    /// file at `/<path>` below the page's base URL.
    Static,
}

impl Layout {
    /// The URL path of `path` in this layout.
    pub fn url(self, path: &str) -> String {
        match self {
            Layout::Relay if path == "index.html" => "/accept".to_owned(),
            Layout::Relay if path == "admin/index.html" => "/admin".to_owned(),
            Layout::Relay => format!("/static/{path}"),
            Layout::Static => format!("/{path}"),
        }
    }
}

/// The URL path a release file is served at by the relay (`--www DIR`).
pub fn served_url(path: &str) -> String {
    Layout::Relay.url(path)
}

fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Relative, `/`-separated, no dot-segments or hidden names: safe to join to
/// a directory and to a base URL.
fn valid_path(p: &str) -> bool {
    p.len() <= MAX_PATH && p.split('/').all(valid_segment)
}

fn valid_url(u: &str) -> bool {
    u.len() <= MAX_PATH && u.strip_prefix('/').is_some_and(valid_path)
}

fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= MAX_VERSION
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'_' | b'-'))
}

fn decode_sha384(s: &str) -> Option<[u8; 48]> {
    if s.len() != 64 {
        return None;
    }
    let raw = STANDARD.decode(s).ok()?;
    // Canonical form only, so one hash has one spelling.
    if STANDARD.encode(&raw) != s {
        return None;
    }
    raw.try_into().ok()
}

fn push_field(out: &mut Vec<u8>, field: &str) {
    out.extend_from_slice(&(field.len() as u32).to_be_bytes());
    out.extend_from_slice(field.as_bytes());
}

impl Manifest {
    /// Validate and sort. Paths must be distinct; hashes canonical base64 of 48 bytes.
    pub fn new(version: &str, mut files: Vec<FileEntry>) -> Result<Self> {
        if !valid_version(version) {
            return Err(malformed("version must be 1..=64 of [A-Za-z0-9.+_-]"));
        }
        if files.is_empty() || files.len() > MAX_FILES {
            return Err(malformed("a manifest lists 1..=64 files"));
        }
        for f in &files {
            if !valid_path(&f.path) || f.path == MANIFEST_NAME {
                return Err(malformed("file path is not a safe relative path"));
            }
            if !valid_url(&f.url) {
                return Err(malformed("file url is not a safe absolute path"));
            }
            if decode_sha384(&f.sha384).is_none() {
                return Err(malformed("sha384 is not canonical base64 of 48 bytes"));
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        if files
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.path == b.path))
        {
            return Err(malformed("duplicate file path"));
        }
        let mut urls: Vec<&str> = files.iter().map(|f| f.url.as_str()).collect();
        urls.sort_unstable();
        if urls.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
            return Err(malformed("duplicate file url"));
        }
        Ok(Manifest {
            version: version.to_owned(),
            files,
        })
    }

    /// Hash every regular file under `dir` (except releases.json). Symlinks
    /// and oversized files are refused so the manifest describes real bytes.
    pub fn from_dir(dir: &Path, version: &str) -> Result<Self> {
        Manifest::from_dir_as(dir, version, Layout::Relay)
    }

    /// [`Manifest::from_dir`] for files served in `layout`.
    pub fn from_dir_as(dir: &Path, version: &str, layout: Layout) -> Result<Self> {
        let mut files = Vec::new();
        walk(dir, "", &mut files, 0, layout)?;
        Manifest::new(version, files)
    }

    /// The release version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The files, sorted by path.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// The exact bytes signed: format tag, version and every file entry,
    /// each length-prefixed (u32 big-endian) so no two manifests share them.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        push_field(&mut out, FORMAT);
        push_field(&mut out, &self.version);
        out.extend_from_slice(&(self.files.len() as u32).to_be_bytes());
        for f in &self.files {
            push_field(&mut out, &f.path);
            push_field(&mut out, &f.url);
            push_field(&mut out, &f.sha384);
        }
        out
    }

    /// Sign with the release key.
    pub fn sign(self, key: &ReleaseKey) -> SignedManifest {
        let signature = key.0.sign(&self.signing_bytes()).to_bytes();
        SignedManifest {
            manifest: self,
            signature,
        }
    }

    /// Check served bytes against one entry (8802 on any difference).
    pub fn check_file(entry: &FileEntry, bytes: &[u8]) -> Result<()> {
        let want = decode_sha384(&entry.sha384)
            .ok_or_else(|| malformed("sha384 is not canonical base64 of 48 bytes"))?;
        let got = Sha384::digest(bytes);
        if bool::from(got.as_slice().ct_eq(&want)) {
            Ok(())
        } else {
            Err(Error::with_detail(
                Code::ManifestMismatch,
                format!("{} does not match the manifest hash", entry.url),
            ))
        }
    }

    /// Check a release directory: every listed file matches, and nothing
    /// unlisted is there (a stray file would be served too).
    pub fn check_dir(&self, dir: &Path) -> Result<()> {
        let mut present = Vec::new();
        walk(dir, "", &mut present, 0, Layout::Relay)?; // paths only
        for f in &self.files {
            let bytes = read_bounded(&dir.join(&f.path))?;
            Manifest::check_file(f, &bytes)?;
        }
        if let Some(extra) = present
            .iter()
            .find(|p| !self.files.iter().any(|f| f.path == p.path))
        {
            return Err(Error::with_detail(
                Code::ManifestMismatch,
                format!("{} is not listed in the manifest", extra.path),
            ));
        }
        Ok(())
    }
}

/// Read a file, refusing more than [`MAX_FILE_SIZE`] bytes.
pub fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let f = fs::File::open(path).map_err(|e| {
        Error::with_detail(
            Code::ManifestMismatch,
            format!("cannot read {}: {}", path.display(), e.kind()),
        )
    })?;
    let mut buf = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(f, MAX_FILE_SIZE as u64 + 1),
        &mut buf,
    )
    .map_err(|_| Error::with_detail(Code::Io, format!("cannot read {}", path.display())))?;
    if buf.len() > MAX_FILE_SIZE {
        return Err(Error::with_detail(
            Code::ManifestMismatch,
            format!("{} is larger than {MAX_FILE_SIZE} bytes", path.display()),
        ));
    }
    Ok(buf)
}

fn walk(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<FileEntry>,
    depth: usize,
    layout: Layout,
) -> Result<()> {
    if depth > 8 {
        return Err(malformed("release directory nested too deeply"));
    }
    let io = |e: std::io::Error| {
        Error::with_detail(
            Code::Io,
            format!("cannot list {}: {}", dir.display(), e.kind()),
        )
    };
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(io)?
        .collect::<std::io::Result<_>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| malformed("file name is not UTF-8"))?;
        let rel = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        if rel == MANIFEST_NAME {
            continue;
        }
        let meta = fs::symlink_metadata(e.path()).map_err(io)?;
        if meta.is_dir() {
            walk(&e.path(), &rel, out, depth + 1, layout)?;
        } else if meta.is_file() {
            if !valid_path(&rel) {
                return Err(Error::with_detail(
                    Code::ManifestMalformed,
                    format!("{rel}: not a safe file name for a release"),
                ));
            }
            if out.len() >= MAX_FILES {
                return Err(malformed("too many files for one manifest"));
            }
            let bytes = read_bounded(&e.path())?;
            out.push(FileEntry {
                url: layout.url(&rel),
                sha384: sha384_b64(&bytes),
                path: rel,
            });
        } else {
            return Err(Error::with_detail(
                Code::ManifestMalformed,
                format!("{rel}: symlinks and special files are not released"),
            ));
        }
    }
    Ok(())
}

impl SignedManifest {
    /// Parse releases.json (size-capped, strict: unknown or duplicate keys,
    /// bad hashes and unsorted files are 8803). Does not check the signature.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_MANIFEST_JSON {
            return Err(malformed("manifest larger than 64 KiB"));
        }
        let w: Wire = serde_json::from_slice(bytes)
            .map_err(|_| malformed("manifest is not valid JSON of the expected shape"))?;
        if w.format != FORMAT {
            return Err(malformed("unknown manifest format"));
        }
        let signature =
            b64::decode_array::<64>(&w.signature, malformed("signature must be 64 bytes"))
                .map_err(|_| malformed("signature must be base64url of 64 bytes"))?;
        let sorted = w
            .files
            .windows(2)
            .all(|p| matches!(p, [a, b] if a.path < b.path));
        let manifest = Manifest::new(&w.version, w.files)?;
        if !sorted {
            return Err(malformed("files must be sorted by path"));
        }
        Ok(SignedManifest {
            manifest,
            signature,
        })
    }

    /// Check the signature with a release public key obtained out of band.
    /// Returns the manifest only if it verifies (8801 otherwise).
    pub fn verify(&self, key: &ReleasePublicKey) -> Result<&Manifest> {
        verify_signature(&key.0, &self.manifest.signing_bytes(), &self.signature)?;
        Ok(&self.manifest)
    }

    /// releases.json text (pretty, newline-terminated).
    pub fn to_json(&self) -> String {
        let w = Wire {
            format: FORMAT.to_owned(),
            version: self.manifest.version.clone(),
            files: self.manifest.files.clone(),
            signature: b64::encode(&self.signature),
        };
        let mut s = serde_json::to_string_pretty(&w).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Ed25519 signature check with `verify_strict`: rejects small-order and
/// non-canonical public keys and malleable (non-canonical S) signatures.
/// Any failure, including a malformed key or signature, is 8801.
pub fn verify_signature(public_key: &[u8; 32], msg: &[u8], signature: &[u8]) -> Result<()> {
    let bad = || Error::new(Code::ManifestSignatureInvalid, "signature does not verify");
    let vk = VerifyingKey::from_bytes(public_key).map_err(|_| bad())?;
    let sig = Signature::from_slice(signature).map_err(|_| bad())?;
    vk.verify_strict(msg, &sig).map_err(|_| bad())
}

/// The release signing key. Debug never shows it.
pub struct ReleaseKey(SigningKey);

impl fmt::Debug for ReleaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReleaseKey(<redacted>)")
    }
}

impl ReleaseKey {
    /// A fresh key from the system RNG.
    pub fn generate() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut seed[..])
            .map_err(|_| Error::new(Code::RandomUnavailable, "system RNG failed"))?;
        Ok(ReleaseKey(SigningKey::from_bytes(&seed)))
    }

    /// Parse a key file: B64U of the 32-byte seed, optional trailing newline.
    pub fn from_key_file(contents: &[u8]) -> Result<Self> {
        let bad = || {
            Error::new(
                Code::InvalidSecretKey,
                "release key file must hold base64url of a 32-byte seed",
            )
        };
        let body = contents.strip_suffix(b"\n").unwrap_or(contents);
        let text = core::str::from_utf8(body).map_err(|_| bad())?;
        let seed = Zeroizing::new(b64::decode_array::<32>(text, bad()).map_err(|_| bad())?);
        Ok(ReleaseKey(SigningKey::from_bytes(&seed)))
    }

    /// Key file contents: B64U of the seed plus a newline.
    pub fn to_key_file(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.0.to_bytes());
        let mut s = Zeroizing::new(b64::encode(&seed[..]));
        s.push('\n');
        s
    }

    /// The matching public key.
    pub fn public_key(&self) -> ReleasePublicKey {
        ReleasePublicKey(self.0.verifying_key().to_bytes())
    }
}

/// A release public key (32 bytes, B64U on the command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleasePublicKey([u8; 32]);

impl ReleasePublicKey {
    /// Parse B64U of 32 bytes (whether it is a valid point is checked when
    /// verifying, as 8801).
    pub fn from_b64u(text: &str) -> Result<Self> {
        let bad = Error::new(
            Code::InvalidPublicKey,
            "release public key must be base64url of 32 bytes",
        );
        b64::decode_array::<32>(text.trim(), bad.clone())
            .map(ReleasePublicKey)
            .map_err(|_| bad)
    }

    /// B64U form.
    pub fn to_b64u(&self) -> String {
        b64::encode(&self.0)
    }

    /// Raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, body: &[u8]) -> FileEntry {
        FileEntry {
            path: path.into(),
            url: served_url(path),
            sha384: sha384_b64(body),
        }
    }

    #[test]
    fn layouts_set_the_signed_urls() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), b"<p>").unwrap();
        std::fs::write(dir.path().join("app.js"), b"1").unwrap();
        std::fs::create_dir(dir.path().join("admin")).unwrap();
        std::fs::write(dir.path().join("admin/index.html"), b"<p>").unwrap();
        let urls = |layout| {
            let m = Manifest::from_dir_as(dir.path(), "1.0.0", layout).unwrap();
            m.files().iter().map(|f| f.url.clone()).collect::<Vec<_>>()
        };
        // The console's page at /admin, the URL people load (so
        // `release verify --base-url` checks what they get).
        assert_eq!(urls(Layout::Relay), ["/admin", "/static/app.js", "/accept"]);
        assert_eq!(
            urls(Layout::Static),
            ["/admin/index.html", "/app.js", "/index.html"]
        );
        // The URL is signed: the same files in another layout sign other bytes.
        let relay = Manifest::from_dir(dir.path(), "1.0.0").unwrap();
        let stat = Manifest::from_dir_as(dir.path(), "1.0.0", Layout::Static).unwrap();
        assert_ne!(relay.signing_bytes(), stat.signing_bytes());
    }

    #[test]
    fn sign_parse_verify_round_trip() {
        let k = ReleaseKey::generate().unwrap();
        let m = Manifest::new(
            "1.0.0",
            vec![entry("static/app.js", b"x"), entry("index.html", b"y")],
        )
        .unwrap();
        assert_eq!(m.files()[0].path, "index.html");
        let s = m.sign(&k);
        let p = SignedManifest::parse(s.to_json().as_bytes()).unwrap();
        assert_eq!(p, s);
        p.verify(&k.public_key()).unwrap();
        let other = ReleaseKey::generate().unwrap().public_key();
        assert_eq!(
            p.verify(&other).unwrap_err().code(),
            Code::ManifestSignatureInvalid
        );
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for p in ["../x", "/x", "a//b", ".hidden", "a/./b", "a b", ""] {
            let e = Manifest::new(
                "1",
                vec![FileEntry {
                    path: p.into(),
                    url: "/x".into(),
                    sha384: sha384_b64(b""),
                }],
            );
            assert_eq!(e.unwrap_err().code(), Code::ManifestMalformed, "{p}");
        }
    }

    #[test]
    fn debug_redacts_key() {
        let k = ReleaseKey::generate().unwrap();
        let seed = k.to_key_file();
        assert!(!format!("{k:?}").contains(seed.trim()));
    }
}
