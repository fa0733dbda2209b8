//! Where the admin bearer token comes from, and the rule that a token file
//! others could rewrite is refused: whoever can write it can make themselves
//! admin at the next start.

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};

/// Largest admin token file read (a token is a line of printable ASCII).
const MAX_TOKEN_FILE: u64 = 4096;

/// Admin token: `file`, else `SEALPASS_ADMIN_TOKEN`, else
/// `<data-dir>/admin.token` (created 0600 with 32 random bytes).
pub fn load(file: Option<&Path>, data_dir: &Path) -> Result<Zeroizing<String>> {
    let token = if let Some(p) = file {
        read_token_file(p)?
    } else if let Ok(t) = std::env::var("SEALPASS_ADMIN_TOKEN") {
        Zeroizing::new(t.trim().to_owned())
    } else {
        let p = data_dir.join("admin.token");
        if !p.exists() {
            let mut b = Zeroizing::new([0u8; 32]);
            sealpass::rng::os_fill(&mut b[..])?;
            let t = Zeroizing::new(sealpass::b64::encode(&b[..]));
            write_private(&p, t.as_bytes())?;
            eprintln!("sealpass-relay: created admin token in {}", p.display());
        }
        read_token_file(&p)?
    };
    if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::new(
            Code::Usage,
            "admin token must be at least 16 printable ASCII characters",
        ));
    }
    Ok(token)
}

/// Read a token file, checking the file actually opened (symlinks are
/// followed, as secret mounts use them; the file they lead to is what must
/// be private): a regular file, not writable by group or others, owned by
/// the relay's user or root.
fn read_token_file(p: &Path) -> Result<Zeroizing<String>> {
    let io = |what: &str, e: std::io::Error| {
        Error::with_detail(
            Code::Io,
            format!("cannot {what} {}: {}", p.display(), e.kind()),
        )
    };
    let f = std::fs::File::open(p).map_err(|e| io("read", e))?;
    let md = f.metadata().map_err(|e| io("stat", e))?;
    check_private(p, &md)?;
    let mut raw = Zeroizing::new(Vec::new());
    f.take(MAX_TOKEN_FILE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| io("read", e))?;
    if u64::try_from(raw.len()).unwrap_or(u64::MAX) > MAX_TOKEN_FILE {
        return Err(Error::new(Code::Usage, "admin token file is too large"));
    }
    let text = std::str::from_utf8(&raw)
        .map_err(|_| Error::new(Code::Usage, "admin token file is not UTF-8"))?;
    Ok(Zeroizing::new(text.trim().to_owned()))
}

/// Refuse a token file that is not a regular file, is writable by group or
/// others, or belongs to another user (who could chmod it back).
fn check_private(p: &Path, md: &std::fs::Metadata) -> Result<()> {
    if !md.is_file() {
        return Err(Error::with_detail(
            Code::Usage,
            format!("admin token file {} is not a regular file", p.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = md.mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(Error::with_detail(
                Code::Usage,
                format!(
                    "admin token file {} has mode {mode:03o}; it must not be writable by group or others (chmod 600 it)",
                    p.display()
                ),
            ));
        }
        if let Some(me) = own_uid() {
            if md.uid() != me && md.uid() != 0 {
                return Err(Error::with_detail(
                    Code::Usage,
                    format!(
                        "admin token file {} is owned by uid {}; it must belong to the relay's user ({me}) or root",
                        p.display(),
                        md.uid()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The relay's effective uid, where the OS tells it without `unsafe`
/// (Linux: the owner of `/proc/self`); elsewhere the owner is not checked.
#[cfg(unix)]
fn own_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

fn write_private(p: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(p).map_err(|e| {
        Error::with_detail(
            Code::Io,
            format!("cannot create {}: {}", p.display(), e.kind()),
        )
    })?;
    f.write_all(bytes)
        .map_err(|_| Error::new(Code::Io, "cannot write the admin token"))
}
