//! The sender's known-nodes file (docs/PINNING.md §2): one pinned identity
//! key per node id, like SSH `known_hosts`.
//!
//! Format: UTF-8, `\n` line ends, at most [`MAX_FILE_BYTES`] and
//! [`MAX_ENTRIES`] entries. A line is empty, a `#` comment, or
//! `NODE_ID SP NIK_B64U` (exactly one space). Anything else is 8903
//! KnownNodesMalformed naming the line; such a file is neither used nor
//! rewritten. Writes are atomic (temporary file in the same directory,
//! fsync, rename), mode 0600, the directory created 0700.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use sealpass::error::{Code, Error, Result};
use sealpass::keys::PublicKey;

use crate::io::read_file_limited;
use crate::signing::is_valid_caller;

/// Largest known-nodes file accepted (1 MiB).
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// Most entries a known-nodes file may hold.
pub const MAX_ENTRIES: usize = 4096;

/// The pins, in file order (comments are not kept on rewrite).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownNodes {
    entries: Vec<(String, PublicKey)>,
}

/// What [`KnownNodes::pin`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinOutcome {
    /// A new pin.
    Added,
    /// The same identity was already pinned: nothing changed.
    Unchanged,
    /// A different identity was replaced (only with `replace`).
    Replaced,
}

fn malformed(line: usize, why: &str) -> Error {
    Error::with_detail(
        Code::KnownNodesMalformed,
        format!("known-nodes file line {line}: {why}"),
    )
}

/// Whether `key` is a usable identity key (not low-order: a DH with it
/// would give the all-zero secret).
pub fn is_usable_identity(key: &PublicKey) -> bool {
    // Any clamped scalar is a multiple of the cofactor, so a low-order
    // point gives zero with every scalar.
    sealpass::suite::dh(&[0x5a; 32], key.as_bytes()).is_some()
}

/// Parse an identity key as the file (and `nodes pin`) accept it: the
/// canonical 43-char B64U of 32 bytes, not low-order.
pub fn parse_identity(text: &str) -> Result<PublicKey> {
    if text.len() != 43 {
        return Err(Error::new(
            Code::InvalidPublicKey,
            "identity key must be the 43-char base64url of 32 bytes",
        ));
    }
    let k = PublicKey::from_b64u(text)?;
    if k.to_b64u() != text {
        return Err(Error::new(
            Code::InvalidPublicKey,
            "identity key is not canonical base64url",
        ));
    }
    if !is_usable_identity(&k) {
        return Err(Error::new(
            Code::LowOrderPublicKey,
            "identity key is low-order",
        ));
    }
    Ok(k)
}

impl KnownNodes {
    /// An empty set of pins.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse the file's bytes strictly.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(Error::new(
                Code::KnownNodesMalformed,
                "known-nodes file is larger than 1 MiB",
            ));
        }
        let text = core::str::from_utf8(bytes).map_err(|e| {
            let line = bytes
                .iter()
                .take(e.valid_up_to())
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            malformed(line, "not UTF-8")
        })?;
        let mut out = KnownNodes::new();
        for (i, line) in text.split('\n').enumerate() {
            let n = i + 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.contains('\r') {
                return Err(malformed(n, "carriage return (line ends must be \\n)"));
            }
            let (id, key) = line
                .split_once(' ')
                .ok_or_else(|| malformed(n, "expected `NODE_ID NIK_B64U`"))?;
            if !is_valid_caller(id) {
                return Err(malformed(
                    n,
                    "node id must be 1..=64 chars of [A-Za-z0-9._-]",
                ));
            }
            let key = parse_identity(key).map_err(|e| match e.code() {
                Code::LowOrderPublicKey => malformed(n, "identity key is low-order"),
                _ => malformed(n, "identity key must be the 43-char base64url of 32 bytes"),
            })?;
            if out.get(id).is_some() {
                return Err(malformed(n, "node id appears twice"));
            }
            if out.entries.len() >= MAX_ENTRIES {
                return Err(malformed(n, "more than 4096 entries"));
            }
            out.entries.push((id.to_owned(), key));
        }
        Ok(out)
    }

    /// Load `path`; a missing file is an empty set of pins.
    pub fn load(path: &Path) -> Result<Self> {
        match fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::new()),
            Err(e) => {
                return Err(Error::with_detail(
                    Code::Io,
                    format!("cannot read {}: {}", path.display(), e.kind()),
                ))
            }
            Ok(m) if !m.is_file() => {
                return Err(Error::with_detail(
                    Code::Io,
                    format!("{} is not a regular file", path.display()),
                ))
            }
            Ok(_) => {}
        }
        let bytes = read_file_limited(
            path,
            MAX_FILE_BYTES,
            Error::new(
                Code::KnownNodesMalformed,
                "known-nodes file is larger than 1 MiB",
            ),
        )?;
        Self::parse(&bytes)
    }

    /// The pinned identity of `node_id`.
    pub fn get(&self, node_id: &str) -> Option<&PublicKey> {
        self.entries
            .iter()
            .find(|(id, _)| id == node_id)
            .map(|(_, k)| k)
    }

    /// Every pin, in order.
    pub fn entries(&self) -> &[(String, PublicKey)] {
        &self.entries
    }

    /// Pin `key` for `node_id`. A different existing pin is 8901 unless
    /// `replace`.
    pub fn pin(&mut self, node_id: &str, key: PublicKey, replace: bool) -> Result<PinOutcome> {
        if !is_valid_caller(node_id) {
            return Err(Error::new(
                Code::Usage,
                "node id must be 1..=64 chars of [A-Za-z0-9._-]",
            ));
        }
        if !is_usable_identity(&key) {
            return Err(Error::new(
                Code::LowOrderPublicKey,
                "identity key is low-order",
            ));
        }
        if let Some(slot) = self.entries.iter_mut().find(|(id, _)| id == node_id) {
            if slot.1 == key {
                return Ok(PinOutcome::Unchanged);
            }
            if !replace {
                return Err(Error::with_detail(
                    Code::IdentityMismatch,
                    format!(
                        "node {node_id} is already pinned to identity {}; give --replace after checking the new one out of band",
                        slot.1.identity_fingerprint()
                    ),
                ));
            }
            slot.1 = key;
            return Ok(PinOutcome::Replaced);
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Err(Error::new(
                Code::KnownNodesMalformed,
                "the known-nodes file would hold more than 4096 entries",
            ));
        }
        self.entries.push((node_id.to_owned(), key));
        Ok(PinOutcome::Added)
    }

    /// Remove the pin of `node_id`; `false` if there was none.
    pub fn forget(&mut self, node_id: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(id, _)| id != node_id);
        self.entries.len() != before
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut s =
            String::from("# sealpass known nodes: NODE_ID IDENTITY_KEY (docs/PINNING.md)\n");
        for (id, k) in &self.entries {
            s.push_str(id);
            s.push(' ');
            s.push_str(&k.to_b64u());
            s.push('\n');
        }
        s
    }

    /// Write atomically to `path` (mode 0600; a missing directory is
    /// created 0700).
    pub fn save(&self, path: &Path) -> Result<()> {
        let io_err = |what: &str, p: &Path, e: std::io::Error| {
            Error::with_detail(
                Code::Io,
                format!("cannot {what} {}: {}", p.display(), e.kind()),
            )
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.exists() {
            let mut b = fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            b.create(&dir)
                .map_err(|e| io_err("create directory", &dir, e))?;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "known_nodes".into());
        let mut rnd = [0u8; 8];
        getrandom::getrandom(&mut rnd)
            .map_err(|_| Error::new(Code::RandomUnavailable, "no randomness for a temp name"))?;
        let tmp = dir.join(format!(".{name}.tmp-{}", crate::hex::encode(&rnd)));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| io_err("create", &tmp, e))?;
        let written = f
            .write_all(self.to_text().as_bytes())
            .and_then(|_| f.sync_all());
        drop(f);
        if let Err(e) = written.and_then(|_| fs::rename(&tmp, path)) {
            let _ = fs::remove_file(&tmp);
            return Err(io_err("write", path, e));
        }
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// The default known-nodes path: `$XDG_CONFIG_HOME/sealpass/known_nodes`,
/// else `$HOME/.config/sealpass/known_nodes`.
pub fn default_path() -> Result<PathBuf> {
    default_path_from(
        std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

/// [`default_path`] from explicit values (empty or relative XDG is ignored,
/// as the XDG spec says).
pub fn default_path_from(xdg: Option<PathBuf>, home: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(x) = xdg.filter(|x| x.is_absolute()) {
        return Ok(x.join("sealpass").join("known_nodes"));
    }
    match home.filter(|h| !h.as_os_str().is_empty()) {
        Some(h) => Ok(h.join(".config").join("sealpass").join("known_nodes")),
        None => Err(Error::new(
            Code::Usage,
            "no known-nodes path: set XDG_CONFIG_HOME or HOME, or give --known-nodes FILE",
        )),
    }
}

/// `--known-nodes FILE`, else the default path.
pub fn resolve(given: Option<&Path>) -> Result<PathBuf> {
    match given {
        Some(p) => Ok(p.to_path_buf()),
        None => default_path(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use sealpass::keys::SecretKey;

    fn key(b: u8) -> PublicKey {
        SecretKey::from_bytes([b; 32]).public_key()
    }

    fn err_of(text: &str) -> Error {
        KnownNodes::parse(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn parses_entries_comments_and_blank_lines() {
        let t = format!(
            "# c\n\nweb-1 {}\ndb.2 {}\n",
            key(1).to_b64u(),
            key(2).to_b64u()
        );
        let k = KnownNodes::parse(t.as_bytes()).unwrap();
        assert_eq!(k.entries().len(), 2);
        assert_eq!(k.get("web-1"), Some(&key(1)));
        assert_eq!(k.get("db.2"), Some(&key(2)));
        assert_eq!(k.get("x"), None);
    }

    #[test]
    fn malformed_lines_name_their_line_number() {
        let good = key(1).to_b64u();
        let low = PublicKey::from_bytes([0u8; 32]).to_b64u();
        let cases = [
            (format!("# ok\nweb-1  {good}\n"), 2),
            (format!("web-1\t{good}\n"), 1),
            (format!("\n\nweb-1 {good} \n"), 3),
            (format!(" web-1 {good}\n"), 1),
            (format!("web/1 {good}\n"), 1),
            (format!("{} {good}\n", "a".repeat(65)), 1),
            ("web-1 short\n".to_string(), 1),
            (format!("web-1 {good}=\n"), 1),
            (format!("web-1 {low}\n"), 1),
            ("web-1\n".to_string(), 1),
            (format!("web-1 {good}\r\n"), 1),
            (format!("a {good}\nb {good}\nb {}\n", key(3).to_b64u()), 3),
        ];
        for (text, line) in cases {
            let e = err_of(&text);
            assert_eq!(e.code(), Code::KnownNodesMalformed, "{text:?}");
            assert!(
                e.detail().contains(&format!("line {line}:")),
                "{text:?}: {}",
                e.detail()
            );
            // Never echoes the key material back.
            assert!(!e.detail().contains(&good));
        }
    }

    #[test]
    fn duplicate_node_id_is_refused() {
        let t = format!("web-1 {}\nweb-1 {}\n", key(1).to_b64u(), key(1).to_b64u());
        let e = err_of(&t);
        assert_eq!(e.code(), Code::KnownNodesMalformed);
        assert!(e.detail().contains("line 2"), "{}", e.detail());
        assert!(e.detail().contains("twice"));
    }

    #[test]
    fn crlf_is_refused() {
        let e = err_of(&format!("# x\r\nweb-1 {}\r\n", key(1).to_b64u()));
        // A comment line may hold anything; the entry line is refused.
        assert!(e.detail().contains("line 2"), "{}", e.detail());
    }

    #[test]
    fn non_utf8_is_refused_with_its_line() {
        let mut b = format!("web-1 {}\n# ", key(1).to_b64u()).into_bytes();
        b.push(0xff);
        let e = KnownNodes::parse(&b).unwrap_err();
        assert_eq!(e.code(), Code::KnownNodesMalformed);
        assert!(e.detail().contains("line 2"), "{}", e.detail());
    }

    #[test]
    fn oversize_and_too_many_entries_are_refused() {
        let big = vec![b'#'; MAX_FILE_BYTES + 1];
        assert_eq!(
            KnownNodes::parse(&big).unwrap_err().code(),
            Code::KnownNodesMalformed
        );
        let k = key(1).to_b64u();
        let mut t = String::new();
        for i in 0..=MAX_ENTRIES {
            t.push_str(&format!("n{i} {k}\n"));
        }
        assert!(t.len() < MAX_FILE_BYTES);
        let e = err_of(&t);
        assert!(e.detail().contains("line 4097"), "{}", e.detail());
        // Exactly the limit is fine.
        let cut: String = t
            .lines()
            .take(MAX_ENTRIES)
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            KnownNodes::parse(cut.as_bytes()).unwrap().entries().len(),
            MAX_ENTRIES
        );
        // Oversize on disk: refused without being used.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kn");
        fs::write(&p, &big).unwrap();
        assert_eq!(
            KnownNodes::load(&p).unwrap_err().code(),
            Code::KnownNodesMalformed
        );
    }

    #[test]
    fn pin_replace_forget() {
        let mut k = KnownNodes::new();
        assert_eq!(k.pin("a", key(1), false).unwrap(), PinOutcome::Added);
        assert_eq!(k.pin("a", key(1), false).unwrap(), PinOutcome::Unchanged);
        assert_eq!(
            k.pin("a", key(2), false).unwrap_err().code(),
            Code::IdentityMismatch
        );
        assert_eq!(k.get("a"), Some(&key(1)));
        assert_eq!(k.pin("a", key(2), true).unwrap(), PinOutcome::Replaced);
        assert_eq!(k.get("a"), Some(&key(2)));
        assert!(k.pin("a", PublicKey::from_bytes([0; 32]), true).is_err());
        assert!(k.pin("a b", key(3), false).is_err());
        assert!(k.forget("a"));
        assert!(!k.forget("a"));
        assert!(k.entries().is_empty());
    }

    #[test]
    fn round_trip_atomic_private_write() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cfg").join("sealpass").join("known_nodes");
        assert!(KnownNodes::load(&p).unwrap().entries().is_empty());
        let mut k = KnownNodes::new();
        k.pin("web-1", key(1), false).unwrap();
        k.pin("db.2", key(2), false).unwrap();
        k.save(&p).unwrap();
        assert_eq!(KnownNodes::load(&p).unwrap(), k);
        k.forget("web-1");
        k.save(&p).unwrap();
        assert_eq!(KnownNodes::load(&p).unwrap(), k);
        // No temp files left behind.
        let names: Vec<_> = fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dmode = fs::metadata(p.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dmode, 0o700);
        }
    }

    #[test]
    fn default_path_prefers_xdg_then_home() {
        let p = default_path_from(Some("/x/cfg".into()), Some("/home/u".into())).unwrap();
        assert_eq!(p, PathBuf::from("/x/cfg/sealpass/known_nodes"));
        let p = default_path_from(None, Some("/home/u".into())).unwrap();
        assert_eq!(p, PathBuf::from("/home/u/.config/sealpass/known_nodes"));
        let p = default_path_from(Some("rel".into()), Some("/home/u".into())).unwrap();
        assert_eq!(p, PathBuf::from("/home/u/.config/sealpass/known_nodes"));
        assert_eq!(
            default_path_from(None, None).unwrap_err().code(),
            Code::Usage
        );
        assert_eq!(
            resolve(Some(Path::new("/tmp/kn"))).unwrap(),
            PathBuf::from("/tmp/kn")
        );
    }
}
